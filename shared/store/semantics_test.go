package store_test

// DynamoDB's own semantics, checked on the local stack's DynamoDB (which
// refuses and pages as DynamoDB does; infra/local/conformance checks it
// against dynalite): claims are removed, not zeroed; empty lists are lists;
// a story without an email has no index key; a clip's slot and its record
// always agree.

import (
	"context"
	"errors"
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

func rawItem(t *testing.T, db *dynamodb.Client, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("StoriesTable"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func digestStateKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "DIGEST"}, "sk": &types.AttributeValueMemberS{Value: "STATE"}}
}

// A released or completed claim is gone from the item, not left as 0.
func TestClaimsAreRemoved(t *testing.T) {
	ctx := context.Background()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	st := newStory(t, "claims@example.org")
	if _, _, err := s.PutStory(ctx, st); err != nil {
		t.Fatal(err)
	}
	key := store.StoryKey(st.ID)
	if ok, err := s.ClaimEmail(ctx, st.ID, "alert", time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if rawItem(t, db, key)["claim_alert"] == nil {
		t.Fatal("the claim was not written")
	}
	if err := s.ReleaseEmail(ctx, st.ID, "alert"); err != nil {
		t.Fatal(err)
	}
	if v := rawItem(t, db, key)["claim_alert"]; v != nil {
		t.Fatalf("after release claim_alert = %#v, want no attribute", v)
	}
	if ok, err := s.ClaimEmail(ctx, st.ID, "alert", time.Minute); err != nil || !ok {
		t.Fatalf("claim after release: %v %v", ok, err)
	}
	if err := s.MarkEmailSent(ctx, st.ID, "alert", "msg-1"); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, db, key)
	if item["claim_alert"] != nil || item["sent_alert"] == nil {
		t.Fatalf("after sending: claim %v, sent %v; want no claim and a sent marker", item["claim_alert"], item["sent_alert"])
	}

	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	claim := func(owner string) {
		t.Helper()
		if ok, err := s.ClaimDigest(ctx, store.DigestClaim{End: now, Owner: owner, Now: now, Until: now.Add(time.Minute)}); err != nil || !ok {
			t.Fatalf("claim digest by %s: %v %v (state %v)", owner, ok, err, rawItem(t, db, digestStateKey()))
		}
	}
	noClaim := func(when string) {
		t.Helper()
		item := rawItem(t, db, digestStateKey())
		for _, a := range []string{"claimOwner", "claimUntil", "claimEnd"} {
			if item[a] != nil {
				t.Fatalf("%s: %s = %#v, want no attribute", when, a, item[a])
			}
		}
	}
	claim("a")
	if err := s.ReleaseDigest(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	noClaim("after ReleaseDigest")
	claim("b")
	if err := s.CompleteDigest(ctx, store.DigestSent{Owner: "b", Start: now.Add(-time.Hour), End: now, SentAt: now}); err != nil {
		t.Fatal(err)
	}
	noClaim("after CompleteDigest")
}

// The digest's recent stories are a list, an empty list when there are
// none; state written before (ids joined by spaces, "-" for none) still
// reads.
func TestDigestRecentIsAList(t *testing.T) {
	ctx := context.Background()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for i, recent := range [][]string{{"b", "a", "b"}, nil} {
		end := now.Add(time.Duration(i) * time.Hour)
		st, err := s.DigestState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := s.AdvanceDigest(ctx, st.Watermark, end, end, recent); err != nil || !ok {
			t.Fatalf("advance: %v %v", ok, err)
		}
		l, ok := rawItem(t, db, digestStateKey())["recent"].(*types.AttributeValueMemberL)
		if want := 2 - 2*i; !ok || len(l.Value) != want {
			t.Fatalf("recent %v stored as %#v, want a list of %d", recent, rawItem(t, db, digestStateKey())["recent"], want)
		}
		st, err = s.DigestState(ctx)
		if want := map[int]string{0: "[a b]", 1: "[]"}[i]; err != nil || fmt.Sprint(st.Recent) != want {
			t.Fatalf("recent read back = %v %v, want %s", st.Recent, err, want)
		}
	}
	for stored, want := range map[string]string{"x y": "[x y]", "-": "[]"} {
		item := digestStateKey()
		item["recent"] = &types.AttributeValueMemberS{Value: stored}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("StoriesTable"), Item: item}); err != nil {
			t.Fatal(err)
		}
		if st, err := s.DigestState(ctx); err != nil || fmt.Sprint(st.Recent) != want {
			t.Fatalf("recent stored as %q reads %v %v, want %s", stored, st.Recent, err, want)
		}
	}
}

// A story without an email is kept without an emailKey (DynamoDB refuses
// an empty string as an index key) and is not found by email; one with an
// email is, in any case.
func TestStoryWithoutEmailHasNoIndexKey(t *testing.T) {
	ctx := context.Background()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	without := newStory(t, "x@example.org")
	without.ID, without.Email = story.NewID(), ""
	if _, _, err := s.PutStory(ctx, without); err != nil {
		t.Fatalf("a story without an email: %v", err)
	}
	if v := rawItem(t, db, store.StoryKey(without.ID))["emailKey"]; v != nil {
		t.Fatalf("emailKey = %#v, want no attribute", v)
	}
	with := newStory(t, "Ada.Lovelace@Example.org")
	if _, _, err := s.PutStory(ctx, with); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]string{"": "[]", "  ": "[]", "ada.lovelace@example.org": "[" + with.ID + "]"} {
		ids, err := s.StoryIDsByEmail(ctx, email)
		if err != nil || fmt.Sprint(ids) != want {
			t.Fatalf("StoryIDsByEmail(%q) = %v %v, want %s", email, ids, err, want)
		}
	}
}

// The story's clip slots always equal its pending and verified records:
// every transition writes both in one transaction, and a refused one
// writes neither.
func TestClipSlotsAgreeWithRecords(t *testing.T) {
	ctx := context.Background()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	id := clipTestStory(t, s)
	const max = 2
	agree := func(when string) {
		t.Helper()
		recs, err := s.ClipRecords(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, r := range recs {
			if r.Status == story.ClipPending || r.Status == story.ClipVerified {
				held++
			}
		}
		n, _ := rawItem(t, db, store.StoryKey(id))["clipSlots"].(*types.AttributeValueMemberN)
		if got := map[bool]string{true: n.Value, false: "0"}[n != nil]; got != fmt.Sprint(held) {
			t.Fatalf("%s: clipSlots = %s, records holding a slot = %d (%+v)", when, got, held, recs)
		}
	}
	a := clipTestPending(t, s, id, max, time.Now().Add(time.Hour))
	b := clipTestPending(t, s, id, max, time.Now().Add(time.Hour))
	agree("two pending")
	third := bucket.NewClipKey(id, story.ClipTypes[0])
	if err := s.ReserveClip(ctx, store.ClipRecord{StoryID: id, Clip: story.Clip{Key: third}}, max); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("third clip: %v, want ErrTooManyClips", err)
	}
	if _, err := s.GetClip(ctx, id, third); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused clip left a record: %v", err)
	}
	agree("a third refused")
	if err := s.VerifyClip(ctx, id, story.Clip{Key: a, MIME: "video/mp4", Size: 10, At: time.Now()}, max); err != nil {
		t.Fatal(err)
	}
	if err := s.RejectClip(ctx, id, story.Clip{Key: b, Reason: "not a video", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	agree("one verified, one rejected")
	// A clip that arrives with no record takes a slot as it is verified.
	stray := bucket.NewClipKey(id, story.ClipTypes[1])
	if err := s.VerifyClip(ctx, id, story.Clip{Key: stray, MIME: "video/mp4", Size: 10, At: time.Now()}, max); err != nil {
		t.Fatal(err)
	}
	agree("a stray clip verified")
	if err := s.VerifyClip(ctx, id, story.Clip{Key: b, MIME: "video/mp4", Size: 10, At: time.Now()}, max); !errors.Is(err, store.ErrTooManyClips) {
		t.Fatalf("the rejected clip verified with no slot free: %v", err)
	}
	agree("a late clip refused")
	// Nothing attaches to an erased story, and nothing is half-written.
	if _, err := s.EraseStory(ctx, id); err != nil {
		t.Fatal(err)
	}
	late := bucket.NewClipKey(id, story.ClipTypes[0])
	if err := s.ReserveClip(ctx, store.ClipRecord{StoryID: id, Clip: story.Clip{Key: late}}, max); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a clip for an erased story: %v, want ErrNotFound", err)
	}
	if _, err := s.GetClip(ctx, id, late); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a clip record was left for an erased story: %v", err)
	}
}
