package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"frontlinevoices/infra/local/stacktest"
)

// The short path's limits: a volunteer with no MP contact and no patients
// to mention presses Tab at most this often on a step to reach its button,
// and scrolls at most this many phone screens (375×812) on each step.
const (
	maxTabStops = 25
	maxScreens  = 3.5
)

// keys drives a tab by keyboard alone: Tab to a control (counting the
// presses), then keys.
type keys struct {
	t    *testing.T
	ctx  context.Context
	tabs int // Tab presses on this page
}

func (k *keys) active() string {
	id, _ := chromedp.Run(k.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ''`))
	return id
}

// focused waits until the control with id has the focus, and returns the
// id of the one that has it: a page's autofocus control gets it at the
// browser's next rendering step, which can come after the page shows. The
// wait has a deadline for a page that never moves the focus, not a speed
// check.
func (k *keys) focused(id string) string {
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	for {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ''`))
		if got == id {
			return got
		}
		select {
		case <-ctx.Done():
			return k.active()
		case <-time.After(pollEvery):
		}
	}
}

// to presses Tab until the control with id has the focus.
func (k *keys) to(id string) {
	k.t.Helper()
	for i := 0; i < 60; i++ {
		if k.active() == id {
			return
		}
		if testing.Verbose() {
			k.t.Logf("Tab from #%s", k.active())
		}
		if err := chromedp.Do(k.ctx, chromedp.KeyEvent("\t")); err != nil {
			k.t.Fatal(err)
		}
		k.tabs++
	}
	k.t.Fatalf("Tab never reached #%s (at #%s)", id, k.active())
}

// press sends keys to the control with the focus.
func (k *keys) press(s ...string) {
	k.t.Helper()
	for _, key := range s {
		if err := chromedp.Do(k.ctx, chromedp.KeyEvent(key)); err != nil {
			k.t.Fatal(err)
		}
	}
}

// page waits for a new page showing id and starts counting again.
func (k *keys) page(id string) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, waitVisible(byID(id))); err != nil {
		screenshot(k.t, k.ctx, "keys-waiting-for-"+id)
		main, _ := chromedp.Run(k.ctx, chromedp.Text(chromedp.CSS("main")))
		k.t.Logf("the page:\n%s", main)
		k.t.Fatalf("waiting for #%s: %v", id, err)
	}
	k.tabs = 0
}

// A receptionist fills and sends the form by keyboard alone (Tab, Space,
// the arrow keys, Enter and typing), with and without JavaScript, the short
// way: no MP contact, no patients. Each step takes at most maxTabStops Tab
// presses to reach its button.
func TestKeyboardOnly(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			email := stacktest.Unique("keys." + name + "@example.org")
			if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/")); err != nil {
				t.Fatal(err)
			}
			k := &keys{t: t, ctx: ctx}
			var stops []string
			all := 0
			done := func(step string) {
				all += k.tabs
				stops = append(stops, fmt.Sprintf("%s %d", step, k.tabs))
				if k.tabs > maxTabStops {
					t.Errorf("%s: %d Tab presses to reach its button, want at most %d", step, k.tabs, maxTabStops)
				}
			}
			k.page("name")
			k.to("name")
			k.press("Tomasz Nowak")
			k.to("role")
			k.press("Rec") // type-ahead: Receptionist / care navigator
			k.to("practice")
			k.press("Lea Valley Medical Centre")
			k.to("borough")
			k.press("Waltham")
			k.to("email")
			k.press(email)
			k.to("preferredContact-email")
			k.press(" ")
			k.to("continue")
			done("about you")
			k.press("\r")

			k.page("story")
			k.to("topics-workforce")
			k.press(" ")
			k.to("story")
			k.press("Every morning I am the first voice patients hear. Last winter we answered 600 calls a day with four of us.")
			k.to("hadContact-yes")
			k.press(kb.ArrowRight) // the next answer: No
			k.to("patientsWouldSpeak-yes")
			k.press(kb.ArrowDown, kb.ArrowDown) // Possibly, then No
			k.to("continue")
			done("your story")
			k.press("\r")

			k.page("send")
			k.to("naming-name")
			k.press(kb.ArrowDown) // role and borough only
			k.to("consent.contact")
			k.press(" ")
			k.to("consent.store")
			k.press(" ")
			k.to("send")
			done("check and send")
			if err := chromedp.Do(ctx, chromedp.Sleep(fillTime)); err != nil {
				t.Fatal(err)
			}
			k.press("\r")
			if err := chromedp.Do(ctx, waitVisible(chromedp.CSS(".panel h1"))); err != nil {
				t.Fatal(err)
			}
			t.Logf("short path by keyboard, Tab presses per step: %s (%d in all)", strings.Join(stops, ", "), all)
			waitIdle(t)
			var alert string
			for _, e := range st.Outbox.Emails() {
				if e.To[0] != email && strings.Contains(e.Text, email) {
					alert = e.Text
				}
			}
			for _, want := range []string{"Tomasz Nowak", "Receptionist", "Waltham Forest", "Workforce", "first voice patients hear"} {
				if !strings.Contains(alert, want) {
					t.Errorf("the alert lacks %q:\n%s", want, alert)
				}
			}
		})
	}
}

// The error summary takes the focus, and each of its links moves the focus
// to a real input: a text field, or the first radio of a group.
func TestErrorSummaryLinksFocusInputs(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/"), waitVisible(byID("continue"))); err != nil {
				t.Fatal(err)
			}
			k := &keys{t: t, ctx: ctx}
			k.to("continue")
			k.press("\r")
			k.page("error-summary")
			if got := k.focused("error-summary"); got != "error-summary" {
				t.Fatalf("after the errors the focus is on #%s, not the error summary", got)
			}
			links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#error-summary a')].map(a => a.getAttribute('href').slice(1))`))
			if err != nil || len(links) < 2 {
				t.Fatalf("summary links %v (%v)", links, err)
			}
			isInput := func(got, target string) bool {
				return strings.HasSuffix(got, " #"+target) &&
					(strings.HasPrefix(got, "INPUT ") || strings.HasPrefix(got, "SELECT ") || strings.HasPrefix(got, "TEXTAREA "))
			}
			for i, target := range links {
				if !js {
					// Without script a link jumps to its input (browsers move
					// no focus on their own): it must name one.
					got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => e ? e.tagName + ' ' + (e.type || '') + ' #' + e.id : 'nothing')(document.getElementById(`+"`"+target+"`"+`))`))
					if !isInput(got, target) {
						t.Errorf("the link to #%s names %s", target, got)
					}
					continue
				}
				// Back to the summary, Tab to the i-th link, Enter.
				if err := chromedp.Do(ctx, chromedp.Focus(byID("error-summary"))); err != nil {
					t.Fatal(err)
				}
				k.press(strings.Repeat("\t", i+1))
				if got := k.active(); got != "" {
					t.Fatalf("Tab %d from the summary is on #%s, not its link", i+1, got)
				}
				k.press("\r")
				got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise(r => setTimeout(r, 50)).then(() => (e => e.tagName + ' ' + (e.type || '') + ' #' + e.id)(document.activeElement))`, chromedp.EvalAwaitPromise))
				if !isInput(got, target) {
					t.Errorf("the link to #%s moved the focus to %s", target, got)
				}
			}
		})
	}
}

// The short path measured on a phone (375×812): each step's height in
// screens, and the tab stops before its button, with the answers of a
// volunteer with no MP contact and no patients to mention.
func TestShortPathOnAPhone(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
				t.Fatal(err)
			}
			var report []string
			measure := func(step, button string) {
				t.Helper()
				h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight`))
				if err != nil {
					t.Fatal(err)
				}
				stops, err := chromedp.Run(ctx, chromedp.Evaluate[int](tabStopsJS+`(`+"`"+button+"`"+`)`))
				if err != nil {
					t.Fatal(err)
				}
				screens := h / 812
				report = append(report, fmt.Sprintf("%s: %.0f px = %.2f screens, %d tab stops", step, h, screens, stops))
				screenshot(t, ctx, "phone-"+name+"-"+strings.ReplaceAll(step, " ", "-"))
				if screens > maxScreens {
					t.Errorf("%s is %.2f phone screens long, want at most %.1f", step, screens, maxScreens)
				}
				if stops > maxTabStops {
					t.Errorf("%s has %d tab stops before its button, want at most %d", step, stops, maxTabStops)
				}
			}
			email := stacktest.Unique("phone." + name + "@example.org")
			if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/"), waitVisible(byID("name"))); err != nil {
				t.Fatal(err)
			}
			measure("about you", "continue")
			if err := chromedp.Do(ctx, aboutYou(email, "waltham_forest", nil), waitVisible(byID("story"))); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx,
				click(byID("topics-workforce")),
				typeIn(byID("story"), "Every morning I am the first voice patients hear. Last winter we answered 600 calls a day."),
				click(byID("hadContact-no")),
				click(byID("patientsWouldSpeak-no")),
			); err != nil {
				t.Fatal(err)
			}
			measure("your story", "continue")
			if err := chromedp.Do(ctx, click(byID("continue")), waitVisible(byID("send"))); err != nil {
				t.Fatal(err)
			}
			measure("check and send", "send")
			t.Logf("short path at 375×812:\n  %s", strings.Join(report, "\n  "))
		})
	}
}

// tabStopsJS counts the places Tab stops at before the element with the
// given id, as the browser orders them: focusable, shown, enabled
// controls and links, a group of radios once.
const tabStopsJS = `(function (until) {
  const all = document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]');
  const seen = new Set();
  let n = 0;
  for (const el of all) {
    if (el.id === until) return n;
    if (el.tabIndex < 0 || el.disabled || el.type === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (el.type === 'radio') {
      if (seen.has(el.name)) continue;
      seen.add(el.name);
    }
    n++;
  }
  return -1;
})`

// With JavaScript, nothing typed is lost to a reload, and the story's
// character count is shown as one types but announced (its live region)
// only once typing pauses, not on every key.
func TestDraftSurvivesAReloadAndTheCountWaits(t *testing.T) {
	t.Parallel()
	ctx := tab(t, true)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/"),
		waitVisible(byID("name")),
		typeIn(byID("name"), "Priya Shah"),
		typeIn(byID("email"), "priya@example.org"),
		click(byID("preferredContact-phone")),
		chromedp.Reload(),
		waitVisible(byID("name")),
	); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById('name').value, document.getElementById('email').value, String(document.getElementById('preferredContact-phone').checked)]`))
	if err != nil || strings.Join(got, "|") != "Priya Shah|priya@example.org|true" {
		t.Fatalf("after a reload the first step holds %q (%v)", got, err)
	}
	// The story step: the visible count is not a live region; the live
	// one says the same once typing has paused.
	if err := chromedp.Do(ctx,
		aboutYou(stacktest.Unique("draft@example.org"), "islington", map[string]bool{"name": true, "email": true, "phone": true}),
		waitVisible(byID("story")),
		chromedp.SendKeys(byID("story"), "Our waiting room is full by eight."),
		// The live region speaks once typing pauses: wait for it to say
		// what the visible count says (a slow machine may pause mid-way).
		until(`document.getElementById('story-count-live').textContent === document.getElementById('story-count').textContent && document.getElementById('story-count').textContent.includes('remaining')`),
	); err != nil {
		t.Fatal(err)
	}
	counts, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById('story-count').textContent, document.getElementById('story-count-live').textContent, String(document.getElementById('story-count').hasAttribute('aria-live'))]`))
	if len(counts) != 3 || counts[0] != counts[1] || counts[2] != "false" || !strings.Contains(counts[0], "characters remaining") {
		t.Errorf("count %q", counts)
	}
}
