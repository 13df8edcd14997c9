package stack_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
)

// The promises of erasure as a volunteer, the comms team and an attacker
// meet them on one local stack, through the site, S3 and the outbox.
func TestErasureEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEraser(t)
	t.Run("replay after erasure", e.replayAfterErasure)
	t.Run("export link after erasure", e.exportLinkAfterErasure)
	t.Run("consent withdrawn five times", e.consentWithdrawnFiveTimes)
	t.Run("clip consent withdrawn", e.clipConsentWithdrawn)
	t.Run("expired story", e.expiredStory)
}

// count is how many emails in the outbox match.
func (e *eraser) count(match func(to, subject string) bool) int {
	n := 0
	for _, m := range e.s.Outbox.Emails() {
		if match(m.To[0], m.Subject) {
			n++
		}
	}
	return n
}

// submitJSON sends a story as the enhanced form does and returns the body
// sent, so that it can be sent again.
func (e *eraser) submitJSON(t *testing.T, email string) (id string, body []byte) {
	t.Helper()
	hidden := openFormOn(t, e.s)
	s := jsonStory(hidden, email)
	s["consent"] = map[string]bool{"contact": true, "store": true, "public": true, "clips": true}
	body, _ = json.Marshal(s)
	if status, out := e.do(http.MethodPost, e.s.URL+"/api/stories", "application/json", body, map[string]string{"Accept": "application/json"}); status != http.StatusCreated {
		t.Fatalf("submit = %d %s", status, out)
	}
	return hidden["id"], body
}

// A replay of the original submission after erasure is refused with a
// clear answer: nothing is written and no one is emailed.
func (e *eraser) replayAfterErasure(t *testing.T) {
	ctx := context.Background()
	email := "replay." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.org"
	id, body := e.submitJSON(t, email)
	e.wait(t)
	p := person{id: id, email: email}
	if status, page := e.erase(p); status != http.StatusOK {
		t.Fatalf("erase = %d %.300s", status, page)
	}
	e.wait(t)
	emails := len(e.s.Outbox.Emails())

	for _, accept := range []string{"application/json", "text/html"} {
		status, out := e.do(http.MethodPost, e.s.URL+"/api/stories", "application/json", body, map[string]string{"Accept": accept})
		if status != http.StatusGone || !strings.Contains(string(out), "erased") {
			t.Fatalf("replay (Accept %s) = %d %.300s, want 410 saying the story was erased", accept, status, out)
		}
	}
	e.wait(t)
	if n := len(e.s.Outbox.Emails()); n != emails {
		t.Fatalf("the replays sent %d emails", n-emails)
	}
	if _, err := e.store.GetStory(ctx, id); err == nil {
		t.Fatal("the replay brought the story back")
	}
	a, err := e.audit.Audit(ctx, id, email)
	if err != nil || !a.Clean() || len(a.Tombstones) != 1 {
		t.Fatalf("audit after the replays: %v %s", err, a)
	}
}

// After an erasure, the CSV link of a digest sent before it serves no row of
// the volunteer (the other volunteers' rows stay).
func (e *eraser) exportLinkAfterErasure(t *testing.T) {
	ctx := context.Background()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	gone := person{email: "export.gone." + stamp + "@example.org"}
	kept := person{email: "export.kept." + stamp + "@example.org"}
	gone.id, _ = e.submitJSON(t, gone.email)
	kept.id, _ = e.submitJSON(t, kept.email)
	e.wait(t)

	digest := e.runDigest(t)
	link := csvLink.FindStringSubmatch(digest)
	if link == nil {
		t.Fatalf("no CSV link in the digest:\n%s", digest)
	}
	rowsOf := func(b []byte) string {
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join(r, ","))
		}
		return strings.Join(out, "\n")
	}
	first := rowsOf(get(t, link[1]))
	for _, p := range []person{gone, kept} {
		if !strings.Contains(first, p.id) || !strings.Contains(first, p.email) {
			t.Fatalf("the export lacks %s before the erasure:\n%s", p.id, first)
		}
	}

	if status, page := e.erase(gone); status != http.StatusOK {
		t.Fatalf("erase = %d %.300s", status, page)
	}
	e.wait(t)
	r, err := http.Get(link[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	switch r.StatusCode {
	case http.StatusOK:
		after := rowsOf(b)
		if strings.Contains(after, gone.id) || strings.Contains(after, gone.email) || !strings.Contains(after, kept.email) {
			t.Fatalf("after the erasure the export holds:\n%s", after)
		}
	case http.StatusGone, http.StatusNotFound:
	default:
		t.Fatalf("the CSV link after the erasure = %d %.300s", r.StatusCode, b)
	}
	if a, err := e.audit.Audit(ctx, gone.id, gone.email); err != nil || !a.Clean() {
		t.Fatalf("audit: %v %s", err, a)
	}
}

// Pressing "withdraw" on one consent five times at once records it once and
// sends one email pair: the team's and the volunteer's.
func (e *eraser) consentWithdrawnFiveTimes(t *testing.T) {
	p := e.newPerson(t)
	e.wait(t)
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.withdrawConsent(p, "public") })
	}
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("presses answered %v", statuses)
		}
	}
	// And once more, later, as a volunteer who is not sure it worked.
	if s := e.withdrawConsent(p, "public"); s != http.StatusOK {
		t.Fatalf("sixth press = %d", s)
	}
	e.wait(t)
	team := e.count(func(_, subject string) bool { return strings.HasPrefix(subject, "Consent changed for story "+p.id) })
	volunteer := e.count(func(to, subject string) bool { return to == p.email && subject == "We have recorded your choice" })
	if team != 1 || volunteer != 1 {
		t.Fatalf("team emails %d, volunteer emails %d, want 1 and 1", team, volunteer)
	}
	st, err := e.store.GetStory(context.Background(), p.id)
	if err != nil {
		t.Fatal(err)
	}
	withdrawn := 0
	for _, c := range st.Consents {
		if c.Statement == "public" && !c.Agreed {
			withdrawn++
		}
	}
	if withdrawn != 1 || st.Consented("public") {
		t.Fatalf("the ledger records the withdrawal %d times: %+v", withdrawn, st.Consents)
	}
}

// Once the volunteer withdraws consent to their clips, the digest shows it
// at the top of their story ("Clips in campaigns: no") and lists no link to
// their clips.
func (e *eraser) clipConsentWithdrawn(t *testing.T) {
	e.runDigest(t)
	p := e.newPerson(t)
	v := volunteer{s: e.s, id: p.id, token: e.uploadToken(p)}
	v.uploadSmall(t, "clip.mp4", "video/mp4", fixture(t, "faststart.mp4"))
	if s := e.withdrawConsent(p, "clips"); s != http.StatusOK {
		t.Fatalf("withdraw clip consent = %d", s)
	}
	digest := e.runDigest(t)
	i := strings.Index(digest, p.email)
	if i < 0 {
		t.Fatalf("the digest does not list the story:\n%s", digest)
	}
	// The story's entry: from its "Can we use this?" block to the next.
	start := strings.LastIndex(digest[:i], "CAN WE USE THIS?")
	end := strings.Index(digest[i:], "CAN WE USE THIS?")
	entry := digest[start:]
	if end >= 0 {
		entry = digest[start : i+end]
	}
	if start < 0 || !strings.Contains(entry, "Clips in campaigns: no") {
		t.Fatalf("the story's entry does not say clips may not be used:\n%s", entry)
	}
	if strings.Contains(entry, "Clip:") || strings.Contains(entry, "/download?t=") && !strings.Contains(entry, "spreadsheet") {
		t.Fatalf("the digest links the clips of a volunteer who withdrew consent to them:\n%s", entry)
	}
}

// A story past its expiresAt, before DynamoDB's TTL has deleted it, is
// absent to every reader: the volunteer's page, uploads, the clip's
// download link, the digest and the export by email.
func (e *eraser) expiredStory(t *testing.T) {
	ctx := context.Background()
	// A digest first, so that the next holds only what follows.
	e.runDigest(t)
	p := e.newPerson(t)
	v := volunteer{s: e.s, id: p.id, token: e.uploadToken(p)}
	clipKey := v.uploadSmall(t, "clip.mp4", "video/mp4", fixture(t, "faststart.mp4"))
	e.wait(t)
	if n := len(v.clips(t)); n != 1 {
		t.Fatalf("%d verified clips, want 1", n)
	}

	// Every item of the story expired a minute ago; TTL has not run.
	db := dynamodb.NewFromConfig(e.s.AWS)
	table := aws.String(e.s.Tables["StoriesTable"])
	items, err := e.store.StoryItems(ctx, p.id)
	if err != nil || len(items) < 2 {
		t.Fatalf("items %v %v", items, err)
	}
	past := strconv.FormatInt(e.s.Clock.Now().Add(-time.Minute).Unix(), 10)
	for _, it := range items {
		key := map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: it[store.AttrPK].(string)},
			store.AttrSK: &types.AttributeValueMemberS{Value: it[store.AttrSK].(string)},
		}
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key,
			UpdateExpression:          aws.String("SET #exp = :past"),
			ExpressionAttributeNames:  map[string]string{"#exp": store.AttrExpires},
			ExpressionAttributeValues: map[string]types.AttributeValue{":past": &types.AttributeValueMemberN{Value: past}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: store.StoryKey(p.id), ConsistentRead: aws.Bool(true)}); err != nil || len(out.Item) == 0 {
		t.Fatalf("the story item is already gone (%v): this test needs it held past its expiry", err)
	}

	// The volunteer's page.
	tok := e.sign(links.WithdrawPurpose, p.id)
	status, page := e.do(http.MethodGet, e.s.URL+"/withdraw?t="+url.QueryEscape(tok), "", nil, nil)
	if status != http.StatusGone || !strings.Contains(string(page), "We no longer hold this story") {
		t.Errorf("withdraw page = %d %.300s", status, page)
	}
	// Withdrawing a consent or erasing it changes and sends nothing.
	emails := len(e.s.Outbox.Emails())
	if s := e.withdrawConsent(p, "public"); s != http.StatusGone {
		t.Errorf("withdraw a consent = %d", s)
	}
	// Uploads.
	if _, s := v.params(t, v.token, "more.mp4", "video/mp4"); s < 400 || s >= 500 {
		t.Errorf("upload params = %d, want a 4xx", s)
	}
	// The clip's download link.
	dl, err := links.Download(ctx, e.signer, e.s.URL, clipKey, "clip.mp4", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := client.Get(dl); err != nil || r.StatusCode != http.StatusGone {
		t.Errorf("clip download = %v %v, want 410", r.StatusCode, err)
	} else {
		r.Body.Close()
	}
	// The digest.
	if digest := e.runDigest(t); strings.Contains(digest, p.id) || strings.Contains(digest, p.email) {
		t.Errorf("the digest lists the expired story:\n%s", digest)
	}
	// The export by email.
	x, err := e.audit.ExportEmail(ctx, p.email)
	if err != nil || len(x.Stories) != 0 {
		t.Errorf("export by email = %+v %v", x.Stories, err)
	}
	e.wait(t)
	for _, m := range e.s.Outbox.Emails()[emails:] {
		if m.To[0] == p.email || strings.Contains(m.Subject, p.id) {
			t.Errorf("an email about the expired story: %s to %s", m.Subject, m.To[0])
		}
	}
}

var digestCount = regexp.MustCompile(`^` + regexp.QuoteMeta(digestSubject))

// runDigest presses "Run digest now" and returns the text of the digest it
// sent ("" if it sent none).
func (e *eraser) runDigest(t *testing.T) string {
	t.Helper()
	e.wait(t)
	n := e.count(func(_, subject string) bool { return digestCount.MatchString(subject) })
	req, _ := http.NewRequest(http.MethodPost, e.s.URL+"/_local/digest", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("digest run = %d", resp.StatusCode)
	}
	var text []string
	for _, m := range e.s.Outbox.Emails() {
		if digestCount.MatchString(m.Subject) {
			text = append(text, m.Text)
		}
	}
	if len(text) == n {
		return ""
	}
	return text[len(text)-1]
}
