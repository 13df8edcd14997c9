package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Addresses SES reported undeliverable (a permanent bounce or a complaint):
//
//	pk = EMAIL#<SHA-256 of the lower-cased address>, sk = UNDELIVERABLE
//
// The item holds the reason and the time, not the address, and expires
// with the retention period. The bounce function may write only these
// items (its policy's dynamodb:LeadingKeys is EMAIL#*).
const (
	emailPrefix     = "EMAIL#"
	undeliverableSK = "UNDELIVERABLE"
)

// EmailMarkKey is the key of address's undeliverable mark.
func EmailMarkKey(address string) map[string]types.AttributeValue {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: emailPrefix + hex.EncodeToString(sum[:])},
		AttrSK: &types.AttributeValueMemberS{Value: undeliverableSK},
	}
}

// MarkUndeliverable records that SES reported address undeliverable for
// reason ("bounce" or "complaint") at at. Repeating it is harmless.
func (s *Store) MarkUndeliverable(ctx context.Context, address, reason string, at time.Time) error {
	item := EmailMarkKey(address)
	item["reason"] = &types.AttributeValueMemberS{Value: reason}
	item["markedAt"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)}
	item[AttrExpires] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.ExpiresAt(at).Unix(), 10)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("store: mark undeliverable: %w", err)
	}
	return nil
}

// Undeliverable says whether address is marked undeliverable.
func (s *Store) Undeliverable(ctx context.Context, address string) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: EmailMarkKey(address), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("store: read undeliverable mark: %w", err)
	}
	return len(out.Item) > 0, nil
}
