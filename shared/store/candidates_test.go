package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func TestCandidatesReplaceAndRead(t *testing.T) {
	ctx := context.Background()
	s := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	s.SetClock(func() time.Time { return testenv.SampleTime })

	empty, err := s.Candidates(ctx, true)
	if err != nil || len(empty.People) != 0 || !empty.UpdatedAt.IsZero() || empty.Version != 0 {
		t.Fatalf("a list never imported: %+v, %v", empty, err)
	}
	people := []story.Person{
		{ID: "ada", Name: "Ada Brook", Party: "Labour", Constituency: "tooting", Status: story.StatusMP, Link: "https://example.org/ada"},
		{ID: "bo", Name: "Bo Lee", Party: "Green", Constituency: "tooting", Status: story.StatusCandidate},
	}
	if _, err := s.ReplaceCandidates(ctx, people, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Candidates(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.People, people) || !got.UpdatedAt.Equal(testenv.SampleTime) || got.Version != 1 {
		t.Fatalf("read back %+v", got)
	}

	// A second import that read version 0 (before the first) is refused.
	if _, err := s.ReplaceCandidates(ctx, people[:1], 0); !errors.Is(err, store.ErrListChanged) {
		t.Fatalf("a stale replacement: %v, want ErrListChanged", err)
	}
	if _, err := s.ReplaceCandidates(ctx, people[:1], 1); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Candidates(ctx, true)
	if len(got.People) != 1 || got.Version != 2 {
		t.Fatalf("after the second import: %+v", got)
	}
}
