// Package safeguard looks for patient-identifiable information in the
// free-text stories that GP practice staff submit to Frontline Voices.
//
// The same rules run in the browser (shared/web/static/safeguard.js) to warn
// the volunteer before submission, and on the server (Scan) to flag the story
// to the comms team. Each rule is specified by a regular expression that
// safeguard.js uses as it is (rules_test.go holds them: a test checks the
// JavaScript file spells them identically, apart from the no-break space,
// \x{00A0} in Go and \u{00A0} in JavaScript). In Go, Scan matches them by hand
// in one pass over the text (match.go); fuzzing and the corpora check it
// against the regular expressions, and a test runs both languages over the
// test corpora and compares the results.
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
// Date of birth: see dates for the full rule. In short, a full date (day,
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
// Patient name: see nameTitle. Titles Mr, Mrs, Ms, Miss, Mx and Master followed
// by a capitalised word; "a patient/lady/man/... called/named X"; "my/our/the
// patient X"; "his/her/their/the patient's name is X". "Dr X" is NOT flagged:
// in these stories a named doctor is almost always the writer's colleague.
package safeguard

import (
	"slices"
	"sort"
	"strings"
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
	eventWords = wordSet(eventWordsSrc)
	stopWords  = wordSet(stopWordsSrc)
	orgWords   = wordSet(orgWordsSrc)
)

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
// merged into one). It reads the text once, left to right, trying at each
// character only the rules that can start with it (match.go): its time
// grows in proportion to the text's length.
func Scan(text string) []Finding {
	s := scanner{text: text}
	s.run()
	return normalise(append(s.found, s.dates()...))
}

// A scanner is one Scan's state: the text, what it has found, and the date
// candidates and birth cues it weighs once the text is read.
type scanner struct {
	text  string
	found []Finding
	cands []dateCand
	cues  []cue
}

func (s *scanner) add(k Kind, start, end int) {
	s.found = append(s.found, Finding{Kind: k, Start: start, End: end})
}

// accept applies the checks that follow a match of rule r, m holding its
// submatch offsets as regexp's FindStringSubmatchIndex gives them, and
// reports whether the match stands. If it does, rule r's walk goes on after
// the match; if not, one character after its start, so a rejected match
// never hides a good one that overlaps it. safeguard.js walks the text the
// same way.
func (s *scanner) accept(r int, m []int) bool {
	switch r {
	case ruleDigitRun:
		return s.nhs(m)
	case ruleDateNumeric:
		return s.dateNumeric(m)
	case ruleDateISO:
		return s.dateISO(m)
	case ruleDateDayMonth:
		return s.dateDayMonth(m)
	case ruleDateMonthDay:
		return s.dateMonthDay(m)
	case ruleDateCue:
		return s.dateCue(m)
	case rulePostcode:
		return s.postcode(m)
	case ruleNameTitle:
		return s.nameTitle(m)
	default: // the three phrases before a name
		return s.namePhrase(m)
	}
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

// nhs checks a digit run. A digit run is maximal, so the walk always
// continues after it: a ten-digit tail of a longer run must not be tried on
// its own.
func (s *scanner) nhs(m []int) bool {
	text := s.text
	// Ten digits, or 3-3-4 with two separators of at most two bytes: a
	// longer run is not one (and is not split up to find that out).
	if m[1]-m[0] > 14 || numberBefore(text, m[0]) || numberAfter(text, m[1]) {
		return true
	}
	groups := strings.FieldsFunc(text[m[0]:m[1]], func(r rune) bool { return r < '0' || r > '9' })
	if !(len(groups) == 1 && len(groups[0]) == 10) && !(len(groups) == 3 && len(groups[0]) == 3 && len(groups[1]) == 3 && len(groups[2]) == 4) {
		return true
	}
	digits := strings.Join(groups, "")
	if strings.Count(digits, digits[:1]) == len(digits) || !ValidNHSNumber(digits) {
		return true
	}
	s.add(KindNHSNumber, m[0], m[1])
	return true
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

// dates implements the date-of-birth rule. A candidate is a full date
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
func (s *scanner) dates() []Finding {
	if len(s.cands) == 0 {
		return nil
	}
	text := s.text
	var out []Finding
	for _, d := range s.cands {
		strong, weak := false, false
		// The cues are in order and apart. Only those within the windows
		// can be near (a character is at most four bytes), so each date
		// looks at a few, not at every cue in the text.
		from := sort.Search(len(s.cues), func(i int) bool { return s.cues[i].end >= d.start-4*cueBeforeWindow })
		for _, c := range s.cues[from:] {
			if c.start > d.end+4*cueAfterWindow {
				break
			}
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

// numericYear reads a numeric date's year (two digits: 00-29 are 20xx,
// 30-99 19xx) and reports whether the date is a real one, day first or,
// where day first is impossible, month first.
func numericYear(day, month, year int, yearDigits int) (int, bool) {
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

func (s *scanner) dateNumeric(m []int) bool {
	text := s.text
	if text[m[4]:m[5]] != text[m[8]:m[9]] || numberBefore(text, m[0]) || numberAfter(text, m[1]) {
		return false
	}
	y, ok := numericYear(atoi(text[m[2]:m[3]]), atoi(text[m[6]:m[7]]), atoi(text[m[10]:m[11]]), m[11]-m[10])
	if !ok {
		return false
	}
	s.cands = append(s.cands, dateCand{m[0], m[1], y, true})
	return true
}

func (s *scanner) dateISO(m []int) bool {
	text := s.text
	if text[m[4]:m[5]] != text[m[8]:m[9]] || numberBefore(text, m[0]) || numberAfter(text, m[1]) {
		return false
	}
	y := atoi(text[m[2]:m[3]])
	if !validDate(atoi(text[m[10]:m[11]]), atoi(text[m[6]:m[7]]), y) {
		return false
	}
	s.cands = append(s.cands, dateCand{m[0], m[1], y, true})
	return true
}

func (s *scanner) dateDayMonth(m []int) bool {
	text := s.text
	if numberBefore(text, m[0]) || numberAfter(text, m[1]) {
		return false
	}
	y := atoi(text[m[6]:m[7]])
	if !validDate(atoi(text[m[2]:m[3]]), monthNumber(text[m[4]:m[5]]), y) {
		return false
	}
	s.cands = append(s.cands, dateCand{m[0], m[1], y, false})
	return true
}

func (s *scanner) dateMonthDay(m []int) bool {
	text := s.text
	if isAlnum(runeBefore(text, m[0])) || numberAfter(text, m[1]) {
		return false
	}
	y := atoi(text[m[6]:m[7]])
	if !validDate(atoi(text[m[4]:m[5]]), monthNumber(text[m[2]:m[3]]), y) {
		return false
	}
	s.cands = append(s.cands, dateCand{m[0], m[1], y, false})
	return true
}

func (s *scanner) dateCue(m []int) bool {
	text := s.text
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
	s.cues = append(s.cues, cue{m[0], m[1], class})
	return true
}

// afterEventWord reports whether the date at start directly follows a word
// such as "on" or "since" (dateWordBefore: a word, then spaces, then the
// date).
func afterEventWord(text string, start int) bool {
	gap := strings.TrimRight(text[:start], " ")
	if len(gap) == start {
		return false
	}
	word := gap[len(strings.TrimRightFunc(gap, unicode.IsLetter)):]
	return word != "" && eventWords[strings.ToLower(word)]
}

// cueNear applies the window rule described at dates.
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
	return utf8.RuneCountInString(gap) <= limit && !hasBreak(gap)
}

// hasBreak reports whether gap holds a sentence or clause break (dateBreak:
// "!", "?", ";", a line break, or "." then a space or tab).
func hasBreak(gap string) bool {
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case '!', '?', ';', '\r', '\n':
			return true
		case '.':
			if i+1 < len(gap) && (gap[i+1] == ' ' || gap[i+1] == '\t') {
				return true
			}
		}
	}
	return false
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

func (s *scanner) postcode(m []int) bool {
	text := s.text
	if isAlnum(runeBefore(text, m[0])) || isAlnum(runeAfter(text, m[1])) {
		return false
	}
	inward := text[m[1]-2 : m[1]]
	if inward != strings.ToUpper(inward) && unitInwards[strings.ToLower(inward)] {
		return false
	}
	s.add(KindPostcode, m[0], m[1])
	return true
}

// ---- Patient names ----

// nameTitle and namePhrase implement the naming rule. Flagged:
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
func (s *scanner) nameTitle(m []int) bool {
	if isAlnum(runeBefore(s.text, m[0])) {
		return false
	}
	end, ok := finishName(s.text, m[2], m[3])
	if ok {
		s.add(KindPatientName, m[0], end)
	}
	return ok
}

// namePhrase checks a phrase before a name ("a patient called", "my
// patient", "her name is") and the name after it.
func (s *scanner) namePhrase(m []int) bool {
	text := s.text
	if isLetter(runeBefore(text, m[0])) {
		return false
	}
	ws, we, ok := nameStrict(text, m[1])
	if !ok {
		return false
	}
	end, ok := finishName(text, ws, we)
	if ok {
		s.add(KindPatientName, m[0], end)
	}
	return ok
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
		nws, nwe, ok := nameNext(text, pos)
		if !ok {
			break
		}
		w, wEnd := trimName(text, nws, nwe)
		if orgWords[w] {
			return 0, false
		}
		if stopWords[w] || i == 2 || runsIntoDigit(text, nwe) {
			break
		}
		last = text[nws:nwe]
		pos = nwe
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
