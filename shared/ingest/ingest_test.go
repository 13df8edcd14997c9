package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/ingest"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// env is the sample event's bucket on an in-process S3 and the real table
// layout on minidyn.
type env struct {
	s3     *s3.Client
	store  *store.Store
	cfg    ingest.Config
	h      *ingest.Handler
	ev     events.S3Event
	bucket string
	key    string
	id     string
}

func newEnv(t *testing.T, settings map[string]string) *env {
	t.Helper()
	client := testenv.S3(t)
	e := &env{s3: client, store: store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")}
	testenv.Event(t, "s3-object-created.json", &e.ev)
	e.bucket, e.key = e.ev.Records[0].S3.Bucket.Name, e.ev.Records[0].S3.Object.Key
	id, ok := bucket.ParseClipKey(e.key)
	if !ok {
		t.Fatalf("sample key %q is not a clip key", e.key)
	}
	e.id = id
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	// The function's own settings, with its defaults.
	env := map[string]string{"TABLE_NAME": "StoriesTable", "CLIPS_BUCKET": e.bucket, "SIGNING_KEYS_SECRET": "SigningKeys"}
	maps.Copy(env, settings)
	var cfg ingest.Config
	if err := config.Load(func(k string) string { return env[k] }, &cfg); err != nil {
		t.Fatal(err)
	}
	h, err := ingest.New(cfg, bucket.New(client, nil, e.bucket), e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg, e.h = cfg, h
	return e
}

func (e *env) story(t *testing.T) {
	t.Helper()
	if _, _, err := e.store.PutStory(context.Background(), story.Story{ID: e.id, Name: "A", SubmittedAt: testenv.SampleTime}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) put(t *testing.T, fixture string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(t), "shared", "media", "testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(e.key), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) exists(t *testing.T) bool {
	_, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(e.key)})
	return err == nil
}

func TestSampleEventThreeTimesGivesOneVerifiedClip(t *testing.T) {
	e := newEnv(t, nil)
	e.story(t)
	e.put(t, "faststart.mp4")
	for range 3 {
		if err := e.h.Handle(context.Background(), e.ev); err != nil {
			t.Fatal(err)
		}
	}
	clips, err := e.store.ListClips(context.Background(), e.id)
	if err != nil || len(clips) != 1 {
		t.Fatalf("clips = %+v %v", clips, err)
	}
	c := clips[0]
	if c.Key != e.key || c.Status != story.ClipVerified || c.MIME != "video/mp4" || c.Size != 2537 || c.Duration != 2*time.Second {
		t.Fatalf("clip = %+v", c)
	}
	if !e.exists(t) {
		t.Fatal("a verified clip was deleted")
	}
	// Attached: out of the one-day expiry of pending uploads.
	tags, err := e.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(e.bucket), Key: aws.String(e.key)})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != story.ClipVerified {
		t.Fatalf("tags %+v %v, want %s=%s", tags, err, bucket.StatusTag, story.ClipVerified)
	}
}

func TestRejections(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		cfg     map[string]string
		reason  string
	}{
		{"notes.mp4", nil, "The file is not a video (it looks like text)."},
		{"photo.mp4", nil, "The file is not a video (it looks like a JPEG image)."},
		{"truncated_no_moov.mp4", nil, "The video file is incomplete (it may have been cut off during upload)."},
		{"long_6min.mp4", nil, "The clip is 6 minutes long; a clip can be at most 5 minutes."},
		{"duration.webm", map[string]string{"MAX_CLIP_BYTES": "2000", "MAX_CLIP_DURATION": "1m"}, "The clip is 9 KB; a clip can be at most 2 KB."},
		{"clip.mov", map[string]string{"MAX_CLIP_BYTES": "1048576", "MAX_CLIP_DURATION": "1s"}, "The clip is 2 seconds long; a clip can be at most 1 second."},
		// The sample key is .mp4 (declared video/mp4): a WebM is not kept as one.
		{"duration.webm", nil, "The clip was sent as MP4 but it is a WebM video. Add it again with its own type and file name ending."},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			e.story(t)
			e.put(t, tc.fixture)
			for range 3 { // the second and third find the object gone
				if err := e.h.Handle(context.Background(), e.ev); err != nil {
					t.Fatal(err)
				}
			}
			clips, err := e.store.ListClips(context.Background(), e.id)
			if err != nil || len(clips) != 1 || clips[0].Status != story.ClipRejected || clips[0].Reason != tc.reason {
				t.Fatalf("clips = %+v %v, want one rejected: %s", clips, err, tc.reason)
			}
			if e.exists(t) {
				t.Fatal("a rejected clip is still in the bucket")
			}
		})
	}
}

func TestClipOfAnErasedStoryIsDeleted(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "faststart.mp4")
	if err := e.h.Handle(context.Background(), e.ev); err != nil {
		t.Fatal(err)
	}
	if e.exists(t) {
		t.Fatal("the clip of a story that is not kept is still in the bucket")
	}
	if _, err := e.store.GetClip(context.Background(), e.id, e.key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a clip record was made for a story that is not kept: %v", err)
	}
}
