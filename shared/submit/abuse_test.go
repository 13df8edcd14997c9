package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/submit"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/turnstile"
)

// sample is the JSON sample's body as a map, to change and send again.
func sample(t *testing.T) (apigw.Request, map[string]any) {
	t.Helper()
	var req apigw.Request
	testenv.Event(t, "submit-json.json", &req)
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		t.Fatal(err)
	}
	return req, body
}

func send(t *testing.T, h *submit.Handler, req apigw.Request, body map[string]any) apigw.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req.Body = string(b)
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

type problem struct {
	Type, Title, Detail string
	Status              int
	ID, Started         string
	Errors              []struct{ Field, Message string }
}

func decode(t *testing.T, resp apigw.Response) problem {
	t.Helper()
	var p problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, resp.Body, err)
	}
	return p
}

// A missing, forged, other story's or expired start token gets 422 and a
// fresh token that works; nothing is kept until it is sent again.
func TestBadStartTokensGet422WithAFreshToken(t *testing.T) {
	signer := testenv.Signer(t)
	other, _ := token.StaticSigner(strings.Repeat("x", 40))
	at := testenv.SampleTime
	otherKind, err := signer.Sign(context.Background(), "upload", "abcdefghijklmnopqrstuvwxyz", at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"missing":     "",
		"garbage":     "1.2.3",
		"other key":   start(t, other, "abcdefghijklmnopqrstuvwxyz", at),
		"other story": start(t, signer, "zzzzzzzzzzzzzzzzzzzzzzzzzz", at),
		"other kind":  otherKind,
		"expired":     start(t, signer, "abcdefghijklmnopqrstuvwxyz", at.Add(-8*24*time.Hour)),
	} {
		t.Run(name, func(t *testing.T) {
			h, stories := newHandler(t)
			req, body := sample(t)
			body["started"] = tok
			resp := send(t, h, req, body)
			p := decode(t, resp)
			if resp.StatusCode != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "send" || p.Started == "" {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
			if _, err := stories.GetStory(context.Background(), p.ID); err == nil {
				t.Fatal("a story was kept")
			}
			if name == "expired" && p.ID != "abcdefghijklmnopqrstuvwxyz" {
				t.Fatalf("an expired token of this story should keep its id, got %s", p.ID)
			}
			// The fresh token sends the story, under the id it names.
			body["started"], body["id"] = p.Started, p.ID
			h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute + 5*time.Second) })
			if again := send(t, h, req, body); again.StatusCode != http.StatusCreated {
				t.Fatalf("with the fresh token: %d %s", again.StatusCode, again.Body)
			}
		})
	}
}

// The relay: ten stories to ten addresses from one start token. The first
// is kept; every other one is refused, so one form sends one confirmation.
func TestOneStartTokenSendsOneStory(t *testing.T) {
	h, stories := newHandler(t)
	req, body := sample(t)
	var codes []int
	for i := range 10 {
		body["email"] = fmt.Sprintf("stranger%d@example.org", i)
		body["story"] = fmt.Sprintf("Thank you, Your bank %d: confirm your details at https://evil.example/login today.", i)
		delete(body, "id") // the token alone names the story
		codes = append(codes, send(t, h, req, body).StatusCode)
	}
	if codes[0] != http.StatusCreated {
		t.Fatalf("first: %v", codes)
	}
	for _, c := range codes[1:] {
		if c != http.StatusConflict {
			t.Fatalf("codes %v: want 201 then 409s", codes)
		}
	}
	st, err := stories.GetStory(context.Background(), "abcdefghijklmnopqrstuvwxyz")
	if err != nil || st.Email != "stranger0@example.org" {
		t.Fatalf("kept %+v %v", st.Email, err)
	}
}

// Rate limits answer 429 with Retry-After, the form with every answer kept.
func TestRateLimitsAnswer429(t *testing.T) {
	stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	h, err := submit.New(submit.Config{Shared: config.Shared{TableName: "StoriesTable"}, MinFillTime: 3 * time.Second,
		MaxBodyBytes: 64 << 10, PerIPPerHour: 3, PerAddressPerDay: 2}, stories, testenv.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	now := testenv.SampleTime.Add(time.Minute)
	h.SetClock(func() time.Time { return now })
	signer := testenv.Signer(t)
	req, body := sample(t)
	req.RequestContext.HTTP.SourceIP = "203.0.113.9"
	post := func(email string) apigw.Response {
		id := story.NewID()
		body["id"] = id
		body["started"] = start(t, signer, id, testenv.SampleTime)
		body["email"] = email
		now = now.Add(time.Millisecond)
		return send(t, h, req, body)
	}
	// Per address per day: 2.
	for i, want := range []int{201, 201, 429} {
		if got := post("same@example.org"); got.StatusCode != want {
			t.Fatalf("address story %d: %d %s", i, got.StatusCode, got.Body)
		} else if want == 429 {
			p := decode(t, got)
			if p.Type != "/problems/too-many-stories" || got.Headers["retry-after"] == "" || !strings.Contains(p.Detail, "2 stories") {
				t.Fatalf("429: %v %s", got.Headers, got.Body)
			}
		}
	}
	// Per IP per hour: 3. A refused story is counted nowhere (the one above
	// did not count against the IP), so one more goes through, and the
	// next is over, with nothing kept.
	if got := post("other@example.org"); got.StatusCode != http.StatusCreated {
		t.Fatalf("third from the IP: %d %s", got.StatusCode, got.Body)
	}
	if got := post("another@example.org"); got.StatusCode != http.StatusTooManyRequests || !strings.Contains(got.Body, "internet connection") {
		t.Fatalf("ip: %d %s", got.StatusCode, got.Body)
	}
	if _, err := stories.GetStory(context.Background(), body["id"].(string)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused story was kept: %v", err)
	}
	// Another IP is not held back; the no-JS form keeps the answers.
	req.RequestContext.HTTP.SourceIP = "198.51.100.7"
	if got := post("third@example.org"); got.StatusCode != http.StatusCreated {
		t.Fatalf("other ip: %d %s", got.StatusCode, got.Body)
	}
	// An hour on, the first IP may send again.
	now = now.Add(time.Hour)
	req.RequestContext.HTTP.SourceIP = "203.0.113.9"
	if got := post("fourth@example.org"); got.StatusCode != http.StatusCreated {
		t.Fatalf("next hour: %d %s", got.StatusCode, got.Body)
	}
}

// The bot check, against the local siteverify with Cloudflare's test keys.
func TestTurnstile(t *testing.T) {
	srv := httptest.NewServer(stack.Siteverify())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		secret, answer string
		want           int
	}{
		{stack.TurnstilePassSecret, stack.TurnstileDummyAnswer, http.StatusCreated},
		{stack.TurnstilePassSecret, "", http.StatusUnprocessableEntity},
		{stack.TurnstileFailSecret, stack.TurnstileDummyAnswer, http.StatusUnprocessableEntity},
		{stack.TurnstileSpentSecret, stack.TurnstileDummyAnswer, http.StatusUnprocessableEntity},
		{"0x-not-a-test-secret", stack.TurnstileDummyAnswer, http.StatusServiceUnavailable},
	} {
		stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
		h, err := submit.New(submit.Config{Shared: config.Shared{TableName: "StoriesTable"}, MinFillTime: 3 * time.Second,
			MaxBodyBytes: 64 << 10, PerIPPerHour: 20, PerAddressPerDay: 3,
			TurnstileSiteKey: stack.TurnstilePassSiteKey, TurnstileKey: turnstile.Fixed(tc.secret), TurnstileVerifyURL: srv.URL}, stories, testenv.Signer(t))
		if err != nil {
			t.Fatal(err)
		}
		h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute) })
		req, body := sample(t)
		body["turnstile"] = tc.answer
		resp := send(t, h, req, body)
		if resp.StatusCode != tc.want {
			t.Errorf("secret %s answer %q: %d %s", tc.secret, tc.answer, resp.StatusCode, resp.Body)
		}
		if tc.want == http.StatusUnprocessableEntity {
			if p := decode(t, resp); len(p.Errors) != 1 || p.Errors[0].Field != "turnstile" {
				t.Errorf("%s", resp.Body)
			}
		}
	}
}

// start is the start token of a form for story id shown at.
func start(t testing.TB, s token.Signer, id string, at time.Time) string {
	t.Helper()
	tok, err := links.Start(context.Background(), s, id, at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
