package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"maps"
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
	StepAbout = story.StepAbout
	StepStory = story.StepStory
	StepCheck = story.StepCheck
)

// Steps are the form's steps in order.
var Steps = []string{StepAbout, StepStory, StepCheck}

// fieldOrder is every field in the order the form shows it (the
// questions', with the story's and the MP list's own controls beside
// them): error summaries list errors in this order.
var fieldOrder = func() []string {
	var out []string
	for _, f := range story.Fields {
		if f.ID == "mpContacts" {
			out = append(out, "mpPerson")
		}
		out = append(out, f.ID)
		if f.ID == "story" {
			out = append(out, "safeguardingConfirmed")
		}
	}
	return append(out, "naming", "consent", "id", "send")
}()

// StepOf is the step that shows field.
func StepOf(field string) string {
	f, _, _ := strings.Cut(field, ".")
	switch f {
	case "safeguardingConfirmed", "mpPerson":
		return StepStory
	}
	if q, ok := story.FindField(f); ok {
		return q.Step
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
	if q, ok := story.FindField(field); ok && (q.Kind == story.KindRadios || q.Kind == story.KindCheckboxes) {
		return field + "-" + q.Choices()[0].ID
	}
	switch field {
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

// Choices are the answers offered.
func (g groupView) Choices() []story.Option { return g.Options }

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

// Namings are the answers to "How would you like to be named?".
func (v formView) Namings() []story.Option {
	out := make([]story.Option, len(story.Namings))
	for i, n := range story.Namings {
		out[i] = story.Option{ID: n.ID, Label: n.Label}
	}
	return out
}

// question is one question as the form's templates show it: its
// definition, the answer so far and its error.
type question struct {
	story.Field
	Name, Type, Value, Error string
	Values                   []string
	Ticked                   bool
	Described                template.HTMLAttr
	Form                     formView // for the blocks' templates
}

// Questions are the step's questions, in order.
func (v formView) Questions() []question {
	var out []question
	for _, f := range story.Fields {
		if f.Step != v.Step {
			continue
		}
		q := question{Field: f, Name: f.ID, Type: string(f.Kind), Value: f.Value(v.Values), Values: f.Values(v.Values),
			Ticked: f.Ticked(v.Values), Error: v.Err(f.ID), Form: v}
		hint := ""
		if f.Hint != "" {
			hint = f.ID + "-hint"
		}
		if f.Count != nil {
			hint = strings.TrimSpace(hint + " " + f.ID + "-count")
		}
		q.Described = describedBy(f.ID, hint, q.Error != "")
		if f.Kind == story.KindRadios || f.Kind == story.KindCheckboxes {
			// A fieldset is described, not invalid: its inputs are.
			q.Described = template.HTMLAttr(strings.TrimSuffix(string(q.Described), ` aria-invalid="true"`))
		}
		out = append(out, q)
	}
	return out
}

// CountText is a question's character count wording with its limits
// filled in ({n} is left for the script).
func (q question) CountText(msg string) string {
	return strings.NewReplacer("{min}", strconv.Itoa(q.Min), "{max}", thousands(q.Max)).Replace(msg)
}

// thousands writes n as people read it: 5,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// hidden is one answer of another step, carried in a hidden field.
type hidden struct{ Name, Value string }

// Kept are the answers of the other steps, carried in hidden fields so
// a form without script loses nothing between steps.
func (v formView) Kept() []hidden {
	var out []hidden
	s := v.Values
	for _, f := range story.Fields {
		if f.Step == v.Step {
			continue
		}
		switch {
		case f.Kind == story.KindCheckbox:
			if f.Ticked(s) {
				out = append(out, hidden{f.ID, "yes"})
			}
		case f.Kind == story.KindCheckboxes:
			for _, x := range f.Values(s) {
				out = append(out, hidden{f.ID, x})
			}
		case f.ID == "mpContacts":
			for _, c := range s.Contacts {
				if c.Person != "" {
					p := "mp.person." + c.Person + "."
					out = append(out, hidden{"mp.person", c.Person}, hidden{p + "when", c.When}, hidden{p + "what", c.What})
				}
			}
			for i, c := range typedContacts(s.Contacts) {
				p := fmt.Sprintf("mp.%d.", i)
				out = append(out, hidden{p + "name", c.Name}, hidden{p + "constituency", c.Constituency}, hidden{p + "party", c.Party},
					hidden{p + "when", c.When}, hidden{p + "what", c.What})
			}
		case f.ID == "story":
			out = append(out, hidden{f.ID, f.Value(s)})
			if s.SafeguardingConfirmed {
				out = append(out, hidden{"safeguardingConfirmed", "yes"})
			}
		default:
			out = append(out, hidden{f.ID, f.Value(s)})
		}
	}
	if v.Step != StepCheck {
		out = append(out, hidden{"naming", s.Naming})
		for _, k := range slices.Sorted(maps.Keys(s.Consent)) {
			if s.Consent[k] {
				out = append(out, hidden{"consent." + k, "yes"})
			}
		}
	}
	return out
}

// Rows are the answers of a step as the check step shows them.
func (v formView) Rows(step string) []story.Row {
	var out []story.Row
	for _, r := range story.Rows(v.Values.Draft(), story.ViewCheck) {
		if r.Step == step {
			out = append(out, r)
		}
	}
	return out
}

// value is the answer so far to a contact's question.
func (v formView) value(id string) string {
	rest, ok := strings.CutPrefix(id, "mpContacts.")
	if !ok {
		return ""
	}
	var i int
	var part string
	if _, err := fmt.Sscanf(strings.Replace(rest, ".", " ", 1), "%d %s", &i, &part); err != nil || i >= len(v.ContactSlots) {
		return ""
	}
	c := v.ContactSlots[i].Contact
	return map[string]string{"name": c.Name, "constituency": c.Constituency, "party": c.Party, "when": c.When, "what": c.What}[part]
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
		Options:        story.Options(),
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
		Naming:                v.Get("naming"),
		ConsentVersion:        v.Get("consentVersion"),
		SafeguardingConfirmed: v.Get("safeguardingConfirmed") != "",
		Consent:               map[string]bool{},
	}
	for _, f := range story.Fields {
		f.Set(&sub, v[f.ID])
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
