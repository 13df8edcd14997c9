package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Every condition, update, key condition and projection the store sends is
// built with the SDK's expression package, which names every attribute
// (#0, #1, …) and value (:0, :1, …) itself: no hand-written expression
// strings, no reserved-word clashes, no unused or missing placeholders.

// build builds b. It fails only for a malformed builder (an empty name, a
// value of a type that cannot be marshalled): a bug in this package, which
// every test of the call fails on, hence the panic.
func build(b expression.Builder) expression.Expression {
	e, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("store: a malformed DynamoDB expression: %v", err))
	}
	return e
}

// Names and conditions may be shared (they are values); an UpdateBuilder
// may not: its Set and Remove add to a map its copies share, so updates are
// built afresh for each request.

// Attribute names the store's expressions use.
var (
	namePK       = expression.Name(AttrPK)
	nameErasing  = expression.Name(attrErasing)
	nameSlots    = expression.Name(attrSlots)
	nameStatus   = expression.Name(attrStatus)
	nameUntil    = expression.Name(attrUntil)
	nameConsents = expression.Name("consents")
	nameExpires  = expression.Name(AttrExpires)

	nameWatermark  = expression.Name(attrWatermark)
	nameRecent     = expression.Name(attrRecent)
	nameClaimOwner = expression.Name(attrClaimOwner)
	nameClaimUntil = expression.Name(attrClaimUntil)
	nameClaimEnd   = expression.Name(attrClaimEnd)
)

// exists holds while the item exists; absent while it does not.
var (
	exists = expression.AttributeExists(namePK)
	absent = expression.AttributeNotExists(namePK)
)

// freeExpr is absent, built once: it has no values, and a request only
// reads its names.
var freeExpr = build(expression.NewBuilder().WithCondition(absent))

// liveCond holds on a story item that exists and is not being erased.
var liveCond = exists.And(expression.AttributeNotExists(nameErasing))

// current holds on a story item that is live and not past its expiresAt
// either (DynamoDB's TTL deletes an expired item up to days later; until
// then it is absent all the same).
func (s *Store) current() expression.ConditionBuilder {
	return liveCond.And(expression.AttributeNotExists(nameExpires).Or(nameExpires.GreaterThan(expression.Value(s.now().Unix()))))
}

// query asks the table, or its index when one is named, for the items that
// match key, with only the attributes in projection (all when none). Reads
// of the table are strongly consistent; an index offers only eventual
// consistency.
func (s *Store) query(index string, key expression.KeyConditionBuilder, projection ...string) *dynamodb.QueryInput {
	b := expression.NewBuilder().WithKeyCondition(key)
	if len(projection) > 0 {
		names := make([]expression.NameBuilder, len(projection))
		for i, p := range projection {
			names[i] = expression.Name(p)
		}
		b = b.WithProjection(expression.NamesList(names[0], names[1:]...))
	}
	e := build(b)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    e.KeyCondition(),
		ProjectionExpression:      e.Projection(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	return in
}

// updateInput is an UpdateItem of the item at key with e's update, if e's
// condition holds.
func (s *Store) updateInput(key map[string]types.AttributeValue, e expression.Expression) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key, UpdateExpression: e.Update(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
}

// txUpdate is updateInput as a transaction item.
func (s *Store) txUpdate(key map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: key, UpdateExpression: e.Update(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}}
}

// txPut is a transaction item putting item, if e's condition holds.
func (s *Store) txPut(item map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item,
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}}
}

// txCheck is a transaction item that holds while e's condition holds on the
// item at key.
func (s *Store) txCheck(key map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key,
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}}
}

// getItem reads the item at key, strongly consistent, into v. An absent
// item is ErrNotFound.
func (s *Store) getItem(ctx context.Context, key map[string]types.AttributeValue, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if len(out.Item) == 0 {
		return ErrNotFound
	}
	return attributevalue.UnmarshalMap(out.Item, v)
}

// transact writes items in one transaction. DynamoDB cancels a transaction
// that meets another one writing one of its items at the same moment
// (TransactionConflict), and the SDK does not retry that: nothing of it was
// written, so it is tried again, up to four times, after a short random
// wait (two stories sent at once from one practice share a counter).
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	for try := 0; ; try++ {
		_, err := s.db.TransactWriteItems(ctx, in)
		if err == nil || try == 4 || !onlyConflicts(err) {
			return err
		}
		wait := time.Duration(5<<try)*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// onlyConflicts reports whether err is a transaction cancelled by a
// conflict with another transaction, and for no other reason.
func onlyConflicts(err error) bool {
	tce, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok {
		return false
	}
	conflict := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflict = true
		case "", "None":
		default:
			return false
		}
	}
	return conflict
}
