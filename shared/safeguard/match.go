package safeguard

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules' regular expressions (rules_test.go, shared with safeguard.js)
// matched by hand. Each matcher is anchored: it reports the match Go's
// regexp would find starting at i (leftmost-first: alternatives in their
// order, quantifiers greedy, backtracking where a later part fails) and
// fills m with the submatch offsets FindStringSubmatchIndex would give.
// run walks every rule over the text at once, in one pass; a matcher
// reads only as far as its match can reach, so no rule ever searches the
// text again from the start. FuzzScanMatchesRules checks the whole against
// the regular expressions.

// The rules Scan walks, in one pass.
const (
	ruleDigitRun = iota
	ruleDateNumeric
	ruleDateISO
	ruleDateDayMonth
	ruleDateMonthDay
	ruleDateCue
	rulePostcode
	ruleNameTitle
	ruleNamePhraseCalled
	ruleNamePhrasePatient
	ruleNameIs
	nRules
)

var matchers = [nRules]func(t string, i int, m []int) bool{
	ruleDigitRun:          matchDigitRun,
	ruleDateNumeric:       matchDateNumeric,
	ruleDateISO:           matchDateISO,
	ruleDateDayMonth:      matchDateDayMonth,
	ruleDateMonthDay:      matchDateMonthDay,
	ruleDateCue:           matchDateCue,
	rulePostcode:          matchPostcode,
	ruleNameTitle:         matchNameTitle,
	ruleNamePhraseCalled:  matchNamePhraseCalled,
	ruleNamePhrasePatient: matchNamePhrasePatient,
	ruleNameIs:            matchNameIs,
}

// startsWith[b] has bit r set when rule r can match at a character whose
// first byte is b. A case-insensitive rule can also start with ſ (U+017F,
// first byte 0xC5) or K (the Kelvin sign, U+212A, first byte 0xE2): Go's
// (?i) folds them to s and k.
var startsWith = func() (t [256]uint16) {
	set := func(r int, chars string) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= 1 << r
		}
	}
	const digits, letters = "0123456789", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	both := func(lower string) string { return lower + strings.ToUpper(lower) + "\xc5\xe2" }
	set(ruleDigitRun, digits)
	set(ruleDateNumeric, digits)
	set(ruleDateISO, digits)
	set(ruleDateDayMonth, digits)
	set(ruleDateMonthDay, both("jfmasond"))
	set(ruleDateCue, both("bday"))
	set(rulePostcode, letters)
	set(ruleNameTitle, "M")
	set(ruleNamePhraseCalled, both(firstLetters(personWords)))
	set(ruleNamePhrasePatient, both("mothayh"))
	set(ruleNameIs, both("htwp"))
	return t
}()

// Every rule but digitRun is rejected after a letter, and all but the
// phrases before a name after a digit too (see accept): run does not try
// them there.
const (
	notAfterLetter = 1<<nRules - 1&^(1<<ruleDigitRun)
	notAfterDigit  = notAfterLetter &^ (1<<ruleNamePhraseCalled | 1<<ruleNamePhrasePatient | 1<<ruleNameIs)
)

// pairs[a][b] has bit r set when rule r can match at a text starting with
// the two ASCII bytes a and b, for the rules in pairRules: those that start
// with one of a few words. Any other text, and a text that starts with a
// non-ASCII character (such as ſ), is left to the matcher.
var pairs = func() (t [128][128]uint16) {
	add := func(r int, starts ...string) {
		for _, w := range starts {
			for _, a := range [2]byte{w[0], upper(w[0])} {
				for _, b := range [2]byte{w[1], upper(w[1])} {
					t[a][b] |= 1 << r
				}
			}
		}
	}
	add(ruleDateMonthDay, strings.Fields(monthWords)...)
	add(ruleDateCue, "bo", "bi", "d.", "do", "d/", "b.", "ag", "y/", "ye", "yr")
	add(ruleNameTitle, titles[:]...)
	add(ruleNamePhraseCalled, strings.Fields(personWords)...)
	for _, h := range patientHeads {
		add(ruleNamePhrasePatient, (h + " ")[:2])
	}
	add(ruleNameIs, "hi", "he", "th", "wh", "pa", "pt")
	return t
}()

const pairRules = 1<<ruleDateMonthDay | 1<<ruleDateCue | 1<<ruleNameTitle | 1<<ruleNamePhraseCalled | 1<<ruleNamePhrasePatient | 1<<ruleNameIs

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// run walks every rule over the text in one pass: at each character, the
// rules that can start there and whose walk has reached it are tried, and
// each match is handed to accept.
func (s *scanner) run() {
	text := s.text
	var next [nRules]int // where each rule's walk stands
	var m [12]int
	for i := 0; i < len(text); {
		c := text[i]
		set := startsWith[c]
		if i > 0 {
			switch p := text[i-1] | 0x20; {
			case 'a' <= p && p <= 'z':
				set &^= notAfterLetter
			case '0' <= p && p <= '9':
				set &^= notAfterDigit
			}
		}
		if set&pairRules != 0 && i+1 < len(text) && c < utf8.RuneSelf && text[i+1] < utf8.RuneSelf {
			set &^= pairRules &^ pairs[c][text[i+1]]
		}
		for ; set != 0; set &= set - 1 {
			r := bits.TrailingZeros16(set)
			if i < next[r] || !matchers[r](text, i, m[:]) {
				continue
			}
			if s.accept(r, m[:]) {
				next[r] = m[1]
			}
		}
		if c < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
		}
	}
}

// ---- pieces ----

func runeAt(t string, i int) (rune, int) {
	if i >= len(t) {
		return -1, 0
	}
	if c := t[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(t[i:])
}

func isDigitAt(t string, i int) bool { return i < len(t) && '0' <= t[i] && t[i] <= '9' }

// digitsAt reports whether t[i:i+n] is n ASCII digits.
func digitsAt(t string, i, n int) bool {
	if i+n > len(t) {
		return false
	}
	for j := i; j < i+n; j++ {
		if t[j] < '0' || t[j] > '9' {
			return false
		}
	}
	return true
}

// byteAt returns the end of the byte c at t[i:], or -1.
func byteAt(t string, i int, c byte) int {
	if i >= 0 && i < len(t) && t[i] == c {
		return i + 1
	}
	return -1
}

// exactAt returns the end of w at t[i:], or -1.
func exactAt(t string, i int, w string) int {
	if i >= 0 && strings.HasPrefix(t[i:], w) {
		return i + len(w)
	}
	return -1
}

// foldAt returns the end of the lower-case ASCII word w at t[i:] as (?i)
// matches it, or -1: a letter in either case, and s or k also as ſ or K.
func foldAt(t string, i int, w string) int {
	if i < 0 {
		return -1
	}
	for j := 0; j < len(w); j++ {
		if i >= len(t) {
			return -1
		}
		c, b := w[j], t[i]
		if b < utf8.RuneSelf {
			if b != c && !('a' <= c && c <= 'z' && b == c-'a'+'A') {
				return -1
			}
			i++
			continue
		}
		switch {
		case c == 's' && strings.HasPrefix(t[i:], "ſ"):
			i += len("ſ")
		case c == 'k' && strings.HasPrefix(t[i:], "\u212A"):
			i += len("\u212A")
		default:
			return -1
		}
	}
	return i
}

// folded is the lower-case ASCII letter the character at t[i:] folds to
// under (?i), or 0.
func folded(t string, i int) byte {
	c := t[i]
	switch {
	case 'a' <= c && c <= 'z':
		return c
	case 'A' <= c && c <= 'Z':
		return c - 'A' + 'a'
	case strings.HasPrefix(t[i:], "ſ"):
		return 's'
	case strings.HasPrefix(t[i:], "\u212A"):
		return 'k'
	}
	return 0
}

// spacesAt returns the end of the run of spaces (U+0020) at t[i:]; i if
// there is none. Every [ ]+ in the rules is followed by something that
// cannot be a space, so the longest run is the only one that can match.
func spacesAt(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}

// spaces1At is spacesAt for [ ]+: -1 when there is no space.
func spaces1At(t string, i int) int {
	if e := spacesAt(t, i); e > i {
		return e
	}
	return -1
}

// byWord lists words by the letter they start with, in their order.
func byWord(words string) (by [256][]string) {
	for _, w := range strings.Fields(words) {
		by[w[0]] = append(by[w[0]], w)
	}
	return by
}

func firstLetters(words string) string {
	var b strings.Builder
	for _, w := range strings.Fields(words) {
		b.WriteByte(w[0])
	}
	return b.String()
}

// ---- NHS numbers ----

// matchDigitRun: [0-9]+(?:[ \x{00A0}-][0-9]+)*
func matchDigitRun(t string, i int, m []int) bool {
	if !isDigitAt(t, i) {
		return false
	}
	e := i
	for {
		for isDigitAt(t, e) {
			e++
		}
		sep := 0
		switch {
		case e < len(t) && (t[e] == ' ' || t[e] == '-'):
			sep = 1
		case strings.HasPrefix(t[e:], "\u00a0"):
			sep = len("\u00a0")
		}
		if sep == 0 || !isDigitAt(t, e+sep) {
			break
		}
		e += sep
	}
	m[0], m[1] = i, e
	return true
}

// ---- dates ----

func isDateSep(t string, i int) bool {
	return i < len(t) && (t[i] == '.' || t[i] == '/' || t[i] == '-')
}

// matchDateNumeric: ([0-9]{1,2})([./-])([0-9]{1,2})([./-])([0-9]{4}|[0-9]{2})
func matchDateNumeric(t string, i int, m []int) bool {
	for _, a := range [2]int{2, 1} {
		p := i + a
		if !digitsAt(t, i, a) || !isDateSep(t, p) {
			continue
		}
		q := p + 1
		for _, b := range [2]int{2, 1} {
			r := q + b
			if !digitsAt(t, q, b) || !isDateSep(t, r) {
				continue
			}
			for _, c := range [2]int{4, 2} {
				if digitsAt(t, r+1, c) {
					copy(m, []int{i, r + 1 + c, i, p, p, p + 1, q, r, r, r + 1, r + 1, r + 1 + c})
					return true
				}
			}
		}
	}
	return false
}

// matchDateISO: ([0-9]{4})([./-])([0-9]{1,2})([./-])([0-9]{1,2})
func matchDateISO(t string, i int, m []int) bool {
	p := i + 4
	if !digitsAt(t, i, 4) || !isDateSep(t, p) {
		return false
	}
	q := p + 1
	for _, b := range [2]int{2, 1} {
		r := q + b
		if !digitsAt(t, q, b) || !isDateSep(t, r) {
			continue
		}
		for _, c := range [2]int{2, 1} {
			if digitsAt(t, r+1, c) {
				copy(m, []int{i, r + 1 + c, i, p, p, p + 1, q, r, r, r + 1, r + 1, r + 1 + c})
				return true
			}
		}
	}
	return false
}

// monthWords is monthsSrc's alternatives, in order.
const monthWords = `january february march april may june july august september october november december jan feb mar apr jun jul aug sept sep oct nov dec`

var monthsBy = byWord(monthWords)

// ordinalAt matches (?i)(?:st|nd|rd|th) at t[i:].
func ordinalAt(t string, i int) int {
	for _, w := range [4]string{"st", "nd", "rd", "th"} {
		if e := foldAt(t, i, w); e >= 0 {
			return e
		}
	}
	return -1
}

// matchDateDayMonth: (?i)([0-9]{1,2})(?:st|nd|rd|th)?(?:[ -]|[ ]of[ ])(months)\.?(?:,?[ ]|-)([0-9]{4})
func matchDateDayMonth(t string, i int, m []int) bool {
	for _, a := range [2]int{2, 1} {
		if !digitsAt(t, i, a) {
			continue
		}
		for _, p := range [2]int{ordinalAt(t, i+a), i + a} {
			if p < 0 {
				continue
			}
			of := -1
			if byteAt(t, p, ' ') >= 0 {
				if e := foldAt(t, p+1, "of"); e >= 0 {
					of = byteAt(t, e, ' ')
				}
			}
			dash := -1
			if p < len(t) && (t[p] == ' ' || t[p] == '-') {
				dash = p + 1
			}
			for _, q := range [2]int{dash, of} {
				if q < 0 || q >= len(t) {
					continue
				}
				for _, month := range monthsBy[folded(t, q)] {
					r := foldAt(t, q, month)
					if r < 0 {
						continue
					}
					for _, r1 := range [2]int{byteAt(t, r, '.'), r} {
						if r1 < 0 {
							continue
						}
						comma := -1
						if e := byteAt(t, r1, ','); e >= 0 {
							comma = byteAt(t, e, ' ')
						}
						for _, y := range [3]int{comma, byteAt(t, r1, ' '), byteAt(t, r1, '-')} {
							if y >= 0 && digitsAt(t, y, 4) {
								copy(m, []int{i, y + 4, i, i + a, q, r, y, y + 4})
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}

// matchDateMonthDay: (?i)(months)\.?[ ]([0-9]{1,2})(?:st|nd|rd|th)?,?[ ]([0-9]{4})
func matchDateMonthDay(t string, i int, m []int) bool {
	for _, month := range monthsBy[folded(t, i)] {
		p := foldAt(t, i, month)
		if p < 0 {
			continue
		}
		for _, p1 := range [2]int{byteAt(t, p, '.'), p} {
			if p1 < 0 || byteAt(t, p1, ' ') < 0 {
				continue
			}
			q := p1 + 1
			for _, a := range [2]int{2, 1} {
				if !digitsAt(t, q, a) {
					continue
				}
				for _, r := range [2]int{ordinalAt(t, q+a), q + a} {
					if r < 0 {
						continue
					}
					for _, r1 := range [2]int{byteAt(t, r, ','), r} {
						if r1 >= 0 && byteAt(t, r1, ' ') >= 0 && digitsAt(t, r1+1, 4) {
							copy(m, []int{i, r1 + 5, i, p, q, q + a, r1 + 1, r1 + 5})
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// matchDateCue: (?i)born|birth(?:day|date)?|d\.o\.b\.?|dob|d/o/b|b\.|aged|age|y/o|(?:years?|yrs?)[ -]old
func matchDateCue(t string, i int, m []int) bool {
	end := -1
	switch {
	case foldAt(t, i, "born") >= 0:
		end = foldAt(t, i, "born")
	case foldAt(t, i, "birth") >= 0:
		end = foldAt(t, i, "birth")
		if e := foldAt(t, end, "day"); e >= 0 {
			end = e
		} else if e := foldAt(t, end, "date"); e >= 0 {
			end = e
		}
	case foldAt(t, i, "d.o.b") >= 0:
		end = foldAt(t, i, "d.o.b")
		if e := byteAt(t, end, '.'); e >= 0 {
			end = e
		}
	default:
		for _, w := range [6]string{"dob", "d/o/b", "b.", "aged", "age", "y/o"} {
			if e := foldAt(t, i, w); e >= 0 {
				end = e
				break
			}
		}
		if end >= 0 {
			break
		}
		for _, w := range [4]string{"years", "year", "yrs", "yr"} {
			e := foldAt(t, i, w)
			if e < 0 || e >= len(t) || (t[e] != ' ' && t[e] != '-') {
				continue
			}
			if e = foldAt(t, e+1, "old"); e >= 0 {
				end = e
				break
			}
		}
	}
	if end < 0 {
		return false
	}
	m[0], m[1] = i, end
	return true
}

// ---- postcodes ----

// The postcode rule's letter classes (ASCII only), a bit each.
const (
	pcFirst  = 1 << iota // [A-PR-UWYZa-pr-uwyz]
	pcSecond             // [A-HK-Ya-hk-y]
	pcThird              // [A-HJKPSTUWa-hjkpstuw]
	pcFourth             // [ABEHMNPRVWXYabehmnprvwxy]
	pcInward             // [ABD-HJLNP-UW-Zabd-hjlnp-uw-z]
)

var pcClasses = func() (t [256]uint8) {
	for bit, letters := range map[uint8]string{
		pcFirst:  "ABCDEFGHIJKLMNOPRSTUWYZ",
		pcSecond: "ABCDEFGHKLMNOPQRSTUVWXY",
		pcThird:  "ABCDEFGHJKPSTUW",
		pcFourth: "ABEHMNPRVWXY",
		pcInward: "ABDEFGHJLNPQRSTUWXYZ",
	} {
		for i := 0; i < len(letters); i++ {
			t[letters[i]] |= bit
			t[letters[i]-'A'+'a'] |= bit
		}
	}
	return t
}()

func classAt(t string, i int, class uint8) bool { return i < len(t) && pcClasses[t[i]]&class != 0 }

// optSpace returns the candidates for [ \x{00A0}]? at t[i:], greedy first.
func optSpace(t string, i int) [2]int {
	switch {
	case i < len(t) && t[i] == ' ':
		return [2]int{i + 1, i}
	case strings.HasPrefix(t[i:], "\u00a0"):
		return [2]int{i + len("\u00a0"), i}
	}
	return [2]int{-1, i}
}

// matchPostcode: [Gg][Ii][Rr][ \x{00A0}]?0[Aa][Aa]|(?:A9|A99|AA9|AA99|A9A|AA9A)[ \x{00A0}]?9AA
// with each position's letters (rules_test.go spells it out).
func matchPostcode(t string, i int, m []int) bool {
	if i+3 <= len(t) && t[i]|0x20 == 'g' && t[i+1]|0x20 == 'i' && t[i+2]|0x20 == 'r' {
		for _, p := range optSpace(t, i+3) {
			if p >= 0 && p+3 <= len(t) && t[p] == '0' && t[p+1]|0x20 == 'a' && t[p+2]|0x20 == 'a' {
				m[0], m[1] = i, p+3
				return true
			}
		}
	}
	if !classAt(t, i, pcFirst) || !(isDigitAt(t, i+1) || isDigitAt(t, i+2)) {
		return false
	}
	outward := [6]int{-1, -1, -1, -1, -1, -1}
	if isDigitAt(t, i+1) { // A[0-9]{1,2}
		if isDigitAt(t, i+2) {
			outward[0] = i + 3
		}
		outward[1] = i + 2
	}
	if classAt(t, i+1, pcSecond) && isDigitAt(t, i+2) { // AA[0-9]{1,2}
		if isDigitAt(t, i+3) {
			outward[2] = i + 4
		}
		outward[3] = i + 3
	}
	if isDigitAt(t, i+1) && classAt(t, i+2, pcThird) { // A9A
		outward[4] = i + 3
	}
	if classAt(t, i+1, pcSecond) && isDigitAt(t, i+2) && classAt(t, i+3, pcFourth) { // AA9A
		outward[5] = i + 4
	}
	for _, o := range outward {
		if o < 0 {
			continue
		}
		for _, p := range optSpace(t, o) {
			if p >= 0 && isDigitAt(t, p) && classAt(t, p+1, pcInward) && classAt(t, p+2, pcInward) {
				m[0], m[1] = i, p+3
				return true
			}
		}
	}
	return false
}

// ---- names ----

var titles = [6]string{"Mrs", "Mr", "Ms", "Miss", "Mx", "Master"}

// particles is particleSrc's alternatives, in order.
var particles = strings.Fields("de da di du van von der den del la le al el bin ap")

func isNameRune(r rune) bool { return r == '\'' || r == '’' || r == '-' || unicode.IsLetter(r) }

// nameWordAt matches nameWordSrc, (\p{Lu}\.|\p{Lu}[\p{L}'’-]*), at t[i:].
func nameWordAt(t string, i int) int {
	r, size := runeAt(t, i)
	if !unicode.IsUpper(r) {
		return -1
	}
	p := i + size
	if e := byteAt(t, p, '.'); e >= 0 {
		return e
	}
	for {
		r, size := runeAt(t, p)
		if !isNameRune(r) {
			return p
		}
		p += size
	}
}

// nameNext matches nameNext, ^[ ]+ particleSrc nameWordSrc, at text[i:],
// and returns the name word's offsets.
func nameNext(t string, i int) (ws, we int, ok bool) {
	q := spaces1At(t, i)
	if q < 0 {
		return 0, 0, false
	}
	for _, w := range particles {
		if e := exactAt(t, q, w); e >= 0 {
			if p := spaces1At(t, e); p >= 0 {
				if we := nameWordAt(t, p); we >= 0 {
					return p, we, true
				}
			}
		}
	}
	if we := nameWordAt(t, q); we >= 0 {
		return q, we, true
	}
	return 0, 0, false
}

// matchNameTitle: (?:Mrs|Mr|Ms|Miss|Mx|Master)\.?[ ]+ particleSrc nameWordSrc
func matchNameTitle(t string, i int, m []int) bool {
	for _, title := range titles {
		p := exactAt(t, i, title)
		if p < 0 {
			continue
		}
		for _, p1 := range [2]int{byteAt(t, p, '.'), p} {
			if p1 < 0 {
				continue
			}
			if ws, we, ok := nameNext(t, p1); ok {
				m[0], m[1], m[2], m[3] = i, we, ws, we
				return true
			}
		}
	}
	return false
}

// nameStrict matches nameStrict, ^(\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*),
// at t[i:].
func nameStrict(t string, i int) (ws, we int, ok bool) {
	r, size := runeAt(t, i)
	if !unicode.IsUpper(r) {
		return 0, 0, false
	}
	p := i + size
	r, size = runeAt(t, p)
	switch {
	case unicode.IsLower(r):
		p += size
	case r == '\'' || r == '’':
		r2, size2 := runeAt(t, p+size)
		if !unicode.IsUpper(r2) {
			return 0, 0, false
		}
		p += size + size2
	default:
		return 0, 0, false
	}
	for {
		r, size := runeAt(t, p)
		if !isNameRune(r) {
			return i, p, true
		}
		p += size
	}
}

// personWords is namePhraseCalled's person words, in order.
const personWords = `patient lady man woman gentleman gent boy girl children child baby toddler teenager lad son daughter husband wife mum mother dad father grandmother grandfather grandma grandad granddad nan carer resident person chap guy kid someone somebody`

var personsBy = byWord(personWords)

// matchNamePhraseCalled: (?i)(?:persons)s?,?(?:[ ]+of[ ]+(?:ours|mine))?(?:[ ]+(?:who|that)[ ]+(?:is|was))?[ ]+(?:called|named|by[ ]+the[ ]+name[ ]+of)[ ]+
func matchNamePhraseCalled(t string, i int, m []int) bool {
	for _, w := range personsBy[folded(t, i)] {
		p := foldAt(t, i, w)
		if p < 0 {
			continue
		}
		for _, p1 := range [2]int{foldAt(t, p, "s"), p} {
			if p1 < 0 {
				continue
			}
			for _, p2 := range [2]int{byteAt(t, p1, ','), p1} {
				if p2 < 0 {
					continue
				}
				for _, p3 := range [2]int{ofOurs(t, p2), p2} {
					if p3 < 0 {
						continue
					}
					for _, p4 := range [2]int{whoIs(t, p3), p3} {
						if p4 < 0 {
							continue
						}
						if e := calledAt(t, p4); e >= 0 {
							m[0], m[1] = i, e
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// firstOf returns the end of the first of words (?i) at t[i:], or -1.
func firstOf(t string, i int, words ...string) int {
	if i < 0 {
		return -1
	}
	for _, w := range words {
		if e := foldAt(t, i, w); e >= 0 {
			return e
		}
	}
	return -1
}

// then returns spaces1At(t, i), or -1 if i is.
func then(t string, i int) int {
	if i < 0 {
		return -1
	}
	return spaces1At(t, i)
}

// ofOurs matches (?i)[ ]+of[ ]+(?:ours|mine) at t[i:].
func ofOurs(t string, i int) int {
	return firstOf(t, then(t, firstOf(t, then(t, i), "of")), "ours", "mine")
}

// whoIs matches (?i)[ ]+(?:who|that)[ ]+(?:is|was) at t[i:].
func whoIs(t string, i int) int {
	return firstOf(t, then(t, firstOf(t, then(t, i), "who", "that")), "is", "was")
}

// calledAt matches (?i)[ ]+(?:called|named|by[ ]+the[ ]+name[ ]+of)[ ]+ at t[i:].
func calledAt(t string, i int) int {
	q := then(t, i)
	e := firstOf(t, q, "called", "named")
	if e < 0 {
		e = firstOf(t, then(t, firstOf(t, then(t, firstOf(t, then(t, firstOf(t, q, "by")), "the")), "name")), "of")
	}
	return then(t, e)
}

// patientHeads is namePhrasePatient's first words; each may start with a
// capital.
var patientHeads = [10]string{"my", "our", "the", "a", "this", "that", "your", "his", "her", "their"}

// matchNamePhrasePatient: (?:[Mm]y|[Oo]ur|[Tt]he|[Aa]|[Tt]his|[Tt]hat|[Yy]our|[Hh]is|[Hh]er|[Tt]heir)[ ]+(?:patient|pt)[ ]+
func matchNamePhrasePatient(t string, i int, m []int) bool {
	if i >= len(t) {
		return false
	}
	for _, h := range patientHeads {
		if t[i] != h[0] && t[i] != h[0]-'a'+'A' {
			continue
		}
		q := then(t, exactAt(t, i+1, h[1:]))
		if q < 0 {
			continue
		}
		for _, w := range [2]string{"patient", "pt"} {
			if e := then(t, exactAt(t, q, w)); e >= 0 {
				m[0], m[1] = i, e
				return true
			}
		}
	}
	return false
}

// matchNameIs: (?i)(?:his|her|their|whose|(?:the[ ]+)?(?:patient|pt)(?:['’]?s)?)[ ]+(?:(?:first|last|full|real|middle|given|sur)[ ]?)?name(?:[ ]+(?:is|was)[ ]+|['’]s[ ]+|[ ]*:[ ]*)
func matchNameIs(t string, i int, m []int) bool {
	for _, w := range [4]string{"his", "her", "their", "whose"} {
		if e := nameIsRest(t, foldAt(t, i, w)); e >= 0 {
			m[0], m[1] = i, e
			return true
		}
	}
	for _, p := range [2]int{then(t, foldAt(t, i, "the")), i} {
		if p < 0 {
			continue
		}
		for _, w := range [2]string{"patient", "pt"} {
			q := foldAt(t, p, w)
			if q < 0 {
				continue
			}
			quoted := -1
			if r, size := runeAt(t, q); r == '\'' || r == '’' {
				quoted = foldAt(t, q+size, "s")
			}
			for _, q1 := range [3]int{quoted, foldAt(t, q, "s"), q} {
				if e := nameIsRest(t, q1); e >= 0 {
					m[0], m[1] = i, e
					return true
				}
			}
		}
	}
	return false
}

// nameIsRest matches the rest of nameIs, after its first words, at t[i:].
func nameIsRest(t string, i int) int {
	q := then(t, i)
	if q < 0 {
		return -1
	}
	named := [3]int{-1, -1, q}
	if e := firstOf(t, q, "first", "last", "full", "real", "middle", "given", "sur"); e >= 0 {
		named[0], named[1] = byteAt(t, e, ' '), e
	}
	for _, n := range named {
		e := firstOf(t, n, "name")
		if e < 0 {
			continue
		}
		if x := then(t, firstOf(t, then(t, e), "is", "was")); x >= 0 {
			return x
		}
		if r, size := runeAt(t, e); r == '\'' || r == '’' {
			if x := then(t, foldAt(t, e+size, "s")); x >= 0 {
				return x
			}
		}
		if x := byteAt(t, spacesAt(t, e), ':'); x >= 0 {
			return spacesAt(t, x)
		}
	}
	return -1
}
