package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// BenchmarkDynamoTransactVsPut5000 times the local DynamoDB alone, called
// in process (no HTTP, no SDK), on the request bodies the SDK sends for a
// 5,000-character story: "transact" is the submit's TransactWriteItems
// (the story, its tombstone check, two rate-limit counts; store.PutStory)
// and "putitem" a bare PutItem of the same item, each with a new story id.
// IAM (the admin key) and the stream records are as in the running stack;
// the records are built but not delivered.
func BenchmarkDynamoTransactVsPut5000(b *testing.B) {
	st, err := Start(context.Background(), Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close(context.Background()) })
	st.dynamo.mu.Lock()
	st.dynamo.onRecord = func(string, events.DynamoDBEventRecord) {}
	st.dynamo.mu.Unlock()
	table := st.Tables["StoriesTable"]

	prose, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "safeguard", "testdata", "clinical_prose.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := []rune(strings.Join(strings.Fields(string(prose)), " "))
	for len(text) < 5000 {
		text = append(text, text...)
	}
	now := time.Date(2026, 11, 24, 9, 1, 0, 0, time.UTC)
	s := story.Story{ID: story.NewID(), Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: "southwark", Area: "sel", Email: "amara.okafor@example.org", PreferredContact: "email",
		Topics: []string{"workforce"}, Text: string(text[:5000]), Activities: []string{"media", "mp_meeting"},
		PatientsSpeak: "maybe", SubmittedAt: now, ContentHash: "709cdac7746a9c704c5128a7e9c87886",
		Consents: []story.ConsentRecord{{Statement: "contact", Version: "1b1db600e8e4", Agreed: true, At: now, Channel: "form"}}}

	// The SDK's bodies, taken on their way out.
	var txBody []byte
	sdk := dynamodb.New(dynamodb.Options{Region: Region, BaseEndpoint: aws.String("http://dynamodb.invalid"),
		Credentials: credentials.NewStaticCredentialsProvider(AdminKey, "x", ""),
		HTTPClient: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			txBody, _ = io.ReadAll(r.Body)
			return &http.Response{StatusCode: http.StatusOK, Request: r, Body: io.NopCloser(strings.NewReader("{}")),
				Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}}, nil
		})}})
	if _, _, err := store.New(sdk, table).PutStory(context.Background(), s,
		store.Limit{Counter: "ip#bench", Window: time.Hour, Max: 1 << 30},
		store.Limit{Counter: "email#bench", Window: 24 * time.Hour, Max: 1 << 30}); err != nil {
		b.Fatal(err)
	}
	var tx struct {
		TransactItems []struct {
			Put *struct{ Item json.RawMessage }
		}
	}
	if err := json.Unmarshal(txBody, &tx); err != nil || len(tx.TransactItems) != 4 || tx.TransactItems[0].Put == nil {
		b.Fatalf("the transaction's body: %v", err)
	}
	putBody := fmt.Appendf(nil, `{"Item":%s,"TableName":%q}`, tx.TransactItems[0].Put.Item, table)

	serve := func(b *testing.B, op string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AdminKey+"/20261124/"+Region+"/dynamodb/aws4_request")
		w := httptest.NewRecorder()
		st.dynamo.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", op, w.Code, w.Body)
		}
	}
	for _, c := range []struct{ name, op string }{{"transact", "TransactWriteItems"}, {"putitem", "PutItem"}} {
		body := putBody
		if c.op == "TransactWriteItems" {
			body = txBody
		}
		b.Run(c.name, func(b *testing.B) {
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = bytes.ReplaceAll(body, []byte(s.ID), []byte(story.NewID()))
			}
			b.ResetTimer()
			for i := range b.N {
				serve(b, c.op, bodies[i])
			}
		})
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
