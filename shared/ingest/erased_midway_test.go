package ingest_test

import (
	"context"
	"errors"
	"testing"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/ingest"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// erasedWhileChecked is the real store, with the story's erasure beginning
// just after ingest has looked the story up: between ingest's first look
// and the write that would attach (or reject) the clip.
type erasedWhileChecked struct {
	*store.Store
	t *testing.T
}

func (c erasedWhileChecked) GetStory(ctx context.Context, id string) (story.Story, error) {
	st, err := c.Store.GetStory(ctx, id)
	if _, berr := c.Store.BeginErasure(ctx, id); berr != nil {
		c.t.Errorf("begin erasure: %v", berr)
	}
	return st, err
}

var _ ingest.Clips = erasedWhileChecked{}

// TestClipOfAStoryErasedWhileCheckedIsDeleted: a story whose erasure
// begins while its clip is being checked keeps neither the clip nor a
// record of it, whether the clip passed (VerifyClip finds the story gone)
// or failed (RejectClip does).
func TestClipOfAStoryErasedWhileCheckedIsDeleted(t *testing.T) {
	for name, fixture := range map[string]string{"passes": "faststart.mp4", "fails": "audio_only.m4a"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.story(t)
			e.put(t, fixture)
			h, err := ingest.New(e.cfg, bucket.New(e.s3, nil, e.bucket), erasedWhileChecked{e.store, t})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Handle(context.Background(), e.ev); err != nil {
				t.Fatal(err)
			}
			if e.exists(t) {
				t.Error("the clip of a story erased while it was checked is still in the bucket")
			}
			if _, err := e.store.GetClip(context.Background(), e.id, e.key); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a clip record was kept for a story being erased: %v", err)
			}
		})
	}
}
