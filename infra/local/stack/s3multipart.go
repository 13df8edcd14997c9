package stack

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The local S3's multipart uploads, kept here rather than by gofakes3,
// whose uploader hashes each part under one lock for every upload, pages
// ListParts wrongly, takes parts out of order, and completes by copying the
// whole object twice and hashing it again.
//
// As S3 documents them:
//   - a part is 1 to 10,000, its ETag the MD5 of its bytes (hashed as it
//     arrives, each part on its own request); uploading a part number
//     again replaces it;
//   - CompleteMultipartUpload names the parts in ascending order
//     (InvalidPartOrder), each uploaded with that ETag (InvalidPart), every
//     one but the last at least 5 MiB (EntityTooSmall); the object is the
//     parts in that order and its ETag the MD5 of the parts' binary MD5s,
//     a dash and the number of parts. The parts become the object as they
//     are: completing copies and hashes no object bytes;
//   - an upload completed or aborted is gone (NoSuchUpload), so are its
//     parts; ListParts pages by part number, ListMultipartUploads by key
//     and upload (in the order they were begun).

// maxPartSize is S3's largest part (5 GiB).
const maxPartSize = 5 << 30

// multipartUpload is what S3 keeps of an upload in progress.
type multipartUpload struct {
	id, bucket, key string
	initiated       time.Time
	meta            map[string]string // the object's, from CreateMultipartUpload
	tags            map[string]string

	mu    sync.Mutex
	parts map[int]*uploadedPart
	done  bool // completed or aborted
}

type uploadedPart struct {
	body     []byte
	md5      [md5.Size]byte
	modified time.Time
}

func (p *uploadedPart) etag() string { return `"` + hex.EncodeToString(p.md5[:]) + `"` }

var uploadSeq atomic.Uint64

// newUploadID is an opaque upload id; ids sort in the order uploads began,
// as ListMultipartUploads lists them.
func newUploadID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x", uploadSeq.Add(1)) + base64.RawURLEncoding.EncodeToString(b[:])
}

// upload is the upload id names, if it is in progress for bucket/key.
func (s *localS3) upload(bucket, key, id string) *multipartUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil || u.bucket != bucket || u.key != key {
		return nil
	}
	return u
}

func noSuchUpload(w http.ResponseWriter, r *http.Request) {
	writeS3Error(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

func (s *localS3) bucketExists(w http.ResponseWriter, r *http.Request, bucket string) bool {
	if ok, _ := s.backend.BucketExists(bucket); !ok {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return false
	}
	return true
}

// objectMeta is what S3 keeps of a request's headers as the object's
// metadata.
func objectMeta(h http.Header) map[string]string {
	meta := map[string]string{}
	for k, v := range h {
		switch {
		case strings.HasPrefix(k, "X-Amz-Meta-"), k == "Content-Type", k == "Content-Disposition",
			k == "Content-Encoding", k == "Content-Language", k == "Cache-Control", k == "Expires":
			meta[k] = v[0]
		}
	}
	if meta["Content-Type"] == "" {
		meta["Content-Type"] = "binary/octet-stream"
	}
	return meta
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}

const s3xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

func (s *localS3) createMultipart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	tags, err := parseTaggingHeader(r.Header.Get("X-Amz-Tagging"))
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidTag", err.Error())
		return
	}
	if !s.bucketExists(w, r, bucket) {
		return
	}
	if len(key) > 1024 {
		writeS3Error(w, r, http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
		return
	}
	u := &multipartUpload{id: newUploadID(), bucket: bucket, key: key, initiated: s.clock.Now(),
		meta: objectMeta(r.Header), tags: tags, parts: map[int]*uploadedPart{}}
	s.mu.Lock()
	s.uploads[u.id] = u
	s.mu.Unlock()
	writeXML(w, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{Xmlns: s3xmlns, Bucket: bucket, Key: key, UploadID: u.id})
}

// uploadPart is UploadPart: the part's bytes are read whole (its length is
// Content-Length) and hashed as they arrive, on the request's own
// goroutine.
func (s *localS3) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	q := r.URL.Query()
	fail := func(status int, code, msg string) {
		// Read the body first, so a browser sees the error rather than a
		// connection closed while it was still sending.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxPartSize))
		writeS3Error(w, r, status, code, msg)
	}
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		fail(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		return
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		fail(http.StatusNotImplemented, "NotImplemented", "UploadPartCopy is not implemented by the local S3.")
		return
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		fail(http.StatusNotImplemented, "NotImplemented", "aws-chunked part uploads are not implemented by the local S3.")
		return
	}
	u := s.upload(bucket, key, id)
	if u == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxPartSize))
		noSuchUpload(w, r)
		return
	}
	if r.ContentLength < 0 {
		fail(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		return
	}
	if r.ContentLength > maxPartSize {
		fail(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		return
	}
	// Hashed as it arrives, so that the part's MD5 is ready when its last
	// byte is.
	body := make([]byte, r.ContentLength)
	h := md5.New()
	for off := 0; off < len(body); {
		n, err := r.Body.Read(body[off:min(off+1<<20, len(body))])
		h.Write(body[off : off+n])
		off += n
		if err != nil && off < len(body) {
			writeS3Error(w, r, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
			return
		}
	}
	p := &uploadedPart{body: body, modified: s.clock.Now()}
	h.Sum(p.md5[:0])
	if cm := r.Header.Get("Content-Md5"); cm != "" {
		want, err := base64.StdEncoding.DecodeString(cm)
		if err != nil || len(want) != md5.Size {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
			return
		}
		if !bytes.Equal(want, p.md5[:]) {
			writeS3Error(w, r, http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
			return
		}
	}
	u.mu.Lock()
	done := u.done
	if !done {
		u.parts[n] = p
	}
	u.mu.Unlock()
	if done {
		noSuchUpload(w, r)
		return
	}
	w.Header().Set("ETag", p.etag())
	w.WriteHeader(http.StatusOK)
}

// queryInt is a query parameter's integer value, def when absent, capped
// at most; ok is false when it is not a non-negative integer.
func queryInt(q url.Values, name string, def, most int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return min(n, most), true
}

type xmlOwner struct {
	ID          string
	DisplayName string
}

var localOwner = &xmlOwner{ID: "local", DisplayName: "local"}

// listParts is ListParts: the parts after part-number-marker, in order,
// max-parts (at most 1,000) to a page.
func (s *localS3) listParts(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	q := r.URL.Query()
	maxParts, ok1 := queryInt(q, "max-parts", 1000, 1000)
	marker, ok2 := queryInt(q, "part-number-marker", 0, 10000)
	if !ok1 || !ok2 {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "max-parts and part-number-marker must be non-negative integers")
		return
	}
	u := s.upload(bucket, key, id)
	if u == nil {
		noSuchUpload(w, r)
		return
	}
	type part struct {
		PartNumber   int
		LastModified string
		ETag         string
		Size         int64
	}
	out := struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		Xmlns                string   `xml:"xmlns,attr"`
		Bucket, Key          string
		UploadID             string `xml:"UploadId"`
		PartNumberMarker     int
		NextPartNumberMarker int
		MaxParts             int
		IsTruncated          bool
		Parts                []part `xml:"Part"`
		Initiator, Owner     *xmlOwner
		StorageClass         string
	}{Xmlns: s3xmlns, Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker, MaxParts: maxParts,
		Initiator: localOwner, Owner: localOwner, StorageClass: "STANDARD"}
	u.mu.Lock()
	nums := make([]int, 0, len(u.parts))
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if len(out.Parts) == maxParts {
			out.IsTruncated = true
			break
		}
		p := u.parts[n]
		out.Parts = append(out.Parts, part{PartNumber: n, LastModified: p.modified.UTC().Format(time.RFC3339Nano),
			ETag: p.etag(), Size: int64(len(p.body))})
		out.NextPartNumberMarker = n
	}
	u.mu.Unlock()
	writeXML(w, out)
}

// listUploads is ListMultipartUploads: the bucket's uploads in progress
// under prefix, by key and then in the order they began, after
// key-marker (and upload-id-marker), max-uploads (at most 1,000) to a
// page; keys with the delimiter after the prefix roll up into
// CommonPrefixes.
func (s *localS3) listUploads(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	maxUploads, ok := queryInt(q, "max-uploads", 1000, 1000)
	if !ok {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "max-uploads must be a non-negative integer")
		return
	}
	if !s.bucketExists(w, r, bucket) {
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = ""
	}
	s.mu.Lock()
	var ups []*multipartUpload
	for _, u := range s.uploads {
		if u.bucket != bucket || !strings.HasPrefix(u.key, prefix) {
			continue
		}
		if keyMarker != "" && (u.key < keyMarker || u.key == keyMarker && (idMarker == "" || u.id <= idMarker)) {
			continue
		}
		ups = append(ups, u)
	}
	s.mu.Unlock()
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].key != ups[j].key {
			return ups[i].key < ups[j].key
		}
		return ups[i].id < ups[j].id
	})
	type upload struct {
		Key              string
		UploadID         string `xml:"UploadId"`
		Initiator, Owner *xmlOwner
		StorageClass     string
		Initiated        string
	}
	type commonPrefix struct{ Prefix string }
	out := struct {
		XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
		Xmlns              string   `xml:"xmlns,attr"`
		Bucket             string
		KeyMarker          string
		UploadIDMarker     string `xml:"UploadIdMarker"`
		NextKeyMarker      string
		NextUploadIDMarker string `xml:"NextUploadIdMarker"`
		Prefix             string
		Delimiter          string `xml:",omitempty"`
		MaxUploads         int
		IsTruncated        bool
		Uploads            []upload       `xml:"Upload"`
		CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
	}{Xmlns: s3xmlns, Bucket: bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, Delimiter: delim, MaxUploads: maxUploads}
	n := 0
	for _, u := range ups {
		cp := ""
		if delim != "" {
			if i := strings.Index(u.key[len(prefix):], delim); i >= 0 {
				cp = u.key[:len(prefix)+i+len(delim)]
			}
		}
		if cp != "" && len(out.CommonPrefixes) > 0 && out.CommonPrefixes[len(out.CommonPrefixes)-1].Prefix == cp {
			out.NextKeyMarker, out.NextUploadIDMarker = u.key, u.id
			continue
		}
		if n == maxUploads {
			out.IsTruncated = true
			break
		}
		n++
		out.NextKeyMarker, out.NextUploadIDMarker = u.key, u.id
		if cp != "" {
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{cp})
			continue
		}
		out.Uploads = append(out.Uploads, upload{Key: u.key, UploadID: u.id, Initiator: localOwner, Owner: localOwner,
			StorageClass: "STANDARD", Initiated: u.initiated.UTC().Format(time.RFC3339Nano)})
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	writeXML(w, out)
}

func (s *localS3) abortMultipart(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	u := s.upload(bucket, key, id)
	if u == nil || !s.endUpload(u) {
		noSuchUpload(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endUpload removes an upload in progress and reports whether it was.
func (s *localS3) endUpload(u *multipartUpload) bool {
	u.mu.Lock()
	was := !u.done
	u.done, u.parts = true, nil
	u.mu.Unlock()
	s.mu.Lock()
	delete(s.uploads, u.id)
	s.mu.Unlock()
	return was
}

// completeMultipart is CompleteMultipartUpload (see the top of this file),
// with its conditional writes (If-None-Match: * and If-Match) and the tags
// given at CreateMultipartUpload.
func (s *localS3) completeMultipart(w http.ResponseWriter, r *http.Request, bucket, key, id string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", err.Error())
		return
	}
	var in struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Parts) == 0 {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		return
	}
	u := s.upload(bucket, key, id)
	if u == nil {
		noSuchUpload(w, r)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		noSuchUpload(w, r)
		return
	}
	for i := 1; i < len(in.Parts); i++ {
		if in.Parts[i].PartNumber <= in.Parts[i-1].PartNumber {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
			return
		}
	}
	bodies := make([][]byte, len(in.Parts))
	sum := md5.New()
	for i, p := range in.Parts {
		up := u.parts[p.PartNumber]
		if up == nil || strings.Trim(p.ETag, `" `) != hex.EncodeToString(up.md5[:]) {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
			return
		}
		if size := int64(len(up.body)); i < len(in.Parts)-1 && size < minPartSize {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			_ = xml.NewEncoder(w).Encode(struct {
				XMLName                                         xml.Name `xml:"Error"`
				Code, Message                                   string
				ProposedSize, MinSizeAllowed, PartNumber, Index int64
				ETag                                            string
			}{Code: "EntityTooSmall", Message: "Your proposed upload is smaller than the minimum allowed object size.",
				ProposedSize: size, MinSizeAllowed: minPartSize, PartNumber: int64(p.PartNumber), Index: int64(i), ETag: up.etag()})
			return
		}
		bodies[i] = up.body
		sum.Write(up.md5[:])
	}
	hash := sum.Sum(nil)
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(hash), len(in.Parts))
	if old, _, exists := s.objectETag(bucket, key); r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != "" {
		if inm := r.Header.Get("If-None-Match"); inm != "" && exists && (inm == "*" || etagIn(inm, old)) {
			writeS3Error(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
		if im := r.Header.Get("If-Match"); im != "" && !exists {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		} else if im != "" && !etagIn(im, old) {
			writeS3Error(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
	}
	meta := make(map[string]string, len(u.meta)+1)
	for k, v := range u.meta {
		meta[k] = v
	}
	meta[multipartETagMeta] = etag
	// The tags are the object's from the moment it exists: its
	// ObjectCreated event may be handled before this answer is sent.
	prev := s.swapTags(bucket, key, u.tags)
	if err := s.backend.putParts(bucket, key, meta, bodies, hash, etag); err != nil {
		s.setTags(bucket, key, prev)
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	u.done, u.parts = true, nil
	s.mu.Lock()
	delete(s.uploads, u.id)
	s.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeXML(w, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{Xmlns: s3xmlns, Location: scheme + "://" + r.Host + "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath(), Bucket: bucket, Key: key, ETag: etag})
}

// uploadsDue lists the uploads in progress a lifecycle rule aborts at now.
func (s *localS3) uploadsDue(now time.Time, buckets map[string]*bucketConfig) []*multipartUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*multipartUpload
	for _, u := range s.uploads {
		c := buckets[u.bucket]
		if c == nil {
			continue
		}
		if slices.ContainsFunc(c.lifecycle, func(rule lifecycleRule) bool {
			return rule.abortDays > 0 && strings.HasPrefix(u.key, rule.prefix) && !now.Before(lifecycleDue(u.initiated, rule.abortDays))
		}) {
			due = append(due, u)
		}
	}
	return due
}
