package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func newStory(t *testing.T, email string) story.Story {
	t.Helper()
	sub := story.Submission{
		Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery", Borough: "southwark",
		Email: email, PreferredContact: "email", Topics: []string{"workload"},
		Story: "Our phone lines opened at 8am and 140 people were waiting.", PatientsSpeak: "yes",
		Consent: map[string]bool{"contact": true, "store": true, "clips": true}, ConsentVersion: story.ConsentVersion(),
	}
	st, errs := sub.Normalize().Validate(testenv.SampleTime)
	if errs != nil {
		t.Fatal(errs)
	}
	return st
}

func TestRetentionSetsTheTTL(t *testing.T) {
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable").WithRetention(30 * 24 * time.Hour)
	st := newStory(t, "ttl@example.org")
	if _, _, err := s.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("StoriesTable"), Key: store.StoryKey(st.ID)})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Item[store.AttrExpires].(*types.AttributeValueMemberN).Value
	want := testenv.SampleTime.Add(30 * 24 * time.Hour).Unix()
	if got != strconv.FormatInt(want, 10) {
		t.Fatalf("expiresAt = %s, want %d (30 days after submission)", got, want)
	}
}

func TestConsentLedgerAndErasure(t *testing.T) {
	ctx := context.Background()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	st := newStory(t, "Amara.Okafor@Example.org")
	if _, _, err := s.PutStory(ctx, st); err != nil {
		t.Fatal(err)
	}
	ids, err := s.StoryIDsByEmail(ctx, "amara.okafor@example.org")
	if err != nil || len(ids) != 1 || ids[0] != st.ID {
		t.Fatalf("by email: %v %v", ids, err)
	}
	clips, _ := story.FindConsent("clips")
	if err := s.RecordConsent(ctx, st.ID, len(st.Consents), story.ConsentRecord{Statement: "clips", Version: clips.Version(), Agreed: false, At: time.Now().UTC(), Channel: "withdraw-page"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetStory(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Consented("clips") || len(got.Consents) != len(st.Consents)+1 {
		t.Fatalf("ledger after withdrawing clips: %+v", got.Consents)
	}
	// An email marker and a clip-like record live under the story too.
	if ok, err := s.ClaimEmail(ctx, st.ID, "alert", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("StoriesTable"), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "STORY#" + st.ID}, "sk": &types.AttributeValueMemberS{Value: "CLIP#clips/x.mp4"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tomb, err := s.EraseStory(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetStory(ctx, st.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("story still there: %v", err)
	}
	items, _ := s.StoryItems(ctx, st.ID)
	if len(items) != 1 || items[0]["sk"] != "WITHDRAWN" {
		t.Fatalf("left under the story: %v", items)
	}
	if n, _ := items[0]["notice"].(map[string]any); n["email"] != st.Email || tomb.Notice == nil || tomb.Notice.Email != st.Email {
		t.Fatalf("until its emails go out the tombstone keeps their notice: %v", items[0])
	}
	// Once both erasure emails went out, the notice goes.
	for _, kind := range []string{"alert", "confirmation"} {
		if ok, err := s.ClaimErasureEmail(ctx, st.ID, kind, time.Minute); !ok || err != nil {
			t.Fatal(kind, ok, err)
		}
		if err := s.ForgetNotice(ctx, st.ID, "alert", "confirmation"); err != nil {
			t.Fatal(err)
		}
		if items, _ := s.StoryItems(ctx, st.ID); items[0]["notice"] == nil {
			t.Fatalf("notice forgotten before the %s email went out", kind)
		}
		if err := s.MarkErasureEmailSent(ctx, st.ID, kind, "msg-"+kind); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.ClaimErasureEmail(ctx, st.ID, "alert", time.Minute); ok {
		t.Fatal("an erasure email claimed twice")
	}
	if err := s.ForgetNotice(ctx, st.ID, "alert", "confirmation"); err != nil {
		t.Fatal(err)
	}
	items, _ = s.StoryItems(ctx, st.ID)
	for k := range items[0] {
		switch k {
		case "pk", "sk", "id", "kind", "withdrawnAt", "month", "at", "expiresAt", "state",
			"claim_alert", "sent_alert", "claim_confirmation", "sent_confirmation":
		default:
			t.Errorf("the tombstone holds %q", k)
		}
	}
	if items[0]["state"] != store.ErasureDone {
		t.Errorf("tombstone state %v", items[0]["state"])
	}
	again, err := s.EraseStory(ctx, st.ID)
	if err != nil || !again.WithdrawnAt.Equal(tomb.WithdrawnAt) {
		t.Fatalf("second erase: %+v %v, want the first %+v", again, err, tomb)
	}
	if err := s.RecordConsent(ctx, st.ID, len(st.Consents), story.ConsentRecord{Statement: "public"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consent on an erased story: %v", err)
	}
	if ids, _ := s.StoryIDsByEmail(ctx, "amara.okafor@example.org"); len(ids) != 0 {
		t.Fatalf("erased story still found by email: %v", ids)
	}
}
