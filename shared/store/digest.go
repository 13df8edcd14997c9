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
// for ever. Completing moves the watermark and drops the claim in one
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
	// noRecent stands for an empty list: minidyn mangles empty lists and
	// ignores REMOVE of a #name, so the attribute is never absent or empty.
	noRecent = "-"
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
		Recent     string `dynamodbav:"recent"`
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
	if item.Recent != "" && item.Recent != noRecent {
		st.Recent = strings.Fields(item.Recent)
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
	names := map[string]string{
		"#wm": attrWatermark, "#owner": attrClaimOwner, "#until": attrClaimUntil, "#end": attrClaimEnd,
	}
	values := map[string]types.AttributeValue{
		":owner": str(c.Owner),
		":until": number(c.Until.UnixMilli()),
		":end":   str(stamp(c.End)),
		":now":   number(c.Now.UnixMilli()),
	}
	cond := "attribute_not_exists(#wm)"
	if !c.Watermark.IsZero() {
		cond = "#wm = :wm"
		values[":wm"] = str(stamp(c.Watermark))
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       digestKey(digestStateSK),
		UpdateExpression:          aws.String("SET #owner = :owner, #until = :until, #end = :end"),
		ConditionExpression:       aws.String(cond + " AND (attribute_not_exists(#until) OR #until < :now)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
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
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       digestKey(digestStateSK),
		// An expired claim (0) rather than REMOVE: minidyn ignores REMOVE of
		// a #name, and 0 reads the same to ClaimDigest.
		UpdateExpression:          aws.String("SET #until = :zero"),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#until": attrClaimUntil, "#owner": attrClaimOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": number(0), ":owner": str(owner)},
	})
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
	values := map[string]types.AttributeValue{
		":end":    str(stamp(end)),
		":recent": str(recentList(recent)),
		":now":    number(now.UnixMilli()),
	}
	cond := "attribute_not_exists(#wm)"
	if !prev.IsZero() {
		cond = "#wm = :wm"
		values[":wm"] = str(stamp(prev))
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       digestKey(digestStateSK),
		UpdateExpression:          aws.String("SET #wm = :end, #recent = :recent"),
		ConditionExpression:       aws.String(cond + " AND (attribute_not_exists(#until) OR #until < :now)"),
		ExpressionAttributeNames:  map[string]string{"#wm": attrWatermark, "#recent": attrRecent, "#until": attrClaimUntil},
		ExpressionAttributeValues: values,
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: advance digest: %w", err)
	}
	return true, nil
}

// recentList is the stored form of DigestSent.Recent.
func recentList(ids []string) string {
	if len(ids) == 0 {
		return noRecent
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), " ")
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
		"messageId": str(orNone(d.MessageID)),
		"stories":   number(int64(d.Stories)),
		"exportKey": str(orNone(d.ExportKey)),
		"expiresAt": number(d.SentAt.Add(periodRecordTTL).Unix()),
	}
	for k, v := range digestKey(periodSK) {
		record[k] = v
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: record}); err != nil {
		return fmt.Errorf("store: record digest: %w", err)
	}
	recent := recentList(d.Recent)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 digestKey(digestStateSK),
		UpdateExpression:    aws.String("SET #wm = :end, #recent = :recent, #until = :zero, #last = :last"),
		ConditionExpression: aws.String("#owner = :owner AND #end = :end"),
		ExpressionAttributeNames: map[string]string{
			"#wm": attrWatermark, "#recent": attrRecent, "#until": attrClaimUntil,
			"#owner": attrClaimOwner, "#end": attrClaimEnd, "#last": "lastPeriod",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":end":    str(stamp(d.End)),
			":recent": str(recent),
			":zero":   number(0),
			":owner":  str(d.Owner),
			":last":   str(periodSK),
		},
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return ErrDigestClaimLost
	}
	if err != nil {
		return fmt.Errorf("store: complete digest: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PeriodStory is a story as the digest reads it from the byMonth index.
type PeriodStory struct {
	story.Story
	// ClipSlots is how many clips the story holds or is receiving (see
	// AcquireClipSlot): with none it has no verified clip to list.
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
		q := &dynamodb.QueryInput{
			TableName:                aws.String(s.table),
			IndexName:                aws.String(IndexByMonth),
			KeyConditionExpression:   aws.String("#month = :month AND #at BETWEEN :lo AND :hi"),
			ExpressionAttributeNames: map[string]string{"#month": AttrMonth, "#at": AttrAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":month": str(month.Format(monthLayout)),
				":lo":    str(lo),
				":hi":    str(hi),
			},
		}
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
