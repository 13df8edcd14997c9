package stack

import (
	"fmt"
	"io"
	"net/http"

	"github.com/johannesboyne/gofakes3"
)

// s3Backend wraps gofakes3's backend so that objects written by PutObject
// (which completed multipart uploads and CopyObject go through too) raise
// S3 ObjectCreated notifications, as the real bucket's notification
// configuration does.
type s3Backend struct {
	gofakes3.Backend
	onCreated func(bucket, key string, size int64, etag string)
}

func (b *s3Backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	res, err := b.Backend.PutObject(bucket, key, meta, input, size, conditions)
	if err == nil && b.onCreated != nil {
		b.onCreated(bucket, key, size, "")
	}
	return res, err
}

func (b *s3Backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	res, err := b.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
	if err == nil && b.onCreated != nil {
		b.onCreated(dstBucket, dstKey, -1, res.ETag)
	}
	return res, err
}

// exposeHeaders lets browser scripts read ETag (needed for multipart
// uploads) and Location on every S3 response, not only on preflights.
func exposeHeaders(h http.Handler, faults *Faults) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Expose-Headers", "ETag, Location")
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			if f, ok := faults.take("s3", r.Method); ok {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				http.Error(w, f.Message, f.Status)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// s3Mapping delivers ObjectCreated notifications for a bucket to a function.
type s3Mapping struct {
	fn     *function
	bucket string
	prefix string
	suffix string
}

// wireS3 wires an S3 event of a function (issue: video clips).
func (s *Stack) wireS3(res Resolver, fn *function, ev Event) error {
	return fmt.Errorf("S3 events are not wired in the local stack yet")
}

func (s *Stack) onObjectCreated(bucket, key string, size int64, etag string) {}
