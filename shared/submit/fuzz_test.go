package submit_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"unicode/utf8"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/submit"
)

// FuzzParseJSON: any body is a submission or an error, never a panic, and
// an accepted body is UTF-8 JSON.
func FuzzParseJSON(f *testing.F) {
	var req apigw.Request
	testenv.Event(f, "submit-json.json", &req)
	for _, s := range []string{req.Body, "{}", "null", "[]", `{"x":1}`, `{"name":1}`, "{\"name\":\"\xff\"}", `{"consent":{"a":true}}`, "{", `{"mpContacts":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, err := submit.ParseJSON(body)
		if err == nil && !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
		}
	})
}

// FuzzHandle: whatever the body and content type, the handler answers a
// 2xx only for a story it kept (or the honeypot) and never a 5xx.
func FuzzHandle(f *testing.F) {
	var js, form apigw.Request
	testenv.Event(f, "submit-json.json", &js)
	testenv.Event(f, "submit-form.json", &form)
	fb, _ := base64.StdEncoding.DecodeString(form.Body)
	f.Add(js.Body, "application/json")
	f.Add(string(fb), "application/x-www-form-urlencoded")
	f.Add("", "")
	f.Add("name=%ff", "application/x-www-form-urlencoded")
	f.Add(`{"started":"a.b.c"}`, "application/json; charset=utf-8")
	stories := newStore(f)
	h, err := submit.New(submit.Config{Shared: config.Shared{TableName: "StoriesTable"}, MinFillTime: 0,
		MaxBodyBytes: 64 << 10, PerIPPerHour: 1 << 30, PerAddressPerDay: 1 << 30}, stories, testenv.Signer(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := js
		req.Body, req.IsBase64Encoded = body, false
		req.Headers = map[string]string{"content-type": contentType}
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode >= 500 || resp.StatusCode == 0 {
			t.Fatalf("%q as %q: %d %v", body, contentType, resp.StatusCode, err)
		}
		if resp.StatusCode < 300 && resp.StatusCode != http.StatusCreated {
			t.Fatalf("%q: %d", body, resp.StatusCode)
		}
	})
}
