package submit_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/shared/config"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/submit"
)

// BenchmarkSubmitParts5000 times the parts of BenchmarkSubmit5000's
// submit that are not the table, with the same story: "handler" is the
// handler on a table that takes every transaction at once (no SDK, no
// HTTP); "handler+sdk" adds the SDK's TransactWriteItems, and "sdk-putitem"
// is the SDK's bare PutItem of the item the submit writes, both through an
// HTTP transport that answers at once. What BenchmarkSubmit5000 measures
// beyond these is the local DynamoDB and the HTTP between them.
func BenchmarkSubmitParts5000(b *testing.B) {
	req, body := story5000(b)
	signer := testenv.Signer(b)
	id := story.NewID()
	body["id"], body["started"] = id, start(b, signer, id, testenv.SampleTime)
	bb, _ := json.Marshal(body)
	req.Body = string(bb)

	handler := func(db store.DynamoDB) *submit.Handler {
		h, err := submit.New(submit.Config{
			Shared: config.Shared{TableName: "StoriesTable"}, MinFillTime: 3 * time.Second, MaxBodyBytes: 64 << 10,
			PerIPPerHour: 1 << 30, PerAddressPerDay: 1 << 30,
		}, store.New(db, "StoriesTable"), signer)
		if err != nil {
			b.Fatal(err)
		}
		h.SetClock(func() time.Time { return testenv.SampleTime.Add(time.Minute) })
		return h
	}
	submitOne := func(b *testing.B, h *submit.Handler) {
		if resp, err := h.Handle(context.Background(), req); err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("submit = %d %s %v", resp.StatusCode, resp.Body, err)
		}
	}
	table := &instantTable{}
	sdk := dynamodb.New(dynamodb.Options{
		Region: "eu-west-2", BaseEndpoint: aws.String("http://dynamodb.invalid"),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  &http.Client{Transport: instantAnswer{}},
	})

	b.Run("handler", func(b *testing.B) {
		h := handler(table)
		for b.Loop() {
			submitOne(b, h)
		}
	})
	b.Run("handler+sdk", func(b *testing.B) {
		h := handler(sdk)
		for b.Loop() {
			submitOne(b, h)
		}
	})
	b.Run("sdk-putitem", func(b *testing.B) {
		if table.last == nil {
			submitOne(b, handler(table))
		}
		in := &dynamodb.PutItemInput{TableName: aws.String("StoriesTable"), Item: table.last.TransactItems[0].Put.Item}
		for b.Loop() {
			if _, err := sdk.PutItem(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// instantTable takes every transaction at once, keeping the last.
type instantTable struct {
	store.DynamoDB
	last *dynamodb.TransactWriteItemsInput
}

func (t *instantTable) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	t.last = in
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// instantAnswer answers every DynamoDB request with an empty success.
type instantAnswer struct{}

func (instantAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Request: r, Body: io.NopCloser(strings.NewReader("{}")),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}}, nil
}
