package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/story"
)

// FormPage answers with the story form holding the answers and errors
// given. started is the form's signed start time: a form shown again for
// corrections keeps the time it was first shown.
func FormPage(ctx context.Context, status int, sub story.Submission, errs story.FieldErrors, notice, started, csp string, list *story.CandidateList) apigw.Response {
	v := newFormView(sub, errs, started)
	v.People = newPeopleView(list, sub, errs)
	v.Notice = notice
	return Page(ctx, status, "form.html", v, csp)
}

// ParseForm reads a no-JS form post: the answers, the signed start time
// and the honeypot field (people never see it, so never fill it).
func ParseForm(body string) (sub story.Submission, started, website string, err error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return story.Submission{}, "", "", err
	}
	return parseForm(vals), vals.Get("started"), vals.Get("website"), nil
}

// formView is what the form template shows: the answers so far, the
// problems with them and the lists to choose from.
type formView struct {
	Values         story.Submission
	Errors         story.FieldErrors
	Notice         string
	Started        string
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
