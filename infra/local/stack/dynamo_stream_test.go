package stack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// A write that leaves an item as it was makes no stream record, as on
// DynamoDB Streams; every write that changes it makes one, with the
// images the table's view type asks for.
func TestStreamRecordsOnlyForChanges(t *testing.T) {
	d := newDynamo(Region, nil)
	var got []events.DynamoDBEventRecord
	d.onRecord = func(_ string, rec events.DynamoDBEventRecord) { got = append(got, rec) }
	call := func(op, body string) {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", op, w.Code, w.Body)
		}
	}
	call("CreateTable", `{"TableName":"T","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST",
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`)
	item := `{"pk":{"S":"a"},"n":{"N":"1"},"m":{"M":{"y":{"S":"<2>"},"x":{"L":[{"S":"1"},{"BOOL":true},{"NS":["3","1","2"]}]}}},"ss":{"SS":["b","a"]}}`
	steps := []struct {
		op, body, want string // want: the record's event name, or "" for none
	}{
		{"PutItem", `{"TableName":"T","Item":` + item + `}`, "INSERT"},
		{"PutItem", `{"TableName":"T","Item":` + item + `}`, ""},
		{"UpdateItem", `{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"1"}}}`, ""},
		{"UpdateItem", `{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"2"}}}`, "MODIFY"},
		{"UpdateItem", `{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET m.y = :y","ExpressionAttributeValues":{":y":{"S":"<3>"}}}`, "MODIFY"},
		{"UpdateItem", `{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"ADD ss :s","ExpressionAttributeValues":{":s":{"SS":["a"]}}}`, ""},
		{"UpdateItem", `{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"ADD ss :s","ExpressionAttributeValues":{":s":{"SS":["c"]}}}`, "MODIFY"},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"T","Item":{"pk":{"S":"b"}}}},
			{"Update":{"TableName":"T","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":{"N":"2"}}}}]}`, "INSERT"},
		{"DeleteItem", `{"TableName":"T","Key":{"pk":{"S":"c"}}}`, ""},
		{"DeleteItem", `{"TableName":"T","Key":{"pk":{"S":"a"}}}`, "REMOVE"},
	}
	for _, s := range steps {
		got = nil
		call(s.op, s.body)
		switch {
		case s.want == "" && len(got) > 0:
			t.Fatalf("%s %s: a record (%s) for an item left as it was: %v // %v", s.op, s.body, got[0].EventName, got[0].Change.OldImage, got[0].Change.NewImage)
		case s.want != "" && (len(got) != 1 || got[0].EventName != s.want):
			t.Fatalf("%s %s: records %v, want one %s", s.op, s.body, got, s.want)
		}
	}
}
