// Package bucket is the one package that speaks S3, as store is the one that
// speaks DynamoDB. It owns the bucket's layout (where clips and exports are
// kept, the status tag the lifecycle rules read), the signed URLs handed to
// browsers, ranged reads, and what S3's errors mean: a missing object is
// ErrNotFound, a refused call is ErrAccessDenied, an upload that is gone is
// ErrNoSuchUpload, whatever shape the error arrived in.
//
// Like tusd's s3store, it reaches S3 through API, an interface holding only
// the calls it makes, so a test can hand it an emulator-backed client or a
// fault-injecting one.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"frontlinevoices/shared/story"
)

// API is every S3 call this package makes.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	ListParts(ctx context.Context, in *s3.ListPartsInput, opts ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, opts ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

// Presigner is every URL this package signs for a browser.
type Presigner interface {
	PresignPostObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Errors, whatever shape S3 (or an emulator) gave them in. Test with
// errors.Is; the error returned still wraps S3's own.
var (
	// ErrNotFound: the object does not exist (404, NoSuchKey, NotFound).
	ErrNotFound = errors.New("bucket: no such object")
	// ErrAccessDenied: S3 refused the call (403). On AWS a HEAD or GET of
	// a missing key is 403, not 404, unless the role may s3:ListBucket;
	// the error says so, since that is the usual cause.
	ErrAccessDenied = errors.New("bucket: access denied (a missing key is 403 without s3:ListBucket)")
	// ErrNoSuchUpload: the multipart upload was completed, aborted or
	// expired.
	ErrNoSuchUpload = errors.New("bucket: no such upload")
	// ErrBadParts: the parts named do not make an object (a wrong ETag, a
	// missing part, a part under 5 MiB before the last).
	ErrBadParts = errors.New("bucket: the parts do not fit together")
)

// Bucket is one S3 bucket.
type Bucket struct {
	api     API
	presign Presigner
	name    string
}

// New returns the bucket name reached through api. presign may be nil for a
// user that signs nothing.
func New(api API, presign Presigner, name string) *Bucket {
	return &Bucket{api: api, presign: presign, name: name}
}

// FromConfig returns the bucket name with a client made from awsCfg.
// pathStyle addresses the bucket by path (the local S3 needs it).
func FromConfig(awsCfg aws.Config, name string, pathStyle bool) *Bucket {
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		// No SDK-computed checksums: a presigned part URL must not carry
		// the checksum of an empty body, and clips are checked on arrival.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		// Ranged GETs carry no whole-object checksum: do not log that each time.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	p := s3.NewPresignClient(client)
	return New(sdk{
		headObject:              client.HeadObject,
		getObject:               client.GetObject,
		putObject:               client.PutObject,
		deleteObject:            client.DeleteObject,
		deleteObjects:           client.DeleteObjects,
		listObjectsV2:           client.ListObjectsV2,
		putObjectTagging:        client.PutObjectTagging,
		createMultipartUpload:   client.CreateMultipartUpload,
		listParts:               client.ListParts,
		completeMultipartUpload: client.CompleteMultipartUpload,
		abortMultipartUpload:    client.AbortMultipartUpload,
		listMultipartUploads:    client.ListMultipartUploads,
	}, presigner{
		presignPostObject: p.PresignPostObject,
		presignUploadPart: p.PresignUploadPart,
		presignGetObject:  p.PresignGetObject,
	}, name)
}

// sdk and presigner are the SDK's clients seen through API and Presigner,
// as the operations the bucket calls. The clients themselves are never
// reachable from an interface value, not even as a struct field: in a
// binary that executes a template (text/template reaches reflect's
// MethodByName) the linker keeps every exported method of every type that
// is, which for *s3.Client is all 100-odd operations (several MB).
type sdk struct {
	headObject              func(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	getObject               func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	putObject               func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	deleteObject            func(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	deleteObjects           func(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	listObjectsV2           func(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	putObjectTagging        func(context.Context, *s3.PutObjectTaggingInput, ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
	createMultipartUpload   func(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	listParts               func(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	completeMultipartUpload func(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	abortMultipartUpload    func(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	listMultipartUploads    func(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

type presigner struct {
	presignPostObject func(context.Context, *s3.PutObjectInput, ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error)
	presignUploadPart func(context.Context, *s3.UploadPartInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	presignGetObject  func(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var (
	_ API       = sdk{}
	_ Presigner = presigner{}
)

func (s sdk) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return s.headObject(ctx, in, opts...)
}

func (s sdk) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return s.getObject(ctx, in, opts...)
}

func (s sdk) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return s.putObject(ctx, in, opts...)
}

func (s sdk) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return s.deleteObject(ctx, in, opts...)
}

func (s sdk) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	return s.deleteObjects(ctx, in, opts...)
}

func (s sdk) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return s.listObjectsV2(ctx, in, opts...)
}

func (s sdk) PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	return s.putObjectTagging(ctx, in, opts...)
}

func (s sdk) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return s.createMultipartUpload(ctx, in, opts...)
}

func (s sdk) ListParts(ctx context.Context, in *s3.ListPartsInput, opts ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	return s.listParts(ctx, in, opts...)
}

func (s sdk) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return s.completeMultipartUpload(ctx, in, opts...)
}

func (s sdk) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, opts ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	return s.listMultipartUploads(ctx, in, opts...)
}

func (s sdk) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return s.abortMultipartUpload(ctx, in, opts...)
}

func (p presigner) PresignPostObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignPostOptions)) (*s3.PresignedPostRequest, error) {
	return p.presignPostObject(ctx, in, opts...)
}

func (p presigner) PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	return p.presignUploadPart(ctx, in, opts...)
}

func (p presigner) PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	return p.presignGetObject(ctx, in, opts...)
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// The bucket's layout. Keys hold story ids and random ids, never anything a
// volunteer typed or named.
const (
	// ClipsPrefix holds clips, at clips/<storyId>/<clipId>.<ext>.
	ClipsPrefix = "clips/"
	// ExportsPrefix holds the digest's exports; the lifecycle deletes them
	// after 7 days.
	ExportsPrefix = "exports/"
	// StatusTag is the object tag holding a clip's status (story.ClipPending
	// and so on); the bucket's lifecycle rules read it.
	StatusTag = "fv-status"
)

// ClipPrefix is where story storyID's clips are kept.
func ClipPrefix(storyID string) string { return ClipsPrefix + storyID + "/" }

// NewClipKey returns a new key for a clip of story storyID: made by the
// server, random, and free of anything the volunteer typed or named.
func NewClipKey(storyID string, t story.ClipType) string {
	return ClipPrefix(storyID) + story.NewID() + "." + t.Ext
}

// ParseClipKey returns the story id of a key NewClipKey made.
func ParseClipKey(key string) (storyID string, ok bool) {
	rest, ok := strings.CutPrefix(key, "clips/")
	if !ok {
		return "", false
	}
	storyID, name, ok := strings.Cut(rest, "/")
	id, ext, ok2 := strings.Cut(name, ".")
	if !ok || !ok2 || !story.ValidID(storyID) || !story.ValidID(id) || (ext != "mp4" && ext != "mov" && ext != "webm") {
		return "", false
	}
	return storyID, true
}

// Downloadable reports whether a download link may name key: clips and
// exports, nothing else in the bucket.
func Downloadable(key string) bool {
	if strings.Contains(key, "..") {
		return false
	}
	return strings.HasPrefix(key, ClipsPrefix) || strings.HasPrefix(key, ExportsPrefix)
}

// StatusTagging is the tag set of a clip with status, in the form a POST
// policy and CreateMultipartUpload take.
func StatusTagging(status string) string { return StatusTag + "=" + status }

// classify wraps err (from an S3 call op on key) so that errors.Is finds
// this package's sentinel errors in it, and names the call and key.
func (b *Bucket) classify(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch code, status := errorCode(err); {
	case code == "NoSuchUpload":
		sentinel = ErrNoSuchUpload
	case code == "NotFound" || code == "NoSuchKey" || status == 404:
		sentinel = ErrNotFound
	case code == "AccessDenied" || code == "Forbidden" || status == 403:
		sentinel = ErrAccessDenied
	case strings.HasPrefix(code, "InvalidPart") || code == "EntityTooSmall":
		sentinel = ErrBadParts
	}
	if sentinel != nil {
		return fmt.Errorf("s3 %s s3://%s/%s: %w: %w", op, b.name, key, sentinel, err)
	}
	return fmt.Errorf("s3 %s s3://%s/%s: %w", op, b.name, key, err)
}

// errorCode is the S3 error code of err and the HTTP status it came with (a
// HEAD has no body, so its only code is the status).
func errorCode(err error) (string, int) {
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case is[*types.NoSuchUpload](err):
		return "NoSuchUpload", status
	case is[*types.NoSuchKey](err):
		return "NoSuchKey", status
	case is[*types.NotFound](err):
		return "NotFound", status
	}
	if api, ok := errors.AsType[smithy.APIError](err); ok {
		return api.ErrorCode(), status
	}
	return "", status
}

func is[T error](err error) bool {
	_, ok := errors.AsType[T](err)
	return ok
}
