// Package store keeps stories in DynamoDB. It is the only package that
// knows the table's layout:
//
//	pk = STORY#<id>, sk = STORY      a story (attributes: story.Story's fields)
//	pk = STORY#<id>, sk = WITHDRAWN  the tombstone of an erased story: no personal data
//	month, at                        the byMonth index: stories (and tombstones) by UTC month, then time
//	emailKey                         the byEmail index (lower-cased email), for requests by email
//	expiresAt                        DynamoDB TTL: when the item is deleted (retention)
//	sent_<kind>, claim_<kind>        which notification emails went out, and who is sending one
//	failed_<kind>                    an email SES refused for good, and its error code
//
// Every write that may be repeated is conditional, so a retried request or a
// re-delivered event changes nothing the second time.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/story"
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Errors the store returns; handlers map them to responses in one place.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: a different story already has this id")
)

// Names of the table's key and index attributes (template.yaml declares them).
const (
	AttrPK       = "pk"
	AttrSK       = "sk"
	AttrMonth    = "month"
	AttrAt       = "at"
	AttrEmailKey = "emailKey"
	AttrExpires  = "expiresAt"
	IndexByMonth = "byMonth"
	IndexByEmail = "byEmail"
	storySK      = "STORY"
	tombstoneSK  = "WITHDRAWN"
	storyPrefix  = "STORY#"
)

// DefaultRetention is how long a story is kept unless configured otherwise.
const DefaultRetention = 730 * 24 * time.Hour

// Store reads and writes stories in one table.
type Store struct {
	db        DynamoDB
	table     string
	now       func() time.Time
	retention time.Duration
}

// New returns a store for table that keeps stories for DefaultRetention.
func New(db DynamoDB, table string) *Store {
	return &Store{db: db, table: table, now: time.Now, retention: DefaultRetention}
}

// FromConfig returns a store for table on the SDK's DynamoDB client.
func FromConfig(awsCfg aws.Config, table string) *Store {
	c := dynamodb.NewFromConfig(awsCfg)
	return New(sdk{c.PutItem, c.GetItem, c.UpdateItem, c.DeleteItem, c.Query, c.Scan, c.TransactWriteItems}, table)
}

// sdk is the SDK's client seen through DynamoDB, as the operations the
// store calls. The client itself is never reachable from an interface
// value, not even as a struct field: in a binary that executes a template
// (text/template reaches reflect's MethodByName) the linker keeps every
// exported method of every type that is, which for *dynamodb.Client is all
// 60-odd operations (about 2 MB).
type sdk struct {
	put    func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	get    func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	update func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	delete func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	query  func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	scan   func(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	tx     func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDB = sdk{}

func (s sdk) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return s.put(ctx, in, opts...)
}

func (s sdk) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return s.get(ctx, in, opts...)
}

func (s sdk) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return s.update(ctx, in, opts...)
}

func (s sdk) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return s.delete(ctx, in, opts...)
}

func (s sdk) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return s.query(ctx, in, opts...)
}

func (s sdk) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return s.scan(ctx, in, opts...)
}

func (s sdk) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return s.tx(ctx, in, opts...)
}

// WithRetention sets how long stories are kept before DynamoDB's TTL
// deletes them.
func (s *Store) WithRetention(d time.Duration) *Store {
	if d > 0 {
		s.retention = d
	}
	return s
}

// ExpiresAt is when a story submitted at t is deleted.
func (s *Store) ExpiresAt(t time.Time) time.Time { return t.Add(s.retention) }

// StoryKey is the primary key of story id.
func StoryKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: storyPrefix + id},
		AttrSK: &types.AttributeValueMemberS{Value: storySK},
	}
}

// StoryIDFromKey returns the story id in a key or image, if it is a story's.
func StoryIDFromKey(pk, sk string) (string, bool) {
	if sk != storySK || len(pk) <= len(storyPrefix) || pk[:len(storyPrefix)] != storyPrefix {
		return "", false
	}
	return pk[len(storyPrefix):], true
}

// PutStory saves a new story, counted against limits (at its SubmittedAt)
// in the same transaction: one round trip, and all or nothing. A story over
// a limit is an *OverLimitError, and then neither the story nor any count
// is written. Sending the same story again (same id, same answers) returns
// the one saved first with created false, counting nothing; a different
// story with the same id is ErrConflict; an erased one is ErrErased. Those
// answers come before a limit's: they hold whatever the counts.
func (s *Store) PutStory(ctx context.Context, st story.Story, limits ...Limit) (saved story.Story, created bool, err error) {
	item, err := attributevalue.MarshalMap(st)
	if err != nil {
		return story.Story{}, false, fmt.Errorf("store: marshal story: %w", err)
	}
	for k, v := range StoryKey(st.ID) {
		item[k] = v
	}
	at := st.SubmittedAt.UTC()
	item[AttrMonth] = &types.AttributeValueMemberS{Value: at.Format(monthLayout)}
	item[AttrAt] = &types.AttributeValueMemberS{Value: at.Format(time.RFC3339Nano) + "#" + st.ID}
	// DynamoDB refuses an empty string as an index key: a story without an
	// email has no emailKey, and is simply not in byEmail.
	if st.Email != "" {
		item[AttrEmailKey] = str(strings.ToLower(st.Email))
	}
	item[AttrExpires] = number(s.ExpiresAt(at).Unix())
	item[attrLedgerSize] = number(int64(len(st.Consents)))
	// The story is kept only if its id has no tombstone: an erased story
	// never comes back (a replay, an old form).
	items := []types.TransactWriteItem{s.txPut(item, freeExpr), s.txCheck(tombstoneKey(st.ID), freeExpr)}
	for _, l := range limits {
		items = append(items, s.txCount(l, at))
	}
	err = s.transact(ctx, items)
	if err == nil {
		return st, true, nil
	}
	// DynamoDB may report every item whose condition failed; the story's
	// own answers come first.
	if cancelledAt(err, 1) {
		return story.Story{}, false, ErrErased
	}
	if !cancelledAt(err, 0) {
		for i, l := range limits {
			if cancelledAt(err, 2+i) {
				return story.Story{}, false, &OverLimitError{Limit: l, RetryAfter: l.windowEnd(at)}
			}
		}
		return story.Story{}, false, fmt.Errorf("store: put story: %w", err)
	}
	existing, err := s.GetStory(ctx, st.ID)
	if errors.Is(err, ErrNotFound) {
		return story.Story{}, false, ErrConflict // held but expired: the id is spent
	}
	if err != nil {
		return story.Story{}, false, err
	}
	if existing.ContentHash != st.ContentHash {
		return story.Story{}, false, ErrConflict
	}
	return existing, false, nil
}

// GetStory reads story id with a strongly consistent read. A story being
// erased, or past its expiresAt (which DynamoDB's TTL acts on only within
// days), is ErrNotFound.
func (s *Store) GetStory(ctx context.Context, id string) (story.Story, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            StoryKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return story.Story{}, fmt.Errorf("store: get story: %w", err)
	}
	if s.isGone(out.Item) {
		return story.Story{}, ErrNotFound
	}
	var st story.Story
	if err := attributevalue.UnmarshalMap(out.Item, &st); err != nil {
		return story.Story{}, fmt.Errorf("store: unmarshal story: %w", err)
	}
	return st, nil
}

// ClaimEmail claims the right to send email kind (e.g. "alert") for story
// id. It returns false when that email was already sent, or when another
// delivery holds an unexpired claim. A claim lasts for lease, so a sender
// that dies mid-send does not block the email for ever.
func (s *Store) ClaimEmail(ctx context.Context, id, kind string, lease time.Duration) (bool, error) {
	return s.claimEmail(ctx, StoryKey(id), kind, lease)
}

// MarkEmailSent records that email kind went out for story id, and drops
// its claim. A story erased meanwhile is left alone.
func (s *Store) MarkEmailSent(ctx context.Context, id, kind, messageID string) error {
	return s.markEmailSent(ctx, StoryKey(id), kind, messageID)
}

// MarkEmailFailed records that SES refused email kind of story id for
// good, with SES's error code (never its message, which names the
// address): it is not claimed, so not sent, again, and the digest shows it.
func (s *Store) MarkEmailFailed(ctx context.Context, id, kind, code string) error {
	return s.markEmail(ctx, StoryKey(id), kind, failedName(kind), code)
}

// ReleaseEmail gives up a claim after a failed send, so a retry can claim it.
func (s *Store) ReleaseEmail(ctx context.Context, id, kind string) error {
	return s.releaseEmail(ctx, StoryKey(id), kind)
}

// Which emails went out for an item, and who is sending one now, are
// attributes per kind: sent_<kind> (when, and SES's message id), failed_<kind>
// (SES refused it for good: its error code) and claim_<kind> (until when a
// sender holds the claim, Unix milliseconds), which is removed once the
// email went out or failed, or the send is given up.
func sentName(kind string) expression.NameBuilder   { return expression.Name("sent_" + kind) }
func failedName(kind string) expression.NameBuilder { return expression.Name("failed_" + kind) }
func claimName(kind string) expression.NameBuilder  { return expression.Name("claim_" + kind) }

// claimEmail claims email kind on the item at key: it holds only while the
// item exists, the email was neither sent nor refused for good, and no
// unexpired claim is held.
func (s *Store) claimEmail(ctx context.Context, key map[string]types.AttributeValue, kind string, lease time.Duration) (bool, error) {
	now := s.now()
	claim := claimName(kind)
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(claim, expression.Value(now.Add(lease).UnixMilli()))).
		WithCondition(exists.
			And(expression.AttributeNotExists(sentName(kind))).
			And(expression.AttributeNotExists(failedName(kind))).
			And(expression.AttributeNotExists(claim).Or(claim.LessThan(expression.Value(now.UnixMilli()))))))
	_, err := s.db.UpdateItem(ctx, s.updateInput(key, e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim %s email: %w", kind, err)
	}
	return true, nil
}

// markEmailSent records that email kind went out, on the item at key.
func (s *Store) markEmailSent(ctx context.Context, key map[string]types.AttributeValue, kind, messageID string) error {
	return s.markEmail(ctx, key, kind, sentName(kind), s.now().UTC().Format(time.RFC3339)+" "+messageID)
}

// markEmail sets the outcome of email kind (its sent or failed attribute)
// on the item at key, and removes its claim. An item gone meanwhile (an
// erased story) is left alone.
func (s *Store) markEmail(ctx context.Context, key map[string]types.AttributeValue, kind string, outcome expression.NameBuilder, value string) error {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(outcome, expression.Value(value)).Remove(claimName(kind))).
		WithCondition(exists))
	_, err := s.db.UpdateItem(ctx, s.updateInput(key, e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil // erased meanwhile: nothing to mark
	}
	if err != nil {
		return fmt.Errorf("store: mark %s email: %w", kind, err)
	}
	return nil
}

// releaseEmail removes the claim on email kind from the item at key.
func (s *Store) releaseEmail(ctx context.Context, key map[string]types.AttributeValue, kind string) error {
	e := build(expression.NewBuilder().WithUpdate(expression.Remove(claimName(kind))).WithCondition(exists))
	_, err := s.db.UpdateItem(ctx, s.updateInput(key, e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: release %s email: %w", kind, err)
	}
	return nil
}

// queryAll runs a query to the end, handing fn each page's items.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, fn func(items []map[string]types.AttributeValue) error) error {
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return err
		}
		if err := fn(out.Items); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
