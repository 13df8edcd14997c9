package store

// Clips live beside their story:
//
//	pk = STORY#<id>, sk = CLIP#<key>   one clip upload: pending from the moment it
//	                                   is signed, then verified, rejected or aborted
//	clipSlots (on the story item)     how many of the story's clips are pending or
//	                                  verified: the atomic guard of the clip limit
//
// A slot is taken when an upload is recorded and given back when the upload
// is aborted, the clip is rejected, or a pending upload is abandoned past its
// deadline. Each of these is one transaction that writes the clip record and
// the story's slot count together, conditionally on both, so the count always
// agrees with the records and a repeated request or event changes nothing the
// second time. Nothing attaches to a story that is gone or being erased.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/story"
)

// ErrTooManyClips means the story already has as many clips as it may.
var ErrTooManyClips = errors.New("store: the story has as many clips as it may have")

const (
	clipPrefix   = "CLIP#"
	attrSlots    = "clipSlots"
	attrStatus   = "status"
	attrUntil    = "until"
	attrUploadID = "uploadId"
)

// ClipRecord is everything kept about one clip upload.
type ClipRecord struct {
	story.Clip
	StoryID string `dynamodbav:"storyId"`
	// Declared is the MIME type the browser declared (not trusted).
	Declared string `dynamodbav:"declared,omitempty"`
	// DeclaredSize is the size the browser declared for a multipart
	// upload: each part URL is signed for its share of it.
	DeclaredSize int64 `dynamodbav:"declaredSize,omitempty"`
	// UploadID is the S3 multipart upload id, for multipart uploads.
	UploadID string `dynamodbav:"uploadId,omitempty"`
	// Until is when a pending upload is abandoned and its slot may be
	// given to another clip (Unix milliseconds).
	Until int64 `dynamodbav:"until,omitempty"`
}

// ClipKey is the primary key of the clip stored at key of story id.
func ClipKey(id, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: storyPrefix + id},
		AttrSK: &types.AttributeValueMemberS{Value: clipPrefix + key},
	}
}

// ReserveClip records a clip upload that is about to be signed (pending),
// and takes one of story id's max clip slots for it, in one transaction.
// When all slots are taken it first gives back the slots of uploads
// abandoned past their deadline. It returns ErrNotFound for a story that
// does not exist, is being erased or is past its expiry, and
// ErrTooManyClips when no slot is free; either way nothing is written.
func (s *Store) ReserveClip(ctx context.Context, r ClipRecord, max int) error {
	r.Status = story.ClipPending
	if r.At.IsZero() {
		r.At = s.now().UTC()
	}
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return fmt.Errorf("store: marshal clip: %w", err)
	}
	mergeAttrs(item, ClipKey(r.StoryID, r.Key))
	item[AttrExpires] = number(s.ExpiresAt(r.At).Unix())
	put := s.txPut(item, freeExpr)
	return s.withSlot(ctx, r.StoryID, max, func() error {
		err := s.clipTx(ctx, r.StoryID, +1, max, put)
		if errors.Is(err, errCondition) {
			return fmt.Errorf("store: reserve clip: a record already exists at %s", r.Key)
		}
		return err
	})
}

// withSlot runs take, a write that takes one of story id's max slots, and
// sorts out a refusal: ErrNotFound when the story is gone or being erased;
// otherwise the slots of abandoned uploads are given back and take runs
// once more, and ErrTooManyClips means there is still no slot.
func (s *Store) withSlot(ctx context.Context, id string, max int, take func() error) error {
	for attempt := 0; ; attempt++ {
		err := take()
		if !errors.Is(err, errNoSlot) {
			return err
		}
		if _, err := s.GetStory(ctx, id); err != nil {
			return err
		}
		if attempt > 0 {
			return ErrTooManyClips
		}
		n, err := s.reclaimAbandoned(ctx, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrTooManyClips
		}
	}
}

// errNoSlot is a clipTx taking a slot refused: the story is gone, being
// erased, or has no slot free (withSlot tells which).
var errNoSlot = errors.New("store: no clip slot")

// errCondition is the condition of a clipTx's clip record failing.
var errCondition = errors.New("store: condition failed")

// clipTx writes one clip record of story id (rec: a Put or an Update) in one
// transaction with the story item, which it checks is current (live and
// not expired: see current) and whose slot
// count it moves by delta (+1 takes one of max slots, -1 gives one back, 0
// leaves it). It returns errNoSlot when a slot could not be taken,
// ErrNotFound when the story is gone or being erased, and errCondition when
// the record's own condition failed.
func (s *Store) clipTx(ctx context.Context, id string, delta, max int, rec types.TransactWriteItem) error {
	storyItem := s.liveCheck(id)
	if delta != 0 {
		cond := s.current()
		if delta > 0 {
			cond = cond.And(expression.AttributeNotExists(nameSlots).Or(nameSlots.LessThan(expression.Value(max))))
		}
		e := build(expression.NewBuilder().WithUpdate(expression.Add(nameSlots, expression.Value(delta))).WithCondition(cond))
		storyItem = s.txUpdate(StoryKey(id), e)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{storyItem, rec}})
	switch {
	case err == nil:
		return nil
	case cancelledAt(err, 0) && delta > 0:
		return errNoSlot
	case cancelledAt(err, 0):
		return ErrNotFound
	case cancelledAt(err, 1):
		return errCondition
	}
	return err
}

// clipUpdate is a transaction item updating the record of the clip at key
// of story id.
func (s *Store) clipUpdate(id, key string, update expression.UpdateBuilder, cond expression.ConditionBuilder) types.TransactWriteItem {
	e := build(expression.NewBuilder().WithUpdate(update).WithCondition(cond))
	return s.txUpdate(ClipKey(id, key), e)
}

// statusIs holds while a clip record's status is one of statuses.
func statusIs(status string, more ...string) expression.ConditionBuilder {
	if len(more) == 0 {
		return nameStatus.Equal(expression.Value(status))
	}
	others := make([]expression.OperandBuilder, len(more))
	for i, m := range more {
		others[i] = expression.Value(m)
	}
	return nameStatus.In(expression.Value(status), others...)
}

// reclaimAbandoned marks story id's pending uploads that are past their
// deadline aborted and gives back their slots. It returns how many it freed.
func (s *Store) reclaimAbandoned(ctx context.Context, id string) (int, error) {
	recs, err := s.ClipRecords(ctx, id)
	if err != nil {
		return 0, err
	}
	now := s.now().UnixMilli()
	freed := 0
	for _, r := range recs {
		if r.Status != story.ClipPending || r.Until == 0 || r.Until >= now {
			continue
		}
		err := s.clipTx(ctx, id, -1, 0, s.clipUpdate(id, r.Key,
			expression.Set(nameStatus, expression.Value(story.ClipAborted)),
			statusIs(story.ClipPending).And(nameUntil.LessThan(expression.Value(now)))))
		if errors.Is(err, errCondition) {
			continue // verified or aborted meanwhile
		}
		if err != nil {
			return freed, fmt.Errorf("store: reclaim clip slot: %w", err)
		}
		freed++
	}
	return freed, nil
}

// GetClip reads the record of the clip at key of story id.
func (s *Store) GetClip(ctx context.Context, id, key string) (ClipRecord, error) {
	var r ClipRecord
	if err := s.getItem(ctx, ClipKey(id, key), &r); err != nil {
		return ClipRecord{}, fmt.Errorf("store: get clip: %w", err)
	}
	return r, nil
}

// AbortClip marks a pending upload aborted and gives back its slot, in one
// transaction. It reports false when the upload was not pending (already
// aborted, or already arrived), and ErrNotFound when the story is gone or
// being erased.
func (s *Store) AbortClip(ctx context.Context, id, key string) (bool, error) {
	err := s.clipTx(ctx, id, -1, 0, s.clipUpdate(id, key,
		expression.Set(nameStatus, expression.Value(story.ClipAborted)), statusIs(story.ClipPending)))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errCondition):
		return false, nil
	case errors.Is(err, ErrNotFound):
		return false, err
	}
	return false, fmt.Errorf("store: abort clip: %w", err)
}

// VerifyClip records clip c of story id as verified. A pending upload
// keeps the slot it holds; a clip that holds none (its upload was aborted
// or abandoned, or it was rejected under other limits) takes one in the
// same transaction, and ErrTooManyClips means there is none. Verifying a
// verified clip again changes nothing. A story gone or being erased is
// ErrNotFound, and no clip record is left behind for it.
func (s *Store) VerifyClip(ctx context.Context, id string, c story.Clip, max int) error {
	set := expression.Set(nameStatus, expression.Value(story.ClipVerified)).
		Set(expression.Name("mime"), expression.Value(c.MIME)).
		Set(expression.Name("size"), expression.Value(c.Size)).
		Set(expression.Name("duration"), expression.Value(int64(c.Duration))).
		Set(expression.Name("clipAt"), expression.Value(c.At.UTC().Format(time.RFC3339Nano))).
		Set(expression.Name(AttrExpires), expression.Value(s.ExpiresAt(c.At).Unix()))
	err := s.clipTx(ctx, id, 0, 0, s.clipUpdate(id, c.Key, set, statusIs(story.ClipPending)))
	if err == nil || errors.Is(err, ErrNotFound) {
		return err
	}
	if !errors.Is(err, errCondition) {
		return fmt.Errorf("store: verify clip: %w", err)
	}
	r, err := s.GetClip(ctx, id, c.Key)
	switch {
	case err == nil && r.Status == story.ClipVerified:
		return nil // delivered again
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	// No slot is held for this clip: take one as the record is claimed.
	set = set.Set(expression.Name("storyId"), expression.Value(id)).Set(expression.Name("key"), expression.Value(c.Key))
	claim := s.clipUpdate(id, c.Key, set, absent.Or(statusIs(story.ClipAborted, story.ClipRejected)))
	err = s.withSlot(ctx, id, max, func() error { return s.clipTx(ctx, id, +1, max, claim) })
	if errors.Is(err, errCondition) {
		return nil // another delivery verified it meanwhile
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTooManyClips) {
		return fmt.Errorf("store: verify clip: %w", err)
	}
	return err
}

// RejectClip records clip c of story id as rejected with c.Reason, and
// gives back the slot it held, in one transaction. Rejecting a rejected
// clip again changes nothing. A story gone or being erased is ErrNotFound,
// with no record left for it.
func (s *Store) RejectClip(ctx context.Context, id string, c story.Clip) error {
	set := expression.Set(nameStatus, expression.Value(story.ClipRejected)).
		Set(expression.Name("reason"), expression.Value(c.Reason)).
		Set(expression.Name("mime"), expression.Value(c.MIME)).
		Set(expression.Name("size"), expression.Value(c.Size)).
		Set(expression.Name("duration"), expression.Value(int64(c.Duration))).
		Set(expression.Name("clipAt"), expression.Value(c.At.UTC().Format(time.RFC3339Nano))).
		Set(expression.Name("storyId"), expression.Value(id)).
		Set(expression.Name("key"), expression.Value(c.Key)).
		Set(expression.Name(AttrExpires), expression.Value(s.ExpiresAt(c.At).Unix()))
	for attempt := 0; ; attempt++ {
		old, err := s.GetClip(ctx, id, c.Key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && old.Status == story.ClipRejected {
			return nil // delivered again
		}
		// The update holds only if the record is still as read, and it
		// gives back the slot a pending or verified clip held.
		cond, delta := absent, 0
		if err == nil {
			cond = statusIs(old.Status)
		}
		if old.Status == story.ClipPending || old.Status == story.ClipVerified {
			delta = -1
		}
		err = s.clipTx(ctx, id, delta, 0, s.clipUpdate(id, c.Key, set, cond))
		if errors.Is(err, errCondition) && attempt < 3 {
			continue // changed meanwhile: read again
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: reject clip: %w", err)
		}
		return err
	}
}

// ClipRecords lists every clip record of story id, oldest first.
func (s *Store) ClipRecords(ctx context.Context, id string) ([]ClipRecord, error) {
	var out []ClipRecord
	key := storyPartition(id).And(expression.KeyBeginsWith(expression.Key(AttrSK), clipPrefix))
	err := s.queryAll(ctx, s.query("", key), func(items []map[string]types.AttributeValue) error {
		for _, item := range items {
			var r ClipRecord
			if err := attributevalue.UnmarshalMap(item, &r); err != nil {
				return fmt.Errorf("unmarshal clip: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list clips: %w", err)
	}
	slices.SortStableFunc(out, func(a, b ClipRecord) int { return a.At.Compare(b.At) })
	return out, nil
}

// ListClips lists story id's verified and rejected clips, oldest first.
// Uploads still pending or aborted are left out.
func (s *Store) ListClips(ctx context.Context, id string) ([]story.Clip, error) {
	recs, err := s.ClipRecords(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []story.Clip
	for _, r := range recs {
		if r.Status == story.ClipVerified || r.Status == story.ClipRejected {
			out = append(out, r.Clip)
		}
	}
	return out, nil
}

func mergeAttrs(dst, src map[string]types.AttributeValue) {
	for k, v := range src {
		dst[k] = v
	}
}
