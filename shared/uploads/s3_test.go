package uploads_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/uploads"
)

// flow is the uploads handler on a fresh S3 and table (the local stack's,
// or the independent ones testenv names), with a story and its token.
type flow struct {
	h      *uploads.Handler
	s3     *s3.Client
	clips  *store.Store
	id     string
	token  string
	bucket string
}

const partSize = 5 << 20 // S3's smallest part

func newFlow(t *testing.T) *flow {
	t.Helper()
	ctx := context.Background()
	f := &flow{bucket: "clips", s3: testenv.S3(t, "clips"), clips: store.New(testenv.Table(t, "StoriesTable"), "StoriesTable"), id: story.NewID()}
	if _, _, err := f.clips.PutStory(ctx, story.Story{ID: f.id, Name: "A", SubmittedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cfg := uploads.Config{Shared: config.Shared{TableName: "StoriesTable", Bucket: f.bucket}, URLExpiry: 5 * time.Minute,
		Clips: config.Clips{MaxClipBytes: 3 * partSize, MaxClips: 5, ClipPartSize: partSize, ClipTypes: []string{"video/mp4"}}}
	h, err := uploads.New(cfg, bucket.New(f.s3, s3.NewPresignClient(f.s3), f.bucket), f.clips, testenv.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	if f.token, err = testenv.Signer(t).Sign(ctx, links.UploadPurpose, f.id, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return f
}

// call sends one request to the handler as API Gateway would, and decodes
// a 200's JSON into out.
func (f *flow) call(t *testing.T, route, path string, params map[string]string, query, body string, out any) int {
	t.Helper()
	return f.callAs(t, f.token, route, path, params, query, body, out).StatusCode
}

// callAs is call with another token, giving the whole response.
func (f *flow) callAs(t *testing.T, token, route, path string, params map[string]string, query, body string, out any) apigw.Response {
	t.Helper()
	method, _, _ := strings.Cut(route, " ")
	resp, err := f.h.Handle(context.Background(), apigw.Request{RouteKey: route, RawPath: path, RawQueryString: query, Body: body,
		PathParameters: params, Headers: map[string]string{strings.ToLower(uploads.TokenHeader): token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("%s: %v: %s", route, err, resp.Body)
		}
	}
	return resp
}

// send PUTs data to a presigned URL, as the browser does.
func send(t *testing.T, u string, data []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag")
}

// readsBack fails t unless the object at key holds data.
func (f *flow) readsBack(t *testing.T, key string, data []byte) {
	t.Helper()
	got, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(back, data) {
		t.Fatal("the clip read back differs from what was sent")
	}
}

func (f *flow) tags(t *testing.T, key string) map[string]string {
	t.Helper()
	out, err := f.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tag := range out.TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return tags
}

// A large clip goes up as Uppy sends it, against a real S3: create, each
// part to its presigned URL (signed for its exact length, so S3 refuses any
// other), the parts listed for a resume, complete. The clip arrives whole,
// with a multipart ETag and the pending tag that keeps it from the
// one-day expiry only until ingest checks it.
func TestMultipartUploadOnS3(t *testing.T) {
	f := newFlow(t)
	size := partSize + 5
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	var created struct{ Key, UploadID, Bucket string }
	if code := f.call(t, "POST /api/s3/multipart", "/api/s3/multipart", nil, "",
		fmt.Sprintf(`{"filename":"a.mp4","type":"video/mp4","metadata":{"size":"%d"}}`, size), &created); code != http.StatusOK {
		t.Fatalf("create = %d", code)
	}
	if created.Bucket != f.bucket || created.UploadID == "" {
		t.Fatalf("create = %+v", created)
	}
	q := "key=" + url.QueryEscape(created.Key)
	upload := map[string]string{"uploadId": created.UploadID}
	var etags []string
	for n, part := range [][]byte{data[:partSize], data[partSize:]} {
		var signed struct{ URL string }
		params := map[string]string{"uploadId": created.UploadID, "partNumber": fmt.Sprint(n + 1)}
		if code := f.call(t, "GET /api/s3/multipart/{uploadId}/{partNumber}", "/api/s3/multipart/x/1", params, q, "", &signed); code != http.StatusOK {
			t.Fatalf("sign part %d = %d", n+1, code)
		}
		// (Only the small last part: an S3 may refuse a request on its
		// headers and close the connection while a large body is still
		// being sent, which a client sees as a reset, not the 403.)
		if n == 1 {
			if code, _ := send(t, signed.URL, append(part[:len(part):len(part)], 'x')); code != http.StatusForbidden {
				t.Fatalf("part %d one byte longer than signed: %d, want 403", n+1, code)
			}
		}
		code, etag := send(t, signed.URL, part)
		if code != http.StatusOK || etag == "" {
			t.Fatalf("part %d: %d %q", n+1, code, etag)
		}
		etags = append(etags, etag)
	}
	var listed []uploads.Part
	if code := f.call(t, "GET /api/s3/multipart/{uploadId}", "/api/s3/multipart/x", upload, q, "", &listed); code != http.StatusOK ||
		len(listed) != 2 || listed[0].ETag != etags[0] || listed[1].ETag != etags[1] || listed[1].Size != 5 {
		t.Fatalf("list parts = %d %+v, want ETags %q", code, listed, etags)
	}
	body, _ := json.Marshal(map[string]any{"parts": []uploads.Part{{PartNumber: 2, ETag: etags[1]}, {PartNumber: 1, ETag: strings.Trim(etags[0], `"`)}}})
	if code := f.call(t, "POST /api/s3/multipart/{uploadId}/complete", "/api/s3/multipart/x/complete", upload, q, string(body), nil); code != http.StatusOK {
		t.Fatalf("complete = %d", code)
	}
	head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(created.Key)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(size) || !strings.HasSuffix(aws.ToString(head.ETag), `-2"`) ||
		aws.ToString(head.ContentType) != "video/mp4" {
		t.Fatalf("the clip = %+v %v", head, err)
	}
	if tags := f.tags(t, created.Key); tags[bucket.StatusTag] != story.ClipPending {
		t.Fatalf("the clip's tags = %v, want %s=%s", tags, bucket.StatusTag, story.ClipPending)
	}
	f.readsBack(t, created.Key, data)
	// Once completed, the upload is over.
	if code := f.call(t, "GET /api/s3/multipart/{uploadId}", "/api/s3/multipart/x", upload, q, "", nil); code != http.StatusNotFound {
		t.Fatalf("list parts of a completed upload = %d, want 404", code)
	}
}

// The batch route signs several parts in one call, each exactly as the
// one-part route does (its own number, its own length, the same expiry),
// as create's answer does for the first parts, and the parts sent with
// those URLs make the clip whole. Bad part lists,
// other stories and finished uploads get a 4xx that says what is wrong.
func TestBatchSignedPartsOnS3(t *testing.T) {
	f := newFlow(t)
	size := 2*partSize + 7
	data := bytes.Repeat([]byte("fedcba9876543210"), size/16+1)[:size]
	var created struct {
		Key, UploadID string
		PresignedURLs map[string]string `json:"presignedUrls"`
		Expires       int
	}
	if code := f.call(t, "POST /api/s3/multipart", "/api/s3/multipart", nil, "",
		fmt.Sprintf(`{"filename":"a.mp4","type":"video/mp4","metadata":{"size":"%d"}}`, size), &created); code != http.StatusOK {
		t.Fatalf("create = %d", code)
	}
	const route = "GET /api/s3/multipart/{uploadId}/batch"
	upload := map[string]string{"uploadId": created.UploadID}
	batch := func(token, numbers string) (apigw.Response, map[string]string) {
		t.Helper()
		var out struct {
			PresignedURLs map[string]string `json:"presignedUrls"`
			Expires       int               `json:"expires"`
		}
		q := url.Values{"key": {created.Key}, "partNumbers": {numbers}}.Encode()
		resp := f.callAs(t, token, route, "/api/s3/multipart/x/batch", upload, q, "", &out)
		if resp.StatusCode == http.StatusOK && out.Expires != 300 {
			t.Errorf("batch %s: expires %d, want 300", numbers, out.Expires)
		}
		return resp, out.PresignedURLs
	}
	resp, urls := batch(f.token, "3,2")
	if resp.StatusCode != http.StatusOK || len(urls) != 2 {
		t.Fatalf("batch 3,2 = %d %s", resp.StatusCode, resp.Body)
	}
	// Create's answer carries the first parts' URLs (here all three),
	// signed as the batch route signs them.
	if len(created.PresignedURLs) != 3 || created.Expires != 300 {
		t.Fatalf("create's part URLs: %d, expires %d", len(created.PresignedURLs), created.Expires)
	}
	urls["1"] = created.PresignedURLs["1"]
	parts := []uploads.Part{}
	for n := 1; n <= 3; n++ {
		u := urls[fmt.Sprint(n)]
		for _, u := range []string{u, created.PresignedURLs[fmt.Sprint(n)]} {
			q, _ := url.ParseQuery(u[strings.IndexByte(u, '?')+1:])
			if q.Get("partNumber") != fmt.Sprint(n) || q.Get("uploadId") != created.UploadID || q.Get("X-Amz-Expires") != "300" ||
				q.Get("X-Amz-SignedHeaders") != "content-length;host" || !strings.HasSuffix(u[:strings.IndexByte(u, '?')], "/"+created.Key) {
				t.Fatalf("part %d's URL = %s", n, u)
			}
		}
		part := data[(n-1)*partSize : min(n*partSize, size)]
		if n == 3 {
			if code, _ := send(t, u, append(part[:len(part):len(part)], 'x')); code != http.StatusForbidden {
				t.Fatalf("part 3 one byte longer than signed: %d, want 403", code)
			}
		}
		code, etag := send(t, u, part)
		if code != http.StatusOK || etag == "" {
			t.Fatalf("part %d: %d %q", n, code, etag)
		}
		parts = append(parts, uploads.Part{PartNumber: int32(n), ETag: etag})
	}

	for _, tc := range []struct{ numbers, title string }{
		{"", "Bad part numbers"},
		{"0", "Bad part number"},
		{"4", "Bad part number"},
		{"1,4", "Bad part number"},
		{"-1", "Bad part numbers"},
		{"+1", "Bad part numbers"},
		{"1,1", "Bad part numbers"},
		{"1,,2", "Bad part numbers"},
		{"1,2,", "Bad part numbers"},
		{"a", "Bad part numbers"},
		{"1.5", "Bad part numbers"},
		{"99999999999", "Bad part numbers"},
		{strings.Repeat("1,", uploads.MaxBatch) + "1", "Bad part numbers"},
	} {
		resp, _ := batch(f.token, tc.numbers)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"title":"`+tc.title+`"`) {
			t.Errorf("batch %q = %d %s, want 400 %s", tc.numbers, resp.StatusCode, resp.Body, tc.title)
		}
	}
	if resp, _ := batch(f.token, "1,1"); !strings.Contains(resp.Body, "Part 1 is asked for twice.") {
		t.Errorf("batch 1,1 says %s", resp.Body)
	}
	if resp, _ := batch(f.token, strings.Repeat("1,", uploads.MaxBatch)+"1"); !strings.Contains(resp.Body, fmt.Sprintf("at most %d parts", uploads.MaxBatch)) {
		t.Errorf("batch of %d says %s", uploads.MaxBatch+1, resp.Body)
	}
	twice := url.Values{"key": {created.Key}, "partNumbers": {"1", "2"}}.Encode()
	if resp := f.callAs(t, f.token, route, "/api/s3/multipart/x/batch", upload, twice, "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("partNumbers given twice = %d %s", resp.StatusCode, resp.Body)
	}
	noNumbers := url.Values{"key": {created.Key}}.Encode()
	if resp := f.callAs(t, f.token, route, "/api/s3/multipart/x/batch", upload, noNumbers, "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no partNumbers = %d %s", resp.StatusCode, resp.Body)
	}

	// Another story's token: not its clip.
	other := story.NewID()
	if _, _, err := f.clips.PutStory(context.Background(), story.Story{ID: other, Name: "B", SubmittedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	otherToken, err := testenv.Signer(t).Sign(context.Background(), links.UploadPurpose, other, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := batch(otherToken, "1"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("batch with another story's token = %d %s, want 403", resp.StatusCode, resp.Body)
	}
	if resp, _ := batch("", "1"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("batch with no token = %d %s, want 401", resp.StatusCode, resp.Body)
	}
	if resp := f.callAs(t, f.token, route, "/api/s3/multipart/x/batch", map[string]string{"uploadId": "nosuchupload"},
		url.Values{"key": {created.Key}, "partNumbers": {"1"}}.Encode(), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("batch of an unknown upload id = %d %s, want 404", resp.StatusCode, resp.Body)
	}

	body, _ := json.Marshal(map[string]any{"parts": parts})
	if code := f.call(t, "POST /api/s3/multipart/{uploadId}/complete", "/api/s3/multipart/x/complete", upload, "key="+url.QueryEscape(created.Key), string(body), nil); code != http.StatusOK {
		t.Fatalf("complete = %d", code)
	}
	f.readsBack(t, created.Key, data)
}

// An aborted upload is gone from S3 and gives its slot back.
func TestAbortedUploadOnS3(t *testing.T) {
	f := newFlow(t)
	var created struct{ Key, UploadID string }
	if code := f.call(t, "POST /api/s3/multipart", "/api/s3/multipart", nil, "", `{"filename":"a.mp4","type":"video/mp4","metadata":{"size":"9"}}`, &created); code != http.StatusOK {
		t.Fatalf("create = %d", code)
	}
	q := "key=" + url.QueryEscape(created.Key)
	upload := map[string]string{"uploadId": created.UploadID}
	for range 2 { // aborting twice is fine
		if code := f.call(t, "DELETE /api/s3/multipart/{uploadId}", "/api/s3/multipart/x", upload, q, "", nil); code != http.StatusOK {
			t.Fatalf("abort = %d", code)
		}
	}
	out, err := f.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(f.bucket)})
	if err != nil || len(out.Uploads) != 0 {
		t.Fatalf("uploads after abort = %+v %v", out.Uploads, err)
	}
	if _, err := f.s3.ListParts(context.Background(), &s3.ListPartsInput{Bucket: aws.String(f.bucket), Key: aws.String(created.Key), UploadId: aws.String(created.UploadID)}); err == nil {
		t.Fatal("ListParts of an aborted upload succeeded")
	}
	recs, err := f.clips.ClipRecords(context.Background(), f.id)
	if err != nil || len(recs) != 1 || recs[0].Status != story.ClipAborted {
		t.Fatalf("clip records = %+v %v", recs, err)
	}
}

// A small clip goes up as a form POST to S3 with the presigned fields:
// within the policy's size range it is stored with the pending tag; one
// byte over the clip limit is refused by S3 itself.
func TestPresignedPostOnS3(t *testing.T) {
	f := newFlow(t)
	var params struct {
		URL    string
		Fields map[string]string
	}
	if code := f.call(t, "GET /api/s3/params", "/api/s3/params", nil, "filename=b.mp4&type=video%2Fmp4", "", &params); code != http.StatusOK {
		t.Fatalf("params = %d", code)
	}
	key := params.Fields["key"]
	if owner, ok := bucket.ParseClipKey(key); !ok || owner != f.id {
		t.Fatalf("params key %q", key)
	}
	post := func(data []byte) (int, string) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for k, v := range params.Fields {
			_ = w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file", "b.mp4")
		_, _ = fw.Write(data)
		_ = w.Close()
		resp, err := http.Post(params.URL, w.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(make([]byte, 3*partSize+1)); code != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("POST over the limit = %d %s, want 400 EntityTooLarge", code, body)
	}
	if code, body := post([]byte("a small clip")); code/100 != 2 {
		t.Fatalf("POST = %d %s", code, body)
	}
	head, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len("a small clip")) || aws.ToString(head.ContentType) != "video/mp4" {
		t.Fatalf("the clip = %+v %v", head, err)
	}
	if tags := f.tags(t, key); tags[bucket.StatusTag] != story.ClipPending {
		t.Fatalf("the clip's tags = %v, want %s=%s", tags, bucket.StatusTag, story.ClipPending)
	}
}
