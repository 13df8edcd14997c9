package store

import (
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

// Limit is a rate limit a write is counted against: at most Max writes per
// Counter in each fixed window of length Window (windows start at whole
// multiples of Window since the Unix epoch, UTC). Counter must hold no
// personal data: callers name it with a keyed digest.
type Limit struct {
	Counter string
	Window  time.Duration
	Max     int
}

// OverLimitError is a write refused because Max writes were already
// counted against Limit in the current window. Nothing of the write was
// done: neither the item, nor any of its counts.
type OverLimitError struct {
	Limit Limit
	// RetryAfter is when the window ends.
	RetryAfter time.Time
}

func (e *OverLimitError) Error() string { return "store: over a rate limit" }

// windowEnd is the end of l's window that holds t.
func (l Limit) windowEnd(t time.Time) time.Time {
	return t.UTC().Truncate(l.Window).Add(l.Window)
}

// txCount is a transaction item counting one write at t against l: it adds
// one to the window's counter, if fewer than l.Max are counted.
func (s *Store) txCount(l Limit, t time.Time) types.TransactWriteItem {
	end := l.windowEnd(t)
	key := map[string]types.AttributeValue{
		AttrPK: str(limitPrefix + l.Counter + "#" + strconv.FormatInt(end.Add(-l.Window).Unix(), 10)),
		AttrSK: str(limitSK),
	}
	n := expression.Name("n")
	return s.txUpdate(key, build(expression.NewBuilder().
		WithUpdate(expression.Add(n, expression.Value(1)).Set(nameExpires, expression.Value(end.Add(24*time.Hour).Unix()))).
		WithCondition(expression.AttributeNotExists(n).Or(n.LessThan(expression.Value(l.Max))))))
}
