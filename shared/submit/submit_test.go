package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/submit"
)

func newHandler(t *testing.T) (*submit.Handler, *store.Store) {
	t.Helper()
	stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	h, err := submit.New(submit.Config{
		TableName: "StoriesTable", SigningSecret: testenv.Secret, MinFillTime: 3 * time.Second, MaxBodyBytes: 64 << 10,
	}, stories)
	if err != nil {
		t.Fatal(err)
	}
	h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute) })
	return h, stories
}

func call(t *testing.T, h *submit.Handler, event string) apigw.Response {
	t.Helper()
	var req apigw.Request
	testenv.Event(t, event, &req)
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: handler error %v", event, err)
	}
	return resp
}

func TestJSONSampleIsStoredOnce(t *testing.T) {
	h, stories := newHandler(t)
	first := call(t, h, "submit-json.json")
	if first.StatusCode != http.StatusCreated || first.Headers["content-type"] != "application/json" {
		t.Fatalf("status %d %v: %s", first.StatusCode, first.Headers, first.Body)
	}
	var got submit.Received
	if err := json.Unmarshal([]byte(first.Body), &got); err != nil || got.ID != "abcdefghijklmnopqrstuvwxyz" {
		t.Fatalf("body %s (%v)", first.Body, err)
	}
	again := call(t, h, "submit-json.json")
	if again.StatusCode != first.StatusCode || again.Body != first.Body {
		t.Fatalf("repeat = %d %s, want the first result %s", again.StatusCode, again.Body, first.Body)
	}
	st, err := stories.GetStory(context.Background(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "Amara Okafor" || len(st.Contacts) != 1 || st.Contacts[0].Constituency != "Peckham" || !st.Consented("public") || st.Consented("named") {
		t.Fatalf("stored %+v", st)
	}
}

func TestFormSampleRedirectsToThanks(t *testing.T) {
	h, stories := newHandler(t)
	resp := call(t, h, "submit-form.json")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Headers["location"], "/thanks") {
		t.Fatalf("status %d location %q", resp.StatusCode, resp.Headers["location"])
	}
	st, err := stories.GetStory(context.Background(), "bcdefghijklmnopqrstuvwxyza")
	if err != nil {
		t.Fatal(err)
	}
	if st.Borough != "waltham_forest" || len(st.Topics) != 2 || st.Contacts != nil {
		t.Fatalf("stored %+v", st)
	}
}

func TestInvalidSampleGetsFieldErrors(t *testing.T) {
	h, stories := newHandler(t)
	resp := call(t, h, "submit-invalid.json")
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("status %d %v", resp.StatusCode, resp.Headers)
	}
	var p struct {
		Title  string
		Errors []struct{ Field, Message string }
	}
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = e.Message != ""
	}
	for _, f := range []string{"name", "email", "borough", "story", "consent.store"} {
		if !fields[f] {
			t.Errorf("no error for %s in %s", f, resp.Body)
		}
	}
	if _, err := stories.GetStory(context.Background(), "cdefghijklmnopqrstuvwxyzab"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invalid story stored: %v", err)
	}
}

func TestTooFastIsTreatedAsABot(t *testing.T) {
	h, stories := newHandler(t)
	h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Second) })
	if resp := call(t, h, "submit-json.json"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := stories.GetStory(context.Background(), "abcdefghijklmnopqrstuvwxyz"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a too-fast story was stored: %v", err)
	}
}

func TestExpiredFormKeepsAnswers(t *testing.T) {
	h, _ := newHandler(t)
	h.SetClock(func() time.Time { return testenv.SampleTime.Add(8 * 24 * time.Hour) })
	resp := call(t, h, "submit-form.json")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, "more than 7 days ago") ||
		!strings.Contains(resp.Body, `value="Tomasz Nowak"`) {
		t.Fatalf("status %d: %.300s", resp.StatusCode, resp.Body)
	}
}
