package store

// Clips live beside their story:
//
//	pk = STORY#<id>, sk = CLIP#<key>   one clip upload: pending from the moment it
//	                                   is signed, then verified, rejected or aborted
//	clipSlots (on the story item)     how many of the story's clips are pending or
//	                                  verified: the atomic guard of the clip limit
//
// A slot is taken before an upload is signed and given back when the upload
// is aborted, the clip is rejected, or a pending upload is abandoned past its
// deadline. Every transition is a conditional write, so a repeated request
// or event changes nothing the second time. A slot and its record are two
// writes: a crash between them can only leave a slot taken, never allow an
// extra clip. Every write that attaches a clip record to a story is one
// transaction with a check that the story is live (not being erased).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
	// UploadID is the S3 multipart upload id, for multipart uploads.
	UploadID string `dynamodbav:"uploadId,omitempty"`
	// DeclaredSize is the size the browser declared for a multipart
	// upload: each part URL is signed for its share of it.
	DeclaredSize int64 `dynamodbav:"declaredSize,omitempty"`
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

// AcquireClipSlot takes one of story id's max clip slots. When all are
// taken it first gives back the slots of uploads abandoned past their
// deadline. It returns ErrNotFound for a story that does not exist, is
// being erased or is past its expiry, and ErrTooManyClips when no slot is
// free.
func (s *Store) AcquireClipSlot(ctx context.Context, id string, max int) error {
	for attempt := 0; ; attempt++ {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(s.table),
			Key:                      StoryKey(id),
			UpdateExpression:         aws.String("ADD #slots :one"),
			ConditionExpression:      aws.String(current + " AND (attribute_not_exists(#slots) OR #slots < :max)"),
			ExpressionAttributeNames: map[string]string{"#slots": attrSlots},
			ExpressionAttributeValues: s.withNow(map[string]types.AttributeValue{
				":one": number(1),
				":max": number(int64(max)),
			}),
		})
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
			return fmt.Errorf("store: acquire clip slot: %w", err)
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

// ReleaseClipSlot gives back one of story id's clip slots.
func (s *Store) ReleaseClipSlot(ctx context.Context, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      StoryKey(id),
		UpdateExpression:         aws.String("ADD #slots :minus"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND #slots > :zero"),
		ExpressionAttributeNames: map[string]string{"#slots": attrSlots},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":minus": number(-1),
			":zero":  number(0),
		},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil // the story was erased, or holds no slot
	}
	if err != nil {
		return fmt.Errorf("store: release clip slot: %w", err)
	}
	return nil
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
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(s.table),
			Key:                      ClipKey(id, r.Key),
			UpdateExpression:         aws.String("SET #status = :aborted"),
			ConditionExpression:      aws.String("#status = :pending AND #until < :now"),
			ExpressionAttributeNames: map[string]string{"#status": attrStatus, "#until": attrUntil},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":aborted": str(story.ClipAborted),
				":pending": str(story.ClipPending),
				":now":     number(now),
			},
		})
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			continue // verified or aborted meanwhile
		}
		if err != nil {
			return freed, fmt.Errorf("store: reclaim clip slot: %w", err)
		}
		if err := s.ReleaseClipSlot(ctx, id); err != nil {
			return freed, err
		}
		freed++
	}
	return freed, nil
}

// PutPendingClip records a clip upload that is about to be signed. The
// caller holds a slot for it. It is ErrNotFound when the story is gone or
// being erased: nothing attaches to it any more.
func (s *Store) PutPendingClip(ctx context.Context, r ClipRecord) error {
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
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		s.liveCheck(r.StoryID),
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if cancelledAt(err, 0) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: put pending clip: %w", err)
	}
	return nil
}

// GetClip reads the record of the clip at key of story id.
func (s *Store) GetClip(ctx context.Context, id, key string) (ClipRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            ClipKey(id, key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ClipRecord{}, fmt.Errorf("store: get clip: %w", err)
	}
	if len(out.Item) == 0 {
		return ClipRecord{}, ErrNotFound
	}
	var r ClipRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return ClipRecord{}, fmt.Errorf("store: unmarshal clip: %w", err)
	}
	return r, nil
}

// AbortClip marks a pending upload aborted and gives back its slot. It
// reports false when the upload was not pending (already aborted, or
// already arrived).
func (s *Store) AbortClip(ctx context.Context, id, key string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      ClipKey(id, key),
		UpdateExpression:         aws.String("SET #status = :aborted"),
		ConditionExpression:      aws.String("#status = :pending"),
		ExpressionAttributeNames: map[string]string{"#status": attrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":aborted": str(story.ClipAborted),
			":pending": str(story.ClipPending),
		},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: abort clip: %w", err)
	}
	return true, s.ReleaseClipSlot(ctx, id)
}

// VerifyClip records clip c of story id as verified. A pending upload
// keeps the slot it holds; a clip that holds none (its upload was aborted
// or abandoned, or it was rejected under other limits) must first get one,
// and ErrTooManyClips means there is none. Verifying a verified clip again
// changes nothing. Every write is conditional on the story being live, in
// one transaction: a story gone or being erased is ErrNotFound, and no
// clip record is left behind for it.
func (s *Store) VerifyClip(ctx context.Context, id string, c story.Clip, max int) error {
	c.Status = story.ClipVerified
	names := map[string]string{"#status": attrStatus, "#mime": "mime", "#size": "size", "#duration": "duration", "#at": "clipAt", "#exp": AttrExpires}
	values := map[string]types.AttributeValue{
		":exp":      number(s.ExpiresAt(c.At).Unix()),
		":verified": str(story.ClipVerified),
		":pending":  str(story.ClipPending),
		":mime":     str(c.MIME),
		":size":     number(c.Size),
		":duration": number(int64(c.Duration)),
		":at":       str(c.At.UTC().Format(time.RFC3339Nano)),
	}
	update := "SET #status = :verified, #mime = :mime, #size = :size, #duration = :duration, #at = :at, #exp = :exp"
	err := s.updateLive(ctx, id, &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       ClipKey(id, c.Key),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
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
	// No slot is held for this clip: take one, then claim the record.
	if err := s.AcquireClipSlot(ctx, id, max); err != nil {
		return err
	}
	delete(values, ":pending")
	values[":aborted"] = str(story.ClipAborted)
	values[":rejected"] = str(story.ClipRejected)
	err = s.updateLive(ctx, id, &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       ClipKey(id, c.Key),
		UpdateExpression:          aws.String(update + ", #story = :story, #key = :key"),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #status IN (:aborted, :rejected)"),
		ExpressionAttributeNames:  withEntry(withEntry(names, "#story", "storyId"), "#key", "key"),
		ExpressionAttributeValues: withEntry(withEntry(values, ":story", str(id)), ":key", str(c.Key)),
	})
	if err == nil {
		return nil
	}
	if rerr := s.ReleaseClipSlot(ctx, id); rerr != nil {
		return errors.Join(err, rerr)
	}
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if errors.Is(err, errCondition) {
		return nil // another delivery verified it meanwhile
	}
	return fmt.Errorf("store: verify clip: %w", err)
}

// RejectClip records clip c of story id as rejected with c.Reason, and
// gives back the slot it held. Rejecting a rejected clip again changes
// nothing. The write is conditional on the story being live: a story gone
// or being erased is ErrNotFound, with no record left for it.
func (s *Store) RejectClip(ctx context.Context, id string, c story.Clip) error {
	for attempt := 0; ; attempt++ {
		old, err := s.GetClip(ctx, id, c.Key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && old.Status == story.ClipRejected {
			return nil // delivered again
		}
		// The update holds only if the record is still as read.
		cond := "attribute_not_exists(pk)"
		values := map[string]types.AttributeValue{
			":rejected": str(story.ClipRejected),
			":reason":   str(c.Reason),
			":mime":     str(c.MIME),
			":size":     number(c.Size),
			":duration": number(int64(c.Duration)),
			":at":       str(c.At.UTC().Format(time.RFC3339Nano)),
			":story":    str(id),
			":key":      str(c.Key),
			":exp":      number(s.ExpiresAt(c.At).Unix()),
		}
		if err == nil {
			cond = "#status = :old"
			values[":old"] = str(old.Status)
		}
		err = s.updateLive(ctx, id, &types.Update{
			TableName:           aws.String(s.table),
			Key:                 ClipKey(id, c.Key),
			UpdateExpression:    aws.String("SET #status = :rejected, #reason = :reason, #mime = :mime, #size = :size, #duration = :duration, #at = :at, #story = :story, #key = :key, #exp = :exp"),
			ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: map[string]string{
				"#status": attrStatus, "#reason": "reason", "#mime": "mime", "#size": "size",
				"#duration": "duration", "#at": "clipAt", "#story": "storyId", "#key": "key", "#exp": AttrExpires,
			},
			ExpressionAttributeValues: values,
		})
		if errors.Is(err, errCondition) && attempt < 3 {
			continue // changed meanwhile: read again
		}
		if err != nil {
			return fmt.Errorf("store: reject clip: %w", err)
		}
		if old.Status == story.ClipPending || old.Status == story.ClipVerified {
			return s.ReleaseClipSlot(ctx, id)
		}
		return nil
	}
}

// errCondition is the condition of an updateLive's own item failing.
var errCondition = errors.New("store: condition failed")

// updateLive runs u in one transaction with a check that story id is live.
// It returns ErrNotFound when the story is gone or being erased, and
// errCondition when u's own condition failed.
func (s *Store) updateLive(ctx context.Context, id string, u *types.Update) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		s.liveCheck(id), {Update: u},
	}})
	switch {
	case err == nil:
		return nil
	case cancelledAt(err, 0):
		return ErrNotFound
	case cancelledAt(err, 1):
		return errCondition
	}
	return err
}

// ClipRecords lists every clip record of story id, oldest first.
func (s *Store) ClipRecords(ctx context.Context, id string) ([]ClipRecord, error) {
	var out []ClipRecord
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :clip)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   str(storyPrefix + id),
			":clip": str(clipPrefix),
		},
		ConsistentRead: aws.Bool(true),
	}, func(items []map[string]types.AttributeValue) error {
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

func withEntry[V any](m map[string]V, k string, v V) map[string]V {
	out := make(map[string]V, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}
