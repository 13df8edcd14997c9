package digest

import (
	"context"
	"time"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/token"
)

// S3Files keeps exports in an S3 bucket and links to objects through the
// site's /download route: a signed token that lasts ttl, which the download
// function turns into a short presigned GET on each visit. (A presigned URL
// made here would die with this function's session credentials, in hours.)
type S3Files struct {
	bucket  *bucket.Bucket
	siteURL string
	signer  token.Signer
	ttl     time.Duration
	now     func() time.Time
}

// NewS3Files returns Files on bucket, with links on siteURL valid for ttl.
func NewS3Files(b *bucket.Bucket, siteURL string, signer token.Signer, ttl time.Duration) *S3Files {
	return &S3Files{bucket: b, siteURL: siteURL, signer: signer, ttl: ttl, now: time.Now}
}

// Put writes an export.
func (f *S3Files) Put(ctx context.Context, key, contentType string, body []byte) error {
	return f.bucket.Put(ctx, key, contentType, body)
}

// Link is a download link to key, offered as filename: a /download link
// the download function serves from the clips bucket, where Put writes.
func (f *S3Files) Link(ctx context.Context, key, filename string) (string, error) {
	return links.Download(ctx, f.signer, f.siteURL, key, safeFilename(filename), f.now().Add(f.ttl))
}
