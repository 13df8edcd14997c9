package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
)

// Page budgets, in compressed bytes on the wire: the page and everything
// it loads, favicon included.
const (
	formBudget   = 20_000
	thanksBudget = 120_000
)

// pageWeight is the compressed size of the page in ctx and of every
// resource it loaded (bodies as they came over the wire, from the
// browser's resource timing), plus the favicon, and the uncompressed
// total; detail lists each.
func pageWeight(t *testing.T, ctx context.Context) (wire, raw int, detail string) {
	t.Helper()
	type entry struct {
		Name             string
		Encoded, Decoded int
	}
	list, err := chromedp.Run(ctx, chromedp.Evaluate[[]entry](`[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
		.map(e => ({Name: e.name, Encoded: e.encodedBodySize, Decoded: e.decodedBodySize}))`))
	if err != nil {
		t.Fatal(err)
	}
	// The favicon, when the browser asked for it outside the page's timeline.
	if !slices.ContainsFunc(list, func(e entry) bool { return strings.Contains(e.Name, "/favicon.ico") }) {
		icon, iconRaw := gzipSize(t, "/favicon.ico")
		list = append(list, entry{Name: "/favicon.ico", Encoded: icon, Decoded: iconRaw})
	}
	var b strings.Builder
	for _, e := range list {
		wire += e.Encoded
		raw += e.Decoded
		name, _, _ := strings.Cut(strings.TrimPrefix(e.Name, st.URL), "?")
		fmt.Fprintf(&b, "\n  %-22s %7d bytes (%d uncompressed)", name, e.Encoded, e.Decoded)
	}
	return wire, raw, b.String()
}

// gzipSize fetches path as a browser would (accepting gzip) and returns
// the bytes on the wire and uncompressed.
func gzipSize(t *testing.T, path string) (wire, raw int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return len(b), len(b) // the favicon is a PNG: never compressed
}

// The form's first load and the thank-you page with its uploader fit
// their budgets over the compressed responses, and every text response
// was compressed.
func TestPageWeight(t *testing.T) {
	t.Parallel()
	ctx := tab(t, true)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	check := func(page string, budget int) {
		t.Helper()
		wire, raw, detail := pageWeight(t, ctx)
		t.Logf("%s: %d bytes compressed (%d uncompressed):%s", page, wire, raw, detail)
		if wire > budget {
			t.Errorf("%s weighs %d bytes compressed, over its budget of %d", page, wire, budget)
		}
		if wire*2 > raw {
			t.Errorf("%s: %d bytes on the wire for %d: not compressed", page, wire, raw)
		}
	}
	// Every resource the page names is in once it has loaded.
	if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/"), waitVisible(byID("name")), until(`document.readyState === 'complete'`)); err != nil {
		t.Fatal(err)
	}
	check("form", formBudget)
	// The thank-you page of a story sent just now (from Go, as the form's
	// script sends it), once its uploader is drawn.
	postStory(t, ctx, st, stacktest.Unique("weight@example.org"))
	if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+"/thanks"), waitVisible(chromedp.CSS("#uploader .uppy-Dashboard")), until(`document.readyState === 'complete'`)); err != nil {
		t.Fatal(err)
	}
	check("thanks", thanksBudget)
}
