package stack

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// minPartSize is S3's smallest part but the last of a multipart upload.
const minPartSize = 5 << 20

// localS3 is gofakes3 made as strict as S3 where the project relies on S3:
//   - IAM: every request is signed by a principal (the access key id names
//     the function) and refused with AccessDenied unless its policies in
//     template.yaml allow the action, resource and conditions; a GET or
//     HEAD of a missing key is 403, not 404, without s3:ListBucket;
//   - object tags: PUT/GET/DELETE ?tagging (NoSuchKey for a missing key),
//     x-amz-tagging on PutObject and CreateMultipartUpload, and the
//     browser form POST's tagging field;
//   - multipart: parts under 5 MiB but the last are EntityTooSmall at
//     complete, and the object's ETag is md5-of-md5s-N (listed so too);
//   - conditional GET and HEAD (If-Match → 412, If-None-Match → 304),
//     ranged or not;
//   - browser form POSTs checked against their signed policy, presigned
//     URLs against their signature (every signed header, content-length
//     the body's real length) and expiry;
//   - the template's CORS rules and lifecycle rules (on Stack.Clock).
type localS3 struct {
	inner   http.Handler
	backend *s3Backend
	faults  *Faults
	iam     *IAM
	clock   *Clock

	mu      sync.Mutex
	tags    map[string]map[string]string // bucket/key → tags
	uploads map[string]*multipartUpload  // upload id → an upload in progress (s3multipart.go)
	buckets map[string]*bucketConfig
}

// bucketConfig is what the template says of a bucket beyond its name.
type bucketConfig struct {
	cors      []corsRule
	lifecycle []lifecycleRule
}

type corsRule struct {
	origins, methods, headers, expose []string
	maxAge                            int
}

type lifecycleRule struct {
	id         string
	prefix     string
	tags       map[string]string
	expireDays int
	abortDays  int
}

func newLocalS3(backend gofakes3.Backend, faults *Faults, iam *IAM, clock *Clock) *localS3 {
	sb, ok := backend.(*s3Backend)
	if !ok {
		sb = &s3Backend{Backend: backend}
	}
	fake := gofakes3.New(sb, gofakes3.WithoutVersioning(), gofakes3.WithTimeSkewLimit(0), gofakes3.WithTimeSource(clock))
	return &localS3{
		inner: fake.Server(), backend: sb, faults: faults, iam: iam, clock: clock,
		tags: map[string]map[string]string{}, uploads: map[string]*multipartUpload{}, buckets: map[string]*bucketConfig{},
	}
}

// configure reads a bucket's CorsConfiguration and LifecycleConfiguration
// from the template.
func (s *localS3) configure(t *Template, res Resolver, bucket string, props map[string]any) error {
	cfg := &bucketConfig{}
	strs := func(v any) ([]string, error) {
		var out []string
		for _, x := range listOf(v) {
			s, err := res.Resolve(t, x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	for _, r := range asSlice(asMap(props["CorsConfiguration"])["CorsRules"]) {
		m := asMap(r)
		var rule corsRule
		var err error
		if rule.origins, err = strs(m["AllowedOrigins"]); err != nil {
			return fmt.Errorf("CORS AllowedOrigins: %w", err)
		}
		if rule.methods, err = strs(m["AllowedMethods"]); err != nil {
			return err
		}
		if rule.headers, err = strs(m["AllowedHeaders"]); err != nil {
			return err
		}
		if rule.expose, err = strs(m["ExposedHeaders"]); err != nil {
			return err
		}
		if v, ok := m["MaxAge"]; ok {
			age, _ := res.Resolve(t, v)
			rule.maxAge, _ = strconv.Atoi(age)
		}
		cfg.cors = append(cfg.cors, rule)
	}
	for _, r := range asSlice(asMap(props["LifecycleConfiguration"])["Rules"]) {
		m := asMap(r)
		if asString(m["Status"]) != "Enabled" {
			continue
		}
		rule := lifecycleRule{id: asString(m["Id"]), tags: map[string]string{}}
		prefix := m["Prefix"]
		if f := asMap(m["Filter"]); f != nil && prefix == nil {
			prefix = f["Prefix"]
		}
		if prefix != nil {
			p, err := res.Resolve(t, prefix)
			if err != nil {
				return err
			}
			rule.prefix = p
		}
		for _, tf := range asSlice(m["TagFilters"]) {
			tm := asMap(tf)
			rule.tags[asString(tm["Key"])] = asString(tm["Value"])
		}
		if v, ok := m["ExpirationInDays"]; ok {
			d, err := res.Resolve(t, v)
			if err != nil {
				return err
			}
			rule.expireDays, _ = strconv.Atoi(d)
		}
		if a := asMap(m["AbortIncompleteMultipartUpload"]); a != nil {
			rule.abortDays, _ = strconv.Atoi(asString(a["DaysAfterInitiation"]))
		}
		cfg.lifecycle = append(cfg.lifecycle, rule)
	}
	s.mu.Lock()
	s.buckets[bucket] = cfg
	s.mu.Unlock()
	return nil
}

func splitPath(p string) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return bucket, key
}

func (s *localS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key := splitPath(r.URL.Path)
	if s.cors(w, r, bucket) {
		return
	}
	if s.faults.s3(w, r) {
		return
	}
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }

	// A browser form POST carries its credential in the form.
	if r.Method == http.MethodPost && key == "" && r.URL.RawQuery == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		s.formPost(w, r, bucket)
		return
	}
	// A presigned URL's signature and expiry are checked before its
	// credential's policies (a CORS preflight, answered above, is not
	// itself signed).
	if q.Has("X-Amz-Signature") {
		if status, code, msg := checkPresigned(r, s.iam, s.clock.Now()); status != 0 {
			// Read the body first, so a browser sees the error rather
			// than a connection closed while it was still sending.
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
			writeS3Error(w, r, status, code, msg)
			return
		}
	}
	caller := accessKeyOf(r)
	if s.iam != nil && caller == "" {
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if r.Method == http.MethodPost && key == "" && has("delete") {
		s.deleteObjects(w, r, caller, bucket)
		return
	}
	if err := s.iam.check(caller, s3Authz(r)...); err != nil {
		s.deny(w, r, err)
		return
	}
	if key == "" {
		if r.Method == http.MethodGet && has("uploads") {
			s.listUploads(w, r, bucket)
			return
		}
		if r.Method == http.MethodGet && bucket != "" {
			s.listObjects(w, r, bucket)
			return
		}
		s.inner.ServeHTTP(w, r)
		return
	}
	switch {
	case has("tagging"):
		s.tagging(w, r, bucket, key)
	case r.Method == http.MethodPost && has("uploads"):
		s.createMultipart(w, r, bucket, key)
	case r.Method == http.MethodPut && has("uploadId"):
		s.uploadPart(w, r, bucket, key, q.Get("uploadId"))
	case r.Method == http.MethodGet && has("uploadId"):
		s.listParts(w, r, bucket, key, q.Get("uploadId"))
	case r.Method == http.MethodPost && has("uploadId"):
		s.completeMultipart(w, r, bucket, key, q.Get("uploadId"))
	case r.Method == http.MethodDelete && has("uploadId"):
		s.abortMultipart(w, r, bucket, key, q.Get("uploadId"))
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.getObject(w, r, caller, bucket, key)
	case r.Method == http.MethodPut:
		s.putObject(w, r, bucket, key)
	case r.Method == http.MethodDelete:
		rec := s.record(r)
		if rec.Code < 300 {
			s.setTags(bucket, key, nil)
		}
		copyS3Response(w, rec)
	default:
		s.inner.ServeHTTP(w, r)
	}
}

// record serves r with gofakes3 into a recorder: for the small responses
// the local S3 looks at before answering.
func (s *localS3) record(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	return rec
}

func copyS3Response(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			continue // the local S3 answers CORS itself
		}
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *localS3) deny(w http.ResponseWriter, r *http.Request, err *errDenied) {
	code := "AccessDenied"
	if err.unknownKey {
		code = "InvalidAccessKeyId"
	}
	writeS3Error(w, r, http.StatusForbidden, code, err.Error())
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Del("ETag")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	if r != nil && r.Method == http.MethodHead {
		return
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: msg})
}

// objectETag is the ETag S3 gives an existing object, or "" when there is
// no such object.
func (s *localS3) objectETag(bucket, key string) (etag string, modified time.Time, ok bool) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil || obj == nil {
		return "", time.Time{}, false
	}
	_ = obj.Contents.Close()
	etag = `"` + hex.EncodeToString(obj.Hash) + `"`
	if m := obj.Metadata[multipartETagMeta]; m != "" {
		etag = m
	}
	modified, _ = time.Parse(http.TimeFormat, obj.Metadata["Last-Modified"])
	return etag, modified, true
}

// getObject serves GET and HEAD of an object with S3's conditional
// requests and its answer to a missing key.
func (s *localS3) getObject(w http.ResponseWriter, r *http.Request, caller, bucket, key string) {
	etag, modified, ok := s.objectETag(bucket, key)
	if !ok {
		if !s.iam.allows(caller, authz{action: "s3:ListBucket", resource: "arn:aws:s3:::" + bucket}) {
			// Without s3:ListBucket S3 does not say whether a key exists.
			writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
			return
		}
		s.inner.ServeHTTP(w, r)
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && !etagIn(im, etag) {
		writeS3Error(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && r.Header.Get("If-Match") == "" {
		if t, err := http.ParseTime(ius); err == nil && modified.Truncate(time.Second).After(t) {
			writeS3Error(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagIn(inm, etag) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	r = r.Clone(r.Context())
	// Handled above (gofakes3 compares If-None-Match against the plain MD5).
	r.Header.Del("If-None-Match")
	r.Header.Del("If-Match")
	r.Header.Del("If-Unmodified-Since")
	ew := &etagWriter{ResponseWriter: w, etag: etag}
	s.inner.ServeHTTP(ew, r)
	ew.fix() // a HEAD answer may have written nothing through ew
}

func etagIn(header, etag string) bool {
	for c := range strings.SplitSeq(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.Trim(c, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// etagWriter gives a response the object's S3 ETag and hides the metadata
// that keeps it.
type etagWriter struct {
	http.ResponseWriter
	etag  string
	wrote bool
}

func (e *etagWriter) fix() {
	if e.wrote {
		return
	}
	e.wrote = true
	h := e.Header()
	h.Del(multipartETagMeta)
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") && k != "Access-Control-Allow-Origin" && k != "Access-Control-Expose-Headers" {
			h.Del(k)
		}
	}
	if h.Get("ETag") != "" {
		h.Set("ETag", e.etag)
	}
}

func (e *etagWriter) WriteHeader(code int) { e.fix(); e.ResponseWriter.WriteHeader(code) }
func (e *etagWriter) Write(b []byte) (int, error) {
	e.fix()
	return e.ResponseWriter.Write(b)
}

// Tagging is S3's tag set document.
type Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  []struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

func parseTaggingXML(b []byte) (map[string]string, error) {
	var t Tagging
	if err := xml.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, tag := range t.TagSet {
		out[tag.Key] = tag.Value
	}
	return out, validateTags(out)
}

func validateTags(tags map[string]string) error {
	if len(tags) > 10 {
		return errors.New("object tags cannot be greater than 10")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return errors.New("the TagKey or TagValue you have provided is invalid")
		}
	}
	return nil
}

func parseTaggingHeader(h string) (map[string]string, error) {
	if h == "" {
		return nil, nil
	}
	v, err := url.ParseQuery(h)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, vs := range v {
		out[k] = vs[0]
	}
	return out, validateTags(out)
}

func taggingXML(tags map[string]string) []byte {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>`)
	for _, k := range keys {
		b.WriteString("<Tag><Key>")
		_ = xml.EscapeText(&b, []byte(k))
		b.WriteString("</Key><Value>")
		_ = xml.EscapeText(&b, []byte(tags[k]))
		b.WriteString("</Value></Tag>")
	}
	b.WriteString("</TagSet></Tagging>")
	return b.Bytes()
}

func (s *localS3) setTags(bucket, key string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(tags) == 0 {
		delete(s.tags, bucket+"/"+key)
		return
	}
	s.tags[bucket+"/"+key] = tags
}

// Tags returns an object's tags.
func (s *localS3) Tags(bucket, key string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.tags[bucket+"/"+key] {
		out[k] = v
	}
	return out
}

func (s *localS3) tagging(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if _, _, ok := s.objectETag(bucket, key); !ok {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", err.Error())
			return
		}
		tags, err := parseTaggingXML(b)
		if err != nil {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidTag", err.Error())
			return
		}
		s.setTags(bucket, key, tags)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(taggingXML(s.Tags(bucket, key)))
	case http.MethodDelete:
		s.setTags(bucket, key, nil)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeS3Error(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}

// putObject is PutObject and CopyObject: the new object's tags are the
// x-amz-tagging header's (a copy keeps the source's unless told to
// replace them).
func (s *localS3) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	tags, err := parseTaggingHeader(r.Header.Get("X-Amz-Tagging"))
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidTag", err.Error())
		return
	}
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && !strings.EqualFold(r.Header.Get("X-Amz-Tagging-Directive"), "REPLACE") {
		if u, err := url.PathUnescape(strings.SplitN(src, "?", 2)[0]); err == nil {
			sb, sk := splitPath("/" + strings.TrimPrefix(u, "/"))
			tags = s.Tags(sb, sk)
		}
	}
	// The tags are the object's from the moment it exists: its
	// ObjectCreated event may be handled before this answer is sent.
	prev := s.swapTags(bucket, key, tags)
	cw := &statusWriter{ResponseWriter: w}
	s.inner.ServeHTTP(cw, r)
	if cw.status >= 300 {
		s.setTags(bucket, key, prev)
	}
}

// swapTags sets an object's tags and returns the ones it had.
func (s *localS3) swapTags(bucket, key string, tags map[string]string) map[string]string {
	prev := s.Tags(bucket, key)
	s.setTags(bucket, key, tags)
	return prev
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

var etagElement = regexp.MustCompile(`<ETag>[^<]*</ETag>`)

var contentsElement = regexp.MustCompile(`(?s)<Contents>.*?</Contents>`)

// listObjects is ListObjects (V1 or V2) with each multipart object's S3
// ETag (md5-of-md5s-N), as HEAD and GET give it, where gofakes3 lists the
// MD5 of the whole object.
func (s *localS3) listObjects(w http.ResponseWriter, r *http.Request, bucket string) {
	rec := s.record(r)
	if rec.Code == http.StatusOK {
		urlEncoded := r.URL.Query().Get("encoding-type") == "url"
		out := contentsElement.ReplaceAllFunc(rec.Body.Bytes(), func(c []byte) []byte {
			var entry struct{ Key string }
			if xml.Unmarshal(c, &entry) != nil {
				return c
			}
			key := entry.Key
			if urlEncoded {
				if k, err := url.QueryUnescape(key); err == nil {
					key = k
				}
			}
			obj, err := s.backend.HeadObject(bucket, key)
			if err != nil || obj == nil {
				return c
			}
			_ = obj.Contents.Close()
			etag := obj.Metadata[multipartETagMeta]
			if etag == "" {
				return c
			}
			return etagElement.ReplaceAll(c, []byte("<ETag>"+strings.ReplaceAll(etag, `"`, "&#34;")+"</ETag>"))
		})
		rec.Body = bytes.NewBuffer(out)
	}
	copyS3Response(w, rec)
}

// deleteObjects is DeleteObjects: each key is authorised on its own, and a
// key the caller may not delete is reported AccessDenied in the result.
func (s *localS3) deleteObjects(w http.ResponseWriter, r *http.Request, caller, bucket string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", err.Error())
		return
	}
	var in struct {
		Quiet   bool `xml:"Quiet"`
		Objects []struct {
			Key string `xml:"Key"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &in); err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		return
	}
	type errEntry struct {
		Key, Code, Message string
	}
	var denied []errEntry
	var allowedKeys []string
	for _, o := range in.Objects {
		if err := s.iam.check(caller, authz{action: "s3:DeleteObject", resource: "arn:aws:s3:::" + bucket + "/" + o.Key}); err != nil {
			denied = append(denied, errEntry{Key: o.Key, Code: "AccessDenied", Message: "Access Denied"})
			continue
		}
		allowedKeys = append(allowedKeys, o.Key)
	}
	type deleted struct{ Key string }
	var result struct {
		XMLName xml.Name   `xml:"DeleteResult"`
		Deleted []deleted  `xml:"Deleted"`
		Errors  []errEntry `xml:"Error"`
	}
	if len(allowedKeys) > 0 {
		res, err := s.backend.DeleteMulti(bucket, allowedKeys...)
		if err != nil {
			writeS3Error(w, r, http.StatusInternalServerError, "InternalError", err.Error())
			return
		}
		for _, d := range res.Deleted {
			s.setTags(bucket, d.Key, nil)
			if !in.Quiet {
				result.Deleted = append(result.Deleted, deleted{Key: d.Key})
			}
		}
		for _, e := range res.Error {
			result.Errors = append(result.Errors, errEntry{Key: e.Key, Code: string(e.Code), Message: e.Message})
		}
	}
	result.Errors = append(result.Errors, denied...)
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(result)
}

// formPost is a browser's form upload: checked against its signed policy,
// authorised for the signer, and its tagging field kept.
func (s *localS3) formPost(w http.ResponseWriter, r *http.Request, bucket string) {
	status, code, msg := checkPostPolicy(r, s.clock.Now(), s.iam)
	if status != 0 {
		writeS3Error(w, r, status, code, msg)
		return
	}
	form := r.MultipartForm.Value
	field := func(name string) string {
		for k, v := range form {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	key := field("key")
	if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
		key = strings.ReplaceAll(key, "${filename}", fh[0].Filename)
	}
	caller, _, _ := strings.Cut(field("x-amz-credential"), "/")
	var tags map[string]string
	steps := []authz{{action: "s3:PutObject", resource: "arn:aws:s3:::" + bucket + "/" + key}}
	if t := field("tagging"); t != "" {
		var err error
		if tags, err = parseTaggingXML([]byte(t)); err != nil {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidTag", err.Error())
			return
		}
		steps = append(steps, authz{action: "s3:PutObjectTagging", resource: "arn:aws:s3:::" + bucket + "/" + key})
	}
	if err := s.iam.check(caller, steps...); err != nil {
		s.deny(w, r, err)
		return
	}
	prev := s.swapTags(bucket, key, tags)
	sw := &statusWriter{ResponseWriter: w}
	s.inner.ServeHTTP(sw, r)
	if sw.status >= 300 {
		s.setTags(bucket, key, prev)
	}
}

// cors answers CORS as S3 does from the bucket's rules; it reports true
// when it answered the request (a preflight). A bucket without a
// configuration (handler tests' S3) allows any origin.
func (s *localS3) cors(w http.ResponseWriter, r *http.Request, bucket string) bool {
	origin := r.Header.Get("Origin")
	s.mu.Lock()
	cfg := s.buckets[bucket]
	s.mu.Unlock()
	preflight := r.Method == http.MethodOptions
	if cfg == nil {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "ETag, Location")
		if preflight {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE")
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				w.Header().Set("Access-Control-Allow-Headers", h)
			}
			w.WriteHeader(http.StatusOK)
		}
		return preflight
	}
	if origin == "" {
		if preflight {
			writeS3Error(w, r, http.StatusBadRequest, "BadRequest", "Insufficient information. Origin request header needed.")
		}
		return preflight
	}
	method := r.Method
	var reqHeaders []string
	if preflight {
		method = r.Header.Get("Access-Control-Request-Method")
		for h := range strings.SplitSeq(r.Header.Get("Access-Control-Request-Headers"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				reqHeaders = append(reqHeaders, strings.ToLower(h))
			}
		}
	}
	for _, rule := range cfg.cors {
		if !matchAny(rule.origins, origin, false) || !slices.Contains(rule.methods, method) {
			continue
		}
		if !slices.ContainsFunc(reqHeaders, func(h string) bool { return !matchAny(rule.headers, h, true) }) {
			allow := origin
			if slices.Contains(rule.origins, "*") {
				allow = "*"
			}
			w.Header().Set("Access-Control-Allow-Origin", allow)
			w.Header().Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
			if len(rule.expose) > 0 {
				w.Header().Set("Access-Control-Expose-Headers", strings.Join(rule.expose, ", "))
			}
			if preflight {
				w.Header().Set("Access-Control-Allow-Methods", strings.Join(rule.methods, ", "))
				if len(reqHeaders) > 0 {
					w.Header().Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
				}
				if rule.maxAge > 0 {
					w.Header().Set("Access-Control-Max-Age", strconv.Itoa(rule.maxAge))
				}
				w.WriteHeader(http.StatusOK)
			}
			return preflight
		}
	}
	if preflight {
		writeS3Error(w, r, http.StatusForbidden, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
	}
	return preflight
}

// applyLifecycle runs the buckets' lifecycle rules at now: objects expire
// at the first midnight UTC at least ExpirationInDays after they were
// written (as S3 rounds), and incomplete multipart uploads are aborted
// DaysAfterInitiation after they began.
func (s *localS3) applyLifecycle(now time.Time) {
	s.mu.Lock()
	buckets := map[string]*bucketConfig{}
	for b, c := range s.buckets {
		if len(c.lifecycle) > 0 {
			buckets[b] = c
		}
	}
	s.mu.Unlock()
	for _, u := range s.uploadsDue(now, buckets) {
		s.endUpload(u)
	}
	for bucket, cfg := range buckets {
		page := gofakes3.ListBucketPage{}
		for {
			list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{}, page)
			if err != nil {
				break
			}
			for _, obj := range list.Contents {
				tags := s.Tags(bucket, obj.Key)
				for _, rule := range cfg.lifecycle {
					if rule.expireDays <= 0 || !strings.HasPrefix(obj.Key, rule.prefix) || !tagsMatch(rule.tags, tags) {
						continue
					}
					if !now.Before(lifecycleDue(obj.LastModified.Time, rule.expireDays)) {
						if _, err := s.backend.DeleteObject(bucket, obj.Key); err == nil {
							s.setTags(bucket, obj.Key, nil)
						}
						break
					}
				}
			}
			if !list.IsTruncated || len(list.Contents) == 0 {
				break
			}
			page = gofakes3.ListBucketPage{Marker: list.Contents[len(list.Contents)-1].Key, HasMarker: true}
		}
	}
}

// lifecycleDue is when a lifecycle action falls due: days after t, rounded
// up to the next midnight UTC.
func lifecycleDue(t time.Time, days int) time.Time {
	d := t.UTC().Add(time.Duration(days) * 24 * time.Hour)
	mid := d.Truncate(24 * time.Hour)
	if mid.Before(d) {
		mid = mid.Add(24 * time.Hour)
	}
	return mid
}

func tagsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
