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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/shared/store"
)

// S3 is the part of the S3 client erasure and export use.
type S3 interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ S3 = (*s3.Client)(nil)

// ClipPrefix is where a story's clips are kept in the clips bucket.
func ClipPrefix(storyID string) string { return "clips/" + storyID + "/" }

// Service erases and exports volunteers' data.
type Service struct {
	Stories *store.Store
	S3      S3     // nil when there is no clips bucket
	Bucket  string // the clips bucket
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
	keys, err := p.clipKeys(ctx, id)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	deleted := 0
	for start := 0; start < len(keys); start += 1000 {
		batch := keys[start:min(start+1000, len(keys))]
		objs := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := p.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(p.Bucket),
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return deleted, fmt.Errorf("privacy: delete clips: %w", err)
		}
		if len(out.Errors) > 0 {
			return deleted, fmt.Errorf("privacy: %d clips could not be deleted: %s", len(out.Errors), aws.ToString(out.Errors[0].Code))
		}
		deleted += len(batch)
	}
	return deleted, nil
}

func (p *Service) clipKeys(ctx context.Context, id string) ([]string, error) {
	if p.S3 == nil {
		return nil, nil
	}
	var keys []string
	pages := s3.NewListObjectsV2Paginator(p.S3, &s3.ListObjectsV2Input{Bucket: aws.String(p.Bucket), Prefix: aws.String(ClipPrefix(id))})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("privacy: list clips: %w", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
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
