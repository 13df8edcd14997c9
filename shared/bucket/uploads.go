package bucket

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/shared/story"
)

// S3's multipart limits.
const (
	// MinPartSize is S3's smallest part (all but the last).
	MinPartSize = story.MinPartSize
	// MaxParts is S3's largest part number.
	MaxParts = story.MaxParts
)

// Every upload starts tagged pending, until ingest attaches it to its story;
// the bucket's lifecycle expires pending objects after a day, so an upload
// never attached to a story does not linger.
var pendingTagging = "<Tagging><TagSet><Tag><Key>" + StatusTag + "</Key><Value>" + story.ClipPending + "</Value></Tag></TagSet></Tagging>"

// Post is a signed form POST of one object straight to the bucket.
type Post struct {
	URL    string            // ends in "/"
	Fields map[string]string // every form field the POST must carry
}

// PresignPost signs a browser's form POST of one object of type mime, 1 to
// maxBytes long, to key, tagged pending. It can start until expiry has
// passed.
func (b *Bucket) PresignPost(ctx context.Context, key, mime string, maxBytes int64, expiry time.Duration) (Post, error) {
	post, err := b.presign.PresignPostObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), ContentType: aws.String(mime),
	}, func(o *s3.PresignPostOptions) {
		o.Expires = expiry
		o.Conditions = []any{
			map[string]string{"Content-Type": mime},
			map[string]string{"tagging": pendingTagging},
			[]any{"content-length-range", 1, maxBytes},
		}
	})
	if err != nil {
		return Post{}, b.classify("presign post", key, err)
	}
	fields := post.Values
	fields["Content-Type"] = mime
	fields["tagging"] = pendingTagging
	u := post.URL
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return Post{URL: u, Fields: fields}, nil
}

// CreateUpload starts a multipart upload of an object of type mime to key,
// tagged pending, and returns its id.
func (b *Bucket) CreateUpload(ctx context.Context, key, mime string) (string, error) {
	out, err := b.api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), ContentType: aws.String(mime),
		Tagging: aws.String(StatusTagging(story.ClipPending)),
	})
	if err != nil {
		return "", b.classify("create upload", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// PresignPart signs the PUT of part n of an upload, of exactly length
// bytes (its Content-Length is signed: S3 refuses a body of another
// length), lasting expiry.
func (b *Bucket) PresignPart(ctx context.Context, key, uploadID string, n int32, length int64, expiry time.Duration) (string, error) {
	signed, err := b.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID), PartNumber: aws.Int32(n),
		ContentLength: aws.Int64(length),
	}, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", b.classify("presign part", key, err)
	}
	return signed.URL, nil
}

// Part is one uploaded part.
type Part struct {
	Number int32
	ETag   string // quoted, as S3 gives it
	Size   int64
}

// Parts lists every uploaded part of an upload, page by page:
// ErrNoSuchUpload if the upload is over.
func (b *Bucket) Parts(ctx context.Context, key, uploadID string) ([]Part, error) {
	out := []Part{}
	p := s3.NewListPartsPaginator(b.api, &s3.ListPartsInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, b.classify("list parts", key, err)
		}
		for _, part := range page.Parts {
			out = append(out, Part{Number: aws.ToInt32(part.PartNumber), ETag: aws.ToString(part.ETag), Size: aws.ToInt64(part.Size)})
		}
	}
	return out, nil
}

// CompleteUpload assembles parts (in order, each once) into the object and
// returns its location: ErrBadParts if they do not fit together,
// ErrNoSuchUpload if the upload is over.
func (b *Bucket) CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) (string, error) {
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(QuoteETag(p.ETag))}
	}
	out, err := b.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		return "", b.classify("complete upload", key, err)
	}
	return aws.ToString(out.Location), nil
}

// AbortUpload cancels an upload and deletes its parts. Aborting an upload
// that is over already succeeds, so a repeated step is safe.
func (b *Bucket) AbortUpload(ctx context.Context, key, uploadID string) error {
	_, err := b.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID),
	})
	if err = b.classify("abort upload", key, err); errors.Is(err, ErrNoSuchUpload) {
		return nil
	}
	return err
}

// Upload is a multipart upload in progress.
type Upload struct {
	Key, UploadID string
}

// Uploads lists every multipart upload in progress under prefix, page by
// page: what an erasure must abort, and what an audit looks for.
func (b *Bucket) Uploads(ctx context.Context, prefix string) ([]Upload, error) {
	var out []Upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b.name)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		page, err := b.api.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, b.classify("list uploads", prefix, err)
		}
		for _, u := range page.Uploads {
			out = append(out, Upload{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// QuoteETag normalises an ETag a browser read (quoted or not) to the quoted
// form S3 gives.
func QuoteETag(etag string) string {
	return `"` + strings.Trim(strings.TrimSpace(etag), `"`) + `"`
}
