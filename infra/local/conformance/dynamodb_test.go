package conformance_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// keys lists an item's attribute names, for messages.
func keys(it item) []string {
	var out []string
	for k := range it {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

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

// UpdateItem's REMOVE takes the attribute away: named directly or through
// a #name placeholder, beside a SET in the same expression, and for an
// index key (the item then leaves the index).
func TestDynamoDBRemove(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		key := item{"pk": s("STORY#1"), "sk": s("STORY")}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"],
			"phone": s("020 7946 0000"), "claim_alert": n("1764300000"), "emailKey": s("ada@example.org"), "name": s("Ada")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("REMOVE phone")}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, tg, table, key); got["phone"] != nil {
			t.Fatalf("after REMOVE the item still has phone: %#v", got["phone"])
		}
		out, err := tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression:          aws.String("SET #sent = :m REMOVE #claim, #email"),
			ExpressionAttributeNames:  map[string]string{"#sent": "sent_alert", "#claim": "claim_alert", "#email": "emailKey"},
			ExpressionAttributeValues: item{":m": s("msg-1")},
			ReturnValues:              types.ReturnValueAllNew})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attributes["claim_alert"] != nil || out.Attributes["emailKey"] != nil || out.Attributes["sent_alert"] == nil {
			t.Fatalf("ReturnValues ALL_NEW after SET sent REMOVE claim, emailKey: %v", keys(out.Attributes))
		}
		got := get(t, tg, table, key)
		if got["claim_alert"] != nil || got["emailKey"] != nil {
			t.Fatalf("after REMOVE #claim, #email the item has %v", keys(got))
		}
		if got["sent_alert"] == nil || got["name"] == nil {
			t.Fatalf("REMOVE took more than it named: %v", keys(got))
		}
		q, err := tg.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("byEmail"),
			KeyConditionExpression: aws.String("emailKey = :e"), ExpressionAttributeValues: item{":e": s("ada@example.org")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Items) != 0 {
			t.Fatalf("after REMOVE emailKey the item is still in byEmail: %v", q.Items)
		}
	})
}

// REMOVE in a TransactWriteItems Update takes the attribute away, and a
// cancelled transaction's REMOVE takes nothing.
func TestDynamoDBRemoveInTransaction(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		key := item{"pk": s("STORY#6"), "sk": s("STORY")}
		other := item{"pk": s("STORY#6"), "sk": s("CLIP#1")}
		for _, it := range []item{{"pk": key["pk"], "sk": key["sk"], "claim_alert": n("1"), "phone": s("0")}, {"pk": other["pk"], "sk": other["sk"]}} {
			if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
		remove := func(cond string) error {
			_, err := tg.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("REMOVE #c, phone"),
					ExpressionAttributeNames: map[string]string{"#c": "claim_alert"}}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: other, ConditionExpression: aws.String(cond)}},
			}})
			return err
		}
		if err := remove("attribute_not_exists(pk)"); errorCode(err) != "TransactionCanceledException" {
			t.Fatalf("transaction with a failing condition: %v, want TransactionCanceledException", err)
		}
		if got := get(t, tg, table, key); got["claim_alert"] == nil || got["phone"] == nil {
			t.Fatalf("the cancelled transaction removed attributes: %v", keys(got))
		}
		if err := remove("attribute_exists(pk)"); err != nil {
			t.Fatal(err)
		}
		if got := get(t, tg, table, key); got["claim_alert"] != nil || got["phone"] != nil {
			t.Fatalf("after the transaction's REMOVE the item has %v", keys(got))
		}
	})
}

// An empty list or map is kept as one: put whole, set by an update, read by
// GetItem and Query, kept by an update of another attribute, and usable in
// expressions (size, list_append).
func TestDynamoDBEmptyList(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		key := item{"pk": s("STORY#2"), "sk": s("STORY")}
		emptyL := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		emptyM := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: item{"pk": key["pk"], "sk": key["sk"], "topics": emptyL, "extra": emptyM, "consents": emptyL}}); err != nil {
			t.Fatal(err)
		}
		wantEmpty := func(when string, it item, names ...string) {
			t.Helper()
			for _, name := range names {
				switch v := it[name].(type) {
				case *types.AttributeValueMemberL:
					if len(v.Value) == 0 && name != "extra" {
						continue
					}
				case *types.AttributeValueMemberM:
					if len(v.Value) == 0 && name == "extra" {
						continue
					}
				}
				t.Fatalf("%s: %s = %#v, want an empty %s", when, name, it[name], map[bool]string{true: "map", false: "list"}[name == "extra"])
			}
		}
		wantEmpty("GetItem", get(t, tg, table, key), "topics", "extra", "consents")
		q, err := tg.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": key["pk"]}})
		if err != nil || len(q.Items) != 1 {
			t.Fatalf("Query: %v, %d items", err, len(q.Items))
		}
		wantEmpty("Query", q.Items[0], "topics", "extra", "consents")

		if _, err := tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression: aws.String("SET #r = :empty, #n = :one"), ConditionExpression: aws.String("size(topics) = :zero"),
			ExpressionAttributeNames:  map[string]string{"#r": "recent", "#n": "count"},
			ExpressionAttributeValues: item{":empty": emptyL, ":one": n("1"), ":zero": n("0")}}); err != nil {
			t.Fatal(err)
		}
		wantEmpty("after SET recent = [] and count", get(t, tg, table, key), "topics", "extra", "recent")

		if _, err := tg.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression:          aws.String("SET consents = list_append(consents, :rec)"),
			ExpressionAttributeValues: item{":rec": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("given")}}}}); err != nil {
			t.Fatal(err)
		}
		if l, ok := get(t, tg, table, key)["consents"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 1 {
			t.Fatalf("list_append onto an empty list: %#v", get(t, tg, table, key)["consents"])
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

// PutItem answers with no attributes, unless ReturnValues is ALL_OLD: then
// with the item it replaced (none for a new item).
func TestDynamoDBPutItemReturnValues(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		put := func(v string, rv types.ReturnValue) item {
			out, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), ReturnValues: rv,
				Item: item{"pk": s("STORY#8"), "sk": s("STORY"), "v": s(v)}})
			if err != nil {
				t.Fatal(err)
			}
			return out.Attributes
		}
		if got := put("1", ""); len(got) != 0 {
			t.Fatalf("a new item, no ReturnValues: attributes %v, want none", keys(got))
		}
		if got := put("2", types.ReturnValueNone); len(got) != 0 {
			t.Fatalf("an item replaced, ReturnValues NONE: attributes %v, want none", keys(got))
		}
		if got := put("3", types.ReturnValueAllOld); len(got) != 3 || got["v"].(*types.AttributeValueMemberS).Value != "2" {
			t.Fatalf("an item replaced, ReturnValues ALL_OLD: %v, want the item as it was (v 2)", got)
		}
		out, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), ReturnValues: types.ReturnValueAllOld,
			Item: item{"pk": s("STORY#9"), "sk": s("STORY")}})
		if err != nil || len(out.Attributes) != 0 {
			t.Fatalf("a new item, ReturnValues ALL_OLD: %v %v, want no attributes", out, err)
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
		_, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"], "month": s(""), "at": s("x")}})
		if errorCode(err) != "ValidationException" {
			t.Fatalf("PutItem with day = \"\": %v, want ValidationException", err)
		}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": key["pk"], "sk": key["sk"], "month": s("2026-11"), "at": s("x")}}); err != nil {
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

// A transaction whose condition fails writes nothing: an item it put is
// absent, one it updated is as it was, one it deleted is still there, and
// the indexes show each as it was.
func TestDynamoDBTransactionIsAllOrNothing(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		kept := item{"pk": s("STORY#6"), "sk": s("STORY")}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: item{"pk": s("STORY#6"), "sk": s("STORY"), "n": n("1"), "emailKey": s("kept@example.org")}}); err != nil {
			t.Fatal(err)
		}
		deleted := item{"pk": s("STORY#7"), "sk": s("STORY")}
		if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: item{"pk": s("STORY#7"), "sk": s("STORY"), "emailKey": s("deleted@example.org")}}); err != nil {
			t.Fatal(err)
		}
		_, err := tg.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: item{"pk": s("STORY#4"), "sk": s("STORY"), "emailKey": s("put@example.org")}}},
			{Update: &types.Update{TableName: aws.String(table), Key: kept,
				UpdateExpression:          aws.String("SET emailKey = :e ADD n :one"),
				ExpressionAttributeValues: item{":e": s("updated@example.org"), ":one": n("1")}}},
			{Delete: &types.Delete{TableName: aws.String(table), Key: deleted}},
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: item{"pk": s("STORY#5"), "sk": s("STORY")},
				ConditionExpression: aws.String("attribute_exists(pk)")}},
		}})
		if errorCode(err) != "TransactionCanceledException" {
			t.Fatalf("transaction with a failing condition: %v, want TransactionCanceledException", err)
		}
		if got := get(t, tg, table, item{"pk": s("STORY#4"), "sk": s("STORY")}); got != nil {
			t.Fatalf("the cancelled transaction's Put was applied: %v", got)
		}
		got := get(t, tg, table, kept)
		if v, _ := got["n"].(*types.AttributeValueMemberN); v == nil || v.Value != "1" {
			t.Fatalf("the cancelled transaction's Update was applied: %v", got)
		}
		if get(t, tg, table, deleted) == nil {
			t.Fatal("the cancelled transaction's Delete was applied")
		}
		scan, err := tg.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
		if err != nil || len(scan.Items) != 2 {
			t.Fatalf("scan after the cancelled transaction: %d items, want 2 (%v)", len(scan.Items), err)
		}
		for email, want := range map[string]int{"put@example.org": 0, "updated@example.org": 0, "kept@example.org": 1, "deleted@example.org": 1} {
			out, err := tg.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("byEmail"),
				KeyConditionExpression: aws.String("emailKey = :e"), ExpressionAttributeValues: item{":e": s(email)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Items) != want {
				t.Errorf("byEmail %s: %d items after the cancelled transaction, want %d", email, len(out.Items), want)
			}
		}
	})
}

// Paging with Limit ends: each page's LastEvaluatedKey leads on, and the
// page after the last item has no LastEvaluatedKey (it never hands back
// the key it started from), on the table and on an index.
func TestDynamoDBQueryPagingEnds(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		for i := range 3 {
			if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": s("STORY#7"), "sk": s(fmt.Sprintf("CLIP#%d", i)),
				"month": s("2026-11"), "at": s(fmt.Sprintf("2026-11-28T10:00:0%dZ", i))}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []*dynamodb.QueryInput{
			{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :v"), ExpressionAttributeValues: item{":v": s("STORY#7")}},
			{TableName: aws.String(table), IndexName: aws.String("byMonth"), KeyConditionExpression: aws.String("#d = :v"),
				ExpressionAttributeNames: map[string]string{"#d": "month"}, ExpressionAttributeValues: item{":v": s("2026-11")}},
		} {
			for _, limit := range []int32{1, 3} {
				q.Limit = aws.Int32(limit)
				q.ExclusiveStartKey = nil
				seen := map[string]bool{}
				pages := 0
				for {
					out, err := tg.db.Query(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					for _, it := range out.Items {
						seen[it["sk"].(*types.AttributeValueMemberS).Value] = true
					}
					if len(out.LastEvaluatedKey) == 0 {
						break
					}
					if pages > 5 {
						t.Fatalf("index %q, limit %d: still paging after %d pages (LastEvaluatedKey %v)", aws.ToString(q.IndexName), limit, pages, out.LastEvaluatedKey)
					}
					q.ExclusiveStartKey = out.LastEvaluatedKey
				}
				if len(seen) != 3 {
					t.Fatalf("index %q, limit %d: %d items over %d pages, want 3", aws.ToString(q.IndexName), limit, len(seen), pages)
				}
			}
		}
	})
}

// A Query that starts from the key of an item deleted since (a page ended
// on it) carries on after that key, forwards and backwards, on the table
// and on an index.
func TestDynamoDBQueryStartsAfterADeletedKey(t *testing.T) {
	each(t, dynamos, func(t *testing.T, tg *target) {
		ctx := context.Background()
		table := newTable(t, tg)
		row := func(sk string) item {
			return item{"pk": s("DAY"), "sk": s(sk), "month": s("2026-11"), "at": s("2026-11-28T10:00:00Z#" + sk)}
		}
		for _, sk := range []string{"A", "B", "C"} {
			if _, err := tg.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: row(sk)}); err != nil {
				t.Fatal(err)
			}
		}
		gone := row("B")
		if _, err := tg.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"pk": gone["pk"], "sk": gone["sk"]}}); err != nil {
			t.Fatal(err)
		}
		for _, forward := range []bool{true, false} {
			want := map[bool]string{true: "C", false: "A"}[forward]
			for _, q := range []*dynamodb.QueryInput{
				{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :v"), ExpressionAttributeValues: item{":v": s("DAY")},
					ExclusiveStartKey: item{"pk": gone["pk"], "sk": gone["sk"]}},
				{TableName: aws.String(table), IndexName: aws.String("byMonth"), KeyConditionExpression: aws.String("#d = :v"),
					ExpressionAttributeNames: map[string]string{"#d": "month"}, ExpressionAttributeValues: item{":v": s("2026-11")}, ExclusiveStartKey: gone},
			} {
				q.ScanIndexForward = aws.Bool(forward)
				out, err := tg.db.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Items) != 1 || out.Items[0]["sk"].(*types.AttributeValueMemberS).Value != want {
					var got []string
					for _, it := range out.Items {
						got = append(got, it["sk"].(*types.AttributeValueMemberS).Value)
					}
					t.Fatalf("index %q, forward %v, from the deleted B: %v, want [%s]", aws.ToString(q.IndexName), forward, got, want)
				}
			}
		}
	})
}
