package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axePath is axe-core's script, installed by `npm ci --prefix
// infra/local/e2e/axe` (CI does it).
var axePath = filepath.Join("axe", "node_modules", "axe-core", "axe.min.js")

// checkAxe runs axe-core (WCAG 2.0-2.2 A and AA rules, and best practices)
// on the page in ctx, within the element matched by include ("" for the
// whole page), and fails the test for every violation found. Without
// axe-core installed it skips, saying how to install it (in CI it fails).
func checkAxe(t *testing.T, ctx context.Context, include string) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed: %v", err)
		}
		t.Skipf("axe-core is not installed: run npm ci --prefix infra/local/e2e/axe (%v)", err)
	}
	// axe needs script, even on a page tested without: the page's own
	// scripts did not run at load, and do not run now. A tab without
	// script is without again once axe is done, for the steps after.
	if err := setScript(ctx, true); err != nil {
		t.Fatal(err)
	}
	if ctx.Value(noScriptKey{}) != nil {
		defer func() {
			if err := setScript(ctx, false); err != nil {
				t.Errorf("turning script off again: %v", err)
			}
		}()
	}
	// The whole page: a page still arriving has inputs without their labels yet.
	if err := chromedp.Do(ctx, until(`document.readyState === 'complete'`)); err != nil {
		t.Fatalf("waiting for the page to load: %v", err)
	}
	// Once per page: compiling axe-core costs about 0.3 s of CPU, and the
	// states of one page (the uploader's, the questions one reveals) share it.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object' && typeof window.axe.run === 'function'`))
	if err != nil {
		t.Fatalf("looking for axe-core: %v", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
			t.Fatalf("load axe-core: %v", err)
		}
	}
	context := "document"
	if include != "" {
		b, _ := json.Marshal(include)
		context = "{include: [" + string(b) + "]}"
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(`+context+`, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatalf("axe result %q: %v", out, err)
	}
	for _, v := range violations {
		t.Errorf("axe: %s (%s): %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}
