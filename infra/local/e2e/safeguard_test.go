package e2e_test

import (
	"strings"
	"testing"

	"frontlinevoices/infra/local/stacktest"
	"github.com/chromedp/chromedp"
)

// A story that seems to name a patient's NHS number is caught before it is
// sent; the volunteer can edit or confirm, and the comms team is warned.
func TestSafeguardingWarnsThenLetsTheVolunteerConfirm(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			email := stacktest.Unique("safeguard." + name + "@example.org")
			confirm := click(byID("safeguard-confirm"))
			wait := waitVisible(byID("safeguard-warning"))
			if !js {
				wait = waitVisible(byID("safeguardingConfirmed"))
				confirm = chromedp.Steps(click(byID("safeguardingConfirmed")), click(byID("continue")))
			}
			if err := chromedp.Do(ctx,
				chromedp.Navigate(st.URL+"/"),
				aboutYou(email, "islington", nil),
				yourStory(nil),
				typeIn(byID("story"), " The patient, NHS number 943 476 5919, waited three weeks."),
				click(byID("continue")),
				wait,
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "safeguard-"+name)
			warning, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if !strings.Contains(warning, "an NHS number") {
				t.Fatalf("no warning naming the NHS number:\n%s", warning)
			}
			if err := chromedp.Do(ctx, confirm, agree(nil), click(byID("send")), waitVisible(chromedp.CSS(".panel h1"))); err != nil {
				t.Fatal(err)
			}
			waitIdle(t)
			var flagged bool
			for _, e := range st.Outbox.Emails() {
				if e.To[0] != email && strings.Contains(e.Text, email) {
					flagged = strings.Contains(e.Text, "May identify a patient") && strings.Contains(e.Text, "chose to send it as it is")
				}
			}
			if !flagged {
				t.Fatal("the alert does not flag the story")
			}
		})
	}
}
