// Package e2e drives the local stack with Debian's chromium through
// chromedp: the form as a volunteer uses it, with JavaScript on and off.
package e2e_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/story"
)

var (
	st      *stack.Stack
	browser context.Context
	// noBrowser says why the browser tests skip: no Chrome or Chromium was
	// found (outside CI, where that fails the run instead).
	noBrowser string
)

// findBrowser is $CHROMIUM, or else the first Chrome or Chromium on the
// PATH, its headless shell first: the same engine (Blink and V8) without
// the browser's windows and their UI, it costs two thirds of the CPU of the
// whole browser in these tests (84 s against 131 s for the package; its
// browser process 16 s against 45 s).
func findBrowser() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium-headless-shell", "chrome-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chrome or Chromium found for the browser tests: install one (Debian: apt-get install chromium-headless-shell, or chromium) or set CHROMIUM to its path")
}

// fillTime is the stack's minimum fill time in these tests: a person takes
// longer, and the browser waits at least this long before sending.
const fillTime = 300 * time.Millisecond

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// A test waits more than it computes (page loads, fill times, uploads,
	// the stack's events), most of that in the browser: four tests at once
	// unless -parallel says otherwise (go test's default is the number of
	// CPUs, two on a small machine, which leaves them idle).
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "4")
	}
	ctx := context.Background()
	path, err := findBrowser()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		noBrowser = err.Error()
		return m.Run() // every test skips, saying what to install
	}
	st, exampleList, err = startStack(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer st.Close(ctx)

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(412, 915), // a phone
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Tests run in parallel tabs: a tab in the background must keep
		// its timers and rendering, as the one in front does.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		// Chromium (since about 140) opens the omnibox's popup as a web
		// page of its own, in a renderer of its own, in every new window,
		// headless too: about 1.5 s of CPU per tab, which no test uses.
		// And it starts a spare renderer ahead of the next page, which a
		// tab in another browser context (every test's) cannot use: it
		// starts another, and the spare is thrown away, one per tab.
		chromedp.Flag("disable-features", "WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,SpareRendererForSitePerProcess"),
	)
	defer cancelAlloc()
	var cancelBrowser context.CancelFunc
	browser, cancelBrowser = chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start chromium:", err)
		return 1
	}
	return m.Run()
}

// startStack starts a local stack as these tests use it: the form's
// minimum fill time shortened to fillTime, and the example list of MPs and
// candidates imported, so that every test sees the same form (the tests of
// the list need it). onInvoke, when not nil, sees every function's payload.
func startStack(ctx context.Context, onInvoke func(function string, payload []byte)) (*stack.Stack, story.CandidateList, error) {
	s, err := stack.Start(ctx, stack.Options{
		Params:   map[string]string{"MinFillTime": fillTime.String()},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnInvoke: onInvoke,
	})
	if err != nil {
		return nil, story.CandidateList{}, fmt.Errorf("start stack: %w", err)
	}
	list, err := loadExample(ctx, s)
	if err != nil {
		s.Close(ctx)
		return nil, story.CandidateList{}, fmt.Errorf("import the example list: %w", err)
	}
	return s, list, nil
}

// tab opens a new tab in a browser context of its own, as each volunteer
// has their own browser: no cookies but its own, so tests running side by
// side never share the upload cookie, and clearing cookies touches no other
// tab. With js false the page runs no script at all. Without a browser the
// test skips, saying what to install.
func tab(t testing.TB, js bool) context.Context {
	t.Helper()
	if noBrowser != "" {
		t.Skip(noBrowser)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if !js {
		ctx = context.WithValue(ctx, noScriptKey{}, true)
	}
	// A deadline for a hung page, not a speed check: tests run side by
	// side on a machine that may be busy.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	if err := setScript(ctx, js); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// noScriptKey marks the context of a tab that runs no script.
type noScriptKey struct{}

// setScript turns the page's script on or off in the tab of ctx.
func setScript(ctx context.Context, on bool) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

// waitIdle waits until the stack has delivered every event so far.
func waitIdle(t testing.TB) {
	t.Helper()
	waitStackIdle(t, st)
}

// waitStackIdle waits until the stack s has delivered every event so far.
func waitStackIdle(t testing.TB, s *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// whereIs says where the tab of ctx is and what its page says, for a test
// that failed waiting there (ctx may have ended: it asks with a few
// seconds of its own).
func whereIs(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + (document.body ? document.body.innerText.slice(0, 2000) : '(no body)')`))
	if err != nil {
		return fmt.Sprintf("(the page could not be read: %v)", err)
	}
	return s
}

// screenshot saves the page to $E2E_SCREENSHOTS/name.png when set, for a
// person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(dir+"/"+name+".png", b, 0o644)
}

// pollEvery is how often a query waiting for an element asks the browser
// again. chromedp's default, 5 ms, costs about a third of a CPU core (the
// test and the browser together) for as long as a tab waits; 25 ms costs
// a twelfth, and a step waits at most 25 ms longer.
const pollEvery = 25 * time.Millisecond

// click clicks the element sel once it is shown, as a person does (the
// mouse at its middle).
func click[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.Click(sel, chromedp.RetryInterval(pollEvery))
}

// waitVisible waits until the element sel is shown.
func waitVisible[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(sel, chromedp.RetryInterval(pollEvery))
}

// waitReady waits until the element sel is in the page.
func waitReady[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.WaitReady(sel, chromedp.RetryInterval(pollEvery))
}

// typeIn types text into the field sel (once it is shown) as one text
// entry, as a paste or an input method does: the page gets the input
// event that typing gives, for one call to the browser, where typing key
// by key (chromedp.SendKeys) costs three calls and about 10 ms of the
// browser's CPU per character. Key by key stays where the keys are what
// is tested (the keyboard tests, the count that waits for typing to pause).
func typeIn(sel chromedp.CSS, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(sel, chromedp.NodeVisible, chromedp.RetryInterval(pollEvery)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// byID selects the element with this id; ids may hold dots (field names).
func byID(id string) chromedp.CSS {
	return chromedp.CSS("#" + strings.ReplaceAll(id, ".", `\.`))
}
