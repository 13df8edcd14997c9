package store

// The comms-team digest keeps its state as items of its own:
//
//	pk = DIGEST, sk = STATE                   the watermark, and the claim on
//	                                          the next period
//	pk = DIGEST, sk = PERIOD#<start>#<end>    one record per digest sent
//
// The watermark is the end of the last period whose email went out. A digest
// claims the period after it with a conditional write on the STATE item:
// the claim succeeds only while the watermark is still the one the digest
// read and no other live claim is held, so two invocations (a doubled
// schedule, a manual run beside a scheduled one) never both send. A claim
// lasts for a lease, so a digest that dies mid-send does not block the next
// for ever. Completing moves the watermark and removes the claim in one
// conditional write; it happens only after the email went out.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/shared/story"
)

const (
	digestPK       = "DIGEST"
	digestStateSK  = "STATE"
	digestPeriodSK = "PERIOD#"

	attrWatermark  = "watermark"
	attrRecent     = "recent"
	attrClaimOwner = "claimOwner"
	attrClaimUntil = "claimUntil"
	attrClaimEnd   = "claimEnd"

	// stampLayout is a fixed-width UTC time, so stamps sort as times do.
	stampLayout = "2006-01-02T15:04:05.000000000Z"
	// secondLayout is a time to the second with no zone: every `at` value
	// in that second or later sorts after it (see ReadPeriod).
	secondLayout = "2006-01-02T15:04:05"
	// monthLayout is the byMonth index's partition: a UTC month.
	monthLayout = "2006-01"
	// periodRecordTTL is how long the record of a sent digest is kept.
	periodRecordTTL = 400 * 24 * time.Hour
)

// IsDigestRecord reports whether an item (by its partition key) is the
// digest's own bookkeeping: it names stories by id only (the recent list),
// never anyone's details.
func IsDigestRecord(pk string) bool { return pk == digestPK }

// ErrDigestClaimLost means a digest's claim was taken over (its lease ran
// out and another invocation claimed the period) before it completed.
var ErrDigestClaimLost = errors.New("store: the digest claim was taken over")

// DigestState is where the digest stands.
type DigestState struct {
	// Watermark is the end of the last period whose email went out; zero
	// before the first digest.
	Watermark time.Time
	// Recent are the stories already sent that were submitted within the
	// grace window before Watermark (see digest.Config.Grace), so the next
	// digest can look back over that window without sending them again.
	Recent []string
	// ClaimOwner, ClaimUntil and ClaimEnd describe a claim in progress.
	ClaimOwner string
	ClaimUntil time.Time
	ClaimEnd   time.Time
}

// Claimed reports whether a claim is held at now.
func (s DigestState) Claimed(now time.Time) bool { return s.ClaimUntil.After(now) }

// DigestClaim asks for the period after Watermark, up to End.
type DigestClaim struct {
	Watermark time.Time // the watermark the claimer read (zero: none yet)
	End       time.Time
	Owner     string // random, one per invocation
	Now       time.Time
	Until     time.Time // when the claim goes stale
}

// DigestSent is what CompleteDigest records about a digest that went out.
type DigestSent struct {
	Owner     string
	Start     time.Time // the period: (Start, End]
	End       time.Time
	Recent    []string // stories sent within the grace window before End
	MessageID string
	Stories   int
	ExportKey string
	SentAt    time.Time
}

// ReadStats counts what a query read.
type ReadStats struct {
	Queries int // Query requests (pages)
	Items   int // items the queries returned: what DynamoDB reads and bills
}

func digestKey(sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: digestPK},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// DigestState reads the digest's state with a strongly consistent read.
func (s *Store) DigestState(ctx context.Context) (DigestState, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            digestKey(digestStateSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return DigestState{}, fmt.Errorf("store: get digest state: %w", err)
	}
	var item struct {
		Watermark  string `dynamodbav:"watermark"`
		ClaimOwner string `dynamodbav:"claimOwner"`
		ClaimUntil int64  `dynamodbav:"claimUntil"`
		ClaimEnd   string `dynamodbav:"claimEnd"`
	}
	if len(out.Item) == 0 {
		return DigestState{}, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &item); err != nil {
		return DigestState{}, fmt.Errorf("store: unmarshal digest state: %w", err)
	}
	var st DigestState
	if item.Watermark != "" {
		if st.Watermark, err = time.Parse(time.RFC3339Nano, item.Watermark); err != nil {
			return DigestState{}, fmt.Errorf("store: digest watermark %q: %w", item.Watermark, err)
		}
	}
	switch r := out.Item[attrRecent].(type) {
	case *types.AttributeValueMemberL:
		if err := attributevalue.Unmarshal(r, &st.Recent); err != nil {
			return DigestState{}, fmt.Errorf("store: digest recent: %w", err)
		}
	case *types.AttributeValueMemberS:
		// Written before recent was a list: ids joined by spaces, "-" for none.
		if r.Value != "-" {
			st.Recent = strings.Fields(r.Value)
		}
	}
	st.ClaimOwner = item.ClaimOwner
	if item.ClaimUntil > 0 {
		st.ClaimUntil = time.UnixMilli(item.ClaimUntil).UTC()
	}
	if item.ClaimEnd != "" {
		st.ClaimEnd, _ = time.Parse(time.RFC3339Nano, item.ClaimEnd)
	}
	return st, nil
}

// ClaimDigest claims the period after c.Watermark. It returns false when
// the watermark has moved since it was read (another digest completed) or
// another invocation holds a claim that has not gone stale.
func (s *Store) ClaimDigest(ctx context.Context, c DigestClaim) (bool, error) {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(nameClaimOwner, expression.Value(c.Owner)).
			Set(nameClaimUntil, expression.Value(c.Until.UnixMilli())).
			Set(nameClaimEnd, expression.Value(stamp(c.End)))).
		WithCondition(watermarkIs(c.Watermark).And(noLiveClaim(c.Now))))
	_, err := s.db.UpdateItem(ctx, s.updateInput(digestKey(digestStateSK), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim digest: %w", err)
	}
	return true, nil
}

// ReleaseDigest gives up owner's claim after a failed send, so a retry can
// claim the period at once. A claim owner no longer holds is left alone.
func (s *Store) ReleaseDigest(ctx context.Context, owner string) error {
	e := build(expression.NewBuilder().
		WithUpdate(removeClaim()).
		WithCondition(nameClaimOwner.Equal(expression.Value(owner))))
	_, err := s.db.UpdateItem(ctx, s.updateInput(digestKey(digestStateSK), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: release digest: %w", err)
	}
	return nil
}

// AdvanceDigest moves the watermark from prev (zero: none yet) to end after
// a period with nothing to send, keeping recent (see DigestSent.Recent), so
// the next digest reads from end and not again from prev: an empty run
// costs the next run nothing. It is one conditional write and does nothing
// (false, nil) if the watermark has moved or a live claim is held.
func (s *Store) AdvanceDigest(ctx context.Context, prev, end, now time.Time, recent []string) (bool, error) {
	e := build(expression.NewBuilder().
		WithUpdate(expression.Set(nameWatermark, expression.Value(stamp(end))).Set(nameRecent, expression.Value(recentList(recent)))).
		WithCondition(watermarkIs(prev).And(noLiveClaim(now))))
	_, err := s.db.UpdateItem(ctx, s.updateInput(digestKey(digestStateSK), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: advance digest: %w", err)
	}
	return true, nil
}

// recentList is the stored form of DigestSent.Recent: a list of story ids,
// sorted, each once (an empty list when there are none).
func recentList(ids []string) types.AttributeValue {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	l := &types.AttributeValueMemberL{Value: make([]types.AttributeValue, len(ids))}
	for i, id := range ids {
		l.Value[i] = str(id)
	}
	return l
}

// removeClaim drops a digest claim: its owner, lease and period end. (A
// function, not a variable: an UpdateBuilder's Set and Remove add to the
// map it shares with its copies.)
func removeClaim() expression.UpdateBuilder {
	return expression.Remove(nameClaimOwner).Remove(nameClaimUntil).Remove(nameClaimEnd)
}

// watermarkIs holds while the watermark is wm (zero: none yet).
func watermarkIs(wm time.Time) expression.ConditionBuilder {
	if wm.IsZero() {
		return expression.AttributeNotExists(nameWatermark)
	}
	return nameWatermark.Equal(expression.Value(stamp(wm)))
}

// noLiveClaim holds while no claim is held at now.
func noLiveClaim(now time.Time) expression.ConditionBuilder {
	return expression.AttributeNotExists(nameClaimUntil).Or(nameClaimUntil.LessThan(expression.Value(now.UnixMilli())))
}

// CompleteDigest records a digest that went out and moves the watermark to
// its end, dropping the claim. It returns ErrDigestClaimLost when owner no
// longer holds the claim for that period.
func (s *Store) CompleteDigest(ctx context.Context, d DigestSent) error {
	periodSK := digestPeriodSK + stamp(d.Start) + "#" + stamp(d.End)
	record := map[string]types.AttributeValue{
		"start":     str(stamp(d.Start)),
		"end":       str(stamp(d.End)),
		"sentAt":    str(d.SentAt.UTC().Format(time.RFC3339)),
		"stories":   number(int64(d.Stories)),
		"expiresAt": number(d.SentAt.Add(periodRecordTTL).Unix()),
	}
	if d.MessageID != "" {
		record["messageId"] = str(d.MessageID)
	}
	if d.ExportKey != "" {
		record["exportKey"] = str(d.ExportKey)
	}
	mergeAttrs(record, digestKey(periodSK))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: record}); err != nil {
		return fmt.Errorf("store: record digest: %w", err)
	}
	end := expression.Value(stamp(d.End))
	e := build(expression.NewBuilder().
		WithUpdate(removeClaim().
			Set(nameWatermark, end).
			Set(nameRecent, expression.Value(recentList(d.Recent))).
			Set(expression.Name("lastPeriod"), expression.Value(periodSK))).
		WithCondition(nameClaimOwner.Equal(expression.Value(d.Owner)).And(nameClaimEnd.Equal(end))))
	_, err := s.db.UpdateItem(ctx, s.updateInput(digestKey(digestStateSK), e))
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return ErrDigestClaimLost
	}
	if err != nil {
		return fmt.Errorf("store: complete digest: %w", err)
	}
	return nil
}

// PeriodStory is a story as the digest reads it from the byMonth index.
type PeriodStory struct {
	story.Story
	// ClipSlots is how many clips the story holds or is receiving (see
	// ReserveClip): with none it has no verified clip to list.
	ClipSlots int `dynamodbav:"clipSlots"`
}

// Period is what the byMonth index holds for a period.
type Period struct {
	Stories   []PeriodStory // submitted in the period, oldest first
	Withdrawn []Tombstone   // stories erased in the period, oldest first
}

// ReadPeriod returns the stories submitted, and the tombstones of the
// stories erased, after `after` and up to and including `until`. It reads
// the byMonth index one Query (and its pages) a month, from after's month
// to until's: a digest's period, or the first digest's look-back, takes one
// to three Queries, and what it reads grows with the period's stories, not
// with the table. (A month's stories share one index partition; at this
// service's rate, a few hundred stories a month, that is far below a
// partition's limits.)
//
// The index's sort key is RFC3339Nano#id, whose text order is time order
// only between different seconds (RFC3339Nano drops trailing zeros, so
// ".5Z" sorts before "Z"). The key condition therefore asks for whole
// seconds, and the exact bounds are applied to the times here; at most a
// second's items at each end are read and dropped.
func (s *Store) ReadPeriod(ctx context.Context, after, until time.Time) (Period, ReadStats, error) {
	var p Period
	var stats ReadStats
	after, until = after.UTC(), until.UTC()
	if !until.After(after) {
		return p, stats, nil
	}
	in := func(t time.Time) bool { return t.After(after) && !t.After(until) }
	lo := after.Truncate(time.Second).Format(secondLayout)
	hi := until.Truncate(time.Second).Add(time.Second).Format(secondLayout)
	first := time.Date(after.Year(), after.Month(), 1, 0, 0, 0, 0, time.UTC)
	for month := first; !month.After(until); month = month.AddDate(0, 1, 0) {
		q := s.query(IndexByMonth, expression.Key(AttrMonth).Equal(expression.Value(month.Format(monthLayout))).
			And(expression.Key(AttrAt).Between(expression.Value(lo), expression.Value(hi))))
		err := s.queryAll(ctx, q, func(items []map[string]types.AttributeValue) error {
			stats.Queries++
			stats.Items += len(items)
			for _, item := range items {
				pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
				sk, _ := item[AttrSK].(*types.AttributeValueMemberS)
				if pk == nil || sk == nil {
					continue
				}
				if IsTombstone(sk.Value) {
					var t Tombstone
					if err := attributevalue.UnmarshalMap(item, &t); err != nil {
						return fmt.Errorf("unmarshal tombstone: %w", err)
					}
					if in(t.WithdrawnAt) {
						p.Withdrawn = append(p.Withdrawn, t)
					}
					continue
				}
				if _, ok := StoryIDFromKey(pk.Value, sk.Value); !ok || s.isGone(item) {
					continue
				}
				var st PeriodStory
				if err := attributevalue.UnmarshalMap(item, &st); err != nil {
					return fmt.Errorf("unmarshal story: %w", err)
				}
				if in(st.SubmittedAt) {
					p.Stories = append(p.Stories, st)
				}
			}
			return nil
		})
		if err != nil {
			return Period{}, stats, fmt.Errorf("store: read the stories of %s: %w", month.Format(monthLayout), err)
		}
	}
	slices.SortStableFunc(p.Stories, func(a, b PeriodStory) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	slices.SortStableFunc(p.Withdrawn, func(a, b Tombstone) int {
		if c := a.WithdrawnAt.Compare(b.WithdrawnAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return p, stats, nil
}
