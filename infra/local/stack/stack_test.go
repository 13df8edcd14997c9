package stack_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

var st *stack.Stack

const fillTime = 150 * time.Millisecond

func TestMain(m *testing.M) {
	// The tests wait more than they compute (fill times, retries, the
	// SDK's backoff, uploads racing erasures), and most have stacks of
	// their own: four at once unless -parallel says otherwise (go test's
	// default is the number of CPUs, two on a small machine).
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "4")
	}
	ctx := context.Background()
	var err error
	st, err = stack.Start(ctx, stack.Options{
		// Every test's story comes from 127.0.0.1, most with a handful of
		// addresses: the rate limits (tested in shared/submit) are raised
		// out of the way. Every story still counts against them.
		Params: map[string]string{"MinFillTime": fillTime.String(),
			"SubmissionsPerIPPerHour": "100000", "ConfirmationsPerAddressPerDay": "100000"},
		Log:      slog.New(slog.NewTextHandler(testLog(), nil)),
		OnInvoke: traffic.Add, // see clips_test.go
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start stack:", err)
		os.Exit(1)
	}
	code := m.Run()
	// With the template as it is, every test ran without one AccessDenied:
	// the template grants what the code needs.
	if d := st.Denials(); len(d) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "the template's policies refused calls the code makes: %+v\n", d)
		code = 1
	}
	_ = st.Close(ctx)
	os.Exit(code)
}

// client never follows redirects, so tests see the 303.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)

// openForm GETs the form and returns its hidden fields, after waiting the
// minimum fill time as a person would.
func openForm(t *testing.T) map[string]string {
	t.Helper()
	return openFormOn(t, st)
}

// openFormOn is openForm on stack s.
func openFormOn(t testing.TB, s *stack.Stack) map[string]string {
	t.Helper()
	resp, err := client.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	fields := map[string]string{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(b), -1) {
		fields[m[1]] = m[2]
	}
	if fields["id"] == "" || fields["started"] == "" {
		t.Fatalf("form has no id or start token: %v", fields)
	}
	time.Sleep(fillTime + 50*time.Millisecond)
	return fields
}

func jsonStory(hidden map[string]string, email string) map[string]any {
	return map[string]any{
		"id": hidden["id"], "started": hidden["started"], "consentVersion": hidden["consentVersion"],
		"name": "Amara Okafor", "role": "practice_nurse", "practice": "Bellenden Road Surgery", "borough": "southwark",
		"email": email, "preferredContact": "email", "topics": []string{"workload"},
		"story":              "Our phone lines opened at 8am and within ten minutes 140 people were waiting.",
		"activities":         []string{"media"},
		"patientsWouldSpeak": "maybe",
		"consent":            map[string]bool{"contact": true, "store": true},
	}
}

func postJSON(t *testing.T, body any) (*http.Response, map[string]any) {
	t.Helper()
	return postJSONOn(t, st, body)
}

// postJSONOn is postJSON on stack s.
func postJSONOn(t *testing.T, s *stack.Stack, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func postForm(t *testing.T, v url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := client.PostForm(st.URL+"/api/stories", v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func stories() *store.Store {
	return store.New(dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"])
}

func waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := st.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// emailsTo counts the alert and the confirmation about one volunteer.
func emailsTo(t *testing.T, email string) (alerts, confirmations int) {
	t.Helper()
	return emailsOn(st, email)
}

// emailsOn is emailsTo on stack s.
func emailsOn(s *stack.Stack, email string) (alerts, confirmations int) {
	for _, e := range s.Outbox.Emails() {
		if strings.Contains(e.Text, email) && e.To[0] == "comms-team@frontline-voices.localhost" {
			alerts++
		}
		if e.To[0] == email {
			confirmations++
		}
	}
	return alerts, confirmations
}

func TestJSONStoryIsKeptAndEmailedOnce(t *testing.T) {
	t.Parallel()
	email := stacktest.Unique("json.story@example.org")
	hidden := openForm(t)
	body := jsonStory(hidden, email)
	resp, out := postJSON(t, body)
	if resp.StatusCode != http.StatusCreated || out["id"] != hidden["id"] {
		t.Fatalf("POST = %d %v", resp.StatusCode, out)
	}
	// The same submission again: the first result, nothing new.
	resp2, out2 := postJSON(t, body)
	if resp2.StatusCode != http.StatusCreated || out2["id"] != out["id"] || out2["submittedAt"] != out["submittedAt"] {
		t.Fatalf("repeat POST = %d %v, want the first result %v", resp2.StatusCode, out2, out)
	}
	// The same id with other answers is a conflict.
	body["story"] = "A different story entirely, long enough to be valid."
	if resp3, _ := postJSON(t, body); resp3.StatusCode != http.StatusConflict {
		t.Fatalf("changed POST = %d, want 409", resp3.StatusCode)
	}
	got, err := stories().GetStory(context.Background(), hidden["id"])
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != email || got.Area != "sel" || !got.Consented("contact") || got.Consented("public") {
		t.Fatalf("stored story = %+v", got)
	}
	waitIdle(t)
	if a, c := emailsTo(t, email); a != 1 || c != 1 {
		t.Fatalf("alerts=%d confirmations=%d, want 1 and 1", a, c)
	}
}

func TestPlainFormStory(t *testing.T) {
	t.Parallel()
	email := stacktest.Unique("plain.form@example.org")
	hidden := openForm(t)
	v := url.Values{}
	for k, val := range hidden {
		v.Set(k, val)
	}
	v.Set("name", "Tomasz Nowak")
	v.Set("role", "receptionist")
	v.Set("practice", "Lea Valley Medical Centre")
	v.Set("borough", "waltham_forest")
	v.Set("email", email)
	v.Set("preferredContact", "email")
	v["topics"] = []string{"access", "workforce"}
	v.Set("story", "Every morning I am the first voice patients hear.")
	v.Set("patientsWouldSpeak", "no")
	v.Set("consent.contact", "yes")
	v.Set("consent.store", "yes")
	// Without JavaScript the form is three pages: each of the first two
	// checks its answers and shows the next, the last sends them all.
	for _, step := range [][2]string{{"about", "story"}, {"story", "check"}} {
		v.Set("step", step[0])
		resp, page := postForm(t, v)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="step" value="`+step[1]+`"`) {
			t.Fatalf("POST step %s = %d, want 200 and the %s step", step[0], resp.StatusCode, step[1])
		}
	}
	v.Set("step", "check")
	v.Set("naming", "role")
	resp, page := postForm(t, v)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/thanks" {
		t.Fatalf("POST = %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), errorSummary(page))
	}
	if _, err := stories().GetStory(context.Background(), hidden["id"]); err != nil {
		t.Fatal(err)
	}
	waitIdle(t)
	if a, c := emailsTo(t, email); a != 1 || c != 1 {
		t.Fatalf("alerts=%d confirmations=%d, want 1 and 1", a, c)
	}
}

// errorSummary is the error summary of a form page, to say why it came back.
func errorSummary(page string) string {
	if i := strings.Index(page, `id="error-summary"`); i >= 0 {
		return page[i:min(len(page), i+1500)]
	}
	return "(no error summary)"
}

func TestInvalidPlainFormKeepsEveryAnswer(t *testing.T) {
	t.Parallel()
	hidden := openForm(t)
	v := url.Values{}
	for k, val := range hidden {
		v.Set(k, val)
	}
	v.Set("name", "Zoë <b>Ångström</b>")
	v.Set("practice", "The Surgery & Co")
	v.Set("email", "not an email")
	v.Set("story", "Something long enough to count as a story for the test.")
	v.Set("mp.0.name", "Jane Example")
	v.Set("step", "check") // sent from the last page: every answer is checked
	resp, page := postForm(t, v)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`value="Zoë &lt;b&gt;Ångström&lt;/b&gt;"`, `value="The Surgery &amp; Co"`, `value="not an email"`,
		"Something long enough to count as a story for the test.", `value="Jane Example"`,
		// The first page with errors comes back (about you); the later
		// pages' answers ride along in it, and their errors show there.
		"Enter an email address like name@example.org", "Choose your role",
		`value="` + hidden["id"] + `"`,
		// The form keeps the time it was first shown, so a quick correction
		// is not taken for a bot.
		`name="started" value="` + hidden["started"] + `"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	if _, err := stories().GetStory(context.Background(), hidden["id"]); err != store.ErrNotFound {
		t.Fatalf("invalid story was stored: %v", err)
	}
}

// The fault tests below have stacks of their own: a fault applies to a
// whole stack.

func TestSESFailureIsRetried(t *testing.T) {
	t.Parallel()
	s := startClipStack(t)
	email := stacktest.Unique("ses.failure@example.org")
	// Enough failures to outlast the SDK's own retries: the stream retries.
	s.Faults.Inject("ses", "SendEmail", 4, stack.SESUnavailable)
	hidden := openFormOn(t, s)
	if resp, out := postJSONOn(t, s, jsonStory(hidden, email)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %v", resp.StatusCode, out)
	}
	waitFor(t, s)
	if n := s.Faults.Pending("ses", "SendEmail"); n != 0 {
		t.Fatalf("%d SES faults never fired", n)
	}
	if a, c := emailsOn(s, email); a != 1 || c != 1 {
		t.Fatalf("alerts=%d confirmations=%d, want 1 and 1", a, c)
	}
}

func TestThrottledTable(t *testing.T) {
	t.Parallel()
	s := startClipStack(t)
	// A short throttle is absorbed by the SDK's retries.
	s.Faults.Inject("dynamodb", "TransactWriteItems", 2, stack.Throttled) // a story is put in a transaction
	hidden := openFormOn(t, s)
	if resp, out := postJSONOn(t, s, jsonStory(hidden, "throttled@example.org")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST under a short throttle = %d %v", resp.StatusCode, out)
	}
	// A long one gives the volunteer a clear answer and keeps their answers.
	s.Faults.Inject("dynamodb", "TransactWriteItems", 10, stack.Throttled)
	hidden = openFormOn(t, s)
	body := jsonStory(hidden, "throttled.long@example.org")
	resp, out := postJSONOn(t, s, body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(out["detail"]), "Nothing is lost") {
		t.Fatalf("POST under a long throttle = %d %v", resp.StatusCode, out)
	}
	// The throttle ends; sending the same answers again goes through.
	s.Faults.Clear("dynamodb", "TransactWriteItems")
	if resp, out := postJSONOn(t, s, body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST after the throttle = %d %v", resp.StatusCode, out)
	}
}

// Only the honeypot gets a quiet fake success; a forged start token or a
// form sent the moment it was shown gets an honest 422. Nothing is kept.
func TestBotsAreAnsweredButNothingIsKept(t *testing.T) {
	t.Parallel()
	hidden := openForm(t)
	bots := []string{stacktest.Unique("honeypot@example.org"), stacktest.Unique("forged@example.org"), stacktest.Unique("fast@example.org")}
	body := jsonStory(hidden, bots[0])
	body["website"] = "http://spam.example"
	if resp, _ := postJSON(t, body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("honeypot POST = %d", resp.StatusCode)
	}
	forged := jsonStory(hidden, bots[1])
	forged["started"] = "1.2.3"
	if resp, _ := postJSON(t, forged); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("forged POST = %d", resp.StatusCode)
	}
	if _, err := stories().GetStory(context.Background(), hidden["id"]); err != store.ErrNotFound {
		t.Fatalf("a bot's story was stored: %v", err)
	}
	// Too fast: a form sent the moment it was shown, on a stack whose
	// minimum fill time no busy machine outlasts (on this one's, a GET and
	// a POST slowed by load could take longer than the fill time).
	slow := startClipStack(t, func(o *stack.Options) { o.Params["MinFillTime"] = "1h" })
	resp, _ := client.Get(slow.URL + "/")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fast := map[string]string{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(b), -1) {
		fast[m[1]] = m[2]
	}
	if resp, _ := postJSONOn(t, slow, jsonStory(fast, bots[2])); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("fast POST = %d", resp.StatusCode)
	}
	if _, err := store.New(dynamodb.NewFromConfig(slow.AWS), slow.Tables["StoriesTable"]).GetStory(context.Background(), fast["id"]); err != store.ErrNotFound {
		t.Fatalf("a too-fast story was stored: %v", err)
	}
	waitIdle(t)
	waitFor(t, slow)
	for _, e := range append(st.Outbox.Emails(), slow.Outbox.Emails()...) {
		for _, bot := range bots {
			if strings.Contains(e.Text, bot) {
				t.Fatalf("a bot's story was emailed: %s", e.Subject)
			}
		}
	}
}

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 70*1024)
	req, _ := http.NewRequest(http.MethodPost, st.URL+"/api/stories", strings.NewReader(`{"story":"`+big+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("big body = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	req, _ = http.NewRequest(http.MethodPost, st.URL+"/api/stories", strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Accept", "application/json")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain = %d", resp.StatusCode)
	}
}

// TestUnroutedIsNotFoundAsOnHTTPAPI: the API answers a request no route
// takes as API Gateway's HTTP APIs do, 404 {"message":"Not Found"}, also
// when the path has routes for other methods (no 405).
func TestUnroutedIsNotFoundAsOnHTTPAPI(t *testing.T) {
	t.Parallel()
	for _, r := range []struct{ method, path string }{
		{http.MethodDelete, "/api/stories"}, {http.MethodPut, "/thanks"}, {http.MethodGet, "/api/nothing-here"},
	} {
		req, _ := http.NewRequest(r.method, st.URL+r.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || string(body) != `{"message":"Not Found"}` {
			t.Errorf("%s %s = %d %s, want 404 {\"message\":\"Not Found\"}", r.method, r.path, resp.StatusCode, body)
		}
	}
}

var _ = story.NewID
