package stack_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/store"
)

// Retention as configured: the table's TTL, the bucket's lifecycle rules
// and RetentionDays reaching every function that writes.
func TestRetentionIsConfigured(t *testing.T) {
	t.Parallel()
	tmpl, err := stack.LoadTemplate(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ttl, _ := tmpl.Resources["StoriesTable"].Properties["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != store.AttrExpires || ttl["Enabled"] != true {
		t.Fatalf("table TTL = %v", ttl)
	}
	if d := tmpl.Parameters["RetentionDays"]["Default"]; fmt.Sprint(d) != "730" {
		t.Fatalf("RetentionDays default = %v, want 730 (24 months)", d)
	}
	rules := map[string]map[string]any{}
	lc, _ := tmpl.Resources["ClipsBucket"].Properties["LifecycleConfiguration"].(map[string]any)
	for _, r := range lc["Rules"].([]any) {
		m := r.(map[string]any)
		rules[fmt.Sprint(m["Id"])] = m
	}
	want := map[string]string{
		"AbortIncompleteUploads":    "map[AbortIncompleteMultipartUpload:map[DaysAfterInitiation:1] Id:AbortIncompleteUploads Status:Enabled]",
		"ExpireUnattachedUploads":   "map[ExpirationInDays:1 Id:ExpireUnattachedUploads Status:Enabled TagFilters:[map[Key:fv-status Value:pending]]]",
		"ExpireClipsAfterRetention": "map[ExpirationInDays:map[Ref:RetentionDays] Id:ExpireClipsAfterRetention Prefix:clips/ Status:Enabled]",
		"ExpireDigestExports":       "map[ExpirationInDays:7 Id:ExpireDigestExports Prefix:exports/ Status:Enabled]",
		"ExpireRejectedClips":       "map[ExpirationInDays:1 Id:ExpireRejectedClips Status:Enabled TagFilters:[map[Key:fv-status Value:rejected]]]",
	}
	for id, w := range want {
		if got := fmt.Sprint(rules[id]); got != w {
			t.Errorf("lifecycle rule %s =\n  %s\nwant\n  %s", id, got, w)
		}
	}
	for _, f := range tmpl.Functions() {
		switch f.Name {
		case "SubmitFunction", "NotifyFunction", "UploadsFunction", "IngestFunction":
			if fmt.Sprint(f.Environment["RETENTION_DAYS"]) != "map[Ref:RetentionDays]" {
				t.Errorf("%s does not get RETENTION_DAYS", f.Name)
			}
		}
	}
}

// A story sent through the stack carries its expiry: RetentionDays after it
// was sent.
func TestStoriesExpireAfterRetention(t *testing.T) {
	t.Parallel()
	hidden := openForm(t)
	if resp, out := postJSON(t, jsonStory(hidden, "expiry@example.org")); resp.StatusCode != 201 {
		t.Fatalf("POST = %d %v", resp.StatusCode, out)
	}
	out, err := dynamodb.NewFromConfig(st.AWS).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(st.Tables["StoriesTable"]), Key: store.StoryKey(hidden["id"]),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := out.Item[store.AttrExpires].(*types.AttributeValueMemberN)
	if n == nil {
		t.Fatal("no expiresAt on the story")
	}
	secs, _ := strconv.ParseInt(n.Value, 10, 64)
	if d := time.Until(time.Unix(secs, 0)); d < 729*24*time.Hour || d > 731*24*time.Hour {
		t.Fatalf("the story expires in %s, want 730 days", d)
	}
}

// The local table deletes expired items as DynamoDB's TTL does: not at
// once, but after a lag (DynamoDB: within a few days), on the stack's clock.
func TestLocalTableHonoursTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(st.AWS)
	table := aws.String(st.Tables["StoriesTable"])
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TEST#ttl"}, "sk": &types.AttributeValueMemberS{Value: "TEST"},
	}
	item := map[string]types.AttributeValue{
		"pk": key["pk"], "sk": key["sk"],
		store.AttrExpires: &types.AttributeValueMemberN{Value: strconv.FormatInt(st.Clock.Now().Add(-time.Minute).Unix(), 10)},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item}); err != nil {
		t.Fatal(err)
	}
	old := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TEST#ttl-old"}, "sk": &types.AttributeValueMemberS{Value: "TEST"},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: map[string]types.AttributeValue{
		"pk": old["pk"], "sk": old["sk"],
		store.AttrExpires: &types.AttributeValueMemberN{Value: strconv.FormatInt(st.Clock.Now().Add(-stack.DefaultTTLLag-time.Minute).Unix(), 10)},
	}}); err != nil {
		t.Fatal(err)
	}
	present := func(key map[string]types.AttributeValue) bool {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Item) > 0
	}
	// Swept on the stack's clock: the item expired a minute ago stays, the
	// one expired more than the lag ago goes.
	st.Sweep()
	if !present(key) {
		t.Fatal("an item was deleted the moment it expired; DynamoDB takes up to days")
	}
	if present(old) {
		t.Fatal("an item expired longer ago than the TTL lag is still in the table")
	}
}

// The sweep follows each write's TTL: an item given an expired TTL by an
// update or a transaction goes; one whose TTL was removed, or is not a
// number, stays (as DynamoDB's TTL ignores it).
func TestTTLFollowsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(st.AWS)
	table := aws.String(st.Tables["StoriesTable"])
	key := func(name string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TEST#ttl-" + name}, "sk": &types.AttributeValueMemberS{Value: "TEST"}}
	}
	expired := &types.AttributeValueMemberN{Value: strconv.FormatInt(st.Clock.Now().Add(-stack.DefaultTTLLag-time.Minute).Unix(), 10)}
	future := &types.AttributeValueMemberN{Value: strconv.FormatInt(st.Clock.Now().Add(time.Hour).Unix(), 10)}
	put := func(name string, ttl types.AttributeValue) {
		item := key(name)
		item[store.AttrExpires] = ttl
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	update := func(name, expr string, values map[string]types.AttributeValue) {
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key(name), UpdateExpression: aws.String(expr),
			ExpressionAttributeNames: map[string]string{"#e": store.AttrExpires}, ExpressionAttributeValues: values}); err != nil {
			t.Fatal(err)
		}
	}
	present := func(name string) bool {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key(name), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Item) > 0
	}
	put("updated", future)
	put("removed", future)
	put("string", &types.AttributeValueMemberS{Value: expired.Value})
	st.Sweep() // every TTL is known from here on
	update("updated", "SET #e = :e", map[string]types.AttributeValue{":e": expired})
	update("removed", "SET #e = :e", map[string]types.AttributeValue{":e": expired})
	update("removed", "REMOVE #e", nil)
	put("put", expired)
	tx := key("transaction")
	tx[store.AttrExpires] = expired
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: tx}}}}); err != nil {
		t.Fatal(err)
	}
	st.Sweep()
	for name, want := range map[string]bool{"updated": false, "put": false, "transaction": false, "removed": true, "string": true} {
		if got := present(name); got != want {
			t.Errorf("item %q present = %v after the sweep, want %v", name, got, want)
		}
	}
}
