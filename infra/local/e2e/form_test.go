package e2e_test

import (
	"strings"
	"testing"
	"time"

	"frontlinevoices/infra/local/stacktest"
	"github.com/chromedp/chromedp"
)

// fillStory fills the form as a volunteer would, leaving out what skip names.
func fillStory(email string, skip map[string]bool) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("#name"))}
	text := func(id, v string) {
		if !skip[id] {
			steps = append(steps, chromedp.SendKeys(byID(id), v))
		}
	}
	sel := func(id, v string) {
		if !skip[id] {
			steps = append(steps, chromedp.SetValue(byID(id), v))
		}
	}
	click := func(css string) { steps = append(steps, chromedp.Click(chromedp.CSS(css))) }
	text("name", "Priya Shah")
	sel("role", "gp_partner")
	text("practice", "Canonbury Health Centre")
	sel("borough", "islington")
	text("email", email)
	text("phone", "020 7946 0123")
	click(`input[name=preferredContact][value=email]`)
	click(`input[name=topics][value=funding]`)
	click(`input[name=topics][value=premises]`)
	text("story", "Our building was designed for 4,000 patients and we now look after 11,000. "+
		"We run clinics from a corridor and a converted cupboard.")
	click(`input[name=activities][value=mp_meeting]`)
	text("mpContacts.0.name", "Sam Candidate")
	text("mpContacts.0.constituency", "Islington North")
	text("mpContacts.0.what", "Spoke at a hustings about premises")
	click(`input[name=patientsWouldSpeak][value=yes]`)
	if !skip["consent"] {
		click(`#consent\.contact`)
		click(`#consent\.store`)
		click(`#consent\.public`)
	}
	steps = append(steps, chromedp.Sleep(fillTime))
	return chromedp.Steps(steps...)
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
				chromedp.Click(byID("send")),
				chromedp.WaitVisible(chromedp.CSS(".panel h1")),
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
			if err := chromedp.Do(ctx,
				chromedp.Navigate(st.URL+"/"),
				fillStory(email, map[string]bool{"practice": true, "borough": true, "consent": true}),
				chromedp.Click(byID("send")),
				chromedp.WaitVisible(chromedp.CSS("#error-summary li")),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "errors-"+name)
			summary, err := chromedp.Run(ctx, chromedp.Text(byID("error-summary")))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Enter the name of your practice", "Choose the borough your practice is in", "Agree"} {
				if !strings.Contains(summary, want) {
					t.Errorf("error summary lacks %q:\n%s", want, summary)
				}
			}
			// Every typed answer is still there.
			for id, want := range map[string]string{
				"name": "Priya Shah", "email": email, "phone": "020 7946 0123", "role": "gp_partner",
				"mpContacts.0.name": "Sam Candidate", "mpContacts.0.what": "Spoke at a hustings about premises",
			} {
				got, err := chromedp.Run(ctx, chromedp.Value(byID(id)))
				if err != nil || got != want {
					t.Errorf("%s = %q (%v), want %q", id, got, err, want)
				}
			}
			story, _ := chromedp.Run(ctx, chromedp.Value(byID("story")))
			if !strings.HasPrefix(story, "Our building was designed") {
				t.Errorf("story = %q", story)
			}
			checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[name=topics][value=funding]').checked && document.querySelector('input[name=activities][value=mp_meeting]').checked`))
			if js && (err != nil || !checked) {
				t.Errorf("ticked boxes lost: %v %v", checked, err)
			}
			if !js {
				// Without script, read the ticks from the re-rendered HTML.
				html, _ := chromedp.Run(ctx, chromedp.OuterHTML(byID("topics")))
				if !strings.Contains(html, `value="funding" checked`) {
					t.Errorf("ticked topic lost in the re-rendered form")
				}
			}
			// Now complete it: the same form goes through.
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(byID("practice"), "Canonbury Health Centre"),
				chromedp.SetValue(byID("borough"), "islington"),
				chromedp.Click(chromedp.CSS(`#consent\.contact`)),
				chromedp.Click(chromedp.CSS(`#consent\.store`)),
				chromedp.Sleep(50*time.Millisecond),
				chromedp.Click(byID("send")),
				chromedp.WaitVisible(chromedp.CSS(".panel h1")),
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
