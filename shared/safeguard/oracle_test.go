package safeguard

// The oracle: the safeguarding rules as regular expressions, walked as the
// first release walked them (each rule over the whole text, restarting one
// character after a rejected match), with the checks that followed each
// match. Scan's one-pass scanner must find exactly what this finds.

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

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

var (
	rxDigitRun          = compile("digitRun")
	rxDateNumeric       = compile("dateNumeric")
	rxDateISO           = compile("dateISO")
	rxDateDayMonth      = compile("dateDayMonth")
	rxDateMonthDay      = compile("dateMonthDay")
	rxDateCue           = compile("dateCue")
	rxDateBreak         = compile("dateBreak")
	rxDateWordBefore    = compile("dateWordBefore")
	rxPostcode          = compile("postcode")
	rxNameTitle         = compile("nameTitle")
	rxNameNext          = compile("nameNext")
	rxNameStrict        = compile("nameStrict")
	rxNamePhraseCalled  = compile("namePhraseCalled")
	rxNamePhrasePatient = compile("namePhrasePatient")
	rxNameIs            = compile("nameIs")
)

// regexScan is Scan as the regular expressions define it.
func regexScan(text string) []Finding {
	var fs []Finding
	fs = append(fs, reScanNHS(text)...)
	fs = append(fs, reScanDates(text)...)
	fs = append(fs, reScanPostcodes(text)...)
	fs = append(fs, reScanNames(text)...)
	return normalise(fs)
}

// walk runs re over text from pos to end, calling accept with each match's
// absolute submatch offsets. If accept returns true the search continues
// after the match; if false, it restarts one character after the start of
// the match.
func walk(re *regexp.Regexp, text string, pos, end int, accept func(m []int) bool) int {
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

func reScanNHS(text string) []Finding {
	var out []Finding
	// A digit run is maximal, so the walk always continues after it: a
	// ten-digit tail of a longer run must not be tried on its own.
	walk(rxDigitRun, text, 0, len(text), func(m []int) bool {
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

func reScanDates(text string) []Finding {
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
	walk(rxDateNumeric, text, 0, len(text), func(m []int) bool {
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
	walk(rxDateISO, text, 0, len(text), func(m []int) bool {
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
	walk(rxDateDayMonth, text, 0, len(text), func(m []int) bool {
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
	walk(rxDateMonthDay, text, 0, len(text), func(m []int) bool {
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
	walk(rxDateCue, text, 0, len(text), func(m []int) bool {
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
			if !reCueNear(text, c, d) {
				continue
			}
			if c.class == 'w' {
				weak = true
			} else {
				strong = true
			}
		}
		if strong || (d.year < birthYearCutoff && (weak || (d.numeric && !reAfterEventWord(text, d.start)))) {
			out = append(out, Finding{Kind: KindDateOfBirth, Start: d.start, End: d.end})
		}
	}
	return out
}

// afterEventWord reports whether the date at start directly follows a word
// such as "on" or "since".
func reAfterEventWord(text string, start int) bool {
	// The match of dateWordBefore in text[:start] starts where its run of
	// letters does: run it from just before that, not over the whole text.
	from := strings.TrimRight(text[:start], " ")
	from = strings.TrimRightFunc(from, unicode.IsLetter)
	m := rxDateWordBefore.FindStringSubmatch(text[len(from):start])
	return m != nil && eventWords[strings.ToLower(m[1])]
}

// cueNear applies the window rule described at scanDates.
func reCueNear(text string, c cue, d dateCand) bool {
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
	return utf8.RuneCountInString(gap) <= limit && !rxDateBreak.MatchString(gap)
}

func reScanPostcodes(text string) []Finding {
	var out []Finding
	walk(rxPostcode, text, 0, len(text), func(m []int) bool {
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

func reScanNames(text string) []Finding {
	var out []Finding
	add := func(start, end int) {
		out = append(out, Finding{Kind: KindPatientName, Start: start, End: end})
	}
	walk(rxNameTitle, text, 0, len(text), func(m []int) bool {
		if isAlnum(runeBefore(text, m[0])) {
			return false
		}
		end, ok := reFinishName(text, m[2], m[3])
		if ok {
			add(m[0], end)
		}
		return ok
	})
	phrase := func(re *regexp.Regexp) {
		walk(re, text, 0, len(text), func(m []int) bool {
			if isLetter(runeBefore(text, m[0])) {
				return false
			}
			n := rxNameStrict.FindStringSubmatchIndex(text[m[1]:])
			if n == nil {
				return false
			}
			end, ok := reFinishName(text, m[1]+n[2], m[1]+n[3])
			if ok {
				add(m[0], end)
			}
			return ok
		})
	}
	phrase(rxNamePhraseCalled)
	phrase(rxNamePhrasePatient)
	phrase(rxNameIs)
	return out
}

// finishName checks the first name word text[ws:we] and extends the finding
// over up to two following name words. It returns the end of the finding.
func reFinishName(text string, ws, we int) (int, bool) {
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
		n := rxNameNext.FindStringSubmatchIndex(text[pos:])
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
