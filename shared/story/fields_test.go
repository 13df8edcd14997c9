package story

import (
	"slices"
	"testing"
)

// Every question with choices refuses an answer not among them with its
// own message, and accepts each of its choices.
func TestEveryChoiceQuestionChecksItsAnswer(t *testing.T) {
	for _, f := range Fields {
		if f.Options == nil || !f.Shown(valid()) {
			continue
		}
		sub := valid()
		f.Set(&sub, []string{"no-such-answer"})
		_, errs := sub.Normalize().Validate(now)
		if f.Invalid == "" || errs.For(f.ID) != f.Invalid {
			t.Errorf("%s: an unknown answer gives %q, want %q", f.ID, errs.For(f.ID), f.Invalid)
		}
		for _, o := range f.Choices() {
			sub := valid()
			f.Set(&sub, []string{o.ID})
			if o.ID == "phone" {
				sub.Phone = "020 7946 0000"
			}
			if o.ID == "other" {
				sub.RoleOther, sub.TopicOther = "Care coordinator", "Estates"
			}
			if _, errs := sub.Normalize().Validate(now); errs.For(f.ID) != "" {
				t.Errorf("%s: the choice %q is refused: %v", f.ID, o.ID, errs)
			}
		}
	}
}

// Every answer kept is shown, under its question's label, in every view
// that lists it: the check step, the withdraw page, the alert, the
// digest and the CSV export.
func TestEveryAnswerIsShownInEveryView(t *testing.T) {
	sub := valid()
	for _, f := range Fields { // an answer to every question left empty
		switch {
		case !f.Shown(sub) || f.Value(sub) != "" || len(f.Values(sub)) > 0:
		case f.Kind == KindCheckbox:
			f.Set(&sub, []string{"yes"})
		case f.Options != nil && f.one != nil:
			f.Set(&sub, []string{f.Choices()[0].ID})
		case f.Kind == KindText || f.Kind == KindTextarea:
			f.Set(&sub, []string{"An answer to " + f.ID})
		}
	}
	sub.Contacts = []Contact{{Name: "Jo Bloggs", What: "A visit"}}
	sub.HadContact = "yes"
	st, errs := sub.Normalize().Validate(now)
	if errs != nil {
		t.Fatal(errs)
	}
	for _, v := range []View{ViewCheck, ViewWithdraw, ViewAlert, ViewDigest} {
		rows := Rows(st, v)
		for _, f := range Fields {
			label := f.Mine
			if v&(ViewAlert|ViewDigest) != 0 {
				label = f.Team
			}
			if label == "" || f.NotIn&v != 0 {
				continue
			}
			i := slices.IndexFunc(rows, func(r Row) bool { return r.ID == f.ID })
			if i < 0 || rows[i].Label != label || len(rows[i].Values) == 0 {
				t.Errorf("view %d: %s is not shown as %q: %+v", v, f.ID, label, rows)
			}
		}
	}
	cols := Columns(st)
	for _, f := range Fields {
		if f.Team == "" || f.NotIn&ViewCSV != 0 || f.Columns != nil {
			continue
		}
		i := slices.IndexFunc(cols, func(c Column) bool { return c.Header == f.Team })
		if i < 0 || cols[i].Value == "" && f.Kind != KindCheckbox {
			t.Errorf("the export has no %q column with the answer", f.Team)
		}
	}
	// Choices are shown by their labels, never their ids.
	for _, r := range Rows(st, ViewAlert) {
		f, _ := FindField(r.ID)
		for _, o := range f.Choices() {
			if o.ID != o.Label && slices.Contains(r.Values, o.ID) {
				t.Errorf("%s shows the id %q", r.ID, o.ID)
			}
		}
	}
}

// Every choice question's list is in options.json (read at first use, so a
// list a field names but options.json lacks shows here, not in production).
func TestEveryFieldHasItsOptions(t *testing.T) {
	for _, f := range Fields {
		if f.Options == nil {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: %v", f.ID, r)
				}
			}()
			if len(f.Options()) == 0 {
				t.Errorf("%s has no choices", f.ID)
			}
		}()
	}
}
