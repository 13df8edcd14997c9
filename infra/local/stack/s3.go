package stack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/johannesboyne/gofakes3"
)

// s3Backend wraps the local S3's object store so that objects written by
// PutObject, CopyObject and a completed multipart upload raise S3
// ObjectCreated notifications, as the real bucket's notification
// configuration does.
type s3Backend struct {
	gofakes3.Backend
	onCreated func(bucket, key string, size int64, etag string)
}

// multipartETagMeta is the metadata header that keeps a multipart object's
// ETag; the local S3 answers it as the ETag and never shows it.
const multipartETagMeta = "X-Amz-Meta-Fv-Local-Multipart-Etag"

// partsPutter is a store that takes a completed multipart upload's parts
// as the object's bytes (memBackend).
type partsPutter interface {
	putParts(bucket, key string, meta map[string]string, parts [][]byte, hash []byte) error
}

// putParts stores a completed multipart upload as the object bucket/key:
// its parts as they are where the store keeps them so, else read through
// in order (the store on disk). meta holds the object's ETag
// (multipartETagMeta), which survives a restart with it.
func (b *s3Backend) putParts(bucket, key string, meta map[string]string, parts [][]byte, hash []byte, etag string) error {
	var size int64
	readers := make([]io.Reader, len(parts))
	for i, p := range parts {
		size += int64(len(p))
		readers[i] = bytes.NewReader(p)
	}
	var err error
	if pp, ok := b.Backend.(partsPutter); ok {
		err = pp.putParts(bucket, key, meta, parts, hash)
	} else {
		_, err = b.Backend.PutObject(bucket, key, meta, io.MultiReader(readers...), size, nil)
	}
	if err == nil && b.onCreated != nil {
		b.onCreated(bucket, key, size, etag)
	}
	return err
}

func (b *s3Backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	// A PUT replaces a multipart object's ETag (gofakes3's stores on disk
	// keep the old object's metadata unless told otherwise).
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m[multipartETagMeta] = ""
	res, err := b.Backend.PutObject(bucket, key, m, input, size, conditions)
	if err == nil && b.onCreated != nil {
		b.onCreated(bucket, key, size, "")
	}
	return res, err
}

func (b *s3Backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	m := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m[multipartETagMeta] = "" // a copy is a single-part object
	res, err := b.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, m)
	if err == nil && b.onCreated != nil {
		b.onCreated(dstBucket, dstKey, -1, res.ETag)
	}
	return res, err
}

// NewS3 is the local S3 with no IAM (every call allowed) and CORS open to
// any origin. Handler tests use it for an S3 that otherwise behaves like
// the stack's.
func NewS3(backend gofakes3.Backend, faults *Faults) http.Handler {
	return newLocalS3(backend, faults, nil, &Clock{})
}

// S3Operation names the S3 API operation of a path-style request, as the
// SDK and IAM name it (faults are injected by these names).
func S3Operation(r *http.Request) string {
	q := r.URL.Query()
	_, object, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch r.Method {
	case http.MethodGet:
		switch {
		case object == "" && has("uploads"):
			return "ListMultipartUploads"
		case object == "" && q.Get("list-type") == "2":
			return "ListObjectsV2"
		case object == "":
			return "ListObjects"
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		}
		return "GetObject"
	case http.MethodHead:
		if object == "" {
			return "HeadBucket"
		}
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("uploadId"):
			return "UploadPart"
		case has("tagging"):
			return "PutObjectTagging"
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject"
		case object == "":
			return "CreateBucket"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case object == "" && has("delete"):
			return "DeleteObjects"
		case object == "":
			return "PostObject"
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		case object == "":
			return "DeleteBucket"
		}
		return "DeleteObject"
	}
	return r.Method
}

// checkPostPolicy checks a browser form POST against its signed policy,
// as S3 does. It returns a zero status when the upload may go ahead.
func checkPostPolicy(r *http.Request, now time.Time, iam *IAM) (int, string, string) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
	}
	fields := map[string]string{}
	for k, v := range r.MultipartForm.Value {
		if len(v) > 0 {
			fields[strings.ToLower(k)] = v[0]
		}
	}
	files := r.MultipartForm.File["file"]
	if len(files) != 1 {
		return http.StatusBadRequest, "InvalidArgument", "POST requires exactly one file upload per request."
	}
	fields["bucket"] = strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	denied := func(why string) (int, string, string) {
		return http.StatusForbidden, "AccessDenied", "Invalid according to Policy: " + why
	}
	policy := fields["policy"]
	if policy == "" {
		return denied("no policy")
	}
	// The signature: SigV4 over the base64 policy with the local secret.
	cred := strings.Split(fields["x-amz-credential"], "/")
	if len(cred) != 5 || fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256" {
		return denied("bad credential")
	}
	key := []byte("AWS4" + iam.secretOf(cred[0]))
	for _, part := range cred[1:] {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(policy))
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(fields["x-amz-signature"])) {
		return http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	raw, err := base64.StdEncoding.DecodeString(policy)
	if err != nil {
		return denied("policy is not base64")
	}
	var doc struct {
		Expiration time.Time `json:"expiration"`
		Conditions []any     `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return denied("policy is not JSON")
	}
	if !now.Before(doc.Expiration) {
		return denied("Policy expired.")
	}
	covered := map[string]bool{}
	size := files[0].Size
	for _, c := range doc.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k, v := range c {
				k = strings.ToLower(k)
				covered[k] = true
				if fields[k] != fmt.Sprint(v) {
					return denied(fmt.Sprintf("Policy Condition failed: [\"eq\", \"$%s\", %q]", k, fmt.Sprint(v)))
				}
			}
		case []any:
			if len(c) != 3 {
				return denied("bad condition")
			}
			op := strings.ToLower(fmt.Sprint(c[0]))
			if op == "content-length-range" {
				lo, hi := toInt(c[1]), toInt(c[2])
				if size < lo {
					return http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
				}
				if size > hi {
					return http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
				}
				continue
			}
			k := strings.ToLower(strings.TrimPrefix(fmt.Sprint(c[1]), "$"))
			covered[k] = true
			v := fmt.Sprint(c[2])
			if (op == "eq" && fields[k] != v) || (op == "starts-with" && !strings.HasPrefix(fields[k], v)) {
				return denied(fmt.Sprintf("Policy Condition failed: [%q, \"$%s\", %q]", op, k, v))
			}
		}
	}
	for k := range fields {
		if k == "policy" || k == "x-amz-signature" || k == "bucket" || strings.HasPrefix(k, "x-ignore-") {
			continue
		}
		if !covered[k] {
			return denied("Extra input fields: " + k)
		}
	}
	return 0, "", ""
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// s3Mapping delivers ObjectCreated notifications for a bucket to a function.
type s3Mapping struct {
	fn      *function
	bucket  string
	prefix  string
	suffix  string
	events  []string // e.g. s3:ObjectCreated:*
	retries int      // after the first attempt, as Lambda's async invocation
}

// wireS3 wires an S3 event of a function: the bucket's notification
// configuration, as SAM makes it from the event's Bucket, Events and Filter.
func (s *Stack) wireS3(res Resolver, fn *function, ev Event) error {
	bucket, err := res.Resolve(s.Template, ev.Properties["Bucket"])
	if err != nil {
		return fmt.Errorf("the S3 event's bucket: %w", err)
	}
	m := s3Mapping{fn: fn, bucket: bucket, retries: 2}
	switch e := ev.Properties["Events"].(type) {
	case string:
		m.events = []string{e}
	case []any:
		for _, x := range e {
			m.events = append(m.events, asString(x))
		}
	}
	if len(m.events) == 0 {
		return fmt.Errorf("the S3 event has no Events")
	}
	for _, rule := range asSlice(asMap(asMap(ev.Properties["Filter"])["S3Key"])["Rules"]) {
		r := asMap(rule)
		switch strings.ToLower(asString(r["Name"])) {
		case "prefix":
			m.prefix = asString(r["Value"])
		case "suffix":
			m.suffix = asString(r["Value"])
		}
	}
	if n, ok := asMap(s.Template.Resources[fn.name].Properties["EventInvokeConfig"])["MaximumRetryAttempts"].(int); ok {
		m.retries = n
	}
	s.s3events = append(s.s3events, m)
	return nil
}

func (m s3Mapping) matches(bucket, key, eventName string) bool {
	if bucket != m.bucket || !strings.HasPrefix(key, m.prefix) || !strings.HasSuffix(key, m.suffix) {
		return false
	}
	return slices.ContainsFunc(m.events, func(p string) bool {
		p = strings.TrimPrefix(p, "s3:")
		if strings.HasSuffix(p, "*") {
			return strings.HasPrefix(eventName, strings.TrimSuffix(p, "*"))
		}
		return p == eventName
	})
}

// onObjectCreated raises an ObjectCreated notification. Each is delivered
// at least once, asynchronously, to every function wired to it; a failed
// delivery is retried as Lambda retries an asynchronous invocation.
func (s *Stack) onObjectCreated(bucket, key string, size int64, etag string) {
	name := "ObjectCreated:Put"
	if size < 0 {
		name, size = "ObjectCreated:Copy", 0
	}
	s.raiseS3(bucket, key, size, etag, name)
}

// RedeliverS3 delivers the ObjectCreated notification of an object once
// more, as S3 may, and reports how many functions it went to.
func (s *Stack) RedeliverS3(bucket, key string) int {
	return s.raiseS3(bucket, key, 0, "", "ObjectCreated:Put")
}

func (s *Stack) raiseS3(bucket, key string, size int64, etag, name string) int {
	n := 0
	for _, m := range s.s3events {
		if !m.matches(bucket, key, name) {
			continue
		}
		n++
		rec := s3Record(bucket, key, size, etag, name)
		s.pending.Add(1)
		go s.deliverS3(m, rec)
	}
	return n
}

func (s *Stack) deliverS3(m s3Mapping, rec events.S3EventRecord) {
	defer s.pending.Add(-1)
	for attempt := 0; ; attempt++ {
		err := m.fn.invoke(context.Background(), events.S3Event{Records: []events.S3EventRecord{rec}}, nil)
		if err == nil {
			return
		}
		if attempt >= m.retries {
			s.log.Error("S3 event dropped after retries (on AWS: sent to the on-failure destination)",
				"function", m.fn.name, "key", rec.S3.Object.Key, "error", err.Error())
			return
		}
		s.log.Warn("S3 event will be retried", "function", m.fn.name, "attempt", attempt+1, "error", err.Error())
		time.Sleep(backoff(attempt, s.retryWait()))
	}
}

// s3Record is the notification S3 sends: the key URL-encoded as in real
// events (spaces as '+').
func s3Record(bucket, key string, size int64, etag, name string) events.S3EventRecord {
	now := time.Now().UTC()
	return events.S3EventRecord{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    Region,
		EventTime:    now,
		EventName:    name,
		PrincipalID:  events.S3UserIdentity{PrincipalID: "local"},
		RequestParameters: events.S3RequestParameters{
			SourceIPAddress: "127.0.0.1",
		},
		ResponseElements: map[string]string{"x-amz-request-id": newRequestID()[:16]},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "local",
			Bucket: events.S3Bucket{
				Name:          bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: "local"},
				Arn:           "arn:aws:s3:::" + bucket,
			},
			Object: events.S3Object{
				Key:       eventKey(key),
				Size:      size,
				ETag:      strings.Trim(etag, `"`),
				Sequencer: fmt.Sprintf("%016X", now.UnixNano()),
			},
		},
	}
}

// eventKey encodes a key as S3 notifications do: each path segment
// form-encoded, the slashes kept.
func eventKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.QueryEscape(p)
	}
	return strings.Join(parts, "/")
}
