// Package ingest handles S3 ObjectCreated events for the clips bucket: it
// checks each new clip without trusting what the browser declared (its size
// from a HEAD, its container from the first bytes, its duration from the
// container, all through a few ranged GETs) and records it under its story
// as verified, or deletes it and records why.
//
// Events arrive at least once: every record is written conditionally, so
// however often an event is delivered the story gets one clip record. An
// error returned to Lambda means "deliver this again" and is kept for real
// faults; a bad clip is an answer, not an error.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/shared/config"
	"frontlinevoices/shared/media"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// Config is the ingest function's configuration.
type Config struct {
	TableName   string        `env:"TABLE_NAME,required"`
	MaxBytes    int64         `env:"MAX_CLIP_BYTES" default:"524288000"`
	MaxClips    int           `env:"MAX_CLIPS" default:"5"`
	MaxDuration time.Duration `env:"MAX_CLIP_DURATION" default:"5m"`
	// RetentionDays is how long clip records are kept (DynamoDB TTL).
	RetentionDays int `env:"RETENTION_DAYS" default:"730"`
	// PathStyle addresses the bucket by path (the local S3 needs it).
	PathStyle bool `env:"S3_PATH_STYLE"`
}

// Objects is the part of the S3 client ingest uses.
type Objects interface {
	media.ObjectGetter
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, opts ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// Clips is what ingest needs from the store.
type Clips interface {
	GetStory(ctx context.Context, id string) (story.Story, error)
	VerifyClip(ctx context.Context, id string, c story.Clip, max int) error
	RejectClip(ctx context.Context, id string, c story.Clip) error
}

var (
	_ Objects = (*s3.Client)(nil)
	_ Clips   = (*store.Store)(nil)
)

// RejectedTag marks a rejected object before it is deleted; the bucket's
// lifecycle expires tagged objects, should the delete ever fail for good.
var RejectedTag = s3types.Tag{Key: aws.String(story.ClipStatusTag), Value: aws.String(story.ClipRejected)}

// VerifiedTag marks a clip attached to its story. Uploads start tagged
// pending, and the bucket's lifecycle expires pending objects after a day:
// an upload never attached to a story does not linger.
var VerifiedTag = s3types.Tag{Key: aws.String(story.ClipStatusTag), Value: aws.String(story.ClipVerified)}

// Handler handles S3 events.
type Handler struct {
	cfg   Config
	s3    Objects
	clips Clips
	now   func() time.Time
}

// New returns an ingest handler.
func New(cfg Config, objects Objects, clips Clips) *Handler {
	return &Handler{cfg: cfg, s3: objects, clips: clips, now: time.Now}
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, events.S3Event) error, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	if cfg.MaxBytes <= 0 || cfg.MaxClips <= 0 || cfg.MaxDuration <= 0 {
		return nil, errors.New("config: MAX_CLIP_BYTES, MAX_CLIPS and MAX_CLIP_DURATION must be positive")
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		// Ranged GETs carry no whole-object checksum: do not log that each time.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	stories := store.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName).WithRetention(time.Duration(cfg.RetentionDays) * 24 * time.Hour)
	h := New(cfg, client, stories)
	return h.Handle, nil
}

// Outcome is what became of one object.
type Outcome struct {
	Key    string
	Status string // story.ClipVerified, story.ClipRejected, or "" when there was nothing to do
	Reason string
}

// Handle processes one event. It returns an error only for faults worth a
// retry (S3 or DynamoDB unavailable); the other records are still done.
func (h *Handler) Handle(ctx context.Context, ev events.S3Event) error {
	var errs []error
	for _, rec := range ev.Records {
		if _, err := h.Record(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Record processes one event record.
func (h *Handler) Record(ctx context.Context, rec events.S3EventRecord) (Outcome, error) {
	start := time.Now()
	key, err := url.QueryUnescape(rec.S3.Object.Key)
	if err != nil {
		key = rec.S3.Object.Key
	}
	out := Outcome{Key: key}
	attrs := []any{"event", rec.EventName, "key", key}
	if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
		return out, nil
	}
	storyID, ok := story.ParseClipKey(key)
	if !ok {
		// Keys are made by the uploads function; anything else was put
		// there by hand and is left alone.
		slog.WarnContext(ctx, "ingest: not a clip key; left alone", attrs...)
		return out, nil
	}
	out, bytesRead, err := h.check(ctx, rec.S3.Bucket.Name, key, storyID)
	attrs = append(attrs, "status", out.Status, "bytesRead", bytesRead, "latencyMs", time.Since(start).Milliseconds())
	if err != nil {
		slog.ErrorContext(ctx, "ingest failed; the event will be retried", append(attrs, "error", err.Error())...)
		return out, err
	}
	if out.Reason != "" {
		attrs = append(attrs, "reason", out.Reason)
	}
	slog.InfoContext(ctx, "ingest", attrs...)
	return out, nil
}

func (h *Handler) check(ctx context.Context, bucket, key, storyID string) (Outcome, int64, error) {
	out := Outcome{Key: key}
	head, err := h.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return out, 0, nil // deleted already: this is a repeat of an event that was handled
	}
	if err != nil {
		return out, 0, fmt.Errorf("head %s: %w", key, err)
	}
	size := aws.ToInt64(head.ContentLength)
	if _, err := h.clips.GetStory(ctx, storyID); errors.Is(err, store.ErrNotFound) {
		// The story was erased (or never kept): its clips go too.
		return out, 0, h.delete(ctx, bucket, key)
	} else if err != nil {
		return out, 0, err
	}
	clip := story.Clip{Key: key, Size: size, At: h.now().UTC()}

	if size > h.cfg.MaxBytes {
		return h.reject(ctx, bucket, storyID, clip, fmt.Sprintf("The clip is %s; a clip can be at most %s.",
			story.HumanBytes(size), story.HumanBytes(h.cfg.MaxBytes)), 0)
	}
	r := &media.ObjectReader{Ctx: ctx, S3: h.s3, Bucket: bucket, Key: key, ETag: aws.ToString(head.ETag), Size: size}
	info, err := media.Inspect(r, size)
	_, bytesRead := r.Read()
	if rej, ok := errors.AsType[*media.Rejection](err); ok {
		return h.reject(ctx, bucket, storyID, clip, sentence(rej.Reason), bytesRead)
	}
	if err != nil {
		return out, bytesRead, fmt.Errorf("inspect %s: %w", key, err)
	}
	clip.MIME, clip.Duration = info.MIME, info.Duration
	if info.Duration > h.cfg.MaxDuration {
		return h.reject(ctx, bucket, storyID, clip, fmt.Sprintf("The clip is %s long; a clip can be at most %s.",
			story.HumanDuration(info.Duration), story.HumanDuration(h.cfg.MaxDuration)), bytesRead)
	}
	err = h.clips.VerifyClip(ctx, storyID, clip, h.cfg.MaxClips)
	if errors.Is(err, store.ErrTooManyClips) {
		return h.reject(ctx, bucket, storyID, clip, fmt.Sprintf("Your story already has %d clips, the most it can have.", h.cfg.MaxClips), bytesRead)
	}
	if err != nil {
		return out, bytesRead, err
	}
	// Attached: take the object out of the one-day expiry of pending uploads.
	if _, err := h.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{VerifiedTag}},
	}); err != nil {
		return out, bytesRead, fmt.Errorf("tag verified clip: %w", err)
	}
	out.Status = story.ClipVerified
	return out, bytesRead, nil
}

// reject records why a clip was refused, then tags and deletes it.
func (h *Handler) reject(ctx context.Context, bucket, storyID string, clip story.Clip, reason string, bytesRead int64) (Outcome, int64, error) {
	clip.Status, clip.Reason = story.ClipRejected, reason
	out := Outcome{Key: clip.Key, Status: story.ClipRejected, Reason: reason}
	if err := h.clips.RejectClip(ctx, storyID, clip); err != nil {
		return out, bytesRead, err
	}
	_, err := h.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(bucket), Key: aws.String(clip.Key),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{RejectedTag}},
	})
	if err != nil && !isNotFound(err) {
		// Not fatal: the object is deleted next; the tag only backs that up.
		slog.WarnContext(ctx, "ingest: tagging a rejected clip failed", "key", clip.Key, "error", err.Error())
	}
	return out, bytesRead, h.delete(ctx, bucket, clip.Key)
}

func (h *Handler) delete(ctx context.Context, bucket, key string) error {
	_, err := h.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*s3types.NotFound](err); ok {
		return true
	}
	if _, ok := errors.AsType[*s3types.NoSuchKey](err); ok {
		return true
	}
	var coded interface{ ErrorCode() string }
	return errors.As(err, &coded) && (coded.ErrorCode() == "NotFound" || coded.ErrorCode() == "NoSuchKey")
}

// sentence turns a media rejection ("the file is not a video (…)") into a
// sentence for the volunteer.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
