package store

// The list of MPs and candidates is one item:
//
//	pk = CANDIDATES, sk = LIST   people (a list of maps), updatedAt, version
//
// One item, so a replacement is all or nothing and a reader never sees half
// an import; the list is far below DynamoDB's 400 KB item limit
// (story.MaxCandidates people). It has no day or emailKey, so it is in
// neither index, and no story id, so the stream's consumers pass it by.

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

const (
	candidatesPK = "CANDIDATES"
	candidatesSK = "LIST"
)

// ErrListChanged means the list was replaced by someone else between
// reading it and replacing it.
var ErrListChanged = errors.New("store: the list of MPs and candidates was changed meanwhile: read it again")

type candidateItem struct {
	People    []story.Person `dynamodbav:"people"`
	UpdatedAt string         `dynamodbav:"updatedAt"`
	Version   int64          `dynamodbav:"version"`
}

func candidatesKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(candidatesPK), AttrSK: str(candidatesSK)}
}

// Candidates reads the list of MPs and candidates. A list never imported is
// empty, with a zero UpdatedAt and Version 0. consistent asks for a
// strongly consistent read (an import compares against it); pages read
// it eventually consistent, at half the cost.
func (s *Store) Candidates(ctx context.Context, consistent bool) (story.CandidateList, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            candidatesKey(),
		ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return story.CandidateList{}, fmt.Errorf("store: get candidates: %w", err)
	}
	if len(out.Item) == 0 {
		return story.CandidateList{}, nil
	}
	var it candidateItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return story.CandidateList{}, fmt.Errorf("store: unmarshal candidates: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, it.UpdatedAt)
	if err != nil {
		return story.CandidateList{}, fmt.Errorf("store: candidates updatedAt: %w", err)
	}
	return story.CandidateList{People: it.People, UpdatedAt: at, Version: it.Version}, nil
}

// ReplaceCandidates replaces the whole list with people, in one write, if
// the list kept is still at version (the version read before the import;
// 0 for a list never imported). Otherwise it changes nothing and returns
// ErrListChanged, so two imports at once cannot undo each other unseen.
func (s *Store) ReplaceCandidates(ctx context.Context, people []story.Person, version int64) (story.CandidateList, error) {
	if len(people) == 0 {
		// An import with no people lost its rows: refused (as by the
		// importer) rather than emptying the form's list.
		return story.CandidateList{}, errors.New("store: an empty list of candidates")
	}
	now := s.now().UTC()
	item, err := attributevalue.MarshalMap(candidateItem{People: people, UpdatedAt: now.Format(time.RFC3339Nano), Version: version + 1})
	if err != nil {
		return story.CandidateList{}, fmt.Errorf("store: marshal candidates: %w", err)
	}
	for k, v := range candidatesKey() {
		item[k] = v
	}
	cond := absent
	if version > 0 {
		cond = expression.Name("version").Equal(expression.Value(version))
	}
	e := build(expression.NewBuilder().WithCondition(cond))
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return story.CandidateList{}, ErrListChanged
	}
	if err != nil {
		return story.CandidateList{}, fmt.Errorf("store: put candidates: %w", err)
	}
	return story.CandidateList{People: people, UpdatedAt: now, Version: version + 1}, nil
}

// SetClock replaces the store's clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }
