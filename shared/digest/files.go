package digest

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/links"
	"frontlinevoices/shared/token"
)

// S3Files keeps exports in an S3 bucket and links to objects through the
// site's /download route: a signed token that lasts ttl, which the download
// function turns into a short presigned GET on each visit. (A presigned URL
// made here would die with this function's session credentials, in hours.)
type S3Files struct {
	client  *s3.Client
	bucket  string
	siteURL string
	signer  token.Signer
	ttl     time.Duration
	now     func() time.Time
}

// NewS3Files returns Files on bucket, with links on siteURL valid for ttl.
func NewS3Files(client *s3.Client, bucket, siteURL string, signer token.Signer, ttl time.Duration) *S3Files {
	return &S3Files{client: client, bucket: bucket, siteURL: siteURL, signer: signer, ttl: ttl, now: time.Now}
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

// Link is a download link to key, offered as filename. Every object lives
// in the one bucket the download function reads, so bucket is not needed.
func (f *S3Files) Link(_ context.Context, _, key, filename string) (string, error) {
	return links.Download(f.signer, f.siteURL, key, safeFilename(filename), f.now().Add(f.ttl)), nil
}
