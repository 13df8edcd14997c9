// Package privacy carries out volunteers' rights over their data: erasing a
// story with every clip and record, exporting everything held about an
// email address, and the signed personal link that lets a volunteer do it
// themselves.
package privacy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/store"
)

// Clips is what erasure and export need from the clips bucket.
type Clips interface {
	List(ctx context.Context, prefix string) ([]string, error)
	DeleteAll(ctx context.Context, prefix string) (int, error)
}

var _ Clips = (*bucket.Bucket)(nil)

// Service erases and exports volunteers' data.
type Service struct {
	Stories *store.Store
	Clips   Clips // nil when there is no clips bucket
}

// Erase deletes story id's clip objects, then every item held under it,
// leaving a tombstone without personal data. It returns the tombstone and
// how many clip objects were deleted. Clips go first, so a failure part way
// leaves the story in place for a retry.
func (p *Service) Erase(ctx context.Context, id string) (store.Tombstone, int, error) {
	n, err := p.deleteClips(ctx, id)
	if err != nil {
		return store.Tombstone{}, n, err
	}
	t, err := p.Stories.EraseStory(ctx, id)
	return t, n, err
}

func (p *Service) deleteClips(ctx context.Context, id string) (int, error) {
	if p.Clips == nil {
		return 0, nil
	}
	n, err := p.Clips.DeleteAll(ctx, bucket.ClipPrefix(id))
	if err != nil {
		return n, fmt.Errorf("privacy: delete clips: %w", err)
	}
	return n, nil
}

func (p *Service) clipKeys(ctx context.Context, id string) ([]string, error) {
	if p.Clips == nil {
		return nil, nil
	}
	keys, err := p.Clips.List(ctx, bucket.ClipPrefix(id))
	if err != nil {
		return nil, fmt.Errorf("privacy: list clips: %w", err)
	}
	return keys, nil
}

// Export is everything held about one email address.
type Export struct {
	Email       string        `json:"email"`
	GeneratedAt time.Time     `json:"generatedAt"`
	Stories     []StoryExport `json:"stories"`
}

// StoryExport is one story's items and clip objects.
type StoryExport struct {
	ID    string           `json:"id"`
	Items []map[string]any `json:"items"`
	Clips []string         `json:"clipObjects"`
}

// ExportEmail gathers every story sent from email, with every item and
// clip object held under each.
func (p *Service) ExportEmail(ctx context.Context, email string) (Export, error) {
	ids, err := p.Stories.StoryIDsByEmail(ctx, email)
	if err != nil {
		return Export{}, err
	}
	out := Export{Email: email, GeneratedAt: time.Now().UTC(), Stories: []StoryExport{}}
	for _, id := range ids {
		items, err := p.Stories.StoryItems(ctx, id)
		if err != nil {
			return Export{}, err
		}
		clips, err := p.clipKeys(ctx, id)
		if err != nil {
			return Export{}, err
		}
		out.Stories = append(out.Stories, StoryExport{ID: id, Items: items, Clips: clips})
	}
	return out, nil
}

// EraseEmail erases every story sent from email and returns their ids.
func (p *Service) EraseEmail(ctx context.Context, email string) ([]string, error) {
	ids, err := p.Stories.StoryIDsByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, id := range ids {
		if _, _, err := p.Erase(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("story %s: %w", id, err))
		}
	}
	return ids, errors.Join(errs...)
}

// ClipCount is how many clip objects are held for story id.
func (p *Service) ClipCount(ctx context.Context, id string) (int, error) {
	keys, err := p.clipKeys(ctx, id)
	return len(keys), err
}
