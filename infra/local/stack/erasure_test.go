package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// eraser is a clip stack seen by the erasure tests: volunteers made
// straight in the table (no fill-time wait), with upload and withdrawal
// tokens signed with the stack's known secret; everything else goes
// through the site and S3 as a browser would.
type eraser struct {
	s      *stack.Stack
	store  *store.Store
	audit  *privacy.Service
	signer token.Signer
	http   *http.Client
	// What the uploads racing erasures got done: presigned POSTs S3
	// accepted (late: sent once the erasure had answered), multipart
	// uploads created, parts S3 accepted.
	posted, late, created, parts atomic.Int64
}

func newEraser(t *testing.T) *eraser {
	s := startClipStack(t)
	signer := stackSigner(t, s)
	stories := store.New(dynamodb.NewFromConfig(s.AWS), s.Tables["StoriesTable"])
	return &eraser{s: s, store: stories, signer: signer, http: &http.Client{Timeout: 30 * time.Second},
		audit: &privacy.Service{Stories: stories, Clips: bucket.FromConfig(s.AWS, s.Buckets["ClipsBucket"], true), ExportPrefix: bucket.ExportsPrefix}}
}

// sign makes a token of purpose for story id, valid for an hour, with the
// stack's own keys ("" if they cannot be read: the request then fails).
func (e *eraser) sign(purpose, id string) string {
	tok, _ := e.signer.Sign(context.Background(), purpose, id, time.Now().Add(time.Hour))
	return tok
}

// person is a volunteer whose story is held.
type person struct {
	id, email string
}

func (e *eraser) newPerson(t testing.TB) person {
	t.Helper()
	email := stacktest.Unique("erase.me@example.org")
	sub := story.Submission{
		ID: story.NewID(), Name: "Wren Adebayo-Lindqvist", Role: "practice_nurse", Practice: "Thamesmead Practice", Borough: "greenwich",
		Email: email, PreferredContact: "email", Topics: []string{"workforce"}, Story: "A story about the nursing workforce in Greenwich.",
		PatientsSpeak: "no", Consent: map[string]bool{"contact": true, "store": true, "public": true, "clips": true}, ConsentVersion: story.ConsentVersion(),
	}
	st, errs := sub.Normalize().Validate(time.Now())
	if errs != nil {
		t.Fatal(errs)
	}
	if _, _, err := e.store.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return person{id: st.ID, email: email}
}

func (e *eraser) uploadToken(p person) string {
	return e.sign(links.UploadPurpose, p.id)
}

// do sends one request and returns the status and body; transport errors
// are a status of 0 (a race may cut anything short).
func (e *eraser) do(method, u, contentType string, body []byte, header map[string]string) (int, []byte) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// erase presses "erase everything" on the volunteer's page.
func (e *eraser) erase(p person) (int, string) {
	tok := e.sign(links.WithdrawPurpose, p.id)
	form := url.Values{"t": {tok}, "action": {"erase"}, "confirm": {"yes"}}
	status, body := e.do(http.MethodPost, e.s.URL+"/withdraw", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	return status, string(body)
}

// withdrawConsent presses "withdraw" for one consent statement.
func (e *eraser) withdrawConsent(p person, statement string) int {
	tok := e.sign(links.WithdrawPurpose, p.id)
	form := url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {statement}}
	status, _ := e.do(http.MethodPost, e.s.URL+"/withdraw", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	return status
}

// pause waits a random moment, so that erasure meets uploads at random
// points of their life.
func pause(r *rand.Rand) { time.Sleep(time.Duration(r.IntN(12)) * time.Millisecond) }

// postClip is Uppy's small-file path: params, then (after hold) the form
// POST to S3. It reports whether S3 took the POST.
func (e *eraser) postClip(p person, data []byte, hold func()) bool {
	tok := e.uploadToken(p)
	q := url.Values{"filename": {"clip.mp4"}, "type": {"video/mp4"}, "metadata[story]": {p.id}}
	status, body := e.do(http.MethodGet, e.s.URL+"/api/s3/params?"+q.Encode(), "", nil, map[string]string{"X-Upload-Token": tok})
	if status != http.StatusOK {
		return false // refused: the story is being erased
	}
	var post presignedPost
	if json.Unmarshal(body, &post) != nil {
		return false
	}
	hold()
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	for k, v := range post.Fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "blob")
	_, _ = fw.Write(data)
	_ = w.Close()
	if status, _ := e.do(http.MethodPost, post.URL, w.FormDataContentType(), form.Bytes(), nil); status/100 == 2 {
		e.posted.Add(1)
		return true
	}
	return false
}

// multipartClip is Uppy's large-file path, stopped after step stop:
// create (0), sign a part (1), PUT it (2), complete (3).
func (e *eraser) multipartClip(p person, r *rand.Rand, data []byte, stop int) {
	tok := e.uploadToken(p)
	hdr := map[string]string{"X-Upload-Token": tok}
	b, _ := json.Marshal(map[string]any{"filename": "big.mp4", "type": "video/mp4", "metadata": map[string]string{"story": p.id, "size": strconv.Itoa(len(data))}})
	status, body := e.do(http.MethodPost, e.s.URL+"/api/s3/multipart", "application/json", b, hdr)
	var c created
	if status != http.StatusOK || json.Unmarshal(body, &c) != nil {
		return
	}
	e.created.Add(1)
	// stop: 0 created only, 1 part signed, 2 part sent, 3 completed.
	pause(r)
	if stop < 1 {
		return
	}
	status, body = e.do(http.MethodGet, e.s.URL+uploadPath(c, "/1"), "", nil, hdr)
	var signed struct{ URL string }
	if status != http.StatusOK || json.Unmarshal(body, &signed) != nil {
		return
	}
	pause(r)
	if stop < 2 {
		return
	}
	req, _ := http.NewRequest(http.MethodPut, signed.URL, bytes.NewReader(data))
	resp, err := e.http.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode == http.StatusOK {
		e.parts.Add(1)
	}
	pause(r)
	if stop < 3 || resp.StatusCode != http.StatusOK {
		return
	}
	b, _ = json.Marshal(map[string]any{"parts": []part{{PartNumber: 1, ETag: etag}}})
	e.do(http.MethodPost, e.s.URL+uploadPath(c, "/complete"), "application/json", b, hdr)
}

func (e *eraser) wait(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// erasureEmails counts the team's erasure alerts about p and the
// volunteer's erasure confirmations.
func (e *eraser) erasureEmails(p person) (alerts, confirmations int) {
	for _, m := range e.s.Outbox.Emails() {
		if m.Subject == "Erased: stop using story "+p.id && strings.Contains(m.Text, "has erased their story") {
			alerts++
		}
		if m.To[0] == p.email && m.Subject == "Your story has been erased" {
			confirmations++
		}
	}
	return alerts, confirmations
}

// raceIterations is how many erasures race uploads in one run
// (ERASE_RACE_ITERATIONS overrides it): one pass of raceSchedule.
func raceIterations() int {
	if n, err := strconv.Atoi(os.Getenv("ERASE_RACE_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return raceStops * raceStarts
}

// The race's schedule: each of the multipart upload's four stopping points
// meets erasures started at raceStarts moments, 0 to 22 ms after the
// uploads (which begin 0 to 12 ms in), so the erasure lands before,
// between and after each step of the uploads.
const (
	raceStops  = 4
	raceStarts = 12
)

// raceSchedule is iteration i's multipart stopping point and when its
// erasure starts.
func raceSchedule(i int) (stop int, after time.Duration) {
	return i % raceStops, time.Duration(i/raceStops%raceStarts*2) * time.Millisecond
}

// Erasure runs beside presigned POSTs and multipart uploads, each at a
// point of its life, again and again: every time, the audit finds nothing
// of the volunteer but the tombstone, and each email went once.
//
// What it proves: whatever step an upload is at when the erasure starts
// (params or a multipart upload asked for, a part signed or sent, the
// upload completed, or a POST sent after the erasure answered with a
// policy signed before it), nothing of the clip outlives the erasure. One
// pass of raceSchedule (48 erasures) meets each multipart stopping point
// with erasures started at 12 moments across the uploads' life, and sends
// a late POST in each. It fails, every run, with the erasure's abort of
// multipart uploads taken out, or with ingest keeping a clip whose story
// is gone (the late POST). The 200 random erasures it replaced caught the
// first and not the second, in 3 to 4 times the time.
func TestEraseRacingUploads(t *testing.T) {
	t.Parallel()
	e := newEraser(t)
	clip := fixture(t, "faststart.mp4")
	iterations := raceIterations()
	var (
		mu        sync.Mutex
		leftovers int
		statuses  = map[int]int{}
		people    []person
	)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range jobs {
				// Each goroutine its own random source (a rand.Rand is not
				// safe for concurrent use), seeded by the iteration.
				r := func(n uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(i), n)) }
				stop, after := raceSchedule(i)
				p := e.newPerson(t)
				var run sync.WaitGroup
				// The first POST races the erasure; the second, its policy
				// signed before the erasure if the race allows, is sent
				// once the erasure has answered: it lands after everything
				// was swept, and ingest must delete it.
				answered := make(chan struct{})
				run.Go(func() { r := r(0); pause(r); e.postClip(p, clip, func() { pause(r) }) })
				run.Go(func() {
					r := r(1)
					pause(r)
					if e.postClip(p, clip, func() { <-answered }) {
						e.late.Add(1)
					}
				})
				run.Go(func() { r := r(2); pause(r); e.multipartClip(p, r, clip, stop) })
				var status int
				var body string
				run.Go(func() {
					defer close(answered)
					time.Sleep(after)
					status, body = e.erase(p)
				})
				run.Wait()
				if status != http.StatusOK && status != http.StatusAccepted {
					t.Errorf("iteration %d: erase = %d %.300s", i, status, body)
				}
				mu.Lock()
				statuses[status]++
				people = append(people, p)
				mu.Unlock()
			}
		})
	}
	for i := range iterations {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	e.wait(t)

	// Audit each volunteer only now, once every upload has had its say
	// (a clip POSTed with a policy signed before the erasure lands late,
	// and ingest deletes it).
	tombstones, err := e.store.Scan(context.Background(), func(item map[string]any) bool { return item["sk"] == "WITHDRAWN" })
	if err != nil {
		t.Fatal(err)
	}
	if len(tombstones) < iterations {
		t.Fatalf("%d tombstones for %d erasures", len(tombstones), iterations)
	}
	for _, tomb := range tombstones {
		id := strings.TrimPrefix(tomb.PK, "STORY#")
		a, err := e.audit.Audit(context.Background(), id, "")
		if err != nil {
			t.Fatal(err)
		}
		if !a.Clean() || len(a.Tombstones) != 1 {
			leftovers += len(a.Traces)
			t.Errorf("story %s: %s", id, a)
		}
	}
	for _, p := range people {
		if a, c := e.erasureEmails(p); a != 1 || c != 1 {
			t.Errorf("story %s: %d team alerts and %d volunteer emails, want 1 and 1", p.id, a, c)
		}
	}
	// The race is real only if uploads got through: some before the
	// erasure, some after it began.
	if e.posted.Load() == 0 || e.late.Load() == 0 || e.created.Load() == 0 || e.parts.Load() == 0 {
		t.Errorf("uploads got nothing done: %d POSTs (%d late), %d multipart uploads, %d parts accepted", e.posted.Load(), e.late.Load(), e.created.Load(), e.parts.Load())
	}
	t.Logf("%d erasures raced 2 presigned POSTs and 1 multipart upload each (erase answered %v; S3 accepted %d POSTs, %d of them after the erasure answered, %d multipart uploads created, %d parts): %d leftovers found by the audit",
		iterations, statuses, e.posted.Load(), e.late.Load(), e.created.Load(), e.parts.Load(), leftovers)
}

// erasureCalls are the AWS calls an erasure makes (the withdraw request's
// and the erase function's), as the fault injection names them. (No
// PutItem: the notice leaves the tombstone by an UpdateItem's REMOVE.)
var erasureCalls = []struct{ service, op string }{
	{"dynamodb", "GetItem"}, {"dynamodb", "Query"}, {"dynamodb", "TransactWriteItems"}, {"dynamodb", "DeleteItem"},
	{"dynamodb", "UpdateItem"},
	{"s3", "ListObjectsV2"}, {"s3", "DeleteObjects"}, {"s3", "ListMultipartUploads"}, {"s3", "AbortMultipartUpload"},
	{"s3", "GetObject"}, {"s3", "PutObject"},
	{"ses", "SendEmail"},
}

// Every AWS call of the erasure fails once, in turn. The volunteer presses
// again when the page says something went wrong, as a person would; the
// erase function carries on from the tombstone. Each run converges to
// nothing left, one tombstone, one team alert and one volunteer email.
func TestEraseSurvivesEachCallFailingOnce(t *testing.T) {
	t.Parallel()
	e := newEraser(t)
	ctx := context.Background()
	clip := fixture(t, "faststart.mp4")
	var matrix []string
	for _, call := range erasureCalls {
		t.Run(call.service+"/"+call.op, func(t *testing.T) {
			p, other := e.newPerson(t), e.newPerson(t)
			e.postClip(p, clip, func() {})
			// A multipart upload with a part sent, never completed.
			tok := e.uploadToken(p)
			b, _ := json.Marshal(map[string]any{"filename": "big.mp4", "type": "video/mp4", "metadata": map[string]string{"story": p.id, "size": strconv.Itoa(len(clip))}})
			status, body := e.do(http.MethodPost, e.s.URL+"/api/s3/multipart", "application/json", b, map[string]string{"X-Upload-Token": tok})
			var c created
			if status != http.StatusOK || json.Unmarshal(body, &c) != nil {
				t.Fatalf("create upload = %d %s", status, body)
			}
			status, body = e.do(http.MethodGet, e.s.URL+uploadPath(c, "/1"), "", nil, map[string]string{"X-Upload-Token": tok})
			var signed struct{ URL string }
			if status != http.StatusOK || json.Unmarshal(body, &signed) != nil {
				t.Fatalf("sign part = %d %s", status, body)
			}
			if status, body := e.do(http.MethodPut, signed.URL, "", clip, nil); status != http.StatusOK {
				t.Fatalf("PUT part = %d %s", status, body)
			}
			// An export holding the volunteer's row beside another's.
			export := "exports/digest-" + other.id + ".csv" // named for the other: only its content mentions the volunteer
			csv := "\uFEFFReference,Name,Email\r\n" + p.id + ",Wren Adebayo-Lindqvist," + p.email + "\r\n" + other.id + ",Someone Else," + other.email + "\r\n"
			// Written as the digest writes its exports.
			if err := e.audit.Clips.Put(ctx, export, "text/csv; charset=utf-8", []byte(csv)); err != nil {
				t.Fatal(err)
			}
			e.wait(t)
			if a, _ := e.audit.Audit(ctx, p.id, p.email); len(a.Traces) < 4 {
				t.Fatalf("before erasure the audit finds only %s", a)
			}

			e.s.Faults.Inject(call.service, call.op, 1, stack.Denied)
			first, page := e.erase(p)
			answers := []int{first}
			if first >= 500 {
				second, _ := e.erase(p) // the volunteer presses again
				answers = append(answers, second)
			} else if first != http.StatusOK && first != http.StatusAccepted {
				t.Errorf("erase = %d %.300s", first, page)
			}
			e.wait(t)
			fired := e.s.Faults.Pending(call.service, call.op) == 0
			e.s.Faults.Clear(call.service, call.op)

			a, err := e.audit.Audit(ctx, p.id, p.email)
			if err != nil {
				t.Fatal(err)
			}
			alerts, confirmations := e.erasureEmails(p)
			left := e.getObject(t, export)
			kept := strings.Contains(left, other.email) && !strings.Contains(left, p.email) && !strings.Contains(left, p.id)
			row := fmt.Sprintf("%-9s %-21s fault fired: %-5v answers: %v  traces: %d  tombstones: %d  team alerts: %d  volunteer emails: %d  export keeps only the other row: %v",
				call.service, call.op, fired, answers, len(a.Traces), len(a.Tombstones), alerts, confirmations, kept)
			matrix = append(matrix, row)
			if !fired || !a.Clean() || len(a.Tombstones) != 1 || alerts != 1 || confirmations != 1 || !kept {
				t.Errorf("%s\n%s", row, a)
			}
		})
	}
	t.Logf("fault matrix (each call failing once, in turn):\n%s", strings.Join(matrix, "\n"))
}

func (e *eraser) getObject(t *testing.T, key string) string {
	t.Helper()
	b, err := e.audit.Clips.Get(context.Background(), key, 1<<20)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(b)
}
