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
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/media"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// Config is the ingest function's configuration.
type Config struct {
	config.Shared
	config.Clips
}

// Objects is what ingest needs from the clips bucket.
type Objects interface {
	Name() string
	Head(ctx context.Context, key string) (bucket.Object, error)
	Reader(ctx context.Context, obj bucket.Object) *bucket.Reader
	SetStatus(ctx context.Context, key, status string) error
	Delete(ctx context.Context, key string) error
}

// Clips is what ingest needs from the store.
type Clips interface {
	GetStory(ctx context.Context, id string) (story.Story, error)
	VerifyClip(ctx context.Context, id string, c story.Clip, max int) error
	RejectClip(ctx context.Context, id string, c story.Clip) error
}

var (
	_ Objects = (*bucket.Bucket)(nil)
	_ Clips   = (*store.Store)(nil)
)

// Handler handles S3 events.
type Handler struct {
	cfg     Config
	limits  story.ClipLimits
	objects Objects
	clips   Clips
	now     func() time.Time
}

// New returns an ingest handler.
func New(cfg Config, objects Objects, clips Clips) (*Handler, error) {
	limits := cfg.ClipLimits()
	if err := limits.Check(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &Handler{cfg: cfg, limits: limits, objects: objects, clips: clips, now: time.Now}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, events.S3Event) error, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	stories := store.FromConfig(awsCfg, cfg.TableName).WithRetention(cfg.Retention())
	h, err := New(cfg, bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle), stories)
	if err != nil {
		return nil, err
	}
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
	if name := rec.S3.Bucket.Name; name != h.objects.Name() {
		slog.WarnContext(ctx, "ingest: not the clips bucket; left alone", append(attrs, "bucket", name)...)
		return out, nil
	}
	storyID, ok := bucket.ParseClipKey(key)
	if !ok {
		// Keys are made by the uploads function; anything else was put
		// there by hand and is left alone.
		slog.WarnContext(ctx, "ingest: not a clip key; left alone", attrs...)
		return out, nil
	}
	out, bytesRead, err := h.check(ctx, key, storyID)
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

func (h *Handler) check(ctx context.Context, key, storyID string) (Outcome, int64, error) {
	out := Outcome{Key: key}
	head, err := h.objects.Head(ctx, key)
	if errors.Is(err, bucket.ErrNotFound) {
		return out, 0, nil // deleted already: this is a repeat of an event that was handled
	}
	if err != nil {
		return out, 0, err
	}
	size := head.Size
	if _, err := h.clips.GetStory(ctx, storyID); errors.Is(err, store.ErrNotFound) {
		// The story was erased (or never kept): its clips go too.
		return out, 0, h.delete(ctx, key)
	} else if err != nil {
		return out, 0, err
	}
	clip := story.Clip{Key: key, Size: size, At: h.now().UTC()}

	if size > h.limits.MaxBytes {
		return h.reject(ctx, storyID, clip, fmt.Sprintf("The clip is %s; a clip can be at most %s.",
			story.HumanBytes(size), story.HumanBytes(h.limits.MaxBytes)), 0)
	}
	r := h.objects.Reader(ctx, head)
	info, err := media.Inspect(r, size)
	_, bytesRead := r.Stats()
	if rej, ok := errors.AsType[*media.Rejection](err); ok {
		return h.reject(ctx, storyID, clip, sentence(rej.Reason), bytesRead)
	}
	if err != nil {
		return out, bytesRead, fmt.Errorf("inspect %s: %w", key, err)
	}
	if why := typeMismatch(key, info); why != "" {
		return h.reject(ctx, storyID, clip, why, bytesRead)
	}
	clip.MIME, clip.Duration = info.MIME, info.Duration
	if info.Duration > h.limits.MaxDuration {
		return h.reject(ctx, storyID, clip, fmt.Sprintf("The clip is %s long; a clip can be at most %s.",
			story.HumanDuration(info.Duration), story.HumanDuration(h.limits.MaxDuration)), bytesRead)
	}
	err = h.clips.VerifyClip(ctx, storyID, clip, h.limits.MaxClips)
	if errors.Is(err, store.ErrNotFound) {
		// Erased (or being erased) while the clip was checked: it goes too.
		return out, bytesRead, h.delete(ctx, key)
	}
	if errors.Is(err, store.ErrTooManyClips) {
		return h.reject(ctx, storyID, clip, fmt.Sprintf("Your story already has %d clips, the most it can have.", h.limits.MaxClips), bytesRead)
	}
	if err != nil {
		return out, bytesRead, err
	}
	// Attached: take the object out of the one-day expiry of pending uploads.
	if err := h.objects.SetStatus(ctx, key, story.ClipVerified); errors.Is(err, bucket.ErrNotFound) {
		return out, bytesRead, nil // the erasure deleted it meanwhile
	} else if err != nil {
		return out, bytesRead, err
	}
	out.Status = story.ClipVerified
	return out, bytesRead, nil
}

// reject records why a clip was refused, then tags and deletes it.
func (h *Handler) reject(ctx context.Context, storyID string, clip story.Clip, reason string, bytesRead int64) (Outcome, int64, error) {
	clip.Status, clip.Reason = story.ClipRejected, reason
	out := Outcome{Key: clip.Key, Status: story.ClipRejected, Reason: reason}
	if err := h.clips.RejectClip(ctx, storyID, clip); errors.Is(err, store.ErrNotFound) {
		// Erased meanwhile: no record, and the object goes.
		return Outcome{Key: clip.Key}, bytesRead, h.delete(ctx, clip.Key)
	} else if err != nil {
		return out, bytesRead, err
	}
	// The tag marks the object for the lifecycle to expire, should the
	// delete ever fail for good.
	if err := h.objects.SetStatus(ctx, clip.Key, story.ClipRejected); err != nil && !errors.Is(err, bucket.ErrNotFound) {
		// Not fatal: the object is deleted next; the tag only backs that up.
		slog.WarnContext(ctx, "ingest: tagging a rejected clip failed", "key", clip.Key, "error", err.Error())
	}
	return out, bytesRead, h.delete(ctx, clip.Key)
}

func (h *Handler) delete(ctx context.Context, key string) error {
	return h.objects.Delete(ctx, key)
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

// typeMismatch says why a clip is refused when the container found in its
// bytes is not the one its key (made from the type the browser declared)
// names: a WebM sent as MP4 would be kept as .mp4 with Content-Type
// video/mp4, and play nowhere. MP4 and QuickTime share one container.
func typeMismatch(key string, info media.Info) string {
	ext := strings.ToLower(path.Ext(key))
	want := map[string]string{".mp4": "mp4", ".m4v": "mp4", ".mov": "mp4", ".webm": "webm"}[ext]
	if want == "" || want == info.Container {
		return ""
	}
	names := map[string]string{"mp4": "an MP4 or MOV video", "webm": "a WebM video"}
	return fmt.Sprintf("The clip was sent as %s but it is %s. Add it again with its own type and file name ending.",
		strings.ToUpper(strings.TrimPrefix(ext, ".")), names[info.Container])
}
