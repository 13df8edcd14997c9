// Package safeguard looks for patient-identifiable information in the
// free-text stories that GP practice staff submit to Frontline Voices.
//
// The same rules run in the browser (shared/web/static/safeguard.js) to warn
// the volunteer before submission, and on the server (Scan) to flag the story
// to the comms team. The regular expressions in this file and in the
// JavaScript file are kept textually identical (apart from the spelling of
// the no-break space, \x{00A0} in Go and \u{00A0} in JavaScript), and a test
// runs both implementations over the test corpora and compares the results.
//
// The checks are deliberately tuned for a low false-positive rate on
// ordinary clinical and practice-management prose: a false alarm trains
// volunteers to click "confirm" without reading. The rules, in brief:
//
// NHS number: ten digits that pass the Modulus 11 check, written either as
// one run of ten digits or grouped 3-3-4 with spaces, no-break spaces or
// hyphens. The whole run of digits (digits joined by single spaces or
// hyphens) must be the number: a ten-digit window inside a longer run, such
// as an eleven-digit UK phone number "07700 900123" or "020 7946 0958", is
// never an NHS number. Runs touching letters, or continuing through ".", ",",
// "/" or ":" into more digits, are ignored, as are runs of one repeated digit
// ("0000000000" is a placeholder, not a person).
//
// Date of birth: see scanDates for the full rule. In short, a full date (day,
// month and year) is flagged when a birth word (born, birth, birthday,
// birthdate, date of birth, DOB, D.O.B., d/o/b, or "b." directly before the
// date) is near it in the same sentence; or when it is written in numeric
// form (12/03/1958, 12-03-58, 12.03.1958, 1958-03-12) with a year before
// 2010 and not straight after "on", "since", "from" and the like; or when an
// age word (aged, age, y/o, years old) is near it and the
// year is before 2010. Dates of events written in words ("on 12 March 2024
// we...", "5 July 1948") are not flagged on their own.
//
// Postcode: a full UK postcode (outward and inward code, official letter
// rules, case-insensitive, space optional). Bare districts such as "SE15" or
// "E14" are never flagged. A lower-case inward code that reads as an ordinal
// or a unit ("SE1 2nd floor", "W2 1hr") is ignored.
//
// Patient name: see scanNames. Titles Mr, Mrs, Ms, Miss, Mx and Master followed
// by a capitalised word; "a patient/lady/man/... called/named X"; "my/our/the
// patient X"; "his/her/their/the patient's name is X". "Dr X" is NOT flagged:
// in these stories a named doctor is almost always the writer's colleague.
package safeguard

import (
	"bytes"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Kind is the kind of patient-identifiable information found.
type Kind string

// The kinds of finding Scan reports.
const (
	KindNHSNumber   Kind = "nhs_number"
	KindDateOfBirth Kind = "date_of_birth"
	KindPostcode    Kind = "postcode"
	KindPatientName Kind = "patient_name"
)

// Label returns a short phrase a volunteer understands, such as "an NHS
// number", suitable for "Your story seems to contain an NHS number".
func (k Kind) Label() string {
	switch k {
	case KindNHSNumber:
		return "an NHS number"
	case KindDateOfBirth:
		return "a date of birth"
	case KindPostcode:
		return "a full postcode"
	case KindPatientName:
		return "a patient's name"
	}
	return "personal information"
}

// Finding is one piece of possibly patient-identifiable information.
// Start and End are byte offsets into the scanned text (text[Start:End]).
// The JavaScript version reports the same positions as UTF-16 string indices.
type Finding struct {
	Kind  Kind   `json:"kind"`
	Label string `json:"label"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

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

// eventWordsSrc lists words that, straight before a numeric date with no
// birth word near it, mark it as the date of an event ("registered on
// 01/10/1996", "since 1.4.2004"). Compared in lower case. Shared with
// safeguard.js.
const eventWordsSrc = `on since from until till to by before after between and dated`

// stopWordsSrc lists capitalised words that are never taken as a name, and
// end a name that started before them. Shared with safeguard.js. April, May,
// June and August are left out on purpose: they are also first names.
const stopWordsSrc = `Mr Mrs Ms Miss Mx Master Dr Prof Professor Sir Dame Lord Rev Nurse Doctor Doctors Nurses ` +
	`Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March July September October November December ` +
	`The This That These Those There Then They Their Them He She It Its We Our Ours You Your My His Her Hers ` +
	`And But Or So If When While Where What Which Who Why How As At In On Of To For With From By After Before Also ` +
	`Not No Yes Please Thanks Thank Today Yesterday Tomorrow Tonight Everyone Everybody Someone Somebody Nobody Anyone ` +
	`Reception Receptionist Receptionists Patient Patients Practice Surgery Hospital Pharmacy Pharmacist Ambulance Police Security ` +
	`Team Teams Manager Partner Partners Council Trust Service Services Centre Center Clinic Ward Unit Line Lines Hub Group Board Network ` +
	`Office Word Excel Outlook Forms Access Online Portal App Survey Participation Transport Liaison Experience Safety ` +
	`Record Records Index List Data Plan Key Class Copy File Files Sheet Spreadsheet Rota Schedule Template Document Chef Degree Card ` +
	`Care Health Social Mental Primary General Medical Christmas Easter Bank Street Road London England NHS GP`

// orgWordsSrc lists words that show the capitalised words before them are an
// organisation or place ("a patient called Lewisham Hospital"), not a
// person. Shared with safeguard.js.
const orgWordsSrc = `Hospital Hospitals Council Ambulance Pharmacy Surgery Practice Service Services Trust Centre Center Clinic Police ` +
	`Line Team Hub Group Board Network Health Care Road Street Station Ward Unit Library School College University Bank ` +
	`Ltd Limited Foundation Partnership Institute Society Charity`

var (
	reDigitRun          = lazily("digitRun")
	reDateNumeric       = lazily("dateNumeric")
	reDateISO           = lazily("dateISO")
	reDateDayMonth      = lazily("dateDayMonth")
	reDateMonthDay      = lazily("dateMonthDay")
	reDateCue           = lazily("dateCue")
	reDateBreak         = lazily("dateBreak")
	reDateWordBefore    = lazily("dateWordBefore")
	rePostcode          = lazily("postcode")
	reNameTitle         = lazily("nameTitle")
	reNameNext          = lazily("nameNext")
	reNameStrict        = lazily("nameStrict")
	reNamePhraseCalled  = lazily("namePhraseCalled")
	reNamePhrasePatient = lazily("namePhrasePatient")
	reNameIs            = lazily("nameIs")

	eventWords = wordSet(eventWordsSrc)
	stopWords  = wordSet(stopWordsSrc)
	orgWords   = wordSet(orgWordsSrc)
)

// lazyRule is one rule's regexp, compiled on its first use, not at init: a
// cold start that scans no story does not wait for fifteen regexps.
type lazyRule struct{ re func() *regexp.Regexp }

func lazily(name string) *lazyRule {
	if _, ok := rules[name]; !ok {
		panic("safeguard: no rule " + name)
	}
	return &lazyRule{re: sync.OnceValue(func() *regexp.Regexp { return compile(name) })}
}

func (r *lazyRule) FindStringSubmatchIndex(s string) []int { return r.re().FindStringSubmatchIndex(s) }
func (r *lazyRule) FindStringSubmatch(s string) []string   { return r.re().FindStringSubmatch(s) }
func (r *lazyRule) MatchString(s string) bool              { return r.re().MatchString(s) }
func (r *lazyRule) String() string                         { return r.re().String() }

func compile(name string) *regexp.Regexp {
	r, ok := rules[name]
	if !ok {
		panic("safeguard: no rule " + name)
	}
	if r.fold {
		return regexp.MustCompile(`(?i)` + r.src)
	}
	return regexp.MustCompile(r.src)
}

func wordSet(src string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(src) {
		m[w] = true
	}
	return m
}

// ValidNHSNumber reports whether digits is exactly ten ASCII digits whose
// last digit is the correct Modulus 11 check digit: the first nine digits
// are weighted 10 down to 2, check = 11 - (sum mod 11), 11 becomes 0, and a
// check value of 10 means the number can never be valid. Spaces and hyphens
// are not accepted here; Scan handles grouped forms.
func ValidNHSNumber(digits string) bool {
	if len(digits) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 {
		return false
	}
	return check == int(digits[9]-'0')
}

// Scan returns the possibly patient-identifiable passages in text, ordered by
// position, without duplicates (overlapping findings of the same kind are
// merged into one).
func Scan(text string) []Finding {
	return scan(newDoc(text))
}

func scan(d *doc) []Finding {
	var fs []Finding
	fs = append(fs, scanNHS(d)...)
	fs = append(fs, scanDates(d)...)
	fs = append(fs, scanPostcodes(d)...)
	fs = append(fs, scanNames(d)...)
	return normalise(fs)
}

// each runs re over the text from left to right, calling accept with each
// match's absolute submatch offsets. If accept returns true the search
// continues after the match; if false, it restarts one character after the
// start of the match, so a rejected match never hides a good one that
// overlaps it. safeguard.js walks the text the same way.
//
// A rule with a gate is run only over the regions around its trigger words
// (see gate), which finds exactly the matches of the whole walk in one pass
// over the text and a few short regex runs, instead of a regex run over the
// whole text for each rule.
func (d *doc) each(re *lazyRule, accept func(m []int) bool) {
	g, gated := gates[re]
	if !gated || d.lower == nil {
		walk(re, d.text, 0, len(d.text), accept)
		return
	}
	pos := 0
	for _, r := range g.regions(d.text, d.lower) {
		pos = walk(re, d.text, max(pos, r[0]), r[1], accept)
	}
}

// A doc is a text being scanned.
type doc struct {
	text  string
	lower []byte // text with its ASCII letters in lower case, for finding gates' triggers; nil when gates cannot be used
}

// newDoc prepares text for scanning. Gates cannot be used on a text holding
// either of the two non-ASCII letters that case-insensitive rules fold to an
// ASCII one (ſ, the long s, and K, the Kelvin sign): lower-casing ASCII
// letters cannot find them.
func newDoc(text string) *doc {
	d := &doc{text: text}
	if strings.Contains(text, "ſ") || strings.Contains(text, "\u212A") {
		return d
	}
	d.lower = []byte(text)
	for i, c := range d.lower {
		if 'A' <= c && c <= 'Z' {
			d.lower[i] = c + 'a' - 'A'
		}
	}
	return d
}

// walk is each's walk over text[pos:end], as though the text ended at end. It
// returns where the walk stopped.
func walk(re *lazyRule, text string, pos, end int, accept func(m []int) bool) int {
	for pos <= end {
		loc := re.FindStringSubmatchIndex(text[pos:end])
		if loc == nil {
			return end
		}
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += pos
			}
		}
		if loc[1] > loc[0] && accept(loc) {
			pos = loc[1]
			continue
		}
		if loc[0] >= end {
			return end
		}
		_, size := utf8.DecodeRuneInString(text[loc[0]:])
		pos = loc[0] + size
	}
	return pos
}

// A gate says where a rule can match: every match of the rule holds one of
// its triggers (compared with the text's ASCII letters in lower case), starts
// at most before words before the word holding the trigger and ends at most
// after words after it, counting a word as a run of anything but the space
// character. The regex then only runs over those regions, and a match found
// there is the match the whole walk finds: it cannot reach past the region's
// ends, and no match exists outside every region.
//
// Triggers and word counts are Go's alone; the regular expressions stay shared
// with safeguard.js, and TestGatesFindWhatTheWholeWalkFinds checks the gates
// against the whole walk.
//
// Regions that touch are merged, so a run of words each holding a trigger
// (such as digits joined by spaces) is one region however long.
type gate struct {
	triggers      []string
	before, after int
}

var (
	digits = strings.Split("0123456789", "")
	// a digit then a date's separator: numeric dates have one
	dateSeps = func() (ts []string) {
		for _, d := range digits {
			ts = append(ts, d+".", d+"/", d+"-")
		}
		return ts
	}()
	months = strings.Fields("jan feb mar apr may jun jul aug sep oct nov dec")
	gates  = map[*lazyRule]gate{
		reDigitRun:          {triggers: digits},
		reDateNumeric:       {triggers: dateSeps},
		reDateISO:           {triggers: dateSeps},
		reDateDayMonth:      {triggers: months, before: 2, after: 1},
		reDateMonthDay:      {triggers: months, after: 2},
		reDateCue:           {triggers: strings.Fields("born birth d.o.b dob d/o/b b. age y/o old"), before: 1},
		rePostcode:          {triggers: digits, before: 1, after: 1},
		reNamePhraseCalled:  {triggers: []string{"called", "named", "name"}, before: 7, after: 1},
		reNamePhrasePatient: {triggers: []string{"patient", "pt"}, before: 1},
		reNameIs:            {triggers: []string{"name"}, before: 3, after: 1},
	}
)

// regions returns the sorted, disjoint regions of text where g's rule can
// match.
func (g gate) regions(text string, lower []byte) [][2]int {
	var hits [][2]int
	for _, t := range g.triggers {
		for i := 0; ; {
			j := bytes.Index(lower[i:], []byte(t))
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(t)
			for n := 0; n <= g.before; n++ { // to the start of the word, then back before words
				for start > 0 && text[start-1] == ' ' && n > 0 {
					start--
				}
				for start > 0 && text[start-1] != ' ' {
					start--
				}
			}
			for n := 0; n <= g.after; n++ {
				// to the end of the word and its spaces, then on after words
				for end < len(text) && text[end] != ' ' {
					end++
				}
				for end < len(text) && text[end] == ' ' {
					end++
				}
			}
			hits = append(hits, [2]int{start, end})
			i += j + 1
		}
	}
	slices.SortFunc(hits, func(a, b [2]int) int { return a[0] - b[0] })
	var out [][2]int
	for _, h := range hits {
		if n := len(out); n > 0 && h[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], h[1])
			continue
		}
		out = append(out, h)
	}
	return out
}

func runeBefore(s string, i int) rune {
	if i <= 0 {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

func runeAfter(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

func isAlnum(r rune) bool { return r >= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

func isLetter(r rune) bool { return r >= 0 && unicode.IsLetter(r) }

func isNumJoiner(r rune) bool { return r == '.' || r == ',' || r == '/' || r == ':' || r == '-' }

// numberBefore reports whether the number starting at i is really the tail of
// a longer token: a letter or digit right before it, or a joiner such as "."
// or "/" with a digit before that ("3.12/03/1958", "v1.12.03.58").
func numberBefore(s string, i int) bool {
	r := runeBefore(s, i)
	if isAlnum(r) {
		return true
	}
	if isNumJoiner(r) {
		return unicode.IsDigit(runeBefore(s, i-utf8.RuneLen(r)))
	}
	return false
}

// numberAfter is numberBefore for the end of a number.
func numberAfter(s string, i int) bool {
	r := runeAfter(s, i)
	if isAlnum(r) {
		return true
	}
	if isNumJoiner(r) {
		return unicode.IsDigit(runeAfter(s, i+utf8.RuneLen(r)))
	}
	return false
}

// ---- NHS numbers ----

func scanNHS(d *doc) []Finding {
	text := d.text
	var out []Finding
	// A digit run is maximal, so the walk always continues after it: a
	// ten-digit tail of a longer run must not be tried on its own.
	d.each(reDigitRun, func(m []int) bool {
		if numberBefore(text, m[0]) || numberAfter(text, m[1]) {
			return true
		}
		groups := strings.FieldsFunc(text[m[0]:m[1]], func(r rune) bool { return r < '0' || r > '9' })
		var shape []int
		for _, g := range groups {
			shape = append(shape, len(g))
		}
		if !(len(shape) == 1 && shape[0] == 10) && !(len(shape) == 3 && shape[0] == 3 && shape[1] == 3 && shape[2] == 4) {
			return true
		}
		digits := strings.Join(groups, "")
		if strings.Count(digits, digits[:1]) == len(digits) || !ValidNHSNumber(digits) {
			return true
		}
		out = append(out, Finding{Kind: KindNHSNumber, Start: m[0], End: m[1]})
		return true
	})
	return out
}

// ---- Dates of birth ----

// birthYearCutoff: a numeric date, or a date near an age word, whose year is
// before this is taken to be a date of birth. Stories are about recent
// events, so full dates from before 2010 are far more likely to be birth
// dates than events. Fixed (not "now minus N") so results do not drift.
const birthYearCutoff = 2010

// Cue windows, counted in characters (runes / code points) of the gap
// between the cue and the date.
const (
	cueBeforeWindow = 40
	cueAfterWindow  = 20
	tightCueWindow  = 2
)

type dateCand struct {
	start, end int
	year       int
	numeric    bool
}

type cue struct {
	start, end int
	class      byte // 's' strong, 't' tight ("b."), 'w' weak (age words)
}

// scanDates implements the date-of-birth rule. A candidate is a full date
// with day, month and year that is a real calendar date (year 1890-2099;
// two-digit years 00-29 mean 20xx, 30-99 mean 19xx). It is flagged when:
//
//  1. a strong cue (born, birth, birthday, birthdate, date of birth, DOB,
//     D.O.B., d/o/b) ends at most 40 characters before the date, or starts
//     at most 20 characters after it, with no sentence or clause break
//     ("!", "?", ";", a line break, or "." followed by a space or tab) in
//     between; or "b." stands
//     directly before the date ("b. 12/03/58");
//  2. or the year is before 2010 and either a weak cue (aged, age, y/o,
//     years old) is near it under the same window rule, or the date is
//     numeric (12/03/1958, 12-03-58, 12.03.1958, 1958-03-12: the way records
//     write birth dates) and does not directly follow an event word from
//     eventWordsSrc ("on", "since", "from", ...).
//
// So "on 12 March 2024 we started a new rota", "the NHS began on 5 July
// 1948", "from 01/04/2024" and "registered on 01/10/1996" are not flagged;
// "born 12 March 1958", "DOB 12/03/2019", "Mrs Smith, 12.03.1958" and
// "aged 66 (12 March 1958)" are.
// Cue words inside longer words or after a hyphen ("stubborn",
// "newborn", "new-born", "middle-aged") do not count.
func scanDates(d *doc) []Finding {
	text := d.text
	var cands []dateCand
	numeric := func(day, month, year int, yearDigits int) (int, bool) {
		if yearDigits == 2 {
			if year <= 29 {
				year += 2000
			} else {
				year += 1900
			}
		}
		if validDate(day, month, year) || validDate(month, day, year) {
			return year, true
		}
		return 0, false
	}
	d.each(reDateNumeric, func(m []int) bool {
		if text[m[4]:m[5]] != text[m[8]:m[9]] || numberBefore(text, m[0]) || numberAfter(text, m[1]) {
			return false
		}
		y, ok := numeric(atoi(text[m[2]:m[3]]), atoi(text[m[6]:m[7]]), atoi(text[m[10]:m[11]]), m[11]-m[10])
		if !ok {
			return false
		}
		cands = append(cands, dateCand{m[0], m[1], y, true})
		return true
	})
	d.each(reDateISO, func(m []int) bool {
		if text[m[4]:m[5]] != text[m[8]:m[9]] || numberBefore(text, m[0]) || numberAfter(text, m[1]) {
			return false
		}
		y := atoi(text[m[2]:m[3]])
		if !validDate(atoi(text[m[10]:m[11]]), atoi(text[m[6]:m[7]]), y) {
			return false
		}
		cands = append(cands, dateCand{m[0], m[1], y, true})
		return true
	})
	d.each(reDateDayMonth, func(m []int) bool {
		if numberBefore(text, m[0]) || numberAfter(text, m[1]) {
			return false
		}
		y := atoi(text[m[6]:m[7]])
		if !validDate(atoi(text[m[2]:m[3]]), monthNumber(text[m[4]:m[5]]), y) {
			return false
		}
		cands = append(cands, dateCand{m[0], m[1], y, false})
		return true
	})
	d.each(reDateMonthDay, func(m []int) bool {
		if isAlnum(runeBefore(text, m[0])) || numberAfter(text, m[1]) {
			return false
		}
		y := atoi(text[m[6]:m[7]])
		if !validDate(atoi(text[m[4]:m[5]]), monthNumber(text[m[2]:m[3]]), y) {
			return false
		}
		cands = append(cands, dateCand{m[0], m[1], y, false})
		return true
	})
	if len(cands) == 0 {
		return nil
	}

	var cues []cue
	d.each(reDateCue, func(m []int) bool {
		before := runeBefore(text, m[0])
		if isAlnum(before) || before == '-' {
			return false
		}
		word := strings.ToLower(text[m[0]:m[1]])
		if !strings.HasSuffix(word, ".") && isAlnum(runeAfter(text, m[1])) {
			return false
		}
		class := byte('w')
		switch {
		case word == "b.":
			class = 't'
		case strings.HasPrefix(word, "b") || strings.HasPrefix(word, "d"):
			class = 's'
		}
		cues = append(cues, cue{m[0], m[1], class})
		return true
	})

	var out []Finding
	for _, d := range cands {
		strong, weak := false, false
		for _, c := range cues {
			if !cueNear(text, c, d) {
				continue
			}
			if c.class == 'w' {
				weak = true
			} else {
				strong = true
			}
		}
		if strong || (d.year < birthYearCutoff && (weak || (d.numeric && !afterEventWord(text, d.start)))) {
			out = append(out, Finding{Kind: KindDateOfBirth, Start: d.start, End: d.end})
		}
	}
	return out
}

// afterEventWord reports whether the date at start directly follows a word
// such as "on" or "since".
func afterEventWord(text string, start int) bool {
	// The match of dateWordBefore in text[:start] starts where its run of
	// letters does: run it from just before that, not over the whole text.
	from := strings.TrimRight(text[:start], " ")
	from = strings.TrimRightFunc(from, unicode.IsLetter)
	m := reDateWordBefore.FindStringSubmatch(text[len(from):start])
	return m != nil && eventWords[strings.ToLower(m[1])]
}

// cueNear applies the window rule described at scanDates.
func cueNear(text string, c cue, d dateCand) bool {
	var gap string
	limit := cueBeforeWindow
	switch {
	case c.end <= d.start:
		gap = text[c.end:d.start]
		if c.class == 't' {
			return utf8.RuneCountInString(gap) <= tightCueWindow && strings.Trim(gap, " ") == ""
		}
	case c.start >= d.end && c.class != 't':
		gap = text[d.end:c.start]
		limit = cueAfterWindow
	default:
		return false
	}
	return utf8.RuneCountInString(gap) <= limit && !reDateBreak.MatchString(gap)
}

func validDate(day, month, year int) bool {
	if year < 1890 || year > 2099 || month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

func monthNumber(name string) int {
	switch strings.ToLower(name)[:3] {
	case "jan":
		return 1
	case "feb":
		return 2
	case "mar":
		return 3
	case "apr":
		return 4
	case "may":
		return 5
	case "jun":
		return 6
	case "jul":
		return 7
	case "aug":
		return 8
	case "sep":
		return 9
	case "oct":
		return 10
	case "nov":
		return 11
	case "dec":
		return 12
	}
	return 0
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ---- Postcodes ----

// unitInwards are lower-case inward codes that are really ordinals or units
// after a district: "SE1 2nd floor", "E14 1st", "W2 1hr", "N1 5ft".
var unitInwards = map[string]bool{"st": true, "nd": true, "rd": true, "th": true, "hr": true, "ft": true, "yr": true, "lb": true, "pt": true}

func scanPostcodes(d *doc) []Finding {
	text := d.text
	var out []Finding
	d.each(rePostcode, func(m []int) bool {
		if isAlnum(runeBefore(text, m[0])) || isAlnum(runeAfter(text, m[1])) {
			return false
		}
		inward := text[m[1]-2 : m[1]]
		if inward != strings.ToUpper(inward) && unitInwards[strings.ToLower(inward)] {
			return false
		}
		out = append(out, Finding{Kind: KindPostcode, Start: m[0], End: m[1]})
		return true
	})
	return out
}

// ---- Patient names ----

// scanNames implements the naming rule. Flagged:
//
//   - a title Mr, Mrs, Ms, Miss, Mx or Master (exactly so capitalised,
//     optional full stop) followed by a capitalised word or initial: "Mrs
//     Smith", "Mr John Patel", "Ms J. O'Brien", "Master Adebayo";
//   - a person word then "called", "named" or "by the name of" and a
//     capitalised name: "a patient called Sarah", "an elderly lady named
//     Joan", "a patient of ours who was called Tom";
//   - "my/our/the/a/this/that/your/his/her/their patient" (lower-case
//     "patient" or "pt") then a capitalised name: "my patient Sarah";
//   - "his/her/their/whose/the patient's (first/sur...)name is/was/'s/:"
//     then a capitalised name: "her name is Aisha".
//
// After a phrase the name must look like a name: a capital then a lower-case
// letter (or O'Brien style), so "a patient called NHS 111" or "a man called
// the surgery" are not flagged. Up to two further capitalised words (with
// particles such as "de", "van") are included in the finding.
//
// Not flagged: Dr/Prof + name (nearly always the writer's colleague); capitalised
// words in stopWordsSrc ("Ms Teams", "Master Patient Index", "our patient
// Participation Group"); a name followed by an organisation word from
// orgWordsSrc ("a patient called Lewisham Hospital"); lower-case titles.
func scanNames(d *doc) []Finding {
	text := d.text
	var out []Finding
	add := func(start, end int) {
		out = append(out, Finding{Kind: KindPatientName, Start: start, End: end})
	}
	d.each(reNameTitle, func(m []int) bool {
		if isAlnum(runeBefore(text, m[0])) {
			return false
		}
		end, ok := finishName(text, m[2], m[3])
		if ok {
			add(m[0], end)
		}
		return ok
	})
	phrase := func(re *lazyRule) {
		d.each(re, func(m []int) bool {
			if isLetter(runeBefore(text, m[0])) {
				return false
			}
			n := reNameStrict.FindStringSubmatchIndex(text[m[1]:])
			if n == nil {
				return false
			}
			end, ok := finishName(text, m[1]+n[2], m[1]+n[3])
			if ok {
				add(m[0], end)
			}
			return ok
		})
	}
	phrase(reNamePhraseCalled)
	phrase(reNamePhrasePatient)
	phrase(reNameIs)
	return out
}

// finishName checks the first name word text[ws:we] and extends the finding
// over up to two following name words. It returns the end of the finding.
func finishName(text string, ws, we int) (int, bool) {
	word, end := trimName(text, ws, we)
	if stopWords[word] || orgWords[word] || runsIntoDigit(text, we) {
		return 0, false
	}
	last := text[ws:we]
	pos := we
	for i := 0; i < 3; i++ {
		if last != strings.TrimRight(last, "'’-") || strings.HasSuffix(last, "'s") || strings.HasSuffix(last, "’s") {
			break // possessive or dangling hyphen ends the name
		}
		n := reNameNext.FindStringSubmatchIndex(text[pos:])
		if n == nil {
			break
		}
		w, wEnd := trimName(text, pos+n[2], pos+n[3])
		if orgWords[w] {
			return 0, false
		}
		if stopWords[w] || i == 2 || runsIntoDigit(text, pos+n[3]) {
			break
		}
		last = text[pos+n[2] : pos+n[3]]
		pos += n[1]
		end = wEnd
	}
	return end, true
}

// runsIntoDigit reports whether a name word ending at i runs straight
// into a digit ("Mr B12"), which makes it a code rather than a name.
func runsIntoDigit(text string, i int) bool {
	return unicode.IsDigit(runeAfter(text, i))
}

// trimName drops a possessive "'s" and dangling apostrophes, hyphens and
// full stops from a name word; it returns the bare word and its end.
func trimName(text string, ws, we int) (string, int) {
	w := text[ws:we]
	if strings.HasSuffix(w, "'s") {
		w = w[:len(w)-2]
	} else if strings.HasSuffix(w, "’s") {
		w = w[:len(w)-len("’s")]
	}
	w = strings.TrimRight(w, "'’-.")
	end := ws + len(w)
	if strings.HasSuffix(text[ws:we], ".") && len(w) > 0 && utf8.RuneCountInString(w) == 1 {
		end = we // keep the full stop of an initial: "J."
	}
	return w, end
}

// normalise merges overlapping findings of the same kind, fills in labels and
// sorts by position.
func normalise(fs []Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		if fs[i].End != fs[j].End {
			return fs[i].End > fs[j].End
		}
		return fs[i].Kind < fs[j].Kind
	})
	var out []Finding
	last := map[Kind]int{}
	for _, f := range fs {
		if i, ok := last[f.Kind]; ok && f.Start < out[i].End {
			if f.End > out[i].End {
				out[i].End = f.End
			}
			continue
		}
		f.Label = f.Kind.Label()
		last[f.Kind] = len(out)
		out = append(out, f)
	}
	return out
}

// Labels names, once each and in order, the kinds of patient-identifiable
// information the texts seem to contain ("an NHS number", …).
func Labels(texts ...string) []string {
	var labels []string
	for _, t := range texts {
		for _, f := range Scan(t) {
			if !slices.Contains(labels, f.Label) {
				labels = append(labels, f.Label)
			}
		}
	}
	return labels
}

// Flags describes labels (from Labels) for the comms team: one sentence, or
// nil when nothing was found. confirmed says the volunteer was warned in
// the form and chose to send it as it was.
func Flags(labels []string, confirmed bool) []string {
	if len(labels) == 0 {
		return nil
	}
	flag := "May identify a patient: it seems to contain " + strings.Join(labels, ", ") + "."
	if confirmed {
		flag += " The volunteer was warned and chose to send it as it is."
	}
	return []string{flag}
}
