// Package testenv gives handler tests the real table layout on the local
// stack's DynamoDB, the sample events in events/, and a fixed clock.
//
// The same tests also run against implementations nobody here wrote (the
// conformance lane does this, see independent.go): TESTENV_DYNALITE and
// TESTENV_VERSITYGW point Table and S3 at a dynalite or versitygw server.
package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"frontlinevoices/infra/events/samples"
	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/token"
)

// Secret is the signing secret the sample events were made with.
const Secret = samples.Secret

// Signer signs with Secret under key id k1, as the sample events were.
func Signer(t testing.TB) token.Signer {
	s, err := token.StaticSigner(Secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SampleTime is when the sample events' forms were shown.
var SampleTime = samples.SampleTime

// Root is the repository root.
func Root(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("template.yaml not found")
		}
		dir = parent
	}
}

// Event decodes events/<name> into v.
func Event(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// Table returns a client of a fresh local DynamoDB (the local stack's: it
// refuses and pages as DynamoDB does) holding template.yaml's table.
func Table(t testing.TB, logicalID string) *dynamodb.Client {
	t.Helper()
	tmpl, err := template(Root(t))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	if endpoint := os.Getenv(EnvDynalite); endpoint != "" {
		return dynaliteTable(t, endpoint, in)
	}
	srv := httptest.NewServer(stack.NewDynamoDB(nil))
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return db
}

// template is the repository's template.yaml, read once: tests make many
// tables (each its own), and parsing the YAML cost more than the rest of
// making one. CreateTableInput only reads it, so tests share it.
func template(root string) (*stack.Template, error) {
	parsed.once.Do(func() {
		parsed.tmpl, parsed.err = stack.LoadTemplate(filepath.Join(root, "template.yaml"))
	})
	return parsed.tmpl, parsed.err
}

var parsed struct {
	once sync.Once
	tmpl *stack.Template
	err  error
}

// S3 is a client of a fresh in-process S3 (the local stack's) holding the
// given buckets.
func S3(t testing.TB, buckets ...string) *s3.Client {
	t.Helper()
	return S3Faults(t, nil, buckets...)
}

// S3Faults is S3 failing as faults say (operations named as S3Operation
// names them).
func S3Faults(t testing.TB, faults *stack.Faults, buckets ...string) *s3.Client {
	t.Helper()
	return S3Via(t, nil, faults, buckets...)
}

// S3Via is S3Faults with the S3 endpoint seen through wrap (nil: as it
// is), for a test that makes it answer as it would another caller (one
// without s3:ListBucket, say).
func S3Via(t testing.TB, wrap func(http.Handler) http.Handler, faults *stack.Faults, buckets ...string) *s3.Client {
	t.Helper()
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	if endpoint := os.Getenv(EnvVersityGW); endpoint != "" {
		return versityS3(t, endpoint, wrap, faults, buckets)
	}
	srv := httptest.NewServer(wrap(stack.NewS3(s3mem.New(), faults)))
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	for _, b := range buckets {
		if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return client
}

// SES is a client of a fresh local SES (the local stack's outbox), which
// fails as faults say. The client does not retry, so one fault is one
// failed send.
func SES(t testing.TB) (*sesv2.Client, *stack.Outbox, *stack.Faults) {
	t.Helper()
	faults := &stack.Faults{}
	outbox, err := stack.NewOutbox(t.TempDir(), faults)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(outbox)
	t.Cleanup(srv.Close)
	client := sesv2.New(sesv2.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	return client, outbox, faults
}
