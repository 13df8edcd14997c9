package pages_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/pages"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/web"
)

// handler builds the handler over the real table layout (minidyn), its
// configuration from the shared settings the template's Globals give
// every function.
func handler(t *testing.T) apigw.Handler {
	h, _ := handlerAndStore(t)
	return h
}

func handlerAndStore(t *testing.T) (apigw.Handler, *store.Store) {
	t.Helper()
	var cfg pages.Config
	if err := config.Load(func(string) string { return "" }, &cfg); err == nil {
		t.Fatal("the form function started without its signing keys")
	}
	env := map[string]string{"SIGNING_KEYS_SECRET": "SigningKeys", "TABLE_NAME": "StoriesTable", "CLIPS_BUCKET": "clips"}
	if err := config.Load(func(k string) string { return env[k] }, &cfg); err != nil {
		t.Fatal(err)
	}
	s := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	p, err := pages.New(cfg, s, testenv.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	return apigw.WithCompression(p.Handle), s
}

func TestFormSample(t *testing.T) {
	var req apigw.Request
	testenv.Event(t, "form-get.json", &req)
	resp, err := handler(t)(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Headers["content-type"], "text/html") ||
		resp.Headers["cache-control"] != "no-store" || !strings.Contains(resp.Headers["content-security-policy"], "default-src 'self'") {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Headers)
	}
	for _, want := range []string{
		`<form id="story-form" method="post" action="/api/stories" novalidate`,
		`name="consentVersion" value="` + story.ConsentVersion() + `"`,
		`name="started" value="`, `name="website"`, // the signed start time and the honeypot
		`<optgroup label="North Central London">`, `value="kensington_chelsea_westminster"`,
		`src="` + web.AssetURL("form.js") + `"`,
	} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(resp.Body, "uploader.js") {
		t.Error("the form loads the uploader: it belongs on the thank-you page only")
	}
	// The first step asks about the volunteer; the consents come on the
	// check step (shared/submit's tests).
	for _, want := range []string{`name="step" value="about"`, `autocomplete="name"`, `autocomplete="email"`, `autocomplete="tel"`, `autocomplete="organization"`, `id="continue"`} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the form's first step lacks %s", want)
		}
	}
}

func TestStaticAssetsAreCached(t *testing.T) {
	p := handler(t)
	for path, cache := range map[string]string{
		web.AssetURL("site.css"): "public, max-age=31536000, immutable",
		"/static/form.js":        "public, max-age=300",
	} {
		raw, query, _ := strings.Cut(path, "?")
		resp, err := p(context.Background(), apigw.Request{RawPath: raw, RawQueryString: query})
		if err != nil || resp.StatusCode != 200 || resp.Headers["cache-control"] != cache {
			t.Fatalf("%s: %d %v %v", path, resp.StatusCode, resp.Headers, err)
		}
	}
	resp, _ := p(context.Background(), apigw.Request{RawPath: "/static/../site.go"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("path climbing = %d", resp.StatusCode)
	}
}
