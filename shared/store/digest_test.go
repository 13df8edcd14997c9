package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func digestStore(t *testing.T) (*store.Store, *countingDB) {
	t.Helper()
	db := &countingDB{DynamoDB: testenv.Table(t, "StoriesTable")}
	return store.New(db, "StoriesTable"), db
}

// countingDB counts Query requests.
type countingDB struct {
	store.DynamoDB
	queries int
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries++
	return c.DynamoDB.Query(ctx, in, opts...)
}

func putAt(t *testing.T, s *store.Store, n int, at time.Time) story.Story {
	t.Helper()
	st := story.Story{ID: fmt.Sprintf("%026d", n), Name: "N", Borough: "camden", Area: "ncl", SubmittedAt: at, ContentHash: fmt.Sprint(n),
		Topics: []string{"workload"}, Consents: []story.ConsentRecord{{Statement: "contact", Agreed: true, At: at}}}
	if _, _, err := s.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return st
}

func ids(stories []story.Story) []string {
	out := make([]string, len(stories))
	for i, st := range stories {
		out[i] = st.ID[len(st.ID)-3:]
	}
	return out
}

func TestReadPeriod(t *testing.T) {
	s, db := digestStore(t)
	ctx := context.Background()
	after := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	until := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	putAt(t, s, 1, after.Add(-24*time.Hour))        // a day before
	putAt(t, s, 2, after)                           // exactly the start: excluded
	putAt(t, s, 3, after.Add(time.Nanosecond))      // just after: included
	putAt(t, s, 4, after.Add(100*time.Millisecond)) // same second as 3, shorter fraction
	putAt(t, s, 5, time.Date(2026, 11, 28, 23, 59, 59, 999999999, time.UTC))
	putAt(t, s, 6, until)                            // exactly the end: included
	putAt(t, s, 7, until.Add(time.Nanosecond))       // after the end: excluded
	putAt(t, s, 8, until.Add(500*time.Millisecond))  // same second as the end, later: excluded
	putAt(t, s, 9, until.Add(-500*time.Millisecond)) // same second before the end, as text sorts after "Z"
	putAt(t, s, 10, until.Add(48*time.Hour))         // a later day, in the next month: not read at all
	putAt(t, s, 11, time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("BST", 3600)))

	p, stats, err := s.ReadPeriod(ctx, after, until)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]story.Story, len(p.Stories))
	for i, st := range p.Stories {
		got[i] = st.Story
	}
	want := []string{"003", "004", "005", "011", "009", "006"}
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("stories = %v, want %v (oldest first)", ids(got), want)
	}
	// One month, one query; only the edge seconds are read and dropped.
	if db.queries != 1 || stats.Queries != 1 {
		t.Errorf("queries = %d (stats %d), want 1", db.queries, stats.Queries)
	}
	if stats.Items != len(want)+3 { // + story 2 (start second) and 7, 8 (end second)
		t.Errorf("items read = %d, want %d", stats.Items, len(want)+3)
	}
	// The DIGEST items share the table but are never read as stories.
	if got[0].Name != "N" {
		t.Errorf("story = %+v", got[0])
	}
}

func TestDigestClaimLifecycle(t *testing.T) {
	s, db := digestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 8, 0, 5, 0, time.UTC)
	end := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	claim := func(owner string, wm time.Time, at time.Time) bool {
		t.Helper()
		ok, err := s.ClaimDigest(ctx, store.DigestClaim{Watermark: wm, End: end, Owner: owner, Now: at, Until: at.Add(15 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	st, err := s.DigestState(ctx)
	if err != nil || !st.Watermark.IsZero() || st.Claimed(now) {
		t.Fatalf("initial state = %+v, %v", st, err)
	}
	if !claim("a", time.Time{}, now) {
		t.Fatal("first claim refused")
	}
	if claim("b", time.Time{}, now.Add(time.Minute)) {
		t.Fatal("a second claim was granted while the first is live")
	}
	if err := s.ReleaseDigest(ctx, "b"); err != nil { // not b's: nothing happens
		t.Fatal(err)
	}
	if claim("b", time.Time{}, now.Add(time.Minute)) {
		t.Fatal("another's release freed the claim")
	}
	if err := s.ReleaseDigest(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if !claim("b", time.Time{}, now.Add(time.Minute)) {
		t.Fatal("claim refused after release")
	}
	// b dies; after the lease c takes over, and b can no longer complete.
	if !claim("c", time.Time{}, now.Add(20*time.Minute)) {
		t.Fatal("a stale claim was not taken over")
	}
	if err := s.CompleteDigest(ctx, store.DigestSent{Owner: "b", End: end, SentAt: now}); err != store.ErrDigestClaimLost {
		t.Fatalf("complete by a lost owner = %v", err)
	}
	if err := s.CompleteDigest(ctx, store.DigestSent{Owner: "c", Start: end.Add(-72 * time.Hour), End: end, Recent: []string{"y", "x", "y"}, MessageID: "m1", Stories: 3, ExportKey: "exports/k.csv", SentAt: now}); err != nil {
		t.Fatal(err)
	}
	st, err = s.DigestState(ctx)
	if err != nil || !st.Watermark.Equal(end) || st.Claimed(now) || fmt.Sprint(st.Recent) != "[x y]" {
		t.Fatalf("state after completing = %+v, %v", st, err)
	}
	// The watermark moved: a claim made from the old one is refused.
	if claim("d", time.Time{}, now.Add(30*time.Minute)) {
		t.Fatal("a claim from a stale watermark was granted")
	}
	if !claim("d", end, now.Add(30*time.Minute)) {
		t.Fatal("a claim from the current watermark was refused")
	}
	// The sent digest is on record.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("StoriesTable"), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "DIGEST"},
		"sk": &types.AttributeValueMemberS{Value: "PERIOD#2026-11-27T08:00:00.000000000Z#2026-11-30T08:00:00.000000000Z"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := out.Item["messageId"].(*types.AttributeValueMemberS); !ok || m.Value != "m1" || out.Item["expiresAt"] == nil {
		t.Fatalf("period record = %v", out.Item)
	}
	// An empty recent list is stored as a marker, not an empty attribute.
	if err := s.CompleteDigest(ctx, store.DigestSent{Owner: "d", Start: end, End: end, SentAt: now}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.DigestState(ctx); len(st.Recent) != 0 {
		t.Fatalf("recent = %v", st.Recent)
	}
}

func TestReadPeriodTombstonesAndClipSlots(t *testing.T) {
	s, _ := digestStore(t)
	ctx := context.Background()
	now := time.Now().UTC() // EraseStory stamps tombstones with the real clock
	withClip := putAt(t, s, 1, now.Add(-2*time.Hour))
	erased := putAt(t, s, 2, now.Add(-time.Hour))
	if err := s.ReserveClip(ctx, store.ClipRecord{StoryID: withClip.ID, Clip: story.Clip{Key: bucket.NewClipKey(withClip.ID, story.ClipTypes[0])}}, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseStory(ctx, erased.ID); err != nil {
		t.Fatal(err)
	}
	p, _, err := s.ReadPeriod(ctx, now.Add(-3*time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stories) != 1 || p.Stories[0].ID != withClip.ID || p.Stories[0].ClipSlots != 1 || p.Stories[0].Name != "N" {
		t.Errorf("stories = %+v", p.Stories)
	}
	if len(p.Withdrawn) != 1 || p.Withdrawn[0].ID != erased.ID || p.Withdrawn[0].WithdrawnAt.Before(now) {
		t.Errorf("withdrawn = %+v", p.Withdrawn)
	}
	// A period before the erasure has the story's submission but no tombstone.
	p, _, err = s.ReadPeriod(ctx, now.Add(-3*time.Hour), now.Add(-time.Minute))
	if err != nil || len(p.Withdrawn) != 0 || len(p.Stories) != 1 {
		t.Errorf("earlier period = %+v, %v", p, err)
	}
}

// A period across a month boundary reads each month's partition once and
// finds the stories on both sides of it.
func TestReadPeriodAcrossMonths(t *testing.T) {
	s, db := digestStore(t)
	after := time.Date(2026, 10, 29, 8, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	putAt(t, s, 1, time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC))
	putAt(t, s, 2, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	putAt(t, s, 3, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	putAt(t, s, 4, time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC))
	putAt(t, s, 5, time.Date(2026, 10, 28, 7, 0, 0, 0, time.UTC)) // before: in October's partition, not read
	p, stats, err := s.ReadPeriod(context.Background(), after, until)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]story.Story, len(p.Stories))
	for i, st := range p.Stories {
		got[i] = st.Story
	}
	if want := []string{"001", "002", "003", "004"}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("stories = %v, want %v", ids(got), want)
	}
	if db.queries != 3 || stats.Queries != 3 || stats.Items != 4 {
		t.Errorf("queries = %d (stats %d), items %d; want 3 (October, November, December) and 4", db.queries, stats.Queries, stats.Items)
	}
}
