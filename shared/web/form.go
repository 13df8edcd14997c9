package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
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

// Form is one rendering of the story form.
type Form struct {
	Values  story.Submission // the answers so far; Values.ID is the form's story id
	Errors  story.FieldErrors
	Notice  string
	Started string // the start token (links.Start) bound to Values.ID
	// Turnstile is the Turnstile site key when the bot check is on.
	Turnstile string
	// List is the borough's MPs and candidates to tick (nil: none shown).
	List *story.CandidateList
}

// FormPage answers with the story form holding the answers and errors given.
func FormPage(ctx context.Context, status int, f Form, csp string) apigw.Response {
	v := newFormView(f.Values, f.Errors, f.Started)
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

// formView is what the form template shows: the answers so far, the
// problems with them and the lists to choose from.
type formView struct {
	Values         story.Submission
	Errors         story.FieldErrors
	Notice         string
	Started        string
	Turnstile      string
	ConsentVersion string
	Options        story.OptionLists
	Consents       []story.ConsentStatement
	ContactSlots   []contactSlot
	People         peopleView
}

// Err returns the error message for field.
func (v formView) Err(field string) string { return v.Errors.For(field) }

type contactSlot struct {
	Index                                                int
	Contact                                              story.Contact
	Open                                                 bool
	ErrName, ErrConstituency, ErrParty, ErrWhen, ErrWhat string
}

func newFormView(sub story.Submission, errs story.FieldErrors, started string) formView {
	if sub.ID == "" {
		sub.ID = story.NewID()
	}
	var typed []story.Contact // contacts with people not on the list
	for _, c := range sub.Contacts {
		if !c.Listed() {
			typed = append(typed, c)
		}
	}
	slots := make([]contactSlot, story.MaxContacts)
	for i := range slots {
		slots[i].Index = i
		if i < len(typed) {
			slots[i].Contact = typed[i]
			slots[i].Open = true
		}
		p := fmt.Sprintf("mpContacts.%d.", i)
		slots[i].ErrName = errs.For(p + "name")
		slots[i].ErrConstituency = errs.For(p + "constituency")
		slots[i].ErrParty = errs.For(p + "party")
		slots[i].ErrWhen = errs.For(p + "when")
		slots[i].ErrWhat = errs.For(p + "what")
	}
	slots[0].Open = true
	return formView{
		Values:         sub,
		Errors:         errs,
		Started:        started,
		ConsentVersion: story.ConsentVersion(),
		Options:        story.Options,
		Consents:       story.ConsentStatements,
		ContactSlots:   slots,
	}
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
		PatientsSpeak:         v.Get("patientsWouldSpeak"),
		PatientsNote:          v.Get("patientsNote"),
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
