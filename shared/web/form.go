package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/story"
)

// TurnstileOrigin serves the Turnstile widget's script and frame.
const TurnstileOrigin = "https://challenges.cloudflare.com"

// TurnstileCSP lets a page of policy csp load the Turnstile widget.
func TurnstileCSP(csp string) string {
	return csp + "; script-src 'self' " + TurnstileOrigin + "; frame-src " + TurnstileOrigin
}

// Form is one rendering of the story form: one of its steps.
type Form struct {
	Step    string           // StepAbout (the default), StepStory or StepCheck
	Values  story.Submission // the answers so far; Values.ID is the form's story id
	Errors  story.FieldErrors
	Notice  string
	Started string // the start token (links.Start) bound to Values.ID
	// Turnstile is the Turnstile site key when the bot check is on.
	Turnstile string
	// List is the borough's MPs and candidates to tick (nil: none shown).
	List *story.CandidateList
}

// FormPage answers with one step of the story form holding the answers
// and the errors given (those of other steps are not shown).
func FormPage(ctx context.Context, status int, f Form, csp string) apigw.Response {
	v := newFormView(f.Step, f.Values, f.Errors, f.Started)
	v.People = newPeopleView(f.List, f.Values, f.Errors)
	v.Notice, v.Turnstile = f.Notice, f.Turnstile
	return Page(ctx, status, "form.html", v, csp)
}

// Posted is what a no-JS form post carries besides the answers.
type Posted struct {
	Started   string // the start token
	Website   string // the honeypot: people never see it, so never fill it
	Turnstile string // the Turnstile widget's answer, when the bot check is on
}

// ParseForm reads a no-JS form post. A body that is not a valid
// urlencoded form of UTF-8 text is an error.
func ParseForm(body string) (story.Submission, Posted, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return story.Submission{}, Posted{}, err
	}
	for k, vs := range vals {
		if !utf8.ValidString(k) {
			return story.Submission{}, Posted{}, errors.New("web: a field name is not UTF-8 text")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return story.Submission{}, Posted{}, fmt.Errorf("web: the field %q is not UTF-8 text", k)
			}
		}
	}
	return parseForm(vals), Posted{Started: vals.Get("started"), Website: vals.Get("website"), Turnstile: vals.Get("cf-turnstile-response")}, nil
}

// UploadCookie is the Set-Cookie value that carries an upload token to the
// thank-you page and the upload routes: HttpOnly, SameSite=Strict, and
// Secure except over plain HTTP on this machine (the local stack).
func UploadCookie(req apigw.Request, tok string, life time.Duration) string {
	c := links.UploadCookie + "=" + tok + "; Path=/; Max-Age=" + strconv.Itoa(int(life/time.Second)) + "; HttpOnly; SameSite=Strict"
	host := apigw.Header(req, "host")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	local := host == "localhost" || net.ParseIP(host).IsLoopback()
	if !(local && !strings.EqualFold(apigw.Header(req, "x-forwarded-proto"), "https")) {
		c += "; Secure"
	}
	return c
}

// FormStep reads which step a no-JS form post comes from ("" for a post
// without steps, which is the last) and which step a "Change" button
// asks for.
func FormStep(body string) (step, jump string) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return "", ""
	}
	step, jump = vals.Get("step"), vals.Get("goto")
	if !ValidStep(step) {
		step = ""
	}
	if !ValidStep(jump) {
		jump = ""
	}
	return step, jump
}

// The form's steps, in order: a volunteer sees one at a time (each fits a
// few phone screens), and the last shows every answer before sending.
const (
	StepAbout = "about"
	StepStory = "story"
	StepCheck = "check"
)

// Steps are the form's steps in order.
var Steps = []string{StepAbout, StepStory, StepCheck}

// fieldOrder is every field in the order the form shows it: error
// summaries list errors in this order.
var fieldOrder = []string{
	"name", "role", "roleOther", "practice", "borough", "email", "phone", "preferredContact",
	"topics", "topicOther", "story", "safeguardingConfirmed", "activities", "hadContact", "mpPerson", "mpContacts",
	"patientsWouldSpeak", "patientsNote",
	"naming", "consent", "id", "send",
}

// StepOf is the step that shows field.
func StepOf(field string) string {
	f, _, _ := strings.Cut(field, ".")
	switch f {
	case "name", "role", "roleOther", "practice", "borough", "email", "phone", "preferredContact":
		return StepAbout
	case "topics", "topicOther", "story", "safeguardingConfirmed", "activities", "hadContact", "mpPerson", "mpContacts",
		"patientsWouldSpeak", "patientsNote":
		return StepStory
	}
	return StepCheck
}

// ValidStep reports whether s names a step.
func ValidStep(s string) bool { return slices.Contains(Steps, s) }

// NextStep is the step after s.
func NextStep(s string) string {
	i := slices.Index(Steps, s)
	if i < 0 || i+1 >= len(Steps) {
		return StepCheck
	}
	return Steps[i+1]
}

// ErrorsUpTo keeps the errors of the steps up to and including step, in
// page order.
func ErrorsUpTo(errs story.FieldErrors, step string) story.FieldErrors {
	last := slices.Index(Steps, step)
	var out story.FieldErrors
	for _, e := range errs {
		if slices.Index(Steps, StepOf(e.Field)) <= last {
			out = append(out, e)
		}
	}
	return out
}

// FirstStepWithError is the earliest step that shows one of errs.
func FirstStepWithError(errs story.FieldErrors) string {
	for _, s := range Steps {
		for _, e := range errs {
			if StepOf(e.Field) == s {
				return s
			}
		}
	}
	return StepCheck
}

// inPageOrder sorts errors as the fields appear on the page.
func inPageOrder(errs story.FieldErrors) story.FieldErrors {
	rank := func(f string) int {
		base, _, _ := strings.Cut(f, ".")
		i := slices.Index(fieldOrder, base)
		if i < 0 {
			return len(fieldOrder)
		}
		return i
	}
	out := slices.Clone(errs)
	slices.SortStableFunc(out, func(a, b story.FieldError) int { return rank(a.Field) - rank(b.Field) })
	return out
}

// formView is what the form template shows: one step's questions, the
// other steps' answers kept in hidden fields, and the step's errors.
type formView struct {
	Step           string
	Values         story.Submission
	Errors         story.FieldErrors // this step's, in page order
	Notice         string
	Started        string
	Turnstile      string
	ConsentVersion string
	Options        story.OptionLists
	Consents       []story.ConsentStatement
	ContactSlots   []contactSlot
	People         peopleView
}

// Title is the page title: "Error: " first when the page shows errors.
func (v formView) Title() string {
	t := map[string]string{StepAbout: "Share your story", StepStory: "Your story (step 2 of 3)", StepCheck: "Check your answers (step 3 of 3)"}[v.Step]
	if len(v.Errors) > 0 || v.Notice != "" {
		t = "Error: " + t
	}
	return t
}

// Err returns the error message for field.
func (v formView) Err(field string) string { return v.Errors.For(field) }

// Anchor is the id of the control an error about field links to: the
// field itself, or the first input of a group of radios or checkboxes.
func (v formView) Anchor(field string) string {
	first := func(name string, opts []story.Option) string { return name + "-" + opts[0].ID }
	switch field {
	case "preferredContact":
		return first(field, v.Options.ContactMethods)
	case "topics":
		return first(field, v.Options.Topics)
	case "activities":
		return first(field, v.Options.Activities)
	case "patientsWouldSpeak":
		return first(field, v.Options.PatientsWouldSpeak)
	case "hadContact":
		return "hadContact-yes"
	case "naming":
		return "naming-" + story.Namings[0].ID
	case "consent":
		return "consent.contact"
	case "mpContacts":
		return "mpContacts.0.name"
	case "id", "send":
		if v.Step == StepCheck {
			return "send"
		}
		return "continue"
	}
	return field
}

// describedBy is the aria-describedby (hint, then error) and aria-invalid
// of a control.
func describedBy(id, hint string, invalid bool) template.HTMLAttr {
	ids := hint
	if invalid {
		ids = strings.TrimSpace(ids + " " + id + "-error")
	}
	var b strings.Builder
	if ids != "" {
		fmt.Fprintf(&b, ` aria-describedby="%s"`, template.HTMLEscapeString(ids))
	}
	if invalid {
		b.WriteString(` aria-invalid="true"`)
	}
	return template.HTMLAttr(b.String())
}

// Aria is the aria attributes of the control for field, whose hint (if
// any) has the id hint.
func (v formView) Aria(field, hint string) template.HTMLAttr {
	return describedBy(field, hint, v.Err(field) != "")
}

// fieldView is one question as the form's field templates show it.
type fieldView struct {
	ID, Name, Label, Hint, Auto, Type, Value, Error string
	Max                                             int
	Described                                       template.HTMLAttr
}

// Field is a one-control question: its id (the error field), label, hint,
// autocomplete token, input type and maximum length.
func (v formView) Field(id, label, hint, auto, typ string, max int) fieldView {
	f := fieldView{ID: id, Name: id, Label: label, Hint: hint, Auto: auto, Type: typ, Max: max, Error: v.Err(id), Value: v.value(id)}
	if rest, ok := strings.CutPrefix(id, "mpContacts."); ok {
		f.Name = "mp." + rest
	}
	h := ""
	if hint != "" {
		h = id + "-hint"
	}
	f.Described = describedBy(id, h, f.Error != "")
	return f
}

// groupView is a question answered with radios or checkboxes.
type groupView struct {
	ID, Name, Label, Hint, Error, Value string
	Values                              []string
	Options                             []story.Option
	Inline                              bool
	Described                           template.HTMLAttr
}

// Group is a radio question.
func (v formView) Group(name, label, hint string, opts []story.Option, value string, inline bool) groupView {
	g := groupView{ID: name, Name: name, Label: label, Hint: hint, Error: v.Err(name), Value: value, Options: opts, Inline: inline}
	h := ""
	if hint != "" {
		h = name + "-hint"
	}
	g.Described = describedBy(name, h, false)
	if g.Error != "" {
		g.Described = template.HTMLAttr(strings.TrimSuffix(string(describedBy(name, h, true)), ` aria-invalid="true"`))
	}
	return g
}

// Checks is a checkbox question.
func (v formView) Checks(name, label, hint string, opts []story.Option, values []string) groupView {
	g := v.Group(name, label, hint, opts, "", false)
	g.Values = values
	return g
}

// YesNo are the answers to a yes or no question.
func (v formView) YesNo() []story.Option {
	return []story.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}
}

// Namings are the answers to "How would you like to be named?".
func (v formView) Namings() []story.Option {
	out := make([]story.Option, len(story.Namings))
	for i, n := range story.Namings {
		out[i] = story.Option{ID: n.ID, Label: n.Label}
	}
	return out
}

func (v formView) asStory() story.Story {
	s := v.Values
	return story.Story{Role: s.Role, RoleOther: s.RoleOther, Borough: s.Borough, Topics: s.Topics, TopicOther: s.TopicOther, Activities: s.Activities, PatientsSpeak: s.PatientsSpeak}
}

// RoleLabel and the others are the answers as people read them, for the
// check step.
func (v formView) RoleLabel() string        { return v.asStory().RoleLabel() }
func (v formView) BoroughLabel() string     { return v.asStory().BoroughLabel() }
func (v formView) TopicLabels() []string    { return v.asStory().TopicLabels() }
func (v formView) ActivityLabels() []string { return v.asStory().ActivityLabels() }
func (v formView) PatientsLabel() string    { return v.asStory().PatientsSpeakLabel() }

// value is the answer so far to a one-control question.
func (v formView) value(id string) string {
	s := v.Values
	if rest, ok := strings.CutPrefix(id, "mpContacts."); ok {
		var i int
		var part string
		if _, err := fmt.Sscanf(strings.Replace(rest, ".", " ", 1), "%d %s", &i, &part); err != nil || i >= len(v.ContactSlots) {
			return ""
		}
		c := v.ContactSlots[i].Contact
		return map[string]string{"name": c.Name, "constituency": c.Constituency, "party": c.Party, "when": c.When, "what": c.What}[part]
	}
	return map[string]string{
		"name": s.Name, "roleOther": s.RoleOther, "practice": s.Practice, "email": s.Email, "phone": s.Phone,
		"topicOther": s.TopicOther, "patientsNote": s.PatientsNote,
	}[id]
}

type contactSlot struct {
	Index   int
	Contact story.Contact
	Open    bool
}

func newFormView(step string, sub story.Submission, errs story.FieldErrors, started string) formView {
	if sub.ID == "" {
		sub.ID = story.NewID()
	}
	if !ValidStep(step) {
		step = StepAbout
	}
	typed := typedContacts(sub.Contacts)
	slots := make([]contactSlot, story.MaxContacts)
	for i := range slots {
		slots[i].Index = i
		if i < len(typed) {
			slots[i].Contact = typed[i]
		}
		// Open when it holds an answer or a problem.
		p := fmt.Sprintf("mpContacts.%d.", i)
		slots[i].Open = i < len(typed) || (i == 0 && errs.For("mpContacts") != "") ||
			slices.ContainsFunc(errs, func(e story.FieldError) bool { return strings.HasPrefix(e.Field, p) })
	}
	var mine story.FieldErrors
	for _, e := range inPageOrder(errs) {
		if StepOf(e.Field) == step {
			mine = append(mine, e)
		}
	}
	return formView{
		Step:           step,
		Values:         sub,
		Errors:         mine,
		Started:        started,
		ConsentVersion: story.ConsentVersion(),
		Options:        story.Options,
		Consents:       story.ConsentStatements,
		ContactSlots:   slots,
	}
}

// typedContacts are the contacts with people not on the list, in order.
func typedContacts(cs []story.Contact) []story.Contact {
	var typed []story.Contact
	for _, c := range cs {
		if !c.Listed() {
			typed = append(typed, c)
		}
	}
	return typed
}

// parseForm reads the answers of a plain (no-JS) form post.
func parseForm(v url.Values) story.Submission {
	sub := story.Submission{
		ID:                    v.Get("id"),
		Name:                  v.Get("name"),
		Role:                  v.Get("role"),
		RoleOther:             v.Get("roleOther"),
		Practice:              v.Get("practice"),
		Borough:               v.Get("borough"),
		Email:                 v.Get("email"),
		Phone:                 v.Get("phone"),
		PreferredContact:      v.Get("preferredContact"),
		PersonalEmailOnly:     v.Get("personalEmailOnly") != "",
		Topics:                v["topics"],
		TopicOther:            v.Get("topicOther"),
		Story:                 v.Get("story"),
		Activities:            v["activities"],
		HadContact:            v.Get("hadContact"),
		PatientsSpeak:         v.Get("patientsWouldSpeak"),
		PatientsNote:          v.Get("patientsNote"),
		Naming:                v.Get("naming"),
		ConsentVersion:        v.Get("consentVersion"),
		SafeguardingConfirmed: v.Get("safeguardingConfirmed") != "",
		Consent:               map[string]bool{},
	}
	for k, vals := range v {
		if id, ok := strings.CutPrefix(k, "consent."); ok && len(vals) > 0 && vals[0] != "" {
			sub.Consent[id] = true
		}
	}
	// People ticked on the list first, in the list's order, then the rest.
	for _, id := range v["mp.person"] {
		p := "mp.person." + id + "."
		sub.Contacts = append(sub.Contacts, story.Contact{Person: id, When: v.Get(p + "when"), What: v.Get(p + "what")})
	}
	for i := range story.MaxContacts {
		p := fmt.Sprintf("mp.%d.", i)
		sub.Contacts = append(sub.Contacts, story.Contact{
			Name: v.Get(p + "name"), Constituency: v.Get(p + "constituency"), Party: v.Get(p + "party"),
			When: v.Get(p + "when"), What: v.Get(p + "what"),
		})
	}
	return sub
}
