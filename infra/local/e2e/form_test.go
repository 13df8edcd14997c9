package e2e_test

import (
	"strings"
	"testing"
	"time"

	"frontlinevoices/infra/local/stacktest"
	"github.com/chromedp/chromedp"
)

// aboutYou fills the form's first step (about you) as a volunteer would,
// leaving out what skip names, and continues.
func aboutYou(email, borough string, skip map[string]bool) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{waitVisible(chromedp.CSS("#name"))}
	text := func(id, v string) {
		if !skip[id] {
			steps = append(steps, typeIn(byID(id), v))
		}
	}
	sel := func(id, v string) {
		if !skip[id] {
			steps = append(steps, chromedp.SetValue(byID(id), v))
		}
	}
	text("name", "Priya Shah")
	sel("role", "gp_partner")
	text("practice", "Canonbury Health Centre")
	sel("borough", borough)
	text("email", email)
	text("phone", "020 7946 0123")
	steps = append(steps, click(byID("preferredContact-email")), click(byID("continue")))
	return chromedp.Steps(steps...)
}

// yourStory fills the second step (the story, an MP contact typed in,
// patients), leaving out what skip names; it does not continue.
func yourStory(skip map[string]bool) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{waitVisible(byID("story"))}
	choose := func(id string) { steps = append(steps, click(byID(id))) }
	text := func(id, v string) {
		if !skip[id] {
			steps = append(steps, typeIn(byID(id), v))
		}
	}
	if !skip["topics"] {
		choose("topics-funding")
		choose("topics-premises")
	}
	text("story", "Our building was designed for 4,000 patients and we now look after 11,000. "+
		"We run clinics from a corridor and a converted cupboard.")
	choose("activities-mp_meeting")
	if !skip["mpContacts"] {
		choose("hadContact-yes")
		steps = append(steps, click(chromedp.CSS(`details.contact summary`)))
		text("mpContacts.0.name", "Sam Candidate")
		text("mpContacts.0.constituency", "Islington North")
		text("mpContacts.0.what", "Spoke at a hustings about premises")
	} else {
		choose("hadContact-no")
	}
	choose("patientsWouldSpeak-yes")
	return chromedp.Steps(steps...)
}

// agree answers the check step's naming question and ticks the consents
// (unless skip names "consent"); it does not send.
func agree(skip map[string]bool) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{waitVisible(byID("send")), click(byID("naming-role"))}
	if !skip["consent"] {
		for _, id := range []string{"consent.contact", "consent.store", "consent.public"} {
			steps = append(steps, click(byID(id)))
		}
	}
	return chromedp.Steps(append(steps, chromedp.Sleep(fillTime))...)
}

// fillStory fills the form's three steps as a volunteer would, leaving
// out what skip names, and stops on the check step before sending.
func fillStory(email string, skip map[string]bool) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		aboutYou(email, "islington", skip),
		yourStory(skip),
		click(byID("continue")),
		agree(skip),
	)
}

func countEmails(email string) (alerts, confirmations int) {
	for _, e := range st.Outbox.Emails() {
		if e.To[0] == email {
			confirmations++
		} else if strings.Contains(e.Text, email) {
			alerts++
		}
	}
	return
}

func TestFormSubmitsWithAndWithoutJavaScript(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			email := stacktest.Unique("priya." + name + "@example.org")
			if err := chromedp.Do(ctx,
				chromedp.Navigate(st.URL+"/"),
				fillStory(email, nil),
				click(byID("send")),
				waitVisible(chromedp.CSS(".panel h1")),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "thanks-"+name)
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil || !strings.HasSuffix(loc, "/thanks") {
				t.Fatalf("after sending the browser is at %q (%v)", loc, err)
			}
			waitIdle(t)
			if a, c := countEmails(email); a != 1 || c != 1 {
				t.Fatalf("outbox: %d alerts and %d confirmations, want 1 and 1", a, c)
			}
			// The outbox page lists both emails.
			if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/_local/outbox")); err != nil {
				t.Fatal(err)
			}
			page, err := chromedp.Run(ctx, chromedp.Text(byID("emails")))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(page, email) != 1 || !strings.Contains(page, "New story: GP partner in Islington") {
				t.Fatalf("outbox page:\n%s", page)
			}
		})
	}
}

func TestMissingAnswersShowErrorsAndKeepEverything(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			email := stacktest.Unique("missing." + name + "@example.org")
			summaryHas := func(want ...string) {
				t.Helper()
				summary, err := chromedp.Run(ctx, chromedp.Text(byID("error-summary")))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					if !strings.Contains(summary, w) {
						t.Errorf("error summary lacks %q:\n%s", w, summary)
					}
				}
				title, _ := chromedp.Run(ctx, chromedp.Title())
				if !strings.HasPrefix(title, "Error: ") {
					t.Errorf("title %q", title)
				}
			}
			if err := chromedp.Do(ctx,
				chromedp.Navigate(st.URL+"/"),
				aboutYou(email, "islington", map[string]bool{"practice": true, "borough": true}),
				waitVisible(chromedp.CSS("#error-summary li")),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "errors-"+name)
			summaryHas("Enter the name of your practice", "Choose the borough your practice is in")
			// Every typed answer is still there.
			for id, want := range map[string]string{"name": "Priya Shah", "email": email, "phone": "020 7946 0123", "role": "gp_partner"} {
				got, err := chromedp.Run(ctx, chromedp.Value(byID(id)))
				if err != nil || got != want {
					t.Errorf("%s = %q (%v), want %q", id, got, err, want)
				}
			}
			// Complete it; the story step, then the check step without the consents.
			if err := chromedp.Do(ctx,
				typeIn(byID("practice"), "Canonbury Health Centre"),
				chromedp.SetValue(byID("borough"), "islington"),
				click(byID("continue")),
				yourStory(nil),
				click(byID("continue")),
				agree(map[string]bool{"consent": true}),
				click(byID("send")),
				waitVisible(chromedp.CSS("#error-summary li")),
			); err != nil {
				t.Fatal(err)
			}
			summaryHas("Agree")
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			for _, want := range []string{"Priya Shah", "Our building was designed", "Sam Candidate, Islington North: Spoke at a hustings about premises"} {
				if !strings.Contains(page, want) {
					t.Errorf("the check step lost %q", want)
				}
			}
			if err := chromedp.Do(ctx,
				click(chromedp.CSS(`#consent\.contact`)),
				click(chromedp.CSS(`#consent\.store`)),
				chromedp.Sleep(50*time.Millisecond),
				click(byID("send")),
				waitVisible(chromedp.CSS(".panel h1")),
			); err != nil {
				t.Fatal(err)
			}
			waitIdle(t)
			if a, c := countEmails(email); a != 1 || c != 1 {
				t.Fatalf("outbox: %d alerts and %d confirmations, want 1 and 1", a, c)
			}
		})
	}
}
