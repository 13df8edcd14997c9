package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
// item it stores, on the same table, and against the bare transaction the
// submit sends (that item's put, its tombstone check and the two rate-limit
// counts; store.PutStory): the local stack's DynamoDB handler over HTTP
// alone (no IAM, no streams), and the whole local stack (IAM, request
// signing, streams) through the real SDK client, as a deployed function
// reaches DynamoDB. Each iteration does one of each, in turns (each first
// in its turn), so a machine busy with other work slows all alike; it
// reports the mean of each (ms) and their ratios. The goal (README, Size
// and speed) is submit ≤ 1.2 × putitem; transact/putitem is what the
// transaction alone costs against it.
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
	triple := func(b *testing.B, db store.DynamoDB, table string) {
		sent := &sentTransaction{DynamoDB: db}
		h, err := submit.New(submit.Config{
			Shared: config.Shared{TableName: table}, MinFillTime: 3 * time.Second, MaxBodyBytes: 64 << 10,
			PerIPPerHour: 1 << 30, PerAddressPerDay: 1 << 30,
		}, store.New(sent, table), signer)
		if err != nil {
			b.Fatal(err)
		}
		h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute) })
		ctx := context.Background()
		if resp, err := h.Handle(ctx, withID(story.NewID())); err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("submit = %d %s %v", resp.StatusCode, resp.Body, err)
		}
		tx := sent.last
		if tx == nil || len(tx.TransactItems) != 4 || tx.TransactItems[0].Put == nil || tx.TransactItems[1].ConditionCheck == nil {
			b.Fatalf("the submit's transaction: %+v", tx)
		}
		reqs := make([]apigw.Request, b.N)
		items := make([]map[string]types.AttributeValue, b.N)
		txs := make([]*dynamodb.TransactWriteItemsInput, b.N)
		for i := range b.N {
			reqs[i] = withID(story.NewID())
			items[i] = maps.Clone(tx.TransactItems[0].Put.Item)
			maps.Copy(items[i], store.StoryKey(story.NewID()))
			// The same transaction for another new story: its item and
			// its tombstone's key (in the story's partition) are the new id's.
			key := store.StoryKey(story.NewID())
			put, check := *tx.TransactItems[0].Put, *tx.TransactItems[1].ConditionCheck
			put.Item = maps.Clone(put.Item)
			maps.Copy(put.Item, key)
			check.Key = maps.Clone(check.Key)
			check.Key[store.AttrPK] = key[store.AttrPK]
			txs[i] = &dynamodb.TransactWriteItemsInput{TransactItems: slices.Clone(tx.TransactItems)}
			txs[i].TransactItems[0].Put, txs[i].TransactItems[1].ConditionCheck = &put, &check
		}
		var inSubmit, inPut, inTransact time.Duration
		timed := func(sum *time.Duration, do func() error) {
			t0 := time.Now()
			if err := do(); err != nil {
				b.Fatal(err)
			}
			*sum += time.Since(t0)
		}
		b.ResetTimer()
		for i := range b.N {
			for j := range 3 {
				switch (i + j) % 3 {
				case 0:
					timed(&inSubmit, func() error {
						if resp, err := h.Handle(ctx, reqs[i]); err != nil || resp.StatusCode != http.StatusCreated {
							return fmt.Errorf("submit = %d %s %v", resp.StatusCode, resp.Body, err)
						}
						return nil
					})
				case 1:
					timed(&inPut, func() error {
						_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: items[i]})
						return err
					})
				case 2:
					timed(&inTransact, func() error {
						_, err := db.TransactWriteItems(ctx, txs[i])
						return err
					})
				}
			}
		}
		b.StopTimer()
		ms := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
		b.ReportMetric(ms(inSubmit), "submit-ms")
		b.ReportMetric(ms(inPut), "putitem-ms")
		b.ReportMetric(ms(inTransact), "transact-ms")
		b.ReportMetric(float64(inSubmit)/float64(inPut), "submit/putitem")
		b.ReportMetric(float64(inTransact)/float64(inPut), "transact/putitem")
	}
	b.Run("in-memory", func(b *testing.B) { triple(b, testenv.Table(b, "StoriesTable"), "StoriesTable") })
	b.Run("local-dynamodb", func(b *testing.B) {
		st, err := stack.Start(context.Background(), stack.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close(context.Background()) })
		triple(b, dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"])
	})
}

// sentTransaction passes every call on to a table, keeping the last
// transaction sent.
type sentTransaction struct {
	store.DynamoDB
	last *dynamodb.TransactWriteItemsInput
}

func (s *sentTransaction) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.last = in
	return s.DynamoDB.TransactWriteItems(ctx, in, opts...)
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
