package story

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Kind is how the form asks a question.
type Kind string

// The kinds of question. Block is a question the form shows with a
// template of its own (the story with its counter and patient-safety
// check, the list of MPs and candidates); every other kind is shown from
// its definition alone.
const (
	KindText       Kind = "text"
	KindEmail      Kind = "email"
	KindTel        Kind = "tel"
	KindTextarea   Kind = "textarea"
	KindSelect     Kind = "select"
	KindRadios     Kind = "radios"
	KindCheckboxes Kind = "checkboxes"
	KindCheckbox   Kind = "checkbox" // one box: ticked or not
	KindBlock      Kind = "block"
)

// The form's steps, in order: a volunteer sees one at a time, and the last
// shows every answer before sending.
const (
	StepAbout = "about"
	StepStory = "story"
	StepCheck = "check"
)

// View is a place where answers are shown.
type View uint8

// The views of a story's answers: the volunteer's (the form's check step,
// the withdraw page) and the comms team's (the alert email, the digest,
// the CSV export).
const (
	ViewCheck View = 1 << iota
	ViewWithdraw
	ViewAlert
	ViewDigest
	ViewCSV
)

// Reveal shows a question only when another question (Field) has one of
// Values: the form hides it otherwise (without script it is shown under
// its trigger), and its answer is neither checked nor kept.
type Reveal struct {
	Field  string
	Values []string
}

// Attr is the reveal as the form's data-reveal attribute: "role=other".
func (r Reveal) Attr() string { return r.Field + "=" + strings.Join(r.Values, ",") }

// Field is one question, defined once: how the form asks it, how its
// answer is cleaned and checked (with the messages a volunteer reads), how
// it is kept, and how it is shown in every view. The form, validation, the
// check step, the withdraw page, the emails, the digest and the CSV export
// all read these definitions; adding a question is adding one here (and
// its answer to Submission and Story).
type Field struct {
	ID   string // the form's, the JSON API's and the field error's name
	Step string // StepAbout or StepStory
	Kind Kind

	Label       string // the question as the form asks it
	Hint        string
	Auto        string // the autocomplete token
	Placeholder string // a select's empty choice ("Choose your role")
	Inline      bool   // radios side by side
	Reveal      *Reveal
	// Options are the choices of a select, radios or checkboxes (their
	// OptionGroups, when set, are a select's choices in groups).
	Options      func() []Option
	OptionGroups func() []ICBArea

	Required bool
	Min, Max int // characters; Max is also the form's maxlength
	// Messages, worded for the volunteer. TooShort has one %d (Min),
	// TooLong two (Max, the length now); they default to Missing plus the
	// limit, and to "This must be … characters or fewer".
	Missing, TooShort, TooLong, Invalid string
	// Check makes the checks beyond the ones above; it is called when
	// those found nothing (for a block, always).
	Check func(s Submission, errs *FieldErrors)

	// Mine is the answer's label where the volunteer reads it (the check
	// step, the withdraw page); Team where the comms team reads it (the
	// alert, the digest, the CSV header). Empty: the answer is shown as
	// part of another (roleOther inside the role).
	Mine, Team string
	// None is shown for an answer not given ("" leaves the row out).
	None string
	// NotIn are the views that show this answer elsewhere than in their
	// rows (the digest's heading, the alert's story section) or not at all.
	NotIn View
	// Long marks a long text (kept with its line breaks); Lines shows
	// each of several answers on a line of its own.
	Long, Lines bool
	// Count is the character count the form shows under a long answer.
	Count *Count
	// ExportLast puts the answer's column after the others (the story).
	ExportLast bool
	// Columns replaces the answer's one CSV column (header Team) with
	// several, cleaned: the borough and its area, the contacts and their
	// list ids. Its headers do not depend on the story.
	Columns func(Story) []Column
	// Show is the answer as people read it (default: the value, or the
	// options' labels).
	Show func(st Story, v View) []string

	one    func(*Submission) *string
	list   func(*Submission) *[]string
	flag   func(*Submission) *bool
	keep1  func(*Story) *string
	keepN  func(*Story) *[]string
	keepTF func(*Story) *bool
}

// Count is the wording of a character count; {n} is the number of
// characters and {min} the least needed.
type Count struct {
	Hint  string // before typing; {max} is Max
	Short string // fewer than Min
	Left  string // how many more may be typed
	Over  string // how many too many
}

// Column is one cell of the CSV export with its header.
type Column struct{ Header, Value string }

// Row is one answer as a view shows it.
type Row struct {
	ID, Step    string // the field's
	Label       string
	Values      []string
	Long, Lines bool
}

// Value is the row's answers joined for one line.
func (r Row) Value() string { return strings.Join(r.Values, ", ") }

// Fields are the form's questions in the order it asks them. The naming
// question and the consents (the check step) are not among them: they set
// the story's consent records, shown by every view on their own.
var Fields = []Field{
	{ID: "name", Step: StepAbout, Kind: KindText, Label: "Full name", Auto: "name",
		Required: true, Min: 2, Max: maxShort, Missing: "Enter your full name",
		Mine: "Name", Team: "Name", NotIn: ViewDigest,
		one: func(s *Submission) *string { return &s.Name }, keep1: func(s *Story) *string { return &s.Name }},
	{ID: "role", Step: StepAbout, Kind: KindSelect, Label: "Your role", Placeholder: "Choose your role",
		Options:  func() []Option { return Options().Roles },
		Required: true, Missing: "Choose your role", Invalid: "Choose your role from the list",
		Mine: "Role", Team: "Role", NotIn: ViewDigest,
		Show: func(st Story, _ View) []string { return []string{st.RoleLabel()} },
		one:  func(s *Submission) *string { return &s.Role }, keep1: func(s *Story) *string { return &s.Role }},
	{ID: "roleOther", Step: StepAbout, Kind: KindText, Label: "What is your role?", Auto: "organization-title",
		Reveal:   &Reveal{Field: "role", Values: []string{"other"}},
		Required: true, Min: 2, Max: maxShort, Missing: "Tell us your role",
		one: func(s *Submission) *string { return &s.RoleOther }, keep1: func(s *Story) *string { return &s.RoleOther }},
	{ID: "practice", Step: StepAbout, Kind: KindText, Label: "Practice name", Auto: "organization",
		Required: true, Min: 2, Max: 150, Missing: "Enter the name of your practice",
		Mine: "Practice", Team: "Practice", NotIn: ViewDigest,
		one: func(s *Submission) *string { return &s.Practice }, keep1: func(s *Story) *string { return &s.Practice }},
	{ID: "borough", Step: StepAbout, Kind: KindSelect, Label: "Borough", Hint: "The local medical committee area your practice is in.",
		Placeholder: "Choose a borough", OptionGroups: func() []ICBArea { return Options().ICBAreas }, Options: boroughOptions,
		Required: true, Missing: "Choose the borough your practice is in", Invalid: "Choose a borough from the list",
		Mine: "Borough", Team: "Borough", NotIn: ViewDigest,
		Show: func(st Story, _ View) []string { return []string{st.BoroughLabel()} },
		Columns: func(st Story) []Column {
			return []Column{{"Borough", CleanLine(st.BoroughLabel())}, {"ICB area", CleanLine(st.AreaLabel())}}
		},
		one: func(s *Submission) *string { return &s.Borough }, keep1: func(s *Story) *string { return &s.Borough }},
	{ID: "listSize", Step: StepAbout, Kind: KindRadios, Label: "What is your practice's list size? (optional)",
		Hint:    "How many patients are registered with it. A rough idea is fine.",
		Options: list("listSizes"), Invalid: "Choose your practice's list size from the list, or leave it blank",
		Mine: "Practice list size", Team: "Practice list size",
		one: func(s *Submission) *string { return &s.ListSize }, keep1: func(s *Story) *string { return &s.ListSize }},
	{ID: "email", Step: StepAbout, Kind: KindEmail, Label: "Email address", Auto: "email",
		Hint:     "We send your confirmation here. A personal address is best if you would rather your practice did not see our emails.",
		Required: true, Max: 254, Missing: "Enter your email address",
		Check: func(s Submission, errs *FieldErrors) { checkEmail(errs, s.Email) },
		Mine:  "Email", Team: "Email", NotIn: ViewDigest,
		one: func(s *Submission) *string { return &s.Email }, keep1: func(s *Story) *string { return &s.Email }},
	{ID: "personalEmailOnly", Step: StepAbout, Kind: KindCheckbox, Label: "Only contact me at this address, never through my practice",
		Mine: "Only at this address", Team: "Personal email only", NotIn: ViewDigest,
		Show: func(st Story, v View) []string {
			if v == ViewCSV {
				return []string{yesNo(st.PersonalEmailOnly)}
			}
			if !st.PersonalEmailOnly {
				return nil
			}
			if v&(ViewAlert|ViewDigest) != 0 {
				return []string{"Yes: never through the practice"}
			}
			return []string{"Yes: never through my practice"}
		},
		flag: func(s *Submission) *bool { return &s.PersonalEmailOnly }, keepTF: func(s *Story) *bool { return &s.PersonalEmailOnly }},
	{ID: "phone", Step: StepAbout, Kind: KindTel, Label: "Phone number (optional)", Auto: "tel", Max: 30,
		Check: func(s Submission, errs *FieldErrors) { checkPhone(errs, s.Phone) },
		Mine:  "Phone", Team: "Phone", None: "Not given", NotIn: ViewDigest,
		one: func(s *Submission) *string { return &s.Phone }, keep1: func(s *Story) *string { return &s.Phone }},
	{ID: "preferredContact", Step: StepAbout, Kind: KindRadios, Label: "How should we contact you?", Inline: true,
		Options:  func() []Option { return Options().ContactMethods },
		Required: true, Missing: "Choose how you would like us to contact you", Invalid: "Choose email or phone",
		Check: func(s Submission, errs *FieldErrors) {
			if s.PreferredContact == "phone" && s.Phone == "" && errs.For("phone") == "" {
				errs.add("phone", "Enter a phone number, or choose email as the way to contact you")
			}
		},
		Mine: "Contact me by", Team: "Prefers contact by", NotIn: ViewDigest,
		one: func(s *Submission) *string { return &s.PreferredContact }, keep1: func(s *Story) *string { return &s.PreferredContact }},

	{ID: "topics", Step: StepStory, Kind: KindCheckboxes, Label: "What is your story about?", Hint: "Choose all that apply.",
		Options:  func() []Option { return Options().Topics },
		Required: true, Missing: "Choose at least one topic your story is about", Invalid: "Choose topics from the list",
		Mine: "Topics", Team: "Topics",
		Show: func(st Story, _ View) []string { return st.TopicLabels() },
		list: func(s *Submission) *[]string { return &s.Topics }, keepN: func(s *Story) *[]string { return &s.Topics }},
	{ID: "topicOther", Step: StepStory, Kind: KindText, Label: "What else is it about?",
		Reveal:   &Reveal{Field: "topics", Values: []string{"other"}},
		Required: true, Min: 2, Max: maxShort, Missing: "Tell us what the other topic is",
		one: func(s *Submission) *string { return &s.TopicOther }, keep1: func(s *Story) *string { return &s.TopicOther }},
	{ID: "story", Step: StepStory, Kind: KindBlock, Label: "Your story",
		Hint:     "What happened, and what it shows about general practice. Please don't name patients or include details that could identify them.",
		Required: true, Min: MinStoryChars, Max: MaxStoryChars, Missing: "Tell us your story",
		TooShort: "Tell us a little more: your story must be at least %d characters",
		TooLong:  "Your story must be %d characters or fewer: it is %d now",
		Count: &Count{
			Hint:  "You can enter up to {max} characters (at least {min}).",
			Short: "You have {n} characters: at least {min} are needed",
			Left:  "You have {n} characters remaining",
			Over:  "You have {n} characters too many",
		},
		Mine: "Your story", Team: "Story", Long: true, ExportLast: true, NotIn: ViewAlert | ViewDigest,
		one: func(s *Submission) *string { return &s.Story }, keep1: func(s *Story) *string { return &s.Text }},
	{ID: "activities", Step: StepStory, Kind: KindCheckboxes, Label: "What would you be willing to do? (optional)",
		Hint:    "We will always ask before anything is arranged.",
		Options: func() []Option { return Options().Activities }, Invalid: "Choose activities from the list",
		Mine: "Willing to do", Team: "Would do", None: "None chosen",
		list: func(s *Submission) *[]string { return &s.Activities }, keepN: func(s *Story) *[]string { return &s.Activities }},
	{ID: "hadContact", Step: StepStory, Kind: KindRadios, Inline: true,
		Label:   "Have you been in touch with an MP or a parliamentary candidate about general practice?",
		Options: func() []Option { return YesNo }, Invalid: "Answer yes or no",
		one: func(s *Submission) *string { return &s.HadContact }},
	{ID: "mpContacts", Step: StepStory, Kind: KindBlock, Reveal: &Reveal{Field: "hadContact", Values: []string{"yes"}},
		Check: func(s Submission, errs *FieldErrors) {
			if s.HadContact == "yes" && len(s.Contacts) == 0 {
				errs.add("mpContacts.0.name", "Tell us about the MP or candidate you were in touch with, or answer no")
			}
			checkContacts(errs, s.Contacts)
		},
		Mine: "MPs and candidates", Team: "MP or candidate contacts", None: "None", NotIn: ViewAlert, Lines: true,
		Show: func(st Story, v View) []string {
			var out []string
			for _, c := range st.Contacts {
				if v&(ViewCheck|ViewWithdraw) != 0 {
					out = append(out, c.Mine())
				} else {
					out = append(out, c.Who()+whenOf(c)+": "+c.What)
				}
			}
			return out
		},
		Columns: func(st Story) []Column {
			var who, ids []string
			for _, c := range st.Contacts {
				who = append(who, CleanLine(c.Who()+whenOf(c)+": "+c.What))
				id := CleanLine(c.Person)
				if id == "" {
					id = Unmatched
				}
				ids = append(ids, id)
			}
			return []Column{{"MP or candidate contacts", strings.Join(who, "\n")}, {"MP or candidate list ids", strings.Join(ids, "\n")}}
		}},
	{ID: "patientsWouldSpeak", Step: StepStory, Kind: KindRadios,
		Label:    "Would any of your patients be willing to speak about the same topic?",
		Options:  func() []Option { return Options().PatientsWouldSpeak },
		Required: true, Missing: "Tell us whether patients might speak about this too", Invalid: "Choose one of the answers",
		Mine: "Patients would speak", Team: "Patients would speak",
		one: func(s *Submission) *string { return &s.PatientsSpeak }, keep1: func(s *Story) *string { return &s.PatientsSpeak }},
	{ID: "patientsNote", Step: StepStory, Kind: KindTextarea, Label: "Anything we should know about that? (optional)",
		Hint:   "Please don't give patients' names or contact details here.",
		Reveal: &Reveal{Field: "patientsWouldSpeak", Values: []string{"yes", "maybe"}},
		Max:    maxNote, Long: true,
		Mine: "About patients", Team: "About patients",
		one: func(s *Submission) *string { return &s.PatientsNote }, keep1: func(s *Story) *string { return &s.PatientsNote }},
}

// YesNo are the answers to a yes or no question.
var YesNo = []Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}

// FindField looks a question up by its ID.
func FindField(id string) (Field, bool) {
	i := slices.IndexFunc(Fields, func(f Field) bool { return f.ID == id })
	if i < 0 {
		return Field{}, false
	}
	return Fields[i], true
}

func boroughOptions() []Option {
	var out []Option
	for _, a := range Options().ICBAreas {
		out = append(out, a.Boroughs...)
	}
	return out
}

func whenOf(c Contact) string {
	if c.When != "" {
		return ", " + c.When
	}
	return ""
}

// Mine is the contact as the volunteer gave it, on one line.
func (c Contact) Mine() string {
	s := c.Name
	if c.Constituency != "" {
		s += ", " + c.Constituency
	}
	if c.Party != "" {
		s += " (" + c.Party + ")"
	}
	return s + whenOf(c) + ": " + c.What
}

// Value is the answer of a one-value question ("" for others).
func (f Field) Value(s Submission) string {
	if f.one != nil {
		return *f.one(&s)
	}
	return ""
}

// Values are the answers of a checkbox question.
func (f Field) Values(s Submission) []string {
	if f.list != nil {
		return *f.list(&s)
	}
	return nil
}

// Ticked is the answer of a one-box question.
func (f Field) Ticked(s Submission) bool {
	if f.flag != nil {
		return *f.flag(&s)
	}
	return false
}

// Set gives the question the answers vals (as a form post carries them).
func (f Field) Set(s *Submission, vals []string) {
	first := ""
	if len(vals) > 0 {
		first = vals[0]
	}
	switch {
	case f.one != nil:
		*f.one(s) = first
	case f.list != nil:
		*f.list(s) = vals
	case f.flag != nil:
		*f.flag(s) = first != ""
	}
}

// Choices are the question's options (none for text questions).
func (f Field) Choices() []Option {
	if f.Options == nil {
		return nil
	}
	return f.Options()
}

// Groups are a select's choices in groups (none when they are not grouped).
func (f Field) Groups() []ICBArea {
	if f.OptionGroups == nil {
		return nil
	}
	return f.OptionGroups()
}

// Shown reports whether the question is shown for the answers in s (a
// revealed question only under its trigger's answer).
func (f Field) Shown(s Submission) bool {
	if f.Reveal == nil {
		return true
	}
	t, _ := FindField(f.Reveal.Field)
	if t.list != nil {
		return slices.ContainsFunc(t.Values(s), func(v string) bool { return slices.Contains(f.Reveal.Values, v) })
	}
	return slices.Contains(f.Reveal.Values, t.Value(s))
}

// normalize cleans the answer: one line, or a long text, or a list of ids.
func (f Field) normalize(s *Submission) {
	switch {
	case f.one != nil && (f.Kind == KindTextarea || f.Long):
		*f.one(s) = CleanText(*f.one(s))
	case f.one != nil && f.Kind == KindEmail:
		*f.one(s) = asciiEmail(CleanLine(*f.one(s)))
	case f.one != nil:
		*f.one(s) = CleanLine(*f.one(s))
	case f.list != nil:
		*f.list(s) = ids(*f.list(s))
	}
}

// check adds the problems with the answer to errs.
func (f Field) check(s Submission, errs *FieldErrors) {
	if !f.Shown(s) {
		return
	}
	before := len(*errs)
	v, vals := f.Value(s), f.Values(s)
	empty := v == "" && len(vals) == 0
	switch {
	case f.Kind == KindBlock && f.one == nil:
	case empty && f.Required:
		errs.add(f.ID, "%s", f.Missing)
	case empty:
	case f.Options != nil:
		opts := f.Options()
		if !has(opts, v) && f.one != nil || slices.ContainsFunc(vals, func(x string) bool { return !has(opts, x) }) {
			errs.add(f.ID, "%s", f.Invalid)
		}
	default:
		n := utf8.RuneCountInString(v)
		switch {
		case n < f.Min && f.TooShort != "":
			errs.add(f.ID, f.TooShort, f.Min)
		case n < f.Min:
			errs.add(f.ID, "%s: at least %d characters", f.Missing, f.Min)
		case f.Max > 0 && n > f.Max && f.TooLong != "":
			errs.add(f.ID, f.TooLong, f.Max, n)
		case f.Max > 0 && n > f.Max:
			errs.add(f.ID, "This must be %d characters or fewer: it is %d now", f.Max, n)
		}
	}
	if f.Check != nil && len(*errs) == before && (!empty || f.Kind == KindBlock) {
		f.Check(s, errs)
	}
}

// keep copies the answer into the story (nothing when it is not shown).
func (f Field) keep(s Submission, st *Story) {
	shown := f.Shown(s)
	switch {
	case f.keep1 != nil && shown:
		*f.keep1(st) = f.Value(s)
	case f.keepN != nil && shown:
		*f.keepN(st) = f.Values(s)
	case f.keepTF != nil && shown:
		*f.keepTF(st) = f.Ticked(s)
	}
}

// Draft is the story the answers so far would make, unchecked: what the
// check step shows.
func (s Submission) Draft() Story {
	st := Story{ID: s.ID, Contacts: s.Contacts}
	for _, f := range Fields {
		f.keep(s, &st)
	}
	return st
}

// show is the answer as people read it in view v.
func (f Field) show(st Story, v View) []string {
	if f.Show != nil {
		return f.Show(st, v)
	}
	var vals []string
	switch {
	case f.keep1 != nil && *f.keep1(&st) != "":
		vals = []string{*f.keep1(&st)}
	case f.keepN != nil:
		vals = *f.keepN(&st)
	}
	if f.Options == nil {
		return vals
	}
	return labels(f.Choices(), vals, "")
}

// Rows are the story's answers as view v shows them, in the form's order.
// Every value is cleaned (story.CleanLine, or CleanText for long answers),
// so a view can show it as text.
func Rows(st Story, v View) []Row {
	var out []Row
	for _, f := range Fields {
		label := f.Mine
		if v&(ViewAlert|ViewDigest|ViewCSV) != 0 {
			label = f.Team
		}
		if label == "" || f.NotIn&v != 0 {
			continue
		}
		vals := cleanAll(f.show(st, v), f.Long)
		if len(vals) == 0 && f.None != "" {
			vals = []string{f.None}
		}
		if len(vals) == 0 {
			continue
		}
		out = append(out, Row{ID: f.ID, Step: f.Step, Label: label, Values: vals, Long: f.Long, Lines: f.Lines})
	}
	return out
}

// Columns are the story's answers as the CSV export has them, in the
// form's order (the story last); multiple values are one a line.
func Columns(st Story) []Column {
	var out, last []Column
	for _, f := range Fields {
		if f.Team == "" || f.NotIn&ViewCSV != 0 {
			continue
		}
		var cols []Column
		if f.Columns != nil {
			cols = f.Columns(st)
		} else {
			cols = []Column{{f.Team, strings.Join(cleanAll(f.show(st, ViewCSV), f.Long), "; ")}}
		}
		if f.ExportLast {
			last = append(last, cols...)
		} else {
			out = append(out, cols...)
		}
	}
	return append(out, last...)
}

func cleanAll(in []string, long bool) []string {
	if !long {
		return CleanLines(in)
	}
	var out []string
	for _, s := range in {
		if s = CleanText(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CleanLines cleans each of in as CleanLine does and leaves out the
// empty ones.
func CleanLines(in []string) []string {
	var out []string
	for _, s := range in {
		if s = CleanLine(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
