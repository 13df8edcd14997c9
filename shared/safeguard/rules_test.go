package safeguard

// The safeguarding rules' specification: regular expressions that
// safeguard.js uses as they are (TestJSRulesMatchGo checks it spells them
// identically). Go's Scan matches them by hand (match.go), and
// TestScanMatchesRules and FuzzScanMatchesRules check it against them.

// rule is a regular expression shared, character for character, with
// safeguard.js. fold makes it case-insensitive ((?i) in Go, the "i" flag in
// JavaScript); JavaScript always adds the "u" flag.
type rule struct {
	src  string
	fold bool
}

const monthsSrc = `(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`

const nameWordSrc = `(\p{Lu}\.|\p{Lu}[\p{L}'’-]*)`

// Lower-case surname particles: "Mr de Souza", "Mrs van der Berg" (one particle).
const particleSrc = `(?:(?:de|da|di|du|van|von|der|den|del|la|le|al|el|bin|ap)[ ]+)?`

// rules holds every regular expression used by Scan. The parity test checks
// that safeguard.js defines exactly the same set.
var rules = map[string]rule{
	// A run of ASCII digits joined by single spaces, no-break spaces or hyphens.
	"digitRun": {`[0-9]+(?:[ \x{00A0}-][0-9]+)*`, false},

	// 12/03/1958, 12-03-58, 12.03.1958 (day first; month first is accepted
	// when day first is impossible). The two separators must be the same.
	"dateNumeric": {`([0-9]{1,2})([./-])([0-9]{1,2})([./-])([0-9]{4}|[0-9]{2})`, false},
	// 1958-03-12
	"dateISO": {`([0-9]{4})([./-])([0-9]{1,2})([./-])([0-9]{1,2})`, false},
	// 12 March 1958, 12th Mar 1958, 12th of March, 1958, 12-Mar-1958
	"dateDayMonth": {`([0-9]{1,2})(?:st|nd|rd|th)?(?:[ -]|[ ]of[ ])` + monthsSrc + `\.?(?:,?[ ]|-)([0-9]{4})`, true},
	// March 12, 1958; Mar 12th 1958
	"dateMonthDay": {monthsSrc + `\.?[ ]([0-9]{1,2})(?:st|nd|rd|th)?,?[ ]([0-9]{4})`, true},
	// Words that make a nearby date a date of birth.
	"dateCue": {`born|birth(?:day|date)?|d\.o\.b\.?|dob|d/o/b|b\.|aged|age|y/o|(?:years?|yrs?)[ -]old`, true},
	// A sentence or clause break between a cue and a date.
	"dateBreak": {`[!?;\r\n]|\.[ \t]`, false},
	// The word just before a date (checked against eventWordsSrc).
	"dateWordBefore": {`(\p{L}+)[ ]+$`, false},

	// Full UK postcode: GIR 0AA, or outward (A9, A99, AA9, AA99, A9A, AA9A)
	// plus inward (9AA) with the letters each position may hold.
	// Either case, spelled out as ASCII classes rather than using case
	// folding, so that no exotic Unicode letter can take part.
	"postcode": {`[Gg][Ii][Rr][ \x{00A0}]?0[Aa][Aa]|(?:[A-PR-UWYZa-pr-uwyz][0-9]{1,2}|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y][0-9]{1,2}|[A-PR-UWYZa-pr-uwyz][0-9][A-HJKPSTUWa-hjkpstuw]|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y][0-9][ABEHMNPRVWXYabehmnprvwxy])[ \x{00A0}]?[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}`, false},

	// Mr Smith, Mrs O'Brien, Ms J. Patel, Miss Öztürk, Master Adebayo.
	"nameTitle": {`(?:Mrs|Mr|Ms|Miss|Mx|Master)\.?[ ]+` + particleSrc + nameWordSrc, false},
	// A further part of a name after a title or first name: " John", " de Souza", " J."
	"nameNext": {`^[ ]+` + particleSrc + nameWordSrc, false},
	// A name after a phrase: capitalised and followed by a lower-case letter
	// (or O'Brien style), so "NHS", "A&E", "111" and "I" never count.
	"nameStrict": {`^(\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*)`, false},
	// a patient called Sarah, an elderly lady named Joan, a man by the name of Tom
	"namePhraseCalled": {`(?:patient|lady|man|woman|gentleman|gent|boy|girl|children|child|baby|toddler|teenager|lad|son|daughter|husband|wife|mum|mother|dad|father|grandmother|grandfather|grandma|grandad|granddad|nan|carer|resident|person|chap|guy|kid|someone|somebody)s?,?(?:[ ]+of[ ]+(?:ours|mine))?(?:[ ]+(?:who|that)[ ]+(?:is|was))?[ ]+(?:called|named|by[ ]+the[ ]+name[ ]+of)[ ]+`, true},
	// my patient Sarah, the patient Mrs Khan ("patient" must be lower case,
	// so "Patient Participation Group" is not a name).
	"namePhrasePatient": {`(?:[Mm]y|[Oo]ur|[Tt]he|[Aa]|[Tt]his|[Tt]hat|[Yy]our|[Hh]is|[Hh]er|[Tt]heir)[ ]+(?:patient|pt)[ ]+`, false},
	// her name is Sarah, the patient's surname was Khan, patient name: Tom
	"nameIs": {`(?:his|her|their|whose|(?:the[ ]+)?(?:patient|pt)(?:['’]?s)?)[ ]+(?:(?:first|last|full|real|middle|given|sur)[ ]?)?name(?:[ ]+(?:is|was)[ ]+|['’]s[ ]+|[ ]*:[ ]*)`, true},
}
