package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/story"
)

// TombstoneRetention is how long the record of an erasure is kept: long
// enough for the comms team's digest to report it.
const TombstoneRetention = 90 * 24 * time.Hour

// Tombstone records that a story was erased. It holds no personal data.
type Tombstone struct {
	ID          string    `dynamodbav:"id"`
	Kind        string    `dynamodbav:"kind"` // "withdrawal"
	WithdrawnAt time.Time `dynamodbav:"withdrawnAt"`
	// State is ErasureRunning until every trace is deleted, then
	// ErasureDone (empty on tombstones written before: done).
	State string `dynamodbav:"state,omitempty"`
	// Notice is what the erasure emails need, kept until both went out.
	Notice *Notice `dynamodbav:"notice,omitempty"`
}

// Done reports whether the erasure finished.
func (t Tombstone) Done() bool { return t.State != ErasureRunning }

// ErrErased is returned for a story that was erased at the volunteer's request.
var ErrErased = errors.New("store: the story was erased")

// attrLedgerSize is the number of entries in a story's consent ledger,
// kept beside it so that a change can be conditional on the ledger read.
const attrLedgerSize = "consentCount"

// ErrLedgerChanged means the consent ledger changed since it was read
// (another press recorded a change first): read the story again.
var ErrLedgerChanged = errors.New("store: the consent ledger changed meanwhile")

// RecordConsent appends rec to story id's consent ledger if the ledger still
// holds exactly the read entries (as the caller read it), so that two
// presses at once record one change, not two: the second gets
// ErrLedgerChanged. A story gone, being erased or expired is ErrNotFound.
func (s *Store) RecordConsent(ctx context.Context, id string, read int, rec story.ConsentRecord) error {
	av, err := attributevalue.Marshal(rec)
	if err != nil {
		return err
	}
	// A story kept before its ledger began has no consents: the record
	// starts one. The ledger's size, kept beside it, is still the read one.
	size := expression.Name(attrLedgerSize)
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(nameConsents, expression.ListAppend(
			expression.IfNotExists(nameConsents, expression.Value(&types.AttributeValueMemberL{Value: []types.AttributeValue{}})),
			expression.Value(&types.AttributeValueMemberL{Value: []types.AttributeValue{av}}))).
			Set(size, expression.Value(read+1))).
		WithCondition(s.current().And(size.Equal(expression.Value(read)))))
	_, err = s.db.UpdateItem(ctx, s.updateInput(StoryKey(id), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		if _, err := s.GetStory(ctx, id); err != nil {
			return err // gone, being erased or expired: ErrNotFound
		}
		return ErrLedgerChanged
	}
	if err != nil {
		return fmt.Errorf("store: record consent: %w", err)
	}
	return nil
}

// GetTombstone returns the tombstone of an erased story.
func (s *Store) GetTombstone(ctx context.Context, id string) (Tombstone, error) {
	var t Tombstone
	if err := s.getItem(ctx, tombstoneKey(id), &t); err != nil {
		return Tombstone{}, fmt.Errorf("store: get tombstone: %w", err)
	}
	return t, nil
}

func tombstoneKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: storyPrefix + id},
		AttrSK: &types.AttributeValueMemberS{Value: tombstoneSK},
	}
}

// IsTombstone reports whether a key or image is a tombstone's.
func IsTombstone(sk string) bool { return sk == tombstoneSK }

// itemKeys lists the keys of every item under story id but its tombstone.
func (s *Store) itemKeys(ctx context.Context, id string) ([]map[string]types.AttributeValue, error) {
	var keys []map[string]types.AttributeValue
	err := s.queryAll(ctx, s.query("", storyPartition(id), AttrPK, AttrSK), func(items []map[string]types.AttributeValue) error {
		for _, item := range items {
			if sk, ok := item[AttrSK].(*types.AttributeValueMemberS); !ok || sk.Value != tombstoneSK {
				keys = append(keys, map[string]types.AttributeValue{AttrPK: item[AttrPK], AttrSK: item[AttrSK]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list story items: %w", err)
	}
	return keys, nil
}

// StoryIDsByEmail lists the stories sent from an email address (any case).
func (s *Store) StoryIDsByEmail(ctx context.Context, email string) ([]string, error) {
	var ids []string
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return nil, nil // no story has an empty emailKey (see PutStory)
	}
	err := s.queryAll(ctx, s.query(IndexByEmail, expression.Key(AttrEmailKey).Equal(expression.Value(e))), func(items []map[string]types.AttributeValue) error {
		for _, item := range items {
			pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
			sk, _ := item[AttrSK].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			if id, ok := StoryIDFromKey(pk.Value, sk.Value); ok {
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: query by email: %w", err)
	}
	return ids, nil
}

// StoryItems returns every item held under story id, as plain values, for
// a subject access export.
func (s *Store) StoryItems(ctx context.Context, id string) ([]map[string]any, error) {
	var out []map[string]any
	err := s.queryAll(ctx, s.query("", storyPartition(id)), func(items []map[string]types.AttributeValue) error {
		for _, item := range items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: export story: %w", err)
	}
	return out, nil
}

// storyPartition matches every item held under story id.
func storyPartition(id string) expression.KeyConditionBuilder {
	return expression.Key(AttrPK).Equal(expression.Value(storyPrefix + id))
}
