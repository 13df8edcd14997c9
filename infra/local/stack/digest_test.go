package stack_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"frontlinevoices/infra/local/stack"
)

const digestSubject = "Frontline Voices digest:"

// runDigest presses "Run digest now" as a JSON client and returns the
// function's result.
func runDigest(t *testing.T) (attempts int, result map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.URL+"/_local/digest", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Attempts int            `json:"attempts"`
		Result   map[string]any `json:"result"`
		Error    string         `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_local/digest = %d %+v %v", resp.StatusCode, out, err)
	}
	return out.Attempts, out.Result
}

// digests are the digest emails in the outbox.
func digests() []stack.Email {
	var out []stack.Email
	for _, e := range st.Outbox.Emails() {
		if strings.HasPrefix(e.Subject, digestSubject) && e.To[0] == "comms-team@frontline-voices.localhost" {
			out = append(out, e)
		}
	}
	return out
}

// digestsSince are the digests after the first n.
func digestsSince(n int) []stack.Email { return digests()[n:] }

// submit sends a story through the site as the enhanced form does.
func submit(t *testing.T, fields map[string]any) string {
	t.Helper()
	hidden := openForm(t)
	body := jsonStory(hidden, fmt.Sprint(fields["email"]))
	for k, v := range fields {
		body[k] = v
	}
	if resp, out := postJSON(t, body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %v", resp.StatusCode, out)
	}
	return hidden["id"]
}

// flushDigest sends whatever earlier tests left, so a test's digest holds
// only its own stories (the stack is shared).
func flushDigest(t *testing.T) int {
	t.Helper()
	waitIdle(t)
	runDigest(t)
	return len(digests())
}

var csvLink = regexp.MustCompile(`spreadsheet \(CSV\)[^\n]*:\n(http://127\.0\.0\.1:\d+/download\?t=\S+)`)

func TestDigestThroughTheLocalStack(t *testing.T) {
	before := flushDigest(t)

	submit(t, map[string]any{"name": "Digest Ngozi Adeyemi", "email": "digest.ngozi@example.org", "borough": "southwark",
		"activities": []string{"media", "mp_meeting"}, "patientsWouldSpeak": "yes",
		"mpContacts": []map[string]string{{"name": "Jane Example MP", "what": "Raised GP funding at her surgery"}}})
	submit(t, map[string]any{"name": "Digest Zoë Ångström", "email": "digest.zoe@example.org", "borough": "camden",
		"role": "gp_partner", "activities": []string{"video"}, "story": "=HYPERLINK(\"http://evil.example\") is how the form was tested."})
	// The third comes from the thank-you page's uploader with a video clip.
	v := submitStory(t, st)
	clipKey := v.uploadSmall(t, "waiting room.mp4", "video/mp4", fixture(t, "faststart.mp4"))
	waitIdle(t)

	// The outbox page offers the button.
	resp, err := client.Get(st.URL + "/_local/outbox")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `action="/_local/digest"`) || !strings.Contains(string(page), "Run digest now") {
		t.Fatal("the outbox page has no Run digest now button")
	}

	_, res := runDigest(t)
	if res["status"] != "sent" || res["stories"] != 3.0 {
		t.Fatalf("digest = %v", res)
	}
	sent := digestsSince(before)
	if len(sent) != 1 {
		t.Fatalf("%d digests, want 1", len(sent))
	}
	d := sent[0]
	if !strings.Contains(d.Subject, "3 new stories") {
		t.Errorf("subject = %q", d.Subject)
	}
	for _, want := range []string{
		"- New stories: 3", "- Report contact with an MP or candidate: 1", "- Have video clips: 1",
		"- Say patients would speak too: 1", "- North Central London: 1", "- South East London: 2",
		"- A short campaign video: 1", "- Meeting my MP or parliamentary candidates: 1",
		"==== North Central London (1) ====", "---- Camden (1) ----", "==== South East London (2) ====", "---- Southwark (2) ----",
		"* Digest Zoë Ångström, GP partner", "* Digest Ngozi Adeyemi, Practice nurse",
		"MP or candidate contact: Jane Example MP [not on the list]: Raised GP funding at her surgery",
		"Contact: " + "clips." + v.id + "@example.org",
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("the digest lacks %q", want)
		}
	}
	if !strings.Contains(d.HTML, "Digest Zoë Ångström") || strings.Contains(d.HTML, "<script") {
		t.Error("the HTML part is wrong")
	}

	// The CSV link downloads the export from the local S3.
	link := csvLink.FindStringSubmatch(d.Text)
	if link == nil {
		t.Fatalf("no CSV link in the digest:\n%s", d.Text)
	}
	rows := download(t, link[1])
	if len(rows) != 4 {
		t.Fatalf("the export has %d rows, want a header and 3", len(rows))
	}
	names := map[string][]string{}
	for _, r := range rows[1:] {
		names[r[2]] = r
	}
	if names["Digest Zoë Ångström"] == nil || names["Digest Ngozi Adeyemi"] == nil || names["Amara Okafor"] == nil {
		t.Fatalf("export names = %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if got := names["Digest Zoë Ångström"][col["Story"]]; !strings.HasPrefix(got, "'=HYPERLINK") {
		t.Errorf("story cell = %q, want the formula neutralised", got)
	}
	// So does the clip's link.
	clipLine := regexp.MustCompile(`Clip: (\S+) \(0:02\)\n\s+(http://\S+)`).FindStringSubmatch(d.Text)
	if clipLine == nil || !strings.Contains(clipLine[2], "/download?t=") {
		t.Fatalf("no clip link for %s in the digest:\n%s", clipKey, d.Text)
	}
	clip := get(t, clipLine[2])
	if !bytes.Equal(clip, fixture(t, "faststart.mp4")) {
		t.Error("the clip link does not download the clip")
	}

	// Pressed again: nothing new, nothing sent.
	if _, res := runDigest(t); res["status"] != "empty" {
		t.Fatalf("second run = %v", res)
	}
	if n := len(digestsSince(before)); n != 1 {
		t.Fatalf("%d digests after the second run, want 1", n)
	}
}

func TestDigestButtonShowsTheEmailOrSaysWhy(t *testing.T) {
	flushDigest(t)
	press := func() *http.Response {
		resp, err := client.PostForm(st.URL+"/_local/digest", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := press(); resp.StatusCode != http.StatusOK {
		t.Fatalf("nothing new: %d, want a page saying so", resp.StatusCode)
	}
	submit(t, map[string]any{"name": "Digest Button", "email": "digest.button@example.org"})
	waitIdle(t)
	resp := press()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/_local/outbox/local-") {
		t.Fatalf("with a story: %d to %q, want a redirect to the email", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := client.Get(st.URL + "/_local/digest"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /_local/digest = %d", resp.StatusCode)
	}
}

func TestDigestSESFailureGoesOutOnTheRetryOnce(t *testing.T) {
	before := flushDigest(t)
	submit(t, map[string]any{"name": "Digest Retry", "email": "digest.retry@example.org"})
	waitIdle(t)
	// More failures than the SDK's own three attempts: the invocation fails,
	// releases its claim, and Lambda's retry sends it.
	st.Faults.Inject("ses", "SendEmail", 4, stack.SESUnavailable)
	attempts, res := runDigest(t)
	if n := st.Faults.Pending("ses", "SendEmail"); n != 0 {
		t.Fatalf("%d SES faults never fired", n)
	}
	if attempts != 2 || res["status"] != "sent" {
		t.Fatalf("attempts = %d, result %v; want sent on the second invocation", attempts, res)
	}
	sent := digestsSince(before)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "Digest Retry") {
		t.Fatalf("%d digests, want 1 with the story", len(sent))
	}
	if _, res := runDigest(t); res["status"] != "empty" {
		t.Fatalf("after the retry = %v", res)
	}
}

func TestDigestTwoRunsAtOnceSendOne(t *testing.T) {
	before := flushDigest(t)
	submit(t, map[string]any{"name": "Digest Twice", "email": "digest.twice@example.org"})
	waitIdle(t)
	var wg sync.WaitGroup
	statuses := make([]any, 2)
	for i := range statuses {
		wg.Go(func() { _, res := runDigest(t); statuses[i] = res["status"] })
	}
	wg.Wait()
	sent := digestsSince(before)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "Digest Twice") {
		t.Fatalf("%d digests (runs: %v), want 1", len(sent), statuses)
	}
}

// get downloads a link from an email; it must download as an attachment.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") {
		t.Errorf("GET %s: Content-Disposition %q, want an attachment", url, cd)
	}
	return b
}

func download(t *testing.T, url string) [][]string {
	t.Helper()
	b := get(t, url)
	if !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Fatal("the export has no UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
