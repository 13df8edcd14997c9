package stack

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// memBackend is the local S3's object store in memory (the stack without a
// data directory, and tests): a gofakes3 Backend that keeps each object's
// bytes as the slices they arrived in. A completed multipart upload becomes
// an object made of its parts as they are (putParts), so completing costs
// what it costs on S3 (no copy of the object, no hash of its bytes), and a
// read, whole or ranged, walks the parts.
//
// Unlike gofakes3's s3mem it follows S3 where the project relies on it: a
// PUT replaces an object's metadata (s3mem merges the old object's in), a
// conditional PUT compares the object's S3 ETag (md5-of-md5s-N for a
// multipart object; If-Match of a missing key is NoSuchKey), and a copy of
// a multipart object has the MD5 of its bytes as its ETag.
type memBackend struct {
	clock gofakes3.TimeSource

	mu      sync.RWMutex
	buckets map[string]*memBucket
}

type memBucket struct {
	created time.Time
	objects map[string]*memObject
}

// memObject is never changed once stored: a write replaces it whole, so a
// reader may hold its chunks without a lock.
type memObject struct {
	chunks   [][]byte
	size     int64
	hash     []byte            // MD5 of the bytes; of the parts' MD5s for a multipart object
	meta     map[string]string // as gofakes3 keeps it (Last-Modified, Content-Type, X-Amz-Meta-…)
	modified time.Time
}

// etag is the object's ETag as S3 gives it.
func (o *memObject) etag() string {
	if e := o.meta[multipartETagMeta]; e != "" {
		return e
	}
	return gofakes3.FormatETag(o.hash)
}

var _ gofakes3.Backend = (*memBackend)(nil)

// NewMemoryBackend is the local stack's in-memory S3 store, for an S3 made
// with NewS3.
func NewMemoryBackend(clock gofakes3.TimeSource) gofakes3.Backend {
	if clock == nil {
		clock = gofakes3.DefaultTimeSource()
	}
	return &memBackend{clock: clock, buckets: map[string]*memBucket{}}
}

func (b *memBackend) ListBuckets() ([]gofakes3.BucketInfo, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]gofakes3.BucketInfo, 0, len(b.buckets))
	for name, bk := range b.buckets {
		out = append(out, gofakes3.BucketInfo{Name: name, CreationDate: gofakes3.NewContentTime(bk.created)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListBucket lists keys in order after the page's marker; keys under a
// common prefix count once, and a page that ends on one resumes after all
// of its keys.
func (b *memBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	bk := b.buckets[name]
	if bk == nil {
		return nil, gofakes3.BucketNotFound(name)
	}
	keys := make([]string, 0, len(bk.objects))
	for k := range bk.objects {
		if !page.HasMarker || k > page.Marker {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := gofakes3.NewObjectList()
	var match gofakes3.PrefixMatch
	var n int64
	lastPrefix := ""
	for i, k := range keys {
		if !prefix.Match(k, &match) {
			continue
		}
		if match.CommonPrefix {
			if match.MatchedPart == lastPrefix {
				out.NextMarker = k
				continue
			}
			if page.MaxKeys > 0 && n >= page.MaxKeys {
				out.IsTruncated = true
				break
			}
			out.AddPrefix(match.MatchedPart)
			lastPrefix = match.MatchedPart
		} else {
			if page.MaxKeys > 0 && n >= page.MaxKeys {
				out.IsTruncated = true
				break
			}
			o := bk.objects[k]
			out.Add(&gofakes3.Content{Key: k, LastModified: gofakes3.NewContentTime(o.modified), ETag: o.etag(), Size: o.size})
		}
		n++
		out.NextMarker = keys[i]
	}
	if !out.IsTruncated {
		out.NextMarker = ""
	}
	return out, nil
}

func (b *memBackend) CreateBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets[name] != nil {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
	}
	b.buckets[name] = &memBucket{created: b.clock.Now(), objects: map[string]*memObject{}}
	return nil
}

func (b *memBackend) BucketExists(name string) (bool, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.buckets[name] != nil, nil
}

func (b *memBackend) DeleteBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[name]
	if bk == nil {
		return gofakes3.BucketNotFound(name)
	}
	if len(bk.objects) > 0 {
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	delete(b.buckets, name)
	return nil
}

func (b *memBackend) ForceDeleteBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets[name] == nil {
		return gofakes3.BucketNotFound(name)
	}
	delete(b.buckets, name)
	return nil
}

func (b *memBackend) object(bucket, key string) (*memObject, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	bk := b.buckets[bucket]
	if bk == nil {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	o := bk.objects[key]
	if o == nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	return o, nil
}

func (b *memBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	o, err := b.object(bucket, key)
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{Name: key, Metadata: o.meta, Size: o.size, Hash: o.hash, Contents: io.NopCloser(bytes.NewReader(nil))}, nil
}

func (b *memBackend) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	o, err := b.object(bucket, key)
	if err != nil {
		return nil, err
	}
	rnge, err := rangeRequest.Range(o.size)
	if err != nil {
		return nil, err
	}
	start, n := int64(0), o.size
	if rnge != nil {
		start, n = rnge.Start, rnge.Length
	}
	return &gofakes3.Object{Name: key, Metadata: o.meta, Size: o.size, Hash: o.hash, Range: rnge,
		Contents: io.NopCloser(chunkReader(o.chunks, start, n))}, nil
}

// chunkReader reads n bytes from off of the bytes chunks make in turn.
func chunkReader(chunks [][]byte, off, n int64) io.Reader {
	var rs []io.Reader
	for _, c := range chunks {
		if n <= 0 {
			break
		}
		if off >= int64(len(c)) {
			off -= int64(len(c))
			continue
		}
		c = c[off:]
		off = 0
		if int64(len(c)) > n {
			c = c[:n]
		}
		n -= int64(len(c))
		rs = append(rs, bytes.NewReader(c))
	}
	return io.MultiReader(rs...)
}

// PutObject stores an object read whole from input. The MD5 gofakes3
// computed while the request body went by is taken where input offers it
// (its hashing reader), so that the bytes are hashed once, as S3 does.
func (b *memBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	body, err := gofakes3.ReadAll(input, size)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	var hash []byte
	if h, ok := input.(interface{ Sum([]byte) []byte }); ok {
		hash = h.Sum(nil)
	}
	if len(hash) != md5.Size {
		sum := md5.Sum(body)
		hash = sum[:]
	}
	m := make(map[string]string, len(meta))
	for k, v := range meta {
		if k != multipartETagMeta {
			m[k] = v
		}
	}
	return gofakes3.PutObjectResult{}, b.store(bucket, key, &memObject{chunks: [][]byte{body}, size: size, hash: hash, meta: m}, conditions)
}

// putParts stores a completed multipart upload: the parts, in order, are
// the object's bytes, kept as they are.
func (b *memBackend) putParts(bucket, key string, meta map[string]string, parts [][]byte, hash []byte) error {
	var size int64
	for _, p := range parts {
		size += int64(len(p))
	}
	return b.store(bucket, key, &memObject{chunks: parts, size: size, hash: hash, meta: meta}, nil)
}

func (b *memBackend) store(bucket, key string, o *memObject, conditions *gofakes3.PutConditions) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucket]
	if bk == nil {
		return gofakes3.BucketNotFound(bucket)
	}
	if conditions != nil {
		old := bk.objects[key]
		if conditions.IfNoneMatch != nil && *conditions.IfNoneMatch == "*" && old != nil {
			return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "The object already exists")
		}
		if conditions.IfMatch != nil && old == nil {
			return gofakes3.KeyNotFound(key)
		}
		if conditions.IfMatch != nil && !etagIn(*conditions.IfMatch, old.etag()) {
			return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
		}
	}
	o.modified = b.clock.Now()
	if o.meta == nil {
		o.meta = map[string]string{}
	}
	o.meta["Last-Modified"] = o.modified.UTC().Format(http.TimeFormat)
	bk.objects[key] = o
	return nil
}

func (b *memBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucket]
	if bk == nil {
		return gofakes3.ObjectDeleteResult{}, gofakes3.BucketNotFound(bucket)
	}
	delete(bk.objects, key) // a missing key is no error, as on S3
	return gofakes3.ObjectDeleteResult{}, nil
}

func (b *memBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var res gofakes3.MultiDeleteResult
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[bucket]
	if bk == nil {
		return res, gofakes3.BucketNotFound(bucket)
	}
	for _, k := range keys {
		delete(bk.objects, k)
		res.Deleted = append(res.Deleted, gofakes3.ObjectID{Key: k})
	}
	return res, nil
}

// CopyObject makes dst an object with src's bytes (shared, not copied) and
// the metadata given. A copy is a single-part object: its ETag is the MD5
// of its bytes, computed here for a multipart source.
func (b *memBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	src, err := b.object(srcBucket, srcKey)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	hash := src.hash
	if src.meta[multipartETagMeta] != "" {
		h := md5.New()
		_, _ = io.Copy(h, chunkReader(src.chunks, 0, src.size))
		hash = h.Sum(nil)
	}
	m := map[string]string{}
	for k, v := range meta {
		if k != multipartETagMeta && !strings.EqualFold(k, "X-Amz-Copy-Source") {
			m[k] = v
		}
	}
	o := &memObject{chunks: src.chunks, size: src.size, hash: hash, meta: m}
	if err := b.store(dstBucket, dstKey, o, nil); err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	return gofakes3.CopyObjectResult{ETag: `"` + hex.EncodeToString(hash) + `"`, LastModified: gofakes3.NewContentTime(o.modified)}, nil
}
