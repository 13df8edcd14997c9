package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"frontlinevoices/shared/store"
)

// Audit is what is held of one volunteer, found by walking the whole table
// and the whole bucket (objects, exports' contents, multipart uploads).
type Audit struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	// Tombstones are the tombstones of the id (no personal data): what an
	// erasure is meant to leave.
	Tombstones []store.Tombstone `json:"tombstones"`
	// References are the digest's bookkeeping items that name the id (and
	// nothing else of the volunteer): which stories a digest already sent.
	References []Trace `json:"references"`
	// Traces is everything else that mentions the id or the address.
	Traces []Trace `json:"traces"`
}

// Trace is one thing held that mentions the volunteer.
type Trace struct {
	Where string `json:"where"` // table, object, export, upload, tombstone
	What  string `json:"what"`  // the item's key, the object's key
}

// Clean reports whether nothing is held but the tombstones.
func (a Audit) Clean() bool { return len(a.Traces) == 0 }

// Audit walks the table and the bucket for any trace of story id or email
// (either may be empty, not both). A tombstone counts as a trace when it
// still holds personal data (its notice) or its erasure is unfinished.
func (p *Service) Audit(ctx context.Context, id, email string) (Audit, error) {
	a := Audit{ID: id, Email: email, Tombstones: []store.Tombstone{}, References: []Trace{}, Traces: []Trace{}}
	var needles []string
	for _, n := range []string{id, strings.ToLower(strings.TrimSpace(email))} {
		if n != "" {
			needles = append(needles, n)
		}
	}
	if len(needles) == 0 {
		return a, errors.New("privacy: audit needs an id or an email address")
	}
	mentions := func(s string) bool {
		s = strings.ToLower(s)
		for _, n := range needles {
			if strings.Contains(s, strings.ToLower(n)) {
				return true
			}
		}
		return false
	}
	items, err := p.Stories.Scan(ctx, func(item map[string]any) bool {
		b, _ := json.Marshal(item)
		return mentions(string(b))
	})
	if err != nil {
		return a, err
	}
	for _, it := range items {
		where := "table"
		if b, _ := json.Marshal(it.Item); store.IsDigestRecord(it.PK) && id != "" && !mentions(strings.ReplaceAll(string(b), id, "")) {
			a.References = append(a.References, Trace{Where: "digest bookkeeping (the id only)", What: it.PK + " " + it.SK})
			continue
		}
		if store.IsTombstone(it.SK) {
			t, err := p.Stories.GetTombstone(ctx, strings.TrimPrefix(it.PK, "STORY#"))
			if err != nil {
				return a, err
			}
			a.Tombstones = append(a.Tombstones, t)
			b, _ := json.Marshal(it.Item)
			switch {
			case !t.Done():
				where = "tombstone (erasure unfinished)"
			case t.Notice != nil || (email != "" && mentions(strings.ReplaceAll(string(b), t.ID, ""))):
				where = "tombstone (holds personal data)"
			default:
				continue
			}
		}
		a.Traces = append(a.Traces, Trace{Where: where, What: it.PK + " " + it.SK})
	}
	if p.Clips == nil {
		return a, nil
	}
	keys, err := p.Clips.List(ctx, "")
	if err != nil {
		return a, err
	}
	for _, key := range keys {
		if mentions(key) {
			a.Traces = append(a.Traces, Trace{Where: "object", What: key})
			continue
		}
		if p.ExportPrefix == "" || !strings.HasPrefix(key, p.ExportPrefix) {
			continue // clips are video, named by their story
		}
		body, err := p.Clips.Get(ctx, key, maxExport)
		if err != nil {
			return a, err
		}
		if mentions(string(body)) {
			a.Traces = append(a.Traces, Trace{Where: "export", What: key})
		}
	}
	uploads, err := p.Clips.Uploads(ctx, "")
	if err != nil {
		return a, err
	}
	for _, u := range uploads {
		if mentions(u.Key) {
			a.Traces = append(a.Traces, Trace{Where: "upload", What: u.Key + " " + u.UploadID})
		}
	}
	return a, nil
}

// String is the audit in a line.
func (a Audit) String() string {
	if a.Clean() {
		return fmt.Sprintf("nothing held (%d tombstones)", len(a.Tombstones))
	}
	var parts []string
	for _, t := range a.Traces {
		parts = append(parts, t.Where+": "+t.What)
	}
	return fmt.Sprintf("%d traces: %s", len(a.Traces), strings.Join(parts, "; "))
}
