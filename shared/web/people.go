package web

import (
	"context"
	"log/slog"
	"net/url"
	"slices"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/uktime"
)

// Lists is what the pages need from the store: the list of MPs and
// candidates.
type Lists interface {
	Candidates(ctx context.Context, consistent bool) (story.CandidateList, error)
}

// ReadList reads the list of MPs and candidates for a page. It returns nil
// when the list cannot be read: the page still works, and says so.
func ReadList(ctx context.Context, lists Lists) *story.CandidateList {
	l, err := lists.Candidates(ctx, false)
	if err != nil {
		slog.WarnContext(ctx, "reading the list of MPs and candidates failed", "error", err.Error())
		return nil
	}
	return &l
}

// peopleView is the MP and candidate question: the people of the chosen
// borough's constituencies to tick, with the answers so far.
type peopleView struct {
	Borough, BoroughLabel string
	// Updated is when the list was last updated, in words.
	Updated string
	// Unavailable: the list could not be read just now.
	Unavailable bool
	Seats       []seatView
}

type seatView struct {
	ID, Name string
	People   []personView
}

type personView struct {
	story.Person
	Ticked               bool
	When, What           string
	ErrWhen, ErrWhat     string
	FieldWhen, FieldWhat string // the fields' ids, as field errors name them
	InputWhen, InputWhat string // the fields' names in the form post
	Open                 bool   // ticked or with an error: its questions are shown
}

func newPeopleView(list *story.CandidateList, sub story.Submission, errs story.FieldErrors) peopleView {
	v := peopleView{Borough: sub.Borough, Unavailable: list == nil}
	if b, ok := story.FindBorough(sub.Borough); ok {
		v.BoroughLabel = b.Label
	} else {
		v.Borough = ""
	}
	if list == nil {
		return v
	}
	if !list.UpdatedAt.IsZero() {
		v.Updated = list.UpdatedAt.In(uktime.London()).Format("2 January 2006")
	}
	if v.Borough == "" {
		return v
	}
	for _, cp := range list.ForBorough(v.Borough) {
		seat := seatView{ID: cp.ID, Name: cp.Name}
		for _, p := range cp.People {
			pv := personView{Person: p,
				FieldWhen: "mpPerson." + p.ID + ".when", FieldWhat: "mpPerson." + p.ID + ".what",
				InputWhen: "mp.person." + p.ID + ".when", InputWhat: "mp.person." + p.ID + ".what"}
			if i := slices.IndexFunc(sub.Contacts, func(c story.Contact) bool { return c.Person == p.ID }); i >= 0 {
				pv.Ticked, pv.When, pv.What = true, sub.Contacts[i].When, sub.Contacts[i].What
			}
			pv.ErrWhen, pv.ErrWhat = errs.For(pv.FieldWhen), errs.For(pv.FieldWhat)
			pv.Open = pv.Ticked || pv.ErrWhen != "" || pv.ErrWhat != ""
			seat.People = append(seat.People, pv)
		}
		v.Seats = append(v.Seats, seat)
	}
	return v
}

// PeoplePage renders the MP and candidate question for one borough alone,
// for the form's script to put in place.
func PeoplePage(ctx context.Context, status int, borough string, list *story.CandidateList, csp string) apigw.Response {
	v := newPeopleView(list, story.Submission{Borough: borough}, nil)
	return Page(ctx, status, "mp-people", v, csp)
}

// The no-JS form's "Show the MPs and candidates" button is named "show"
// with the value "people" (not "action": a control of that name would hide
// the form's action from scripts): the form comes back with the list for
// the chosen borough and every answer kept, and nothing is sent.

// ShowPeople reports whether a no-JS form post asks for the MP and
// candidate list of its borough rather than sending the story.
func ShowPeople(body string) bool {
	vals, err := url.ParseQuery(body)
	return err == nil && vals.Get("show") == "people"
}
