package independent_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/infra/local/independent"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk string) item { return item{"pk": s(pk), "sk": s("A")} }

// fronted is a table "txs" (keys pk, sk) on a dynalite of its own behind
// the front.
func fronted(t *testing.T) *dynamodb.Client {
	t.Helper()
	if missing := independent.Missing(true, false); missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	srv, err := independent.StartDynalite(independent.DynaliteCommand())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	front := httptest.NewServer(independent.NewDynaliteFront(srv.URL))
	t.Cleanup(front.Close)
	db := dynamodb.New(dynamodb.Options{Region: "eu-west-2", BaseEndpoint: aws.String(front.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("txs"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("txs")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return db
}

func put(t *testing.T, db *dynamodb.Client, pk, v string) {
	t.Helper()
	it := key(pk)
	it["v"] = s(v)
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("txs"), Item: it}); err != nil {
		t.Fatal(err)
	}
}

// value is v of the item at pk ("" absent, "-" an item without v).
func value(t *testing.T, db *dynamodb.Client, pk string) string {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("txs"), Key: key(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return ""
	}
	if v, ok := out.Item["v"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return "-"
}

var (
	table  = aws.String("txs")
	exists = aws.String("attribute_exists(pk)")
	absent = aws.String("attribute_not_exists(pk)")
)

// The front's TransactWriteItems, as DynamoDB documents it: all or
// nothing, every failing condition reported in request order with
// DynamoDB's error shape, ConditionCheck writing nothing, and one item
// twice refused.
func TestDynaliteFrontTransactions(t *testing.T) {
	db := fronted(t)
	ctx := context.Background()
	put(t, db, "upd", "before")
	put(t, db, "del", "before")
	put(t, db, "chk", "before")

	actions := func(check *string) []types.TransactWriteItem {
		newItem := key("new")
		newItem["v"] = s("put")
		return []types.TransactWriteItem{
			{Put: &types.Put{TableName: table, Item: newItem, ConditionExpression: absent}},
			{Update: &types.Update{TableName: table, Key: key("upd"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: item{":v": s("after")}, ConditionExpression: exists}},
			{Delete: &types.Delete{TableName: table, Key: key("del"), ConditionExpression: exists}},
			{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key("chk"), ConditionExpression: check,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key("missing"), ConditionExpression: check}},
		}
	}

	unchanged := func(when string) {
		t.Helper()
		for pk, want := range map[string]string{"new": "", "upd": "before", "del": "before", "chk": "before", "missing": ""} {
			if got := value(t, db, pk); got != want {
				t.Errorf("after %s %s = %q, want %q", when, pk, got, want)
			}
		}
	}

	// An invalid action (a value the request does not define) fails the
	// whole request, after three actions were done: they are undone.
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions(aws.String("v = :no"))})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("a check naming an undefined :no: %v, want ValidationException", err)
	}
	unchanged("an invalid transaction")

	// Both checks fail (chk has another v; missing is absent): nothing is
	// written, and both are reported.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: withValue(actions(aws.String("v = :no")))})
	tce, ok := errors.AsType[*types.TransactionCanceledException](err)
	if !ok {
		t.Fatalf("failing checks: %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if got := strings.Join(codes, " "); got != "None None None ConditionalCheckFailed ConditionalCheckFailed" {
		t.Fatalf("CancellationReasons = %s", got)
	}
	if !strings.Contains(tce.ErrorMessage(), "[None, None, None, ConditionalCheckFailed, ConditionalCheckFailed]") ||
		aws.ToString(tce.CancellationReasons[3].Message) != "The conditional request failed" {
		t.Fatalf("message %q, reason %+v", tce.ErrorMessage(), tce.CancellationReasons[3])
	}
	if v, _ := tce.CancellationReasons[3].Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "before" {
		t.Fatalf("ALL_OLD item of the failed check = %v", tce.CancellationReasons[3].Item)
	}
	if tce.CancellationReasons[4].Item != nil {
		t.Fatalf("the check without ReturnValuesOnConditionCheckFailure returned %v", tce.CancellationReasons[4].Item)
	}
	unchanged("a cancelled transaction")

	// Checks that hold: everything is written, and the checks write nothing
	// (not even the key of the missing item).
	acts := actions(nil)
	acts[3].ConditionCheck.ConditionExpression = exists
	acts[4].ConditionCheck.ConditionExpression = absent
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: acts}); err != nil {
		t.Fatal(err)
	}
	for pk, want := range map[string]string{"new": "put", "upd": "after", "del": "", "chk": "before", "missing": ""} {
		if got := value(t, db, pk); got != want {
			t.Errorf("after a transaction %s = %q, want %q", pk, got, want)
		}
	}

	// One item twice.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key("upd"), ConditionExpression: exists}},
		{Delete: &types.Delete{TableName: table, Key: key("upd")}},
	}})
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); ok || !strings.Contains(errString(err), "multiple operations on one item") {
		t.Fatalf("one item twice: %v, want ValidationException", err)
	}
	if got := value(t, db, "upd"); got != "after" {
		t.Fatalf("after a refused transaction upd = %q", got)
	}
}

func withValue(acts []types.TransactWriteItem) []types.TransactWriteItem {
	for _, a := range acts {
		if a.ConditionCheck != nil {
			a.ConditionCheck.ExpressionAttributeValues = item{":no": s("no")}
		}
	}
	return acts
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Two fronts with their own prefixes share one dynalite: each sees only its
// own table under the name it gave, unprefixed in every answer.
func TestDynaliteFrontPrefixes(t *testing.T) {
	if missing := independent.Missing(true, false); missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	srv, err := independent.StartDynalite(independent.DynaliteCommand())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx := context.Background()
	var dbs []*dynamodb.Client
	for _, prefix := range []string{"one-", "two-"} {
		front := httptest.NewServer(independent.NewDynaliteFront(srv.URL).WithPrefix(prefix))
		t.Cleanup(front.Close)
		db := dynamodb.New(dynamodb.Options{Region: "eu-west-2", BaseEndpoint: aws.String(front.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: table, BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}})
		if err != nil {
			t.Fatal(err)
		}
		if d := out.TableDescription; aws.ToString(d.TableName) != "txs" || !strings.HasSuffix(aws.ToString(d.TableArn), ":table/txs") {
			t.Fatalf("CreateTable answered %s %s", aws.ToString(d.TableName), aws.ToString(d.TableArn))
		}
		dbs = append(dbs, db)
	}
	for i, db := range dbs {
		w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: table}, time.Minute); err != nil {
			t.Fatal(err)
		}
		put(t, db, "p", []string{"first", "second"}[i])
		list, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil || len(list.TableNames) != 1 || list.TableNames[0] != "txs" {
			t.Fatalf("ListTables = %v %v, want [txs]", list.TableNames, err)
		}
	}
	if a, b := value(t, dbs[0], "p"), value(t, dbs[1], "p"); a != "first" || b != "second" {
		t.Fatalf("the two tables hold %q and %q, want first and second", a, b)
	}
	_, err = dbs[0].TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: table, Key: key("p"), ConditionExpression: exists}},
		{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key("q"), ConditionExpression: exists}},
	}})
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); !ok {
		t.Fatalf("a transaction with a failing check: %v", err)
	}
	if _, err := dbs[1].TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: table, Key: key("p"), ConditionExpression: exists}},
	}}); err != nil {
		t.Fatal(err)
	}
	if a, b := value(t, dbs[0], "p"), value(t, dbs[1], "p"); a != "first" || b != "" {
		t.Fatalf("after the transactions the tables hold %q and %q, want first and nothing", a, b)
	}
}
