package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
)

var withdrawLink = regexp.MustCompile(`/withdraw\?t=[^\s"<>]+`)

// withdrawURL is the personal link of the confirmation sent to email.
func withdrawURL(t *testing.T, email string) string {
	t.Helper()
	waitIdle(t)
	for _, e := range st.Outbox.Emails() {
		if e.To[0] == email {
			if m := withdrawLink.FindString(e.Text); m != "" {
				return st.URL + m
			}
		}
	}
	t.Fatalf("no withdraw link sent to %s", email)
	return ""
}

// Every page and state a volunteer can reach passes axe-core's WCAG 2.2 A
// and AA rules (and its best practices): the form with and without
// JavaScript and with its errors, the privacy notice, the thank-you page
// without an uploader, with one, after an accepted clip and after a
// rejected one, the uploader's camera panel (recording and the recorded
// preview), and the withdraw page, its error and its results.
func TestAxeEveryPageAndState(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "with-js", false: "without-js"}[js]
		t.Run("form-"+name, func(t *testing.T) {
			t.Parallel()
			ctx := tab(t, js)
			send := func(button string) chromedp.Action[chromedp.Void] {
				return chromedp.Steps(click(byID(button)), waitVisible(chromedp.CSS("#error-summary li")))
			}
			for _, s := range []struct {
				name string
				do   chromedp.Action[chromedp.Void]
			}{
				{"about you", chromedp.Steps(chromedp.Navigate(st.URL+"/"), waitVisible(byID("name")))},
				{"about you, errors", send("continue")},
				{"your story", chromedp.Steps(aboutYou(stacktest.Unique("axe.form@example.org"), "islington", nil), waitVisible(byID("story")))},
				{"your story, errors", send("continue")},
				{"your story, every question shown", chromedp.Steps(yourStory(nil), click(byID("topics-other")), click(byID("patientsWouldSpeak-maybe")))},
				{"check and send", chromedp.Steps(typeIn(byID("topicOther"), "Estates"), click(byID("continue")), waitVisible(byID("send")))},
				{"check and send, errors", chromedp.Steps(chromedp.Sleep(fillTime), send("send"))},
			} {
				if err := chromedp.Do(ctx, s.do); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				t.Logf("axe: form, %s", s.name)
				checkAxe(t, ctx, "")
			}
		})
	}
	t.Run("privacy-and-thanks-without-uploader", func(t *testing.T) {
		t.Parallel()
		ctx := tab(t, false)
		for _, path := range []string{"/privacy", "/thanks"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+path), waitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatal(err)
			}
			checkAxe(t, ctx, "")
		}
	})
	// The uploader's states, each in a tab of its own (its own deadline):
	// before and after choosing a file and an accepted clip; a rejected
	// clip; the camera panel, recording and the recorded preview.
	good, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "media", "testdata", "faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	// The thank-you page of a story sent just now (from Go: the form's own
	// states are checked above), with the uploader ready.
	thanks := func(t *testing.T, who string) context.Context {
		ctx := tab(t, true)
		postStory(t, ctx, st, stacktest.Unique(who+"@example.org"))
		if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/thanks"), waitVisible(chromedp.CSS("#uploader .uppy-Dashboard"))); err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	t.Run("thanks-accepted-clip", func(t *testing.T) {
		t.Parallel()
		ctx := thanks(t, "axe.uploads")
		checkAxe(t, ctx, "")
		// A file chosen, not yet sent.
		if err := chromedp.Do(ctx,
			chooseFiles(good),
			until(`window.frontlineUppy.getFiles().length === 1`),
		); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, ctx, "")
		if err := chromedp.Do(ctx,
			press(`.uppy-StatusBar-actionBtn--upload`),
			until(`document.body.dataset.clipsVerified === '1'`, chromedp.WithPollingInterval(100*time.Millisecond)),
		); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('uploader-status').textContent + ' | ' + document.getElementById('clip-list').textContent + ' | ' + document.querySelector('#uploader .uppy-StatusBar').textContent`))
			t.Fatalf("the accepted clip never showed as received: %v: %s", err, state)
		}
		screenshot(t, ctx, "axe-accepted")
		// The verdict is in the file's own row in the uploader, and the
		// focus went to the status when the upload ended.
		if err := chromedp.Do(ctx, until(`!!document.querySelector('#uploader .uppy-Dashboard-Item .clip-verdict-ok')`)); err != nil {
			t.Fatal(err)
		}
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#uploader .clip-verdict-ok').textContent, document.activeElement.id, document.querySelector('#uploader .uppy-StatusBar').textContent, document.getElementById('uploader-status').textContent]`))
		if len(got) != 4 || got[0] != "Received (0:02)" || got[1] != "uploader-status" || strings.Contains(got[2], "Upload complete") || !strings.Contains(got[3], "faststart.mp4: received (0:02).") {
			t.Errorf("after an accepted clip: row %q", got)
		}
		checkAxe(t, ctx, "")
	})
	t.Run("thanks-rejected-clip", func(t *testing.T) {
		t.Parallel()
		ctx := thanks(t, "axe.rejected")
		// A text file named .mp4: the browser lets it through, the check on
		// arrival does not.
		bad := filepath.Join(t.TempDir(), "not-a-video.mp4")
		if err := os.WriteFile(bad, []byte(strings.Repeat("This is a text file, not a video.\n", 40)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx,
			chooseFiles(bad),
			until(`window.frontlineUppy.getFiles().length === 1`),
			press(`.uppy-StatusBar-actionBtn--upload`),
			until(`!!document.querySelector('#clip-list [data-status=rejected]')`, chromedp.WithPollingInterval(100*time.Millisecond)),
		); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, until(`!!document.querySelector('#uploader .uppy-Dashboard-Item.is-error .clip-verdict-no')`)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "axe-rejected")
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#uploader .clip-verdict-no').textContent, document.getElementById('uploader-status').textContent, String(document.querySelectorAll('#uploader .uppy-Dashboard-Item.is-complete:not(.is-error)').length)]`))
		if len(got) != 3 || !strings.HasPrefix(got[0], "Not accepted: ") || !strings.Contains(got[1], "not-a-video.mp4: not accepted. ") || got[2] != "0" {
			t.Errorf("after a rejected clip: %q", got)
		}
		checkAxe(t, ctx, "")
	})
	t.Run("thanks-camera", func(t *testing.T) {
		t.Parallel()
		ctx := thanks(t, "axe.camera")
		// The camera panel (Chromium's fake camera), while recording, and
		// the recorded video's preview before it is kept.
		for _, s := range []struct {
			name string
			do   chromedp.Action[chromedp.Void]
		}{
			{"camera panel", chromedp.Steps(press(`[data-uppy-acquirer-id="Webcam"] button`), until(`!!document.querySelector('button[aria-label="Begin video recording"]')`))},
			{"recording", chromedp.Steps(press(`button[aria-label="Begin video recording"]`), until(`(document.querySelector('.uppy-Webcam-recordingLength') || {}).textContent >= '0:01'`))},
			{"recorded preview", chromedp.Steps(press(`button[aria-label="Stop video recording"]`), until(`!!document.querySelector('button[aria-label="Submit recorded file"]')`))},
		} {
			if err := chromedp.Do(ctx, s.do); err != nil {
				screenshot(t, ctx, "axe-camera-failed")
				t.Fatalf("%s: %v", s.name, err)
			}
			t.Logf("axe: uploader, %s", s.name)
			screenshot(t, ctx, "axe-camera-"+strings.ReplaceAll(s.name, " ", "-"))
			checkAxe(t, ctx, "")
		}
	})
	t.Run("uploader-script-fails", func(t *testing.T) {
		t.Parallel()
		ctx := tab(t, true)
		postStory(t, ctx, st, stacktest.Unique("axe.noscript@example.org"))
		// The uploader's script does not arrive (a network that drops it).
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/static/uploader.js?*", Block: true}}})
			return err
		}), chromedp.Navigate(st.URL+"/thanks"), waitVisible(byID("uploader-fallback"))); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, ctx, "")
	})
	t.Run("withdraw", func(t *testing.T) {
		t.Parallel()
		ctx := tab(t, false)
		email := stacktest.Unique("axe.withdraw@example.org")
		postStory(t, ctx, st, email)
		link := withdrawURL(t, email)
		steps := []struct {
			name string
			do   chromedp.Action[chromedp.Void]
		}{
			{"page", chromedp.Steps(chromedp.Navigate(link), waitVisible(byID("erase")))},
			{"erase-error", chromedp.Steps(click(byID("erase")), waitVisible(byID("confirm-error")))},
			{"consent-withdrawn", chromedp.Steps(click(byID("withdraw-public")), waitVisible(chromedp.CSS(".panel h1")))},
			{"consent-given-again", chromedp.Steps(chromedp.Navigate(link), click(byID("give-public")), waitVisible(chromedp.CSS(".panel h1")))},
			{"erased", chromedp.Steps(chromedp.Navigate(link), click(byID("confirm")), click(byID("erase")), waitVisible(chromedp.CSS(".panel h1")))},
			{"link-used", chromedp.Steps(chromedp.Navigate(link), waitVisible(chromedp.CSS("h1")))},
		}
		for _, s := range steps {
			if err := chromedp.Do(ctx, s.do); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
			t.Logf("withdraw %s: %q", s.name, h1)
			checkAxe(t, ctx, "")
		}
	})
}
