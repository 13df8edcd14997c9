package stack_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
	clipsbucket "frontlinevoices/shared/bucket"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// --- bytes through functions ------------------------------------------------

// traffic counts the payload of every function invocation of the shared
// stack and the clip stacks (TestClips counts its own stack's apart): the
// proof that no video passes through a function.
var traffic = &stacktest.Traffic{}

// --- fixtures ---------------------------------------------------------------

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := stacktest.Fixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paddedMP4 is a real MP4 of size bytes whose padding is the video marker.
func paddedMP4(t testing.TB, size int) []byte {
	t.Helper()
	b, err := stacktest.PaddedMP4(size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- a stack with small clip limits ------------------------------------------

const (
	clipMaxBytes = 16 << 20
	clipMaxClips = 3
)

// startClipStack starts a stack of the test's own with small clip limits
// (template Parameters). Each stack's clients and functions go to its own
// emulators, so tests with stacks of their own run side by side.
func startClipStack(t *testing.T, opts ...func(*stack.Options)) *stack.Stack {
	t.Helper()
	ctx := context.Background()
	options := stack.Options{
		Params: map[string]string{
			"MinFillTime":      fillTime.String(),
			"MaxClipBytes":     fmt.Sprint(clipMaxBytes),
			"MaxClipsPerStory": fmt.Sprint(clipMaxClips),
		},
		Log:      slog.New(slog.NewTextHandler(testLog(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnInvoke: traffic.Add,
		// The IAM cases wait for a failing event's retries to run out
		// (the erase function's stream: 20 of them).
		RetryWait: 20 * time.Millisecond,
	}
	for _, o := range opts {
		o(&options)
	}
	cs, err := stack.Start(ctx, options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close(ctx) })
	return cs
}

// testLog is where the clip stack logs: stderr with CLIPS_LOG=1.
func testLog() io.Writer {
	if os.Getenv("CLIPS_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// volunteer is a browser that has sent a story: the story id and its
// upload token, as the submit response gave them.
type volunteer struct {
	s      *stack.Stack
	id     string
	token  string
	cookie string
}

// postStory fetches the form, waits the minimum fill time and sends a valid
// story as JSON from an address made with emailPrefix and the form's id.
func postStory(t testing.TB, s *stack.Stack, emailPrefix string) *http.Response {
	t.Helper()
	hidden := openFormOn(t, s)
	b, _ := json.Marshal(jsonStory(hidden, emailPrefix+"."+hidden["id"]+"@example.org"))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func submitStory(t testing.TB, s *stack.Stack) volunteer {
	t.Helper()
	resp := postStory(t, s, "clips")
	defer resp.Body.Close()
	var out struct {
		ID, Next, UploadToken string
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated || out.UploadToken == "" || out.Next != "/thanks" {
		t.Fatalf("submit = %d %+v", resp.StatusCode, out)
	}
	v := volunteer{s: s, id: out.ID, token: out.UploadToken}
	for _, c := range resp.Cookies() {
		if c.Name == links.UploadCookie {
			v.cookie = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 0 || c.MaxAge > 2*3600 {
				t.Errorf("upload cookie = %+v, want HttpOnly, SameSite=Strict, short-lived", c)
			}
		}
	}
	if v.cookie != v.token {
		t.Fatalf("the upload cookie %q is not the token %q", v.cookie, v.token)
	}
	return v
}

// call makes one companion call with the token header and decodes the JSON
// answer into out. It returns the status.
func (v volunteer) call(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	return v.callAs(t, v.token, method, path, body, out)
}

func (v volunteer) callAs(t testing.TB, tok, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, v.s.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("X-Upload-Token", tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s = %d with %s, want problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type presignedPost struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Fields  map[string]string `json:"fields"`
	Expires int               `json:"expires"`
}

func (v volunteer) params(t testing.TB, tok, filename, typ string) (presignedPost, int) {
	t.Helper()
	q := url.Values{"filename": {filename}, "type": {typ}, "metadata[story]": {v.id},
		"metadata[name]": {filename}, "metadata[type]": {typ}}
	var p presignedPost
	status := v.callAs(t, tok, http.MethodGet, "/api/s3/params?"+q.Encode(), nil, &p)
	return p, status
}

// postPolicyForm sends a file to S3 as the browser does with a presigned POST:
// the fields first, the file last.
func postPolicyForm(t testing.TB, p presignedPost, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range p.Fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "blob")
	_, _ = fw.Write(data)
	_ = w.Close()
	resp, err := http.Post(p.URL, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// uploadSmall is Uppy's small-file path: params, then the form POST.
func (v volunteer) uploadSmall(t testing.TB, filename, typ string, data []byte) string {
	t.Helper()
	p, status := v.params(t, v.token, filename, typ)
	if status != http.StatusOK {
		t.Fatalf("params = %d", status)
	}
	if status, body := postPolicyForm(t, p, data); status/100 != 2 {
		t.Fatalf("POST to S3 = %d %s", status, body)
	}
	return p.Fields["key"]
}

type created struct {
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Bucket   string `json:"bucket"`
}

type part struct {
	PartNumber int32
	ETag       string
}

// create starts a multipart upload of a file of size bytes, as Uppy does
// (the uploader puts the size in the metadata).
func (v volunteer) create(t testing.TB, tok, filename, typ string, size int) (created, int) {
	t.Helper()
	var c created
	status := v.callAs(t, tok, http.MethodPost, "/api/s3/multipart", map[string]any{
		"filename": filename, "type": typ,
		"metadata": map[string]string{"story": v.id, "name": filename, "type": typ, "size": fmt.Sprint(size)},
	}, &c)
	return c, status
}

func uploadPath(c created, suffix string) string {
	return "/api/s3/multipart/" + url.PathEscape(c.UploadID) + suffix + "?" + url.Values{"key": {c.Key}}.Encode()
}

// putPart signs part n and PUTs it as the browser does: the raw bytes, no
// Content-Type, the ETag read from the answer.
func (v volunteer) putPart(t testing.TB, c created, n int, data []byte) string {
	t.Helper()
	var signed struct {
		URL     string `json:"url"`
		Expires int    `json:"expires"`
	}
	if status := v.call(t, http.MethodGet, uploadPath(c, fmt.Sprintf("/%d", n)), nil, &signed); status != http.StatusOK {
		t.Fatalf("sign part %d = %d", n, status)
	}
	if signed.Expires <= 0 || signed.Expires > 900 || !strings.Contains(signed.URL, "X-Amz-Signature=") {
		t.Fatalf("part URL = %+v", signed)
	}
	req, _ := http.NewRequest(http.MethodPut, signed.URL, bytes.NewReader(data))
	// From the thank-you page: S3 answers with the bucket's CORS rule.
	req.Header.Set("Origin", v.s.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("PUT part %d = %d, ETag %q, exposed %q", n, resp.StatusCode, etag, resp.Header.Get("Access-Control-Expose-Headers"))
	}
	return etag
}

func (v volunteer) listParts(t testing.TB, c created) []part {
	t.Helper()
	var parts []part
	if status := v.call(t, http.MethodGet, uploadPath(c, ""), nil, &parts); status != http.StatusOK {
		t.Fatalf("list parts = %d", status)
	}
	return parts
}

func (v volunteer) uploadMultipart(t testing.TB, data []byte, partSize int) (created, int) {
	t.Helper()
	c, status := v.create(t, v.token, "big.mp4", "video/mp4", len(data))
	if status != http.StatusOK {
		t.Fatalf("create = %d", status)
	}
	var parts []part
	for n, off := 1, 0; off < len(data); n, off = n+1, off+partSize {
		etag := v.putPart(t, c, n, data[off:min(off+partSize, len(data))])
		if n%2 == 0 {
			etag = strings.Trim(etag, `"`) // Uppy strips the quotes; either form must do
		}
		parts = append(parts, part{PartNumber: int32(n), ETag: etag})
	}
	var done struct{ Location, Key, Bucket string }
	return c, v.call(t, http.MethodPost, uploadPath(c, "/complete"), map[string]any{"parts": parts}, &done)
}

func (v volunteer) store() *store.Store {
	return store.New(dynamodb.NewFromConfig(v.s.AWS), v.s.Tables["StoriesTable"])
}

func (v volunteer) records(t testing.TB) []store.ClipRecord {
	t.Helper()
	recs, err := v.store().ClipRecords(context.Background(), v.id)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func (v volunteer) clips(t testing.TB) []story.Clip {
	t.Helper()
	waitFor(t, v.s)
	clips, err := v.store().ListClips(context.Background(), v.id)
	if err != nil {
		t.Fatal(err)
	}
	return clips
}

func waitFor(t testing.TB, s *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func s3client(s *stack.Stack) *s3.Client {
	return s3.NewFromConfig(s.AWS, func(o *s3.Options) { o.UsePathStyle = true })
}

// objects counts the objects and multipart uploads under a story's prefix.
func objects(t testing.TB, v volunteer) (objs, uploads int) {
	t.Helper()
	c := s3client(v.s)
	ctx := context.Background()
	bucket := v.s.Buckets["ClipsBucket"]
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(clipsbucket.ClipPrefix(v.id))})
	if err != nil {
		t.Fatal(err)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(clipsbucket.ClipPrefix(v.id))})
	if err != nil {
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) && coded.ErrorCode() == "NoSuchUpload" {
			return len(out.Contents), 0 // gofakes3: no multipart upload in this bucket yet
		}
		t.Fatal(err)
	}
	return len(out.Contents), len(ups.Uploads)
}

// --- the tests ---------------------------------------------------------------

func TestClips(t *testing.T) {
	t.Parallel()
	// The payloads of this stack's functions only: tests beside this one
	// call their own stacks' functions.
	traffic := &stacktest.Traffic{}
	cs := startClipStack(t, func(o *stack.Options) { o.OnInvoke = traffic.Add })
	ctx := context.Background()
	bucket := cs.Buckets["ClipsBucket"]

	t.Run("thank-you page shows the uploader only with a valid token", func(t *testing.T) {
		v := submitStory(t, cs)
		getAs := func(path, cookie string, want int) string {
			req, _ := http.NewRequest(http.MethodGet, cs.URL+path, nil)
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: links.UploadCookie, Value: cookie})
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want {
				t.Fatalf("GET %s = %d, want %d", path, resp.StatusCode, want)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, cs.S3URL) {
				t.Errorf("CSP %q does not let the uploader reach %s", csp, cs.S3URL)
			}
			return string(b)
		}
		get := func(path, cookie string) string { return getAs(path, cookie, http.StatusOK) }
		page := get("/thanks", v.cookie)
		if strings.Contains(page, v.token) || strings.Contains(page, v.cookie) {
			t.Error("the thank-you page carries the upload token")
		}
		for _, want := range []string{`id="uploader"`, `data-story="` + v.id + `"`,
			`data-max-bytes="16777216"`, `data-max-files="3"`, `data-part-size="8388608"`, `/static/uploader.js?v=`, `/static/uploader.css?v=`} {
			if !strings.Contains(page, want) {
				t.Errorf("thank-you page with the cookie lacks %s", want)
			}
		}
		if page := get("/thanks", ""); strings.Contains(page, "uploader") {
			t.Error("thank-you page without a token loads the uploader")
		}
		link := cs.URL // the confirmation email's link works without the cookie
		waitFor(t, cs)
		for _, e := range cs.Outbox.Emails() {
			if e.To[0] == "clips."+v.id+"@example.org" {
				m := regexp.MustCompile(`/thanks\?t=[^\s"<]+`).FindString(e.Text)
				if m == "" {
					t.Fatalf("confirmation has no upload link:\n%s", e.Text)
				}
				link = m
			}
		}
		// The link is exchanged for the cookie and the bare page: the
		// token leaves the address bar and is never in the page.
		req, _ := http.NewRequest(http.MethodGet, cs.URL+link, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == links.UploadCookie && c.HttpOnly && c.SameSite == http.SameSiteStrictMode && c.MaxAge > 0 {
				cookie = c.Value
			}
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/thanks" || cookie == "" {
			t.Fatalf("the email link %s = %d to %q, cookie %q", link, resp.StatusCode, resp.Header.Get("Location"), cookie)
		}
		if page := get("/thanks", cookie); !strings.Contains(page, `data-story="`+v.id+`"`) || strings.Contains(page, cookie) {
			t.Errorf("the email link's cookie does not open the uploader, or the page holds the token")
		}
		if page := getAs("/thanks?t=forged."+v.token, "", http.StatusBadRequest); strings.Contains(page, `id="uploader"`) || !strings.Contains(page, "not valid") {
			t.Error("a forged link opens the uploader, or says nothing")
		}
		forms := get("/", "")
		if strings.Contains(forms, "uploader") {
			t.Error("the form page loads the uploader")
		}
	})

	t.Run("presigned POST contract", func(t *testing.T) {
		v := submitStory(t, cs)
		traffic.Reset()
		p, status := v.params(t, v.token, "interview.mp4", "video/mp4")
		if status != http.StatusOK {
			t.Fatalf("params = %d", status)
		}
		key := p.Fields["key"]
		if p.Method != "POST" || !strings.HasSuffix(p.URL, "/") || p.Expires <= 0 || p.Expires > 900 ||
			!strings.HasPrefix(key, "clips/"+v.id+"/") || !strings.HasSuffix(key, ".mp4") || strings.Contains(key, "interview") ||
			p.Fields["policy"] == "" || p.Fields["X-Amz-Signature"] == "" || p.Fields["Content-Type"] != "video/mp4" {
			t.Fatalf("params = %+v", p)
		}
		policy, _ := base64.StdEncoding.DecodeString(p.Fields["policy"])
		for _, want := range []string{`["content-length-range",1,16777216]`, `{"Content-Type":"video/mp4"}`, `"key":"` + key + `"`} {
			if !strings.Contains(string(policy), want) {
				t.Errorf("policy %s lacks %s", policy, want)
			}
		}
		// The local S3 holds the browser to the policy, as S3 does.
		bad := p
		bad.Fields = map[string]string{}
		for k, val := range p.Fields {
			bad.Fields[k] = val
		}
		bad.Fields["Content-Type"] = "text/html"
		if status, body := postPolicyForm(t, bad, fixture(t, "faststart.mp4")); status != http.StatusForbidden {
			t.Errorf("POST with another Content-Type = %d %s", status, body)
		}
		if status, body := postPolicyForm(t, p, paddedMP4(t, clipMaxBytes+1)); status != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
			t.Errorf("POST over the size limit = %d %s", status, body)
		}
		data := fixture(t, "faststart.mp4")
		if status, body := postPolicyForm(t, p, data); status/100 != 2 {
			t.Fatalf("POST = %d %s", status, body)
		}
		// Uppy's location: url without its slash, then the key. The
		// bucket is private: anyone may not read it back.
		loc := strings.TrimSuffix(p.URL, "/") + "/" + key
		resp, err := http.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("anonymous GET %s = %d, want 403", loc, resp.StatusCode)
		}
		obj, err := s3client(cs).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("GET %s = %d bytes", key, len(got))
		}
		clips := v.clips(t)
		if len(clips) != 1 || clips[0].Key != key || clips[0].Status != story.ClipVerified || clips[0].MIME != "video/mp4" ||
			clips[0].Duration != 2*time.Second || clips[0].Size != int64(len(data)) {
			t.Fatalf("clips = %+v", clips)
		}
		if calls, _, _, marked := traffic.Total(); marked != 0 || calls == 0 {
			t.Errorf("function calls %d, %d carried video bytes", calls, marked)
		}
	})

	t.Run("12 MiB multipart with plain PUTs gives one verified clip", func(t *testing.T) {
		v := submitStory(t, cs)
		data := paddedMP4(t, 12<<20)
		traffic.Reset()
		c, status := v.create(t, v.token, "long interview.MP4", "video/mp4", len(data))
		if status != http.StatusOK || c.UploadID == "" || c.Bucket != bucket ||
			!regexp.MustCompile(`^clips/`+v.id+`/[a-z2-7]{26}\.mp4$`).MatchString(c.Key) {
			t.Fatalf("create = %d %+v", status, c)
		}
		const partSize = 8 << 20
		e1 := v.putPart(t, c, 1, data[:partSize])
		// After a reload Uppy asks which parts S3 has.
		if parts := v.listParts(t, c); len(parts) != 1 || parts[0].PartNumber != 1 || strings.Trim(parts[0].ETag, `"`) != strings.Trim(e1, `"`) {
			t.Fatalf("parts after one = %+v", parts)
		}
		e2 := v.putPart(t, c, 2, data[partSize:])
		parts := v.listParts(t, c)
		if len(parts) != 2 || parts[1].PartNumber != 2 {
			t.Fatalf("parts = %+v", parts)
		}
		var done struct{ Location, Key, Bucket string }
		status = v.call(t, http.MethodPost, uploadPath(c, "/complete"), map[string]any{"parts": []part{
			{PartNumber: 2, ETag: strings.Trim(e2, `"`)}, {PartNumber: 1, ETag: e1}, // unquoted, out of order: both fine
		}}, &done)
		if status != http.StatusOK || done.Key != c.Key || done.Bucket != bucket || !strings.HasSuffix(done.Location, c.Key) {
			t.Fatalf("complete = %d %+v", status, done)
		}
		clips := v.clips(t)
		if len(clips) != 1 || clips[0].Status != story.ClipVerified || clips[0].Size != 12<<20 || clips[0].Duration != 2*time.Second {
			t.Fatalf("clips = %+v", clips)
		}
		calls, total, largest, marked := traffic.Total()
		t.Logf("12 MiB clip: %d function invocations carried %d bytes in all (largest %d), %d with video bytes", calls, total, largest, marked)
		if marked != 0 || largest > 16<<10 || total > 64<<10 {
			t.Errorf("video passed through a function: %d calls, %d bytes, largest %d, %d marked", calls, total, largest, marked)
		}
		// The part list of a finished upload is refused, not an error.
		if status := v.call(t, http.MethodGet, uploadPath(c, ""), nil, nil); status != http.StatusConflict {
			t.Errorf("list parts after complete = %d, want 409", status)
		}
	})

	t.Run("each part URL carries exactly its share: S3 refuses more, less, and parts past the last", func(t *testing.T) {
		v := submitStory(t, cs)
		const size, partSize = 12 << 20, 8 << 20
		c, status := v.create(t, v.token, "a.mp4", "video/mp4", size)
		if status != http.StatusOK {
			t.Fatalf("create = %d", status)
		}
		sign := func(n int) (string, int) {
			var signed struct{ URL string }
			status := v.call(t, http.MethodGet, uploadPath(c, fmt.Sprintf("/%d", n)), nil, &signed)
			return signed.URL, status
		}
		put := func(u string, n int) (int, string) {
			req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(make([]byte, n)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		u1, _ := sign(1)
		if q, _ := url.ParseQuery(u1[strings.IndexByte(u1, '?')+1:]); q.Get("X-Amz-SignedHeaders") != "content-length;host" {
			t.Fatalf("part 1 signs %q", q.Get("X-Amz-SignedHeaders"))
		}
		for _, n := range []int{partSize + 1, 64 << 20, partSize - 1} {
			if status, body := put(u1, n); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
				t.Errorf("PUT of %d bytes to a part signed for %d = %d %s", n, partSize, status, body)
			}
		}
		// The uploader signs its parts ahead, several in one call: each
		// URL is the one the one-part route gives.
		var batch struct {
			URLs    map[string]string `json:"presignedUrls"`
			Expires int               `json:"expires"`
		}
		if status := v.call(t, http.MethodGet, uploadPath(c, "/batch")+"&partNumbers=2,1", nil, &batch); status != http.StatusOK ||
			len(batch.URLs) != 2 || batch.Expires <= 0 || batch.Expires > 900 {
			t.Fatalf("batch 2,1 = %d %+v", status, batch)
		}
		for n, u := range batch.URLs {
			q, _ := url.ParseQuery(u[strings.IndexByte(u, '?')+1:])
			if q.Get("partNumber") != n || q.Get("uploadId") != c.UploadID || q.Get("X-Amz-SignedHeaders") != "content-length;host" {
				t.Errorf("batch part %s's URL = %s", n, u)
			}
		}
		if status, body := put(batch.URLs["1"], partSize+1); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Errorf("PUT of %d bytes to a batch part signed for %d = %d %s", partSize+1, partSize, status, body)
		}
		for _, ns := range []string{"3", "1,3", "0", "1,1"} {
			if status := v.call(t, http.MethodGet, uploadPath(c, "/batch")+"&partNumbers="+ns, nil, nil); status != http.StatusBadRequest {
				t.Errorf("batch %s of a 2-part file = %d, want 400", ns, status)
			}
		}
		u2 := batch.URLs["2"]
		if status, body := put(u2, partSize); status != http.StatusForbidden {
			t.Errorf("last part of 4 MiB sent as 8 MiB = %d %s", status, body)
		}
		if status, _ := put(u2, size-partSize); status != http.StatusOK {
			t.Errorf("last part at its length = %d", status)
		}
		for _, n := range []int{3, 100, 0} {
			if _, status := sign(n); status != http.StatusBadRequest {
				t.Errorf("sign part %d of a 2-part file = %d, want 400", n, status)
			}
		}
		if status, _ := put(u1, partSize); status != http.StatusOK {
			t.Errorf("part 1 at its length = %d", status)
		}
		if parts := v.listParts(t, c); len(parts) != 2 {
			t.Errorf("parts kept: %+v, want the two of the right length", parts)
		}
	})

	t.Run("abort gives the slot back", func(t *testing.T) {
		v := submitStory(t, cs)
		c, status := v.create(t, v.token, "a.webm", "video/webm", 5<<20)
		if status != http.StatusOK || !strings.HasSuffix(c.Key, ".webm") {
			t.Fatalf("create = %d %+v", status, c)
		}
		v.putPart(t, c, 1, bytes.Repeat([]byte("x"), 5<<20))
		var empty map[string]any
		for range 2 { // aborting twice is fine
			if status := v.call(t, http.MethodDelete, uploadPath(c, ""), nil, &empty); status != http.StatusOK || len(empty) != 0 {
				t.Fatalf("abort = %d %v", status, empty)
			}
		}
		if status := v.call(t, http.MethodGet, uploadPath(c, "/1"), nil, nil); status != http.StatusConflict {
			t.Errorf("sign a part of an aborted upload = %d, want 409", status)
		}
		if _, ups := objects(t, v); ups != 0 {
			t.Errorf("%d multipart uploads left after abort", ups)
		}
		for range clipMaxClips { // all slots are free again
			if _, status := v.params(t, v.token, "b.mov", "video/quicktime"); status != http.StatusOK {
				t.Fatalf("params after abort = %d", status)
			}
		}
	})

	t.Run("authorisation", func(t *testing.T) {
		a, b := submitStory(t, cs), submitStory(t, cs)
		c, status := a.create(t, a.token, "a.mp4", "video/mp4", 12<<20)
		if status != http.StatusOK {
			t.Fatalf("create = %d", status)
		}
		// The stack's own keys, read from its Secrets Manager as a function reads them.
		signer, err := signing.New(cs.SecretARNs["SigningKeys"], cs.AWS)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := token.StaticSigner("another-secret-another-secret-0123456789")
		now := time.Now()
		sign := func(s token.Signer, purpose string, exp time.Time) string {
			tok, err := s.Sign(ctx, purpose, a.id, exp)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		expired := sign(signer, links.UploadPurpose, now.Add(-time.Minute))
		forged := sign(other, links.UploadPurpose, now.Add(time.Hour))
		wrongPurpose := sign(signer, links.WithdrawPurpose, now.Add(time.Hour))
		tampered := strings.Replace(a.token, a.id, b.id, 1)
		recs := len(a.records(t))
		objs, ups := objects(t, a)

		for _, tc := range []struct {
			name, tok string
			want      int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"expired", expired, http.StatusUnauthorized},
			{"forged", forged, http.StatusForbidden},
			{"other purpose", wrongPurpose, http.StatusForbidden},
			{"tampered", tampered, http.StatusForbidden},
			{"another story's", b.token, http.StatusForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Metadata cannot stand in for a missing or bad header here:
				// the header is checked first, and the metadata names story a.
				if tc.tok != "" {
					if _, s := a.params(t, tc.tok, "x.mp4", "video/mp4"); s != tc.want {
						t.Errorf("params = %d, want %d", s, tc.want)
					}
					if _, s := a.create(t, tc.tok, "x.mp4", "video/mp4", 12<<20); s != tc.want {
						t.Errorf("create = %d, want %d", s, tc.want)
					}
				}
				for _, call := range []struct{ method, path string }{
					{http.MethodGet, uploadPath(c, "/1")},
					{http.MethodGet, uploadPath(c, "/batch") + "&partNumbers=1"},
					{http.MethodGet, uploadPath(c, "")},
					{http.MethodPost, uploadPath(c, "/complete")},
					{http.MethodDelete, uploadPath(c, "")},
					{http.MethodGet, "/api/clips"},
				} {
					if tc.name == "another story's" && call.path == "/api/clips" {
						continue // lists b's own clips
					}
					var body any
					if call.method == http.MethodPost {
						body = map[string]any{"parts": []part{{1, "x"}}}
					}
					if s := a.callAs(t, tc.tok, call.method, call.path, body, nil); s != tc.want {
						t.Errorf("%s %s = %d, want %d", call.method, call.path, s, tc.want)
					}
				}
			})
		}
		t.Run("key outside the story", func(t *testing.T) {
			for _, key := range []string{clipsbucket.NewClipKey(b.id, story.ClipTypes[0]), "clips/" + a.id + "/../" + b.id + "/x.mp4", "other/" + a.id + "/x.mp4", c.Key + "x"} {
				path := "/api/s3/multipart/" + url.PathEscape(c.UploadID) + "/1?" + url.Values{"key": {key}}.Encode()
				if s := a.call(t, http.MethodGet, path, nil, nil); s != http.StatusForbidden {
					t.Errorf("sign a part of %q = %d, want 403", key, s)
				}
				path = "/api/s3/multipart/" + url.PathEscape(c.UploadID) + "/batch?" + url.Values{"key": {key}, "partNumbers": {"1"}}.Encode()
				if s := a.call(t, http.MethodGet, path, nil, nil); s != http.StatusForbidden {
					t.Errorf("sign parts of %q = %d, want 403", key, s)
				}
			}
			// A's upload id with B's token and B's own prefix: no such upload.
			forB := created{UploadID: c.UploadID, Key: clipsbucket.NewClipKey(b.id, story.ClipTypes[0])}
			if s := b.call(t, http.MethodGet, uploadPath(forB, "/1"), nil, nil); s != http.StatusNotFound {
				t.Errorf("another story's upload id = %d, want 404", s)
			}
			if s := b.call(t, http.MethodGet, uploadPath(forB, "/batch")+"&partNumbers=1", nil, nil); s != http.StatusNotFound {
				t.Errorf("another story's upload id, batch = %d, want 404", s)
			}
		})
		t.Run("the metadata names another story", func(t *testing.T) {
			q := url.Values{"filename": {"x.mp4"}, "type": {"video/mp4"}, "metadata[story]": {b.id}}
			if s := a.call(t, http.MethodGet, "/api/s3/params?"+q.Encode(), nil, nil); s != http.StatusForbidden {
				t.Errorf("params = %d, want 403", s)
			}
		})
		t.Run("the cookie alone", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, cs.URL+"/api/clips", nil)
			req.AddCookie(&http.Cookie{Name: links.UploadCookie, Value: a.cookie})
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("clip list with the cookie = %d", resp.StatusCode)
			}
		})
		t.Run("types", func(t *testing.T) {
			for _, tc := range [][2]string{{"x.mp4", "text/plain"}, {"x.avi", "video/x-msvideo"}, {"x.webm", "video/mp4"}, {"x.mov", "video/webm"}} {
				if _, s := a.params(t, a.token, tc[0], tc[1]); s != http.StatusUnsupportedMediaType {
					t.Errorf("params %s as %s = %d, want 415", tc[0], tc[1], s)
				}
			}
			// A recording: the browser's type has codecs and the name no clue.
			p, s := a.params(t, a.token, "webcam-1732440000000.webm", "video/webm;codecs=vp8,opus")
			if s != http.StatusOK || p.Fields["Content-Type"] != "video/webm" {
				t.Errorf("recording params = %d %+v", s, p.Fields)
			}
		})
		// Nothing was created by any refused call (the recording above took one).
		if got := len(a.records(t)); got != recs+1 {
			t.Errorf("clip records %d → %d, want one more (the recording)", recs, got)
		}
		if o, u := objects(t, a); o != objs || u != ups {
			t.Errorf("objects %d→%d, uploads %d→%d", objs, o, ups, u)
		}
		t.Run("too many clips", func(t *testing.T) {
			v := submitStory(t, cs)
			for i := range clipMaxClips {
				if _, s := v.params(t, v.token, fmt.Sprintf("%d.mp4", i), "video/mp4"); s != http.StatusOK {
					t.Fatalf("clip %d: params = %d", i+1, s)
				}
			}
			if _, s := v.params(t, v.token, "one-more.mp4", "video/mp4"); s != http.StatusConflict {
				t.Errorf("params over the limit = %d, want 409", s)
			}
			if _, s := v.create(t, v.token, "one-more.mp4", "video/mp4", 12<<20); s != http.StatusConflict {
				t.Errorf("create over the limit = %d, want 409", s)
			}
			if n := len(v.records(t)); n != clipMaxClips {
				t.Errorf("%d clip records, want %d", n, clipMaxClips)
			}
			if o, u := objects(t, v); o != 0 || u != 0 {
				t.Errorf("%d objects and %d uploads were created", o, u)
			}
		})
	})

	t.Run("ingest rejects with a clear reason", func(t *testing.T) {
		v := submitStory(t, cs)
		keys := map[string]string{
			"text renamed .mp4": v.uploadSmall(t, "notes.mp4", "video/mp4", fixture(t, "notes.mp4")),
			"truncated MP4":     v.uploadSmall(t, "cut.mp4", "video/mp4", fixture(t, "truncated.mp4")),
			"over the length":   v.uploadSmall(t, "long.mp4", "video/mp4", fixture(t, "long_6min.mp4")),
		}
		clips := v.clips(t)
		// A clip over the size limit is refused by the POST policy and, as
		// multipart, at create (its parts are signed for its declared
		// size); ingest is the backstop for one that reaches the bucket
		// another way.
		w := submitStory(t, cs)
		big := paddedMP4(t, clipMaxBytes+(1<<20))
		if _, status := w.create(t, w.token, "big.mp4", "video/mp4", len(big)); status != http.StatusRequestEntityTooLarge {
			t.Errorf("create over the size limit = %d, want 413", status)
		}
		if o, u := objects(t, w); o != 0 || u != 0 {
			t.Errorf("after the refused create: %d objects, %d uploads", o, u)
		}
		bigKey := clipsbucket.NewClipKey(w.id, story.ClipTypes[0])
		if _, err := s3client(cs).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(bigKey), Body: bytes.NewReader(big)}); err != nil {
			t.Fatal(err)
		}
		keys["over the size"] = bigKey
		clips = append(clips, w.clips(t)...)

		want := map[string]string{
			"text renamed .mp4": "The file is not a video (it looks like text).",
			"truncated MP4":     "The video file is incomplete (it may have been cut off during upload).",
			"over the length":   "The clip is 6 minutes long; a clip can be at most 5 minutes.",
			"over the size":     "The clip is 17 MB; a clip can be at most 16 MB.",
		}
		for name, key := range keys {
			var got *story.Clip
			for i := range clips {
				if clips[i].Key == key {
					got = &clips[i]
				}
			}
			if got == nil || got.Status != story.ClipRejected || got.Reason != want[name] {
				t.Errorf("%s: clip = %+v, want rejected: %s", name, got, want[name])
				continue
			}
			if _, err := s3client(cs).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err == nil {
				t.Errorf("%s: the rejected object is still in the bucket", name)
			}
		}
		// Rejected clips give their slots back: the story can still add three.
		for i := range clipMaxClips {
			if _, s := v.params(t, v.token, fmt.Sprintf("again%d.mp4", i), "video/mp4"); s != http.StatusOK {
				t.Fatalf("params after rejections = %d", s)
			}
		}
		// The volunteer sees why.
		var list struct {
			Clips []struct{ Status, Reason string }
		}
		if s := v.call(t, http.MethodGet, "/api/clips", nil, &list); s != http.StatusOK || len(list.Clips) != 6 {
			t.Fatalf("clip list = %d %+v", s, list)
		}
		reasons := 0
		for _, c := range list.Clips {
			if c.Status == story.ClipRejected && c.Reason != "" {
				reasons++
			}
		}
		if reasons != 3 {
			t.Errorf("clip list shows %d reasons, want 3: %+v", reasons, list.Clips)
		}
	})

	t.Run("an event delivered three times gives one record", func(t *testing.T) {
		v := submitStory(t, cs)
		good := v.uploadSmall(t, "good.mp4", "video/mp4", fixture(t, "faststart.mp4"))
		bad := v.uploadSmall(t, "bad.mp4", "video/mp4", fixture(t, "notes.mp4"))
		before := v.clips(t)
		for range 3 {
			for _, key := range []string{good, bad} {
				if n := cs.RedeliverS3(bucket, key); n != 1 {
					t.Fatalf("redelivered to %d functions", n)
				}
			}
		}
		after := v.clips(t)
		if len(before) != 2 || len(after) != 2 {
			t.Fatalf("clips before %+v, after %+v", before, after)
		}
		for i := range after {
			if after[i].Key != before[i].Key || after[i].Status != before[i].Status || after[i].Reason != before[i].Reason {
				t.Errorf("clip %d changed: %+v → %+v", i, before[i], after[i])
			}
		}
		// One slot held (the verified clip): two more may come, no more.
		for i := range clipMaxClips - 1 {
			if _, s := v.params(t, v.token, fmt.Sprintf("%d.mp4", i), "video/mp4"); s != http.StatusOK {
				t.Fatalf("params = %d", s)
			}
		}
		if _, s := v.params(t, v.token, "x.mp4", "video/mp4"); s != http.StatusConflict {
			t.Errorf("params over the limit = %d", s)
		}
	})
}

// BenchmarkClipUpload64MiB times one 64 MiB clip through the multipart API
// (create, sign and PUT each 8 MiB part, complete) against one direct PUT of
// the same bytes to the same local S3, and counts the bytes that passed
// through functions meanwhile. Run it with
//
//	go test ./infra/local/stack -run '^$' -bench ClipUpload64MiB -benchtime 5x
func BenchmarkClipUpload64MiB(b *testing.B) {
	data := paddedMP4(b, 64<<20)
	const partSize = 8 << 20
	presign := s3.NewPresignClient(s3client(st))
	bucket := st.Buckets["ClipsBucket"]
	var multipartTime, putTime time.Duration
	var fnBytes int64
	var fnMarked int
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v := submitStory(b, st)
		waitFor(b, st)
		traffic.Reset()
		b.StartTimer()

		start := time.Now()
		_, status := v.uploadMultipart(b, data, partSize)
		multipartTime += time.Since(start)
		if status != http.StatusOK {
			b.Fatalf("complete = %d", status)
		}
		_, sent, _, marked := traffic.Total()
		fnBytes += sent
		fnMarked += marked

		req, err := presign.PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("bench/%d.mp4", i))})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		put, _ := http.NewRequest(http.MethodPut, req.URL, bytes.NewReader(data))
		resp, err := http.DefaultClient.Do(put)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		putTime += time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PUT = %d", resp.StatusCode)
		}
		b.StopTimer()
		waitFor(b, st)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(multipartTime.Milliseconds())/n, "multipart-ms/op")
	b.ReportMetric(float64(putTime.Milliseconds())/n, "put-ms/op")
	b.ReportMetric(float64(multipartTime)/float64(putTime), "multipart/put")
	b.ReportMetric(float64(fnBytes)/n, "function-bytes/op")
	b.ReportMetric(float64(fnMarked), "video-payloads")
}

// stackSigner signs with the stack's own keys, read from its Secrets
// Manager as a function reads them.
func stackSigner(t *testing.T, s *stack.Stack) token.Signer {
	t.Helper()
	signer, err := signing.New(s.SecretARNs["SigningKeys"], s.AWS)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}
