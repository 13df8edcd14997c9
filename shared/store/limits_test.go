package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// counts is every rate-limit counter in the table: its counter name (the
// window left out) and count, and when DynamoDB may delete it.
func counts(t *testing.T, s *store.Store) (n map[string]string, expires map[string]string) {
	t.Helper()
	traces, err := s.Scan(context.Background(), func(item map[string]any) bool {
		pk, _ := item[store.AttrPK].(string)
		return strings.HasPrefix(pk, "LIMIT#")
	})
	if err != nil {
		t.Fatal(err)
	}
	n, expires = map[string]string{}, map[string]string{}
	for _, tr := range traces {
		name := strings.TrimPrefix(tr.PK[:strings.LastIndexByte(tr.PK, '#')], "LIMIT#")
		n[name] = fmt.Sprint(tr.Item["n"])
		expires[name] = fmt.Sprintf("%.0f", tr.Item[store.AttrExpires])
	}
	return n, expires
}

// A story and its rate-limit counts are one write: a story over a limit is
// refused with nothing written (neither the story nor the other count); a
// replay of a kept story counts nothing; the counters expire a day after
// their window.
func TestLimitsAreCountedWithTheStory(t *testing.T) {
	ctx := context.Background()
	s := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	at := time.Date(2026, 11, 28, 22, 30, 0, 0, time.UTC)
	put := func(email string, limits ...store.Limit) (story.Story, bool, error) {
		st := newStory(t, email)
		st.SubmittedAt = at
		return s.PutStory(ctx, st, limits...)
	}
	ip := store.Limit{Counter: "ip#d1", Window: time.Hour, Max: 3}
	address := func(d string) store.Limit { return store.Limit{Counter: "email#" + d, Window: 24 * time.Hour, Max: 1} }

	first, created, err := put("a@example.org", ip, address("a"))
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	n, expires := counts(t, s)
	if want := map[string]string{"ip#d1": "1", "email#a": "1"}; fmt.Sprint(n) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", n, want)
	}
	hourEnd, dayEnd := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	if expires["ip#d1"] != fmt.Sprint(hourEnd.Add(24*time.Hour).Unix()) || expires["email#a"] != fmt.Sprint(dayEnd.Add(24*time.Hour).Unix()) {
		t.Fatalf("expiresAt %v", expires)
	}

	// The same story again: the one kept, nothing counted.
	again := first
	if saved, created, err := s.PutStory(ctx, again, ip, address("a")); err != nil || created || saved.ID != first.ID {
		t.Fatalf("replay: %v %v %v", saved.ID, created, err)
	}

	// Over the address's limit: refused, the story absent, the IP's count
	// unchanged.
	refused := newStory(t, "a@example.org")
	refused.SubmittedAt = at
	_, _, err = s.PutStory(ctx, refused, ip, address("a"))
	over, ok := errors.AsType[*store.OverLimitError](err)
	if !ok || over.Limit.Counter != "email#a" || !over.RetryAfter.Equal(dayEnd) {
		t.Fatalf("over the address's limit: %v", err)
	}
	if _, err := s.GetStory(ctx, refused.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused story was kept: %v", err)
	}
	if ids, err := s.StoryIDsByEmail(ctx, "a@example.org"); err != nil || fmt.Sprint(ids) != fmt.Sprint([]string{first.ID}) {
		t.Fatalf("the byEmail index after a refusal: %v %v", ids, err)
	}
	if n, _ := counts(t, s); fmt.Sprint(n) != fmt.Sprint(map[string]string{"ip#d1": "1", "email#a": "1"}) {
		t.Fatalf("counts after a refusal: %v", n)
	}

	// Over the IP's limit: the other address's counter is not even made.
	for _, d := range []string{"b", "c"} {
		if _, _, err := put(d+"@example.org", ip, address(d)); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = put("d@example.org", ip, address("d"))
	if over, ok := errors.AsType[*store.OverLimitError](err); !ok || over.Limit.Counter != "ip#d1" || !over.RetryAfter.Equal(hourEnd) {
		t.Fatalf("over the IP's limit: %v", err)
	}
	if n, _ := counts(t, s); fmt.Sprint(n) != fmt.Sprint(map[string]string{"ip#d1": "3", "email#a": "1", "email#b": "1", "email#c": "1"}) {
		t.Fatalf("counts after the IP's refusal: %v", n)
	}

	// An erased story's replay is ErrErased, over a limit or not.
	if _, err := s.EraseStory(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutStory(ctx, first, ip, address("a")); !errors.Is(err, store.ErrErased) {
		t.Fatalf("erased replay: %v", err)
	}
}

// conflictingDB cancels the first transactions it is sent as DynamoDB
// cancels one that meets another writing the same item at once.
type conflictingDB struct {
	store.DynamoDB
	conflicts, calls int
}

func (c *conflictingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls++
	if c.calls <= c.conflicts {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[len(reasons)-1].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled [None, TransactionConflict]"), CancellationReasons: reasons}
	}
	return c.DynamoDB.TransactWriteItems(ctx, in, opts...)
}

// Two stories sent at once from one practice share a counter; the
// transaction that meets the other's is tried again, and a lasting
// conflict is an error (not a refusal), with nothing written.
func TestPutStoryRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	ip := store.Limit{Counter: "ip#d1", Window: time.Hour, Max: 3}
	db := &conflictingDB{DynamoDB: testenv.Table(t, "StoriesTable"), conflicts: 2}
	s := store.New(db, "StoriesTable")
	st := newStory(t, "a@example.org")
	if _, created, err := s.PutStory(ctx, st, ip); err != nil || !created || db.calls != 3 {
		t.Fatalf("after 2 conflicts: created %v, %v, %d calls", created, err, db.calls)
	}

	db.calls, db.conflicts = 0, 100
	lasting := newStory(t, "b@example.org")
	_, _, err := s.PutStory(ctx, lasting, ip)
	if _, over := errors.AsType[*store.OverLimitError](err); err == nil || over || errors.Is(err, store.ErrConflict) || db.calls != 5 {
		t.Fatalf("a lasting conflict: %v after %d calls", err, db.calls)
	}
	if _, err := s.GetStory(ctx, lasting.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("kept: %v", err)
	}
	if n, _ := counts(t, s); n["ip#d1"] != "1" {
		t.Fatalf("counts %v", n)
	}
}
