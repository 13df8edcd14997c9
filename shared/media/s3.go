package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectGetter is the one S3 call an ObjectReader makes.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ ObjectGetter = (*s3.Client)(nil)

// ObjectReader reads an S3 object with ranged GETs, so Inspect can look at a
// clip without downloading it. Each ReadAt is one GET of exactly the bytes
// asked for. With ETag set, every GET is conditional on it, so a clip that
// is replaced while it is being inspected fails the read instead of mixing
// two files.
type ObjectReader struct {
	Ctx    context.Context
	S3     ObjectGetter
	Bucket string
	Key    string
	ETag   string
	Size   int64

	bytes atomic.Int64
	calls atomic.Int64
}

// ReadAt reads len(p) bytes at off (fewer only at the end of the object).
func (r *ObjectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("media: negative offset")
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= r.Size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.Size) - 1
	in := &s3.GetObjectInput{
		Bucket: aws.String(r.Bucket),
		Key:    aws.String(r.Key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
	}
	if r.ETag != "" {
		in.IfMatch = aws.String(r.ETag)
	}
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	out, err := r.S3.GetObject(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("media: get %d bytes at %d: %w", end-off+1, off, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off+1])
	r.calls.Add(1)
	r.bytes.Add(int64(n))
	if err != nil {
		return n, fmt.Errorf("media: read %d bytes at %d: %w", end-off+1, off, err)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Read reports the GETs made and the bytes they returned.
func (r *ObjectReader) Read() (calls, bytes int64) { return r.calls.Load(), r.bytes.Load() }
