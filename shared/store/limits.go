package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Rate limit counters: pk = LIMIT#<counter>#<window start>, sk = LIMIT,
// with a count n and the TTL attribute set a day after the window ends
// (DynamoDB deletes it within days; an old window is never read again).
const (
	limitPrefix = "LIMIT#"
	limitSK     = "LIMIT"
)

// Hit counts one event against counter in the fixed window of length
// window that holds now, and reports whether the event is within limit
// (false: limit events were already counted in this window, and this one
// is not counted). retryAfter is when the window ends. counter must hold
// no personal data: callers name it with a keyed digest.
func (s *Store) Hit(ctx context.Context, counter string, window time.Duration, limit int, now time.Time) (ok bool, retryAfter time.Time, err error) {
	start := now.UTC().Truncate(window)
	end := start.Add(window)
	key := map[string]types.AttributeValue{
		AttrPK: str(limitPrefix + counter + "#" + strconv.FormatInt(start.Unix(), 10)),
		AttrSK: str(limitSK),
	}
	n := expression.Name("n")
	e := build(expression.NewBuilder().
		WithUpdate(expression.Add(n, expression.Value(1)).Set(nameExpires, expression.Value(end.Add(24*time.Hour).Unix()))).
		WithCondition(expression.AttributeNotExists(n).Or(n.LessThan(expression.Value(limit)))))
	_, err = s.db.UpdateItem(ctx, s.updateInput(key, e))
	if _, over := errors.AsType[*types.ConditionalCheckFailedException](err); over {
		return false, end, nil
	}
	if err != nil {
		return false, end, fmt.Errorf("store: count %s: %w", counter, err)
	}
	return true, end, nil
}
