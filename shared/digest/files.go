package digest

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Files keeps exports in an S3 bucket and links to objects with
// presigned GET URLs that download as attachments.
//
// A presigned URL stops working when the credentials that signed it expire.
// On Lambda those are the function role's session credentials, which last
// hours, not LinkTTL: see the note in the README's Digest section.
type S3Files struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	ttl     time.Duration
}

// NewS3Files returns Files on bucket, with links valid for ttl.
func NewS3Files(client *s3.Client, bucket string, ttl time.Duration) *S3Files {
	return &S3Files{client: client, presign: s3.NewPresignClient(client), bucket: bucket, ttl: ttl}
}

// ExportBucket is the bucket exports are written to.
func (f *S3Files) ExportBucket() string { return f.bucket }

// Put writes an export.
func (f *S3Files) Put(ctx context.Context, key, contentType string, body []byte) error {
	_, err := f.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(f.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", f.bucket, key, err)
	}
	return nil
}

// Link presigns a GET of bucket/key that downloads as filename.
func (f *S3Files) Link(ctx context.Context, bucket, key, filename string) (string, error) {
	req, err := f.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(`attachment; filename="` + safeFilename(filename) + `"`),
	}, s3.WithPresignExpires(f.ttl))
	if err != nil {
		return "", fmt.Errorf("presign s3://%s/%s: %w", bucket, key, err)
	}
	return req.URL, nil
}
