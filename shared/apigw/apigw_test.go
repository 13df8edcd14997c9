package apigw

import (
	"encoding/base64"
	"encoding/json"
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
