package stack_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"frontlinevoices/infra/local/stack"
)

// TestNotifySeesOnlyNewStories: the notify function's stream filter lets a
// story's INSERT through and nothing else, so a submission's rate-limit
// counters (a new counter is an INSERT too) never invoke it.
func TestNotifySeesOnlyNewStories(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []events.DynamoDBEventRecord
	s := startClipStack(t, func(o *stack.Options) {
		o.OnInvoke = func(function string, payload []byte) {
			traffic.Add(function, payload)
			var ev events.DynamoDBEvent
			if function != "NotifyFunction" || json.Unmarshal(payload, &ev) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, ev.Records...)
		}
	})
	submitStory(t, s)
	waitFor(t, s)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("notify saw no record of the new story")
	}
	for _, r := range seen {
		if pk, sk := r.Change.Keys["pk"], r.Change.Keys["sk"]; r.EventName != "INSERT" || sk.DataType() != events.DataTypeString || sk.String() != "STORY" {
			t.Errorf("notify was invoked for %s of %v/%v", r.EventName, pk, sk)
		}
	}
}
