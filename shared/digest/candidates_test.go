package digest_test

import (
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/story"
)

// The digest warns when the list of MPs and candidates is missing or more
// than 90 days old, in both parts of the email.
func TestListWarning(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if w := digest.ListWarning(story.CandidateList{UpdatedAt: now.Add(-89 * 24 * time.Hour)}, now); w != "" {
		t.Errorf("an 89-day-old list warns: %q", w)
	}
	if w := digest.ListWarning(story.CandidateList{}, now); !strings.Contains(w, "No list of MPs and candidates has been imported") {
		t.Errorf("no list: %q", w)
	}
	w := digest.ListWarning(story.CandidateList{UpdatedAt: time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)}, now)
	if want := "last updated on 1 August 2026, 120 days ago"; !strings.Contains(w, want) {
		t.Fatalf("stale list: %q, want %q", w, want)
	}
	r := digest.Build(nil, 200, nil)
	r.End, r.Empty, r.ListWarning = now, true, w
	msg, err := digest.Message(r, []string{"comms@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, w) || !strings.Contains(msg.HTML, "120 days ago") {
		t.Error("the warning is not in the email")
	}
}
