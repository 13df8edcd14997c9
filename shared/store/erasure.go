package store

// Erasure is a durable, ordered process whose state lives in the table:
//
//	pk = STORY#<id>, sk = STORY      erasing = <time>: the story is being erased.
//	                                 Every reader treats it as gone, and every
//	                                 write that would attach something to it
//	                                 (a clip slot, a pending clip, a verified or
//	                                 rejected clip, a consent) is conditional on
//	                                 its absence.
//	pk = STORY#<id>, sk = WITHDRAWN  the tombstone, written in the same
//	                                 transaction: state "erasing" until every
//	                                 trace is deleted, then "erased". Until the
//	                                 two erasure emails went out it carries the
//	                                 notice they need (the volunteer's address,
//	                                 role, borough); that is removed once both
//	                                 are sent.
//
// The tombstone is written before anything is deleted, so an erasure that
// dies part way is found again (its stream record, the next run) and
// resumed; every step after it is idempotent.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/story"
)

// Erasure states of a tombstone.
const (
	ErasureRunning = "erasing" // traces may be left: resume the erasure
	ErasureDone    = "erased"  // nothing of the story is held but the tombstone
)

const (
	attrErasing = "erasing"
	attrNotice  = "notice"
	attrState   = "state"
)

// Notice is what the erasure emails need once the story is gone. It is kept
// on the tombstone only until both emails went out.
type Notice struct {
	Email       string    `dynamodbav:"email"`
	Role        string    `dynamodbav:"role"`
	Borough     string    `dynamodbav:"borough"`
	SubmittedAt time.Time `dynamodbav:"submittedAt"`
	// Clips is how many verified clips the story had when erasure began.
	Clips int `dynamodbav:"clips"`
}

// Story is the notice as a story (its id, role, borough and date), for the
// email templates.
func (n Notice) Story(id string) story.Story {
	return story.Story{ID: id, Email: n.Email, Role: n.Role, Borough: n.Borough, SubmittedAt: n.SubmittedAt}
}

// isGone reports whether a story item is absent to readers: being erased, or
// past its expiresAt (DynamoDB's TTL deletes items up to days later).
func (s *Store) isGone(item map[string]types.AttributeValue) bool {
	if len(item) == 0 {
		return true
	}
	if _, ok := item[attrErasing]; ok {
		return true
	}
	return s.expired(item)
}

// expired reports whether an item is past its expiresAt.
func (s *Store) expired(item map[string]types.AttributeValue) bool {
	n, ok := item[AttrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	var secs int64
	if _, err := fmt.Sscan(n.Value, &secs); err != nil {
		return false
	}
	return secs <= s.now().Unix()
}

// BeginErasure marks story id as being erased and writes its tombstone, in
// one transaction. From then on nothing attaches to the story and every
// reader treats it as gone. When the story is already being erased (or was
// erased), it returns the existing tombstone, so the caller resumes. A story
// never held (or deleted by retention) is ErrNotFound.
func (s *Store) BeginErasure(ctx context.Context, id string) (Tombstone, error) {
	if t, err := s.GetTombstone(ctx, id); err == nil || !errors.Is(err, ErrNotFound) {
		return t, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: StoryKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Tombstone{}, fmt.Errorf("store: get story: %w", err)
	}
	if len(out.Item) == 0 {
		return Tombstone{}, ErrNotFound
	}
	var st story.Story
	if err := attributevalue.UnmarshalMap(out.Item, &st); err != nil {
		return Tombstone{}, fmt.Errorf("store: unmarshal story: %w", err)
	}
	clips, err := s.ListClips(ctx, id)
	if err != nil {
		return Tombstone{}, err
	}
	n := Notice{Email: st.Email, Role: st.Role, Borough: st.Borough, SubmittedAt: st.SubmittedAt}
	for _, c := range clips {
		if c.Status == story.ClipVerified {
			n.Clips++
		}
	}
	now := s.now().UTC()
	t := Tombstone{ID: id, Kind: "withdrawal", WithdrawnAt: now, State: ErasureRunning, Notice: &n}
	item, err := attributevalue.MarshalMap(t)
	if err != nil {
		return Tombstone{}, err
	}
	mergeAttrs(item, tombstoneKey(id))
	item[AttrMonth] = str(now.Format(monthLayout))
	item[AttrAt] = str(now.Format(time.RFC3339Nano) + "#" + id)
	// The tombstone refuses the id for as long as a story is kept, so no
	// replay or old form brings it back.
	item[AttrExpires] = number(now.Add(max(TombstoneRetention, s.retention)).Unix())
	mark := build(expression.NewBuilder().
		WithUpdate(expression.Set(nameErasing, expression.Value(now.Format(time.RFC3339Nano)))).
		WithCondition(liveCond))
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		s.txUpdate(StoryKey(id), mark),
		s.txPut(item, freeExpr),
	}})
	if canceled(err) {
		// Another erasure began meanwhile (or the story went): resume it.
		return s.GetTombstone(ctx, id)
	}
	if err != nil {
		return Tombstone{}, fmt.Errorf("store: begin erasure: %w", err)
	}
	return t, nil
}

// DeleteStoryItems deletes every item held under story id but its
// tombstone. Deleting what is already gone is harmless.
func (s *Store) DeleteStoryItems(ctx context.Context, id string) (int, error) {
	keys, err := s.itemKeys(ctx, id)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: k}); err != nil {
			return 0, fmt.Errorf("store: erase: %w", err)
		}
	}
	return len(keys), nil
}

// FinishErasure records that nothing of story id is held but its tombstone.
func (s *Store) FinishErasure(ctx context.Context, id string) error {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrState), expression.Value(ErasureDone))).
		WithCondition(exists))
	_, err := s.db.UpdateItem(ctx, s.updateInput(tombstoneKey(id), e))
	if err != nil {
		return fmt.Errorf("store: finish erasure: %w", err)
	}
	return nil
}

// ClaimErasureEmail claims the right to send the erasure email kind for
// story id, on its tombstone (see ClaimEmail: false when it was sent, or a
// live claim is held).
func (s *Store) ClaimErasureEmail(ctx context.Context, id, kind string, lease time.Duration) (bool, error) {
	return s.claimEmail(ctx, tombstoneKey(id), kind, lease)
}

// MarkErasureEmailSent records that erasure email kind went out.
func (s *Store) MarkErasureEmailSent(ctx context.Context, id, kind, messageID string) error {
	return s.markEmailSent(ctx, tombstoneKey(id), kind, messageID)
}

// ReleaseErasureEmail gives up a claim after a failed send.
func (s *Store) ReleaseErasureEmail(ctx context.Context, id, kind string) error {
	return s.releaseEmail(ctx, tombstoneKey(id), kind)
}

// ForgetNotice removes the notice from story id's tombstone once the
// emails of kinds went out: after it the tombstone holds no personal data.
// Until then (or with no tombstone) it does nothing.
func (s *Store) ForgetNotice(ctx context.Context, id string, kinds ...string) error {
	cond := exists
	for _, k := range kinds {
		cond = cond.And(expression.AttributeExists(sentName(k)))
	}
	e := build(expression.NewBuilder().WithUpdate(expression.Remove(expression.Name(attrNotice))).WithCondition(cond))
	_, err := s.db.UpdateItem(ctx, s.updateInput(tombstoneKey(id), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil // an email has not gone out yet: the notice is still needed
	}
	if err != nil {
		return fmt.Errorf("store: forget notice: %w", err)
	}
	return nil
}

// canceled reports whether err is a transaction cancelled by a condition.
func canceled(err error) bool {
	_, ok := errors.AsType[*types.TransactionCanceledException](err)
	return ok
}

// cancelledAt reports whether the transaction err was cancelled by the
// condition of its item i.
func cancelledAt(err error, i int) bool {
	tce, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok || i >= len(tce.CancellationReasons) {
		return false
	}
	return aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

// liveCheck is a transaction item that holds only while story id exists,
// is not being erased and is not past its expiry.
func (s *Store) liveCheck(id string) types.TransactWriteItem {
	return s.txCheck(StoryKey(id), build(expression.NewBuilder().WithCondition(s.current())))
}

// Trace is one item that mentions what an audit looks for.
type Trace struct {
	PK, SK string
	Item   map[string]any
}

// Scan walks the whole table and returns the items for which match is
// true (given each item as plain values). It is for audits, not for
// requests: it reads every item.
func (s *Store) Scan(ctx context.Context, match func(item map[string]any) bool) ([]Trace, error) {
	var out []Trace
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)}
	for {
		page, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: scan: %w", err)
		}
		for _, item := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				return nil, err
			}
			if match(m) {
				pk, _ := m[AttrPK].(string)
				sk, _ := m[AttrSK].(string)
				out = append(out, Trace{PK: pk, SK: sk, Item: m})
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// EraseStory erases story id from the table alone (no clip objects): it
// begins the erasure, deletes every item but the tombstone and finishes.
// Erasing twice is harmless. privacy.Service.Erase is the whole process.
func (s *Store) EraseStory(ctx context.Context, id string) (Tombstone, error) {
	t, err := s.BeginErasure(ctx, id)
	if err != nil {
		return t, err
	}
	if _, err := s.DeleteStoryItems(ctx, id); err != nil {
		return t, err
	}
	if err := s.FinishErasure(ctx, id); err != nil {
		return t, err
	}
	t.State = ErasureDone
	return t, nil
}

// TombstoneIDFromKey returns the story id in a key or image, if it is a
// tombstone's.
func TombstoneIDFromKey(pk, sk string) (string, bool) {
	if sk != tombstoneSK || len(pk) <= len(storyPrefix) || pk[:len(storyPrefix)] != storyPrefix {
		return "", false
	}
	return pk[len(storyPrefix):], true
}

// StoryHeld reports, from a strongly consistent read, whether story id is
// still held: not gone, not being erased, not past its expiry. It reads
// with a Query of the story's own item (for callers granted Query only).
func (s *Store) StoryHeld(ctx context.Context, id string) (bool, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk = :sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(storyPrefix + id), ":sk": str(storySK),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("store: story held: %w", err)
	}
	return len(out.Items) == 1 && !s.isGone(out.Items[0]), nil
}
