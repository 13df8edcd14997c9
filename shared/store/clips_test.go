package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func clipTestStory(t *testing.T, s *store.Store) string {
	t.Helper()
	id := story.NewID()
	if _, _, err := s.PutStory(context.Background(), story.Story{ID: id, Name: "A", SubmittedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}

func clipTestPending(t *testing.T, s *store.Store, id string, max int, until time.Time) string {
	t.Helper()
	ctx := context.Background()
	key := bucket.NewClipKey(id, story.ClipTypes[0])
	if err := s.ReserveClip(ctx, store.ClipRecord{StoryID: id, Clip: story.Clip{Key: key}, Declared: "video/mp4", Until: until.UnixMilli()}, max); err != nil {
		t.Fatalf("reserve: %v", err)
	}
	return key
}

// reserve tries to record one more pending upload for story id.
func reserve(s *store.Store, id string, max int) error {
	return s.ReserveClip(context.Background(), store.ClipRecord{StoryID: id, Clip: story.Clip{Key: bucket.NewClipKey(id, story.ClipTypes[0])},
		Until: time.Now().Add(time.Hour).UnixMilli()}, max)
}

func TestClipSlotsAndTransitions(t *testing.T) {
	ctx := context.Background()
	s := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	const max = 3
	later := time.Now().Add(time.Hour)

	if err := reserve(s, story.NewID(), max); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("slot for a missing story: %v, want ErrNotFound", err)
	}
	id := clipTestStory(t, s)
	a := clipTestPending(t, s, id, max, later)
	b := clipTestPending(t, s, id, max, later)
	c := clipTestPending(t, s, id, max, later)
	if err := reserve(s, id, max); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("fourth slot: %v, want ErrTooManyClips", err)
	}

	// Verified three times: one verified clip, still one slot.
	clip := story.Clip{Key: a, MIME: "video/mp4", Size: 2537, Duration: 2 * time.Second, At: time.Now()}
	for range 3 {
		if err := s.VerifyClip(ctx, id, clip, max); err != nil {
			t.Fatal(err)
		}
	}
	// Rejected three times: one rejected clip, its slot given back once.
	rej := story.Clip{Key: b, MIME: "", Size: 81, Reason: "the file is not a video (it looks like text)", At: time.Now()}
	for range 3 {
		if err := s.RejectClip(ctx, id, rej); err != nil {
			t.Fatal(err)
		}
	}
	// Aborted twice: the slot is given back once.
	for i, want := range []bool{true, false} {
		if got, err := s.AbortClip(ctx, id, c); err != nil || got != want {
			t.Fatalf("abort %d = %v %v, want %v", i, got, err, want)
		}
	}
	// Two slots are free again (b and c), no more.
	clipTestPending(t, s, id, max, later)
	clipTestPending(t, s, id, max, later)
	if err := reserve(s, id, max); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("slot after refills: %v, want ErrTooManyClips", err)
	}

	clips, err := s.ListClips(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(clips) != 2 || clips[0].Key != a || clips[0].Status != story.ClipVerified || clips[0].Duration != 2*time.Second ||
		clips[1].Key != b || clips[1].Status != story.ClipRejected || clips[1].Reason != rej.Reason {
		t.Fatalf("clips = %+v", clips)
	}

	// The aborted upload arrives after all: it needs a slot, and none is free.
	late := story.Clip{Key: c, MIME: "video/mp4", Size: 10, Duration: time.Second, At: time.Now()}
	if err := s.VerifyClip(ctx, id, late, max); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("late clip with no slot: %v", err)
	}
}

func TestAbandonedUploadsGiveBackTheirSlots(t *testing.T) {
	ctx := context.Background()
	s := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	id := clipTestStory(t, s)
	old := clipTestPending(t, s, id, 2, time.Now().Add(-time.Minute))
	clipTestPending(t, s, id, 2, time.Now().Add(time.Hour))
	// Full, but one upload was abandoned: its slot is taken back.
	if err := reserve(s, id, 2); err != nil {
		t.Fatalf("slot with an abandoned upload: %v", err)
	}
	r, err := s.GetClip(ctx, id, old)
	if err != nil || r.Status != story.ClipAborted {
		t.Fatalf("abandoned upload = %+v %v", r, err)
	}
	if err := reserve(s, id, 2); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("then: %v, want ErrTooManyClips", err)
	}
	// The abandoned clip arrives late and there is no room: refused.
	if err := s.VerifyClip(ctx, id, story.Clip{Key: old, At: time.Now()}, 2); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("late clip: %v", err)
	}
	// A clip that was never signed here (put in the bucket another way) is
	// recorded all the same, under its key.
	stray := bucket.NewClipKey(id, story.ClipTypes[2])
	if err := s.RejectClip(ctx, id, story.Clip{Key: stray, Size: 1, Reason: "too big", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	clips, err := s.ListClips(ctx, id)
	if err != nil || len(clips) != 1 || clips[0].Key != stray || clips[0].Status != story.ClipRejected {
		t.Fatalf("clips = %+v %v", clips, err)
	}
	// A story with no clips lists none.
	if clips, err := s.ListClips(ctx, clipTestStory(t, s)); err != nil || len(clips) != 0 {
		t.Fatalf("ListClips of a new story = %v %v", clips, err)
	}
}
