package apigw

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRequestHelpers(t *testing.T) {
	req := Request{
		Headers:         map[string]string{"content-type": "Application/JSON; charset=utf-8", "accept": "application/json"},
		Cookies:         []string{"a=1", " fv_upload = tok ", "broken"},
		Body:            base64.StdEncoding.EncodeToString([]byte("name=Zo%C3%AB")),
		IsBase64Encoded: true,
		RawQueryString:  "t=abc&x=1",
	}
	if b, err := Body(req); err != nil || string(b) != "name=Zo%C3%AB" {
		t.Fatalf("Body = %q %v", b, err)
	}
	if Header(req, "Content-Type") == "" || MediaType(req) != "application/json" || !WantsJSON(req) {
		t.Fatal("headers")
	}
	if Cookie(req, "fv_upload") != "tok" || Cookie(req, "missing") != "" {
		t.Fatal("cookies")
	}
	if Query(req).Get("t") != "abc" {
		t.Fatal("query")
	}
}

func TestProblem(t *testing.T) {
	resp := ProblemWith(ProblemDetails{Title: "Some answers need correcting", Status: 422, Errors: []map[string]string{{"field": "email", "message": "Enter an email address"}}})
	if resp.StatusCode != 422 || resp.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("%+v", resp)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p["type"] != "about:blank" || p["errors"] == nil {
		t.Fatalf("%s %v", resp.Body, err)
	}
}

// Gzip reuses its writers: bodies compressed at once and one after another
// each come back whole and alone.
func TestGzipRoundTripsAtOnce(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				body := strings.Repeat(fmt.Sprintf("<p>body %d of writer %d</p>\n", i, g), 10+i*g)
				zr, err := gzip.NewReader(bytes.NewReader(Gzip([]byte(body))))
				if err != nil {
					t.Error(err)
					return
				}
				if b, err := io.ReadAll(zr); err != nil || string(b) != body {
					t.Errorf("writer %d, body %d: got %d bytes (%v), want its own %d", g, i, len(b), err, len(body))
				}
			}
		})
	}
	wg.Wait()
}

func TestWithCompression(t *testing.T) {
	page := strings.Repeat("<p>Frontline Voices</p>\n", 200)
	h := WithCompression(func(context.Context, Request) (Response, error) {
		return HTML(http.StatusOK, []byte(page), "default-src 'self'"), nil
	})
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	} {
		resp, err := h(context.Background(), Request{Headers: map[string]string{"accept-encoding": tc.accept}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Headers["vary"] != "Accept-Encoding" {
			t.Errorf("%q: vary = %q", tc.accept, resp.Headers["vary"])
		}
		if got := resp.Headers["content-encoding"] == "gzip"; got != tc.gzip {
			t.Errorf("%q: gzip = %v, want %v", tc.accept, got, tc.gzip)
			continue
		}
		if !tc.gzip {
			if resp.Body != page || resp.IsBase64Encoded {
				t.Errorf("%q: body changed", tc.accept)
			}
			continue
		}
		raw, _ := base64.StdEncoding.DecodeString(resp.Body)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(zr)
		if string(b) != page || !resp.IsBase64Encoded || len(raw) > len(page)/10 {
			t.Errorf("%q: gzip body of %d bytes does not round-trip", tc.accept, len(raw))
		}
	}
	// Small and binary bodies stay as they are.
	small := WithCompression(func(context.Context, Request) (Response, error) {
		return JSON(200, map[string]string{"ok": "yes"}), nil
	})
	if resp, _ := small(context.Background(), Request{Headers: map[string]string{"accept-encoding": "gzip"}}); resp.Headers["content-encoding"] != "" {
		t.Error("a tiny JSON body was compressed")
	}
}
