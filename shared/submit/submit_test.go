package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/submit"
)

func newStore(t testing.TB) *store.Store {
	return store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
}

func newHandler(t *testing.T) (*submit.Handler, *store.Store) {
	t.Helper()
	stories := newStore(t)
	h, err := submit.New(submit.Config{
		Shared: config.Shared{TableName: "StoriesTable"}, MinFillTime: 3 * time.Second, MaxBodyBytes: 64 << 10,
		PerIPPerHour: 20, PerAddressPerDay: 3,
	}, stories, testenv.Signer(t))
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

func TestTooFastIsAskedAgain(t *testing.T) {
	h, stories := newHandler(t)
	h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Second) })
	if resp := call(t, h, "submit-json.json"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, "a moment after") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
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

// BenchmarkSubmit5000 compares, in one run, a valid JSON submission with a
// 5,000-character story through the handler against a bare PutItem of the
// item it stores, on the same table: the local stack's DynamoDB handler
// over HTTP alone (no IAM, no streams), and the whole local stack (IAM,
// request signing, streams) through the real SDK client, as a deployed
// function reaches DynamoDB. Each iteration does one of each, in turns
// (submit first, then PutItem first), so a machine busy with other work
// slows both alike; it reports the mean of each (ms) and their ratio. The
// goal (README, Size and speed) is submit ≤ 1.2 × putitem.
func BenchmarkSubmit5000(b *testing.B) {
	req, body := story5000(b)
	signer := testenv.Signer(b)
	withID := func(id string) apigw.Request { // a form shown for id, as the form function shows it
		body["id"] = id
		body["started"] = start(b, signer, id, testenv.SampleTime)
		r := req
		bb, _ := json.Marshal(body)
		r.Body = string(bb)
		return r
	}
	pair := func(b *testing.B, db store.DynamoDB, table string) {
		h, err := submit.New(submit.Config{
			Shared: config.Shared{TableName: table}, MinFillTime: 3 * time.Second, MaxBodyBytes: 64 << 10,
			PerIPPerHour: 1 << 30, PerAddressPerDay: 1 << 30,
		}, store.New(db, table), signer)
		if err != nil {
			b.Fatal(err)
		}
		h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute) })
		ctx := context.Background()
		firstID := story.NewID()
		if resp, err := h.Handle(ctx, withID(firstID)); err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("submit = %d %s %v", resp.StatusCode, resp.Body, err)
		}
		stored, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: store.StoryKey(firstID)})
		if err != nil || len(stored.Item) == 0 {
			b.Fatalf("stored item: %v", err)
		}
		reqs := make([]apigw.Request, b.N)
		items := make([]map[string]types.AttributeValue, b.N)
		for i := range b.N {
			reqs[i] = withID(story.NewID())
			items[i] = maps.Clone(stored.Item)
			maps.Copy(items[i], store.StoryKey(story.NewID()))
		}
		var inSubmit, inPut time.Duration
		submitOne := func(i int) {
			t0 := time.Now()
			if resp, err := h.Handle(ctx, reqs[i]); err != nil || resp.StatusCode != http.StatusCreated {
				b.Fatalf("submit = %d %s %v", resp.StatusCode, resp.Body, err)
			}
			inSubmit += time.Since(t0)
		}
		putOne := func(i int) {
			t0 := time.Now()
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: items[i]}); err != nil {
				b.Fatal(err)
			}
			inPut += time.Since(t0)
		}
		b.ResetTimer()
		for i := range b.N {
			if i%2 == 0 {
				submitOne(i)
				putOne(i)
			} else {
				putOne(i)
				submitOne(i)
			}
		}
		b.StopTimer()
		ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
		b.ReportMetric(ms(inSubmit), "submit-ms")
		b.ReportMetric(ms(inPut), "putitem-ms")
		b.ReportMetric(float64(inSubmit)/float64(inPut), "submit/putitem")
	}
	b.Run("in-memory", func(b *testing.B) { pair(b, testenv.Table(b, "StoriesTable"), "StoriesTable") })
	b.Run("local-dynamodb", func(b *testing.B) {
		st, err := stack.Start(context.Background(), stack.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close(context.Background()) })
		pair(b, dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"])
	})
}

// A contact ticked on the list is kept with the list's name, party,
// constituency and status, whatever the client sent; someone typed in is
// kept as typed.
func TestListedContactsAreMatchedToTheList(t *testing.T) {
	h, stories := newHandler(t)
	people := []story.Person{{ID: "jo-peckham", Name: "Jo Bloggs", Party: "Labour", Constituency: "peckham", Status: story.StatusMP}}
	if _, err := stories.ReplaceCandidates(context.Background(), people, 0); err != nil {
		t.Fatal(err)
	}
	var req apigw.Request
	testenv.Event(t, "submit-json.json", &req)
	req.Body = strings.Replace(req.Body, `"mpContacts":[`, `"mpContacts":[{"person": "jo-peckham", "name": "Forged", "when": "May 2026", "what": "A visit"}, `, 1)
	resp, err := h.Handle(context.Background(), req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s (%v)", resp.StatusCode, resp.Body, err)
	}
	st, err := stories.GetStory(context.Background(), "abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Contacts) != 2 || st.Contacts[0] != (story.Contact{Person: "jo-peckham", Name: "Jo Bloggs", Party: "Labour", Constituency: "Peckham", Status: story.StatusMP, When: "May 2026", What: "A visit"}) ||
		st.Contacts[1].Person != "" || st.Contacts[1].Name != "Jane Example MP" {
		t.Fatalf("contacts %+v", st.Contacts)
	}
}

// story5000 is the sample JSON submission with a 5,000-character story of
// clinical prose, as the benchmarks send it; its id and start token are
// the caller's to set.
func story5000(b *testing.B) (apigw.Request, map[string]any) {
	prose, err := os.ReadFile(filepath.Join(testenv.Root(b), "shared", "safeguard", "testdata", "clinical_prose.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := []rune(strings.Join(strings.Fields(string(prose)), " "))
	for len(text) < 5000 {
		text = append(text, text...)
	}
	var req apigw.Request
	testenv.Event(b, "submit-json.json", &req)
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		b.Fatal(err)
	}
	body["story"], body["safeguardingConfirmed"] = string(text[:5000]), true
	return req, body
}
