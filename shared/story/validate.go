package story

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Limits on what a volunteer can send. They keep a story far below
// DynamoDB's 400 KB item limit (about 25 KB at most, measured in the tests).
const (
	MinStoryChars = 20
	MaxStoryChars = 5000
	maxShort      = 120  // names, practice, constituency…
	maxNote       = 1000 // patients' note, what a contact was
)

// FieldError is a problem with one answer, worded for the volunteer.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors lists every problem with a submission, in form order.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Field + ": " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// For returns the message for field, if any.
func (e FieldErrors) For(field string) string {
	for _, f := range e {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

func (e *FieldErrors) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Normalize trims and cleans every answer: Unicode NFC, no control
// characters, single-line fields on one line, line breaks kept only in the
// long answers. Empty MP contacts are dropped.
func (s Submission) Normalize() Submission {
	s.ID = CleanLine(s.ID)
	for _, f := range Fields {
		f.normalize(&s)
	}
	s.Naming = CleanLine(s.Naming)
	s.ConsentVersion = CleanLine(s.ConsentVersion)
	contacts := make([]Contact, 0, len(s.Contacts))
	for _, c := range s.Contacts {
		c = Contact{Person: CleanLine(c.Person), Name: CleanLine(c.Name), Constituency: CleanLine(c.Constituency), Party: CleanLine(c.Party),
			Status: CleanLine(c.Status), When: CleanLine(c.When), What: CleanText(c.What)}
		if !c.empty() {
			contacts = append(contacts, c)
		}
	}
	s.Contacts = nil // no empty lists: they are stored as nothing at all
	if s.HadContact == "" && len(contacts) > 0 {
		s.HadContact = "yes"
	}
	if len(contacts) > 0 && s.HadContact != "no" {
		s.Contacts = contacts
	}
	return s
}

// CleanLine cleans a one-line answer: NFC, control characters and runs of white
// space become one space, trimmed.
func CleanLine(v string) string {
	v = norm.NFC.String(strings.ToValidUTF8(v, "\uFFFD"))
	var b strings.Builder
	space := false
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isInvisible(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// CleanText cleans a long answer: NFC, CRLF to LF, no control characters but
// line breaks and tabs, trailing space trimmed, at most two blank lines.
// Most answers are clean already, but for space at either end: one pass
// finds that, and they are kept as they are, without being rebuilt.
func CleanText(v string) string {
	if t := strings.TrimSpace(v); isClean(t) {
		return t
	}
	return cleanText(v)
}

// isClean reports whether cleanText would give v back as it is: valid
// UTF-8 in NFC, no carriage return, no control character but line feed and
// tab, no invisible character, no space at either end or at the end of a
// line, and no more than two blank lines in a row.
func isClean(v string) bool {
	if v == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	if unicode.IsSpace(first) || unicode.IsSpace(last) || strings.Contains(v, "\n\n\n\n") {
		return false
	}
	prev := rune(0)
	for _, r := range v {
		switch {
		case r == '\n':
			if prev != '\n' && unicode.IsSpace(prev) {
				return false
			}
		case r == '\t':
		case r < utf8.RuneSelf:
			if r < ' ' || r == 0x7f {
				return false
			}
		case r == utf8.RuneError || unicode.IsControl(r) || isInvisible(r):
			return false
		}
		prev = r
	}
	return norm.NFC.IsNormalString(v)
}

func cleanText(v string) string {
	v = norm.NFC.String(strings.ToValidUTF8(v, "\uFFFD"))
	v = strings.ReplaceAll(v, "\r\n", "\n")
	v = strings.ReplaceAll(v, "\r", "\n")
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || isInvisible(r):
		default:
			b.WriteRune(r)
		}
	}
	lines := strings.Split(b.String(), "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank++
			if blank > 2 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// isInvisible reports format characters that hide or reorder text (bidi
// overrides, zero-width characters) and have no place in a story.
func isInvisible(r rune) bool {
	// Keep ZWJ for emoji sequences; line and paragraph separators fake layout.
	return (unicode.Is(unicode.Cf, r) && r != '\u200d') || r == '\u2028' || r == '\u2029'
}

func ids(v []string) []string {
	var out []string
	for _, s := range v {
		s = CleanLine(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks a normalised submission. It returns the story to keep, or
// every problem found, each worded so a person knows what to change.
func (s Submission) Validate(now time.Time) (Story, FieldErrors) {
	for _, f := range Fields {
		if !f.Shown(s) {
			f.Set(&s, nil) // hidden: not asked, so not kept
		}
	}
	var errs FieldErrors
	for _, f := range Fields {
		f.check(s, &errs)
	}
	if s.ConsentVersion != ConsentVersion() {
		errs.add("consent", "The consent wording has changed since you opened the form. Please read it again and tick the boxes you agree to")
	} else {
		for _, c := range ConsentStatements {
			if c.Required && !s.Consent[c.ID] {
				errs.add("consent."+c.ID, "%s", consentMissing[c.ID])
			}
		}
		// A client that answers neither the naming question nor the
		// naming consents is anonymous: the safest reading of silence.
		if n, ok := FindNaming(s.Naming); ok {
			s.Consent = maps.Clone(s.Consent)
			s.Consent["named"], s.Consent["role"] = n.Named, n.Role
		} else if s.Naming != "" {
			errs.add("naming", NamingMissing)
		}
	}
	if s.ID != "" && !ValidID(s.ID) {
		errs.add("id", "This form's reference is not valid: reload the page and send it again")
	}
	if len(errs) > 0 {
		return Story{}, errs
	}
	if s.ID == "" {
		s.ID = NewID()
	}
	now = now.UTC()
	consents := make([]ConsentRecord, 0, len(ConsentStatements))
	for _, c := range ConsentStatements {
		consents = append(consents, ConsentRecord{Statement: c.ID, Version: c.Version(), Agreed: s.Consent[c.ID], At: now, Channel: "form"})
	}
	st := Story{ID: s.ID, Contacts: s.Contacts, Consents: consents, SubmittedAt: now, ContentHash: hashOf(s)}
	for _, f := range Fields {
		f.keep(s, &st)
	}
	borough, _ := FindBorough(s.Borough)
	st.Area = borough.Area.ID
	return st, nil
}

// NamingMissing is the error for an unanswered or unknown naming question.
const NamingMissing = "Choose how you would like to be named if we use your story"

// consentMissing says why each required consent is needed.
var consentMissing = map[string]string{
	"contact": "Agree that the team may contact you: nothing is used before someone has spoken to you",
	"store":   "Agree that we may keep your answers: we cannot use a story we do not keep",
}

func required(errs *FieldErrors, field, v, missing string, minLen, maxLen int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		errs.add(field, "%s", missing)
	case n < minLen:
		errs.add(field, "%s: at least %d characters", missing, minLen)
	case n > maxLen:
		errs.add(field, "This must be %d characters or fewer: it is %d now", maxLen, n)
	}
}

func optional(errs *FieldErrors, field, v string, maxLen int) {
	if n := utf8.RuneCountInString(v); n > maxLen {
		errs.add(field, "This must be %d characters or fewer: it is %d now", maxLen, n)
	}
}

// asciiEmail writes an internationalised domain (exämple.org) in the
// punycode SES needs (xn--exmple-cua.org). Anything it cannot convert is
// left for checkEmail to refuse.
func asciiEmail(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 0 || isASCII(v[at+1:]) {
		return v
	}
	d, err := idna.Lookup.ToASCII(v[at+1:])
	if err != nil {
		return v
	}
	return v[:at+1] + d
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkEmail accepts the addresses SES can deliver to: 7-bit ASCII, the
// domain in punycode (Normalize converts it).
func checkEmail(errs *FieldErrors, v string) {
	if v == "" {
		errs.add("email", "Enter your email address")
		return
	}
	if at := strings.LastIndexByte(v, '@'); at > 0 && !isASCII(v[:at]) {
		errs.add("email", "We can only send email to addresses with plain letters (a to z), digits and . _ - + before the @. Enter another address")
		return
	} else if at > 0 && !isASCII(v[at:]) {
		errs.add("email", "The part after the @ is not a web address we can send email to: check it")
		return
	} else if _, err := idna.Lookup.ToASCII(v[at+1:]); at > 0 && err != nil {
		errs.add("email", "Enter an email address like name@example.org")
		return
	}
	addr, err := mail.ParseAddress(v)
	at := strings.LastIndexByte(v, '@')
	if err != nil || addr.Address != v || len(v) > 254 || at < 1 || !strings.Contains(v[at:], ".") || strings.HasSuffix(v, ".") {
		errs.add("email", "Enter an email address like name@example.org")
	}
}

func checkPhone(errs *FieldErrors, v string) {
	if v == "" {
		return
	}
	digits := 0
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')' || (r == '+' && i == 0):
		default:
			errs.add("phone", "Enter a phone number using only digits, spaces and a leading +, like 020 7946 0000")
			return
		}
	}
	if digits < 10 || digits > 15 {
		errs.add("phone", "Enter a phone number with 10 to 15 digits, like 07700 900000")
	}
}

// ContactField names the form field of a contact's answer in field
// errors: mpPerson.<id>.<field> for someone on the list, and
// mpContacts.<n>.<field> for the n-th person not listed.
func ContactField(cs []Contact, i int, field string) string {
	if cs[i].Person != "" {
		return "mpPerson." + cs[i].Person + "." + field
	}
	n := 0
	for _, c := range cs[:i] {
		if c.Person == "" {
			n++
		}
	}
	return fmt.Sprintf("mpContacts.%d.%s", n, field)
}

func checkContacts(errs *FieldErrors, cs []Contact) {
	listed, typed := 0, 0
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Person != "" {
			listed++
		} else {
			typed++
		}
	}
	if typed > MaxContacts {
		errs.add("mpContacts", "List at most %d contacts with people not on the list", MaxContacts)
		return
	}
	if listed > MaxListedContacts {
		errs.add("mpContacts", "Tick at most %d people on the list", MaxListedContacts)
		return
	}
	for i, c := range cs {
		if c.Person != "" {
			p := "mpPerson." + c.Person + "."
			switch {
			case seen[c.Person]:
				errs.add(p+"what", "%s is ticked twice: tell us about them once", c.Name)
			case c.Name == "":
				errs.add(p+"what", "This person is no longer on the list: untick them and add them under someone not listed")
			default:
				optional(errs, p+"when", c.When, 60)
				required(errs, p+"what", c.What, "Tell us what the contact with "+c.Name+" was", 2, maxNote)
			}
			seen[c.Person] = true
			continue
		}
		p := ContactField(cs, i, "")
		required(errs, p+"name", c.Name, "Enter the MP's or candidate's name", 2, maxShort)
		optional(errs, p+"constituency", c.Constituency, maxShort)
		optional(errs, p+"party", c.Party, 60)
		optional(errs, p+"when", c.When, 60)
		required(errs, p+"what", c.What, "Tell us what the contact was", 2, maxNote)
	}
}
