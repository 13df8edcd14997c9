package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// streamMapping is a DynamoDB event source mapping: it delivers a table's
// stream records to a function in order, in batches, retrying failed
// records as Lambda does (ReportBatchItemFailures: from the first failed
// record on) until MaximumRetryAttempts, then dropping them with a log line
// (the on-failure destination).
type streamMapping struct {
	fn         *function
	table      string
	batchSize  int
	maxRetries int
	filters    []map[string]any
	log        *slog.Logger
	pending    *atomic.Int64
	// maxWait is the longest wait between retries (Options.RetryWait).
	maxWait time.Duration

	mu    sync.Mutex
	queue []events.DynamoDBEventRecord
	wake  chan struct{}
}

func newStreamMapping(fn *function, ev Event, table string, log *slog.Logger, pending *atomic.Int64, maxWait time.Duration) (*streamMapping, error) {
	m := &streamMapping{fn: fn, table: table, batchSize: 100, maxRetries: -1, log: log, pending: pending, maxWait: maxWait, wake: make(chan struct{}, 1)}
	if n, ok := ev.Properties["BatchSize"].(int); ok {
		m.batchSize = n
	}
	if n, ok := ev.Properties["MaximumRetryAttempts"].(int); ok {
		m.maxRetries = n
	}
	for _, f := range asSlice(asMap(ev.Properties["FilterCriteria"])["Filters"]) {
		var pattern map[string]any
		if err := json.Unmarshal([]byte(asString(asMap(f)["Pattern"])), &pattern); err != nil {
			return nil, fmt.Errorf("%s: a filter pattern is not JSON: %w", fn.name, err)
		}
		m.filters = append(m.filters, pattern)
	}
	return m, nil
}

// matches applies the mapping's filter patterns (any pattern may match) to
// the record as Lambda sees it (eventName, dynamodb.Keys.…). The local stack
// supports patterns of nested fields whose leaves are lists of exact values.
func (m *streamMapping) matches(rec events.DynamoDBEventRecord) bool {
	if len(m.filters) == 0 {
		return true
	}
	b, _ := json.Marshal(rec)
	var event map[string]any
	_ = json.Unmarshal(b, &event)
	for _, f := range m.filters {
		if matchPattern(f, event) {
			return true
		}
	}
	return false
}

func matchPattern(pattern, event map[string]any) bool {
	for k, want := range pattern {
		got := event[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchPattern(w, sub) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(w, func(v any) bool { return fmt.Sprint(v) == fmt.Sprint(got) }) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (m *streamMapping) add(rec events.DynamoDBEventRecord) {
	if !m.matches(rec) {
		return
	}
	m.pending.Add(1)
	m.mu.Lock()
	m.queue = append(m.queue, rec)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *streamMapping) run(ctx context.Context) {
	for {
		m.mu.Lock()
		n := min(len(m.queue), m.batchSize)
		batch := slices.Clone(m.queue[:n])
		m.mu.Unlock()
		if n == 0 {
			select {
			case <-ctx.Done():
				return
			case <-m.wake:
				continue
			}
		}
		done := m.deliver(ctx, batch)
		m.mu.Lock()
		m.queue = m.queue[done:]
		m.mu.Unlock()
		m.pending.Add(-int64(done))
		if ctx.Err() != nil {
			return
		}
	}
}

// deliver invokes the function until the batch is through or given up, and
// returns how many records of the batch are finished.
func (m *streamMapping) deliver(ctx context.Context, batch []events.DynamoDBEventRecord) int {
	done := 0
	for attempt := 0; ; attempt++ {
		var resp events.DynamoDBEventResponse
		err := m.fn.invoke(ctx, events.DynamoDBEvent{Records: batch[done:]}, &resp)
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return len(batch)
		}
		if err == nil {
			// Lambda restarts from the lowest failed sequence number.
			first := len(batch)
			for _, f := range resp.BatchItemFailures {
				for i := done; i < len(batch); i++ {
					if batch[i].Change.SequenceNumber == f.ItemIdentifier && i < first {
						first = i
					}
				}
			}
			if first == len(batch) { // an unknown identifier: retry the whole batch
				first = done
			}
			done = first
		}
		if ctx.Err() != nil {
			return len(batch)
		}
		if m.maxRetries >= 0 && attempt >= m.maxRetries {
			m.log.Error("stream records dropped after retries (on AWS: sent to the on-failure destination)",
				"function", m.fn.name, "records", len(batch)-done, "error", fmt.Sprint(err))
			return len(batch)
		}
		m.log.Warn("stream batch will be retried", "function", m.fn.name, "attempt", attempt+1, "records", len(batch)-done)
		select {
		case <-ctx.Done():
			return len(batch)
		case <-time.After(backoff(attempt, m.maxWait)):
		}
	}
}

// backoff is the wait before retry attempt+1: 50 ms, doubling, at most
// maxWait.
func backoff(attempt int, maxWait time.Duration) time.Duration {
	d := 50 * time.Millisecond << min(attempt, 5)
	return min(d, maxWait)
}
