package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object is what a HEAD tells about an object.
type Object struct {
	Key  string
	Size int64
	ETag string
}

// Head returns key's size and ETag: ErrNotFound if it does not exist,
// ErrAccessDenied if S3 will not say (a missing key without s3:ListBucket).
func (b *Bucket) Head(ctx context.Context, key string) (Object, error) {
	out, err := b.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return Object{}, b.classify("head", key, err)
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag)}, nil
}

// Put writes body to key.
func (b *Bucket) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := b.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.name),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
	})
	return b.classify("put", key, err)
}

// Get reads the whole of key (at most max bytes): for small objects such
// as exports, never clips.
func (b *Bucket) Get(ctx context.Context, key string, max int64) ([]byte, error) {
	out, err := b.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return nil, b.classify("get", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, max))
	return body, b.classify("get", key, err)
}

// Delete deletes key. Deleting a key that is gone already succeeds, so a
// repeated step is safe.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err = b.classify("delete", key, err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// SetStatus sets key's status tag (story.ClipVerified and so on), which the
// bucket's lifecycle rules read. It replaces every other tag.
func (b *Bucket) SetStatus(ctx context.Context, key, status string) error {
	_, err := b.api.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket:  aws.String(b.name),
		Key:     aws.String(key),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String(StatusTag), Value: aws.String(status)}}},
	})
	return b.classify("tag", key, err)
}

// List returns every key under prefix, page by page.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(b.api, &s3.ListObjectsV2Input{Bucket: aws.String(b.name), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, b.classify("list", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// DeleteAll deletes every object under prefix, a thousand per call, and
// returns how many it deleted. It stops at the first failure; calling it
// again carries on.
func (b *Bucket) DeleteAll(ctx context.Context, prefix string) (int, error) {
	keys, err := b.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for start := 0; start < len(keys); start += 1000 {
		batch := keys[start:min(start+1000, len(keys))]
		objs := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := b.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.name),
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return deleted, b.classify("delete", prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return deleted, fmt.Errorf("s3 delete s3://%s/%s: %d objects could not be deleted, the first %s: %s",
				b.name, prefix, len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code))
		}
		deleted += len(batch)
	}
	return deleted, nil
}

// PresignGet signs a GET of key that lasts expiry and downloads as an
// attachment named filename (which must need no quoting).
func (b *Bucket) PresignGet(ctx context.Context, key, filename string, expiry time.Duration) (string, error) {
	signed, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(b.name),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(`attachment; filename="` + filename + `"`),
	}, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", b.classify("presign get", key, err)
	}
	return signed.URL, nil
}

// Reader reads one object with ranged GETs, so a clip can be inspected
// without downloading it. Each ReadAt is one GET of exactly the bytes asked
// for, conditional on the ETag the object had when the Reader was made: a
// clip replaced while it is read fails the read instead of mixing two files.
type Reader struct {
	ctx context.Context
	b   *Bucket
	obj Object

	bytes atomic.Int64
	calls atomic.Int64
}

// Reader returns a Reader of obj (from Head) that makes its calls with ctx.
func (b *Bucket) Reader(ctx context.Context, obj Object) *Reader {
	return &Reader{ctx: ctx, b: b, obj: obj}
}

// ReadAt reads len(p) bytes at off (fewer only at the end of the object).
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("bucket: negative offset")
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= r.obj.Size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.obj.Size) - 1
	in := &s3.GetObjectInput{
		Bucket: aws.String(r.b.name),
		Key:    aws.String(r.obj.Key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
	}
	if r.obj.ETag != "" {
		in.IfMatch = aws.String(r.obj.ETag)
	}
	out, err := r.b.api.GetObject(r.ctx, in)
	if err != nil {
		return 0, r.b.classify(fmt.Sprintf("get %d bytes at %d of", end-off+1, off), r.obj.Key, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off+1])
	r.calls.Add(1)
	r.bytes.Add(int64(n))
	if err != nil {
		return n, fmt.Errorf("s3 read %d bytes at %d of s3://%s/%s: %w", end-off+1, off, r.b.name, r.obj.Key, err)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Stats reports the GETs made so far and the bytes they returned.
func (r *Reader) Stats() (calls, bytes int64) { return r.calls.Load(), r.bytes.Load() }
