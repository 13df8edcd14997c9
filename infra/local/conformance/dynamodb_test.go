package conformance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// newTable makes a table with the template's StoriesTable layout (keys,
// indexes) on tg.
func newTable(t *testing.T, tg *target) string {
	t.Helper()
	in, err := local.Template.CreateTableInput("StoriesTable")
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(unique("conf"), "-", "_")
	in.TableName = aws.String(name)
	in.StreamSpecification = nil
	if _, err := tg.db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	// dynalite creates tables asynchronously.
	w := dynamodb.NewTableExistsWaiter(tg.db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50e6; o.MaxDelay = 200e6 })
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 60e9); err != nil {
		t.Fatal(err)
	}
	return name
}

func get(t *testing.T, tg *target, table string, key item) item {
	t.Helper()
	out, err := tg.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// UpdateItem's REMOVE takes the attribute away.
func TestDynamoDBRemove(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		key := item{"pk": s("STORY#1"), "sk": s("STORY")}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"], "phone": s("020 7946 0000")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("REMOVE phone")}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, tg, table, key); got["phone"] != nil {
			t.Fatalf("after REMOVE the item still has phone: %#v", got["phone"])
		}
	})
}

// An empty list reads back as an empty list.
func TestDynamoDBEmptyList(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		table := newTable(t, tg)
		key := item{"pk": s("STORY#2"), "sk": s("STORY")}
		if _, err := tg.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: item{"pk": key["pk"], "sk": key["sk"], "topics": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}}); err != nil {
			t.Fatal(err)
		}
		l, ok := get(t, tg, table, key)["topics"].(*types.AttributeValueMemberL)
		if !ok || len(l.Value) != 0 {
			t.Fatalf("topics = %#v, want an empty list", get(t, tg, table, key)["topics"])
		}
	})
}

// A key attribute of another type than the schema's is refused.
func TestDynamoDBKeyTypeIsChecked(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		table := newTable(t, tg)
		_, err := tg.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: item{"pk": &types.AttributeValueMemberN{Value: "7"}, "sk": s("STORY")}})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("a number for the string key pk: %v, want ValidationException", err)
		}
		_, err = tg.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: item{"pk": &types.AttributeValueMemberN{Value: "7"}, "sk": s("STORY")}})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("GetItem with a number for pk: %v, want ValidationException", err)
		}
	})
}

// An empty string for a secondary index key is refused, by PutItem and by
// UpdateItem, and the item is left as it was.
func TestDynamoDBEmptyIndexKeyIsRefused(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		key := item{"pk": s("STORY#3"), "sk": s("STORY")}
		_, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"], "day": s(""), "at": s("x")}})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("PutItem with day = \"\": %v, want ValidationException", err)
		}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"], "day": s("2026-11-28"), "at": s("x")}}); err != nil {
			t.Fatal(err)
		}
		_, err = tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("SET emailKey = :e"),
			ExpressionAttributeValues: item{":e": s("")}})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("UpdateItem setting emailKey = \"\": %v, want ValidationException", err)
		}
		if got := get(t, tg, table, key); got["emailKey"] != nil {
			t.Fatalf("the refused update was applied: %#v", got)
		}
	})
}

// Query reads at most 1 MB a page: a partition of 1.4 MB takes two pages,
// and paging with LastEvaluatedKey gets every item once.
func TestDynamoDBQueryPagesAt1MB(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		const n = 14
		big := strings.Repeat("x", 100<<10)
		for i := range n {
			if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: item{"pk": s("DAY#2026-11-28"), "sk": s(fmt.Sprintf("ITEM#%02d", i)), "story": s(big)}}); err != nil {
				t.Fatal(err)
			}
		}
		var start item
		pages, seen := 0, map[string]bool{}
		for {
			out, err := tg.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: item{":p": s("DAY#2026-11-28")}, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range out.Items {
				k := it["sk"].(*types.AttributeValueMemberS).Value
				if seen[k] {
					t.Fatalf("%s came back twice", k)
				}
				seen[k] = true
			}
			if pages == 1 && (len(out.Items) >= n || len(out.LastEvaluatedKey) == 0) {
				t.Fatalf("first page has %d of %d items (1.4 MB), LastEvaluatedKey %v: want a 1 MB page", len(out.Items), n, out.LastEvaluatedKey)
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			start = out.LastEvaluatedKey
		}
		if len(seen) != n {
			t.Fatalf("%d items over %d pages, want %d", len(seen), pages, n)
		}
	})
}

// A transaction whose condition fails writes nothing.
func TestDynamoDBTransactionIsAllOrNothing(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		_, err := tg.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: item{"pk": s("STORY#4"), "sk": s("STORY")}}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: item{"pk": s("STORY#5"), "sk": s("STORY")},
				ConditionExpression: aws.String("attribute_exists(pk)")}},
		}})
		if errorCode(err) != "TransactionCanceledException" {
			t.Fatalf("transaction with a failing condition: %v, want TransactionCanceledException", err)
		}
		if got := get(t, tg, table, item{"pk": s("STORY#4"), "sk": s("STORY")}); got != nil {
			t.Fatalf("the cancelled transaction's Put was applied: %v", got)
		}
	})
}
