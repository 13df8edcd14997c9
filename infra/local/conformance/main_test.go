// Package conformance checks the local stack's S3 and DynamoDB against
// implementations nobody here wrote: each behaviour the project relies on
// runs on the local stack's emulators and on versitygw (S3, posix backend)
// and dynalite (DynamoDB), with the same SDK clients. .ci/run installs both;
// locally a test whose independent implementation is not installed says so
// and skips that column (under CI=true it fails instead).
package conformance_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/infra/local/independent"
	"frontlinevoices/infra/local/stack"
)

// target is one implementation of S3 or DynamoDB.
type target struct {
	name  string
	local bool
	s3    *s3.Client
	s3URL string
	db    *dynamodb.Client
	// missing says why the implementation is not here.
	missing string
}

var (
	local   *stack.Stack
	s3s     []*target // the local stack's S3, versitygw
	dynamos []*target // the local stack's DynamoDB, dynalite
	servers []*independent.Server
	fronts  []*httptest.Server
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	var err error
	local, err = stack.Start(ctx, stack.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the local stack:", err)
		os.Exit(1)
	}
	s3s = append(s3s, &target{name: "local", local: true, s3URL: local.S3URL, s3: s3Client(local.S3URL, stack.AdminKey, "local")})
	dynamos = append(dynamos, &target{name: "local", local: true, db: dynamodb.NewFromConfig(local.AWS)})

	s3s = append(s3s, startVersityGW())
	dynamos = append(dynamos, startDynalite())

	code := m.Run()
	for _, f := range fronts {
		f.Close()
	}
	for _, s := range servers {
		s.Close()
	}
	_ = local.Close(ctx)
	os.Exit(code)
}

func s3Client(url, key, secret string) *s3.Client {
	return s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

func startVersityGW() *target {
	t := &target{name: "versitygw"}
	if t.missing = independent.Missing(false, true); t.missing != "" {
		return t
	}
	srv, err := independent.StartVersityGW(independent.VersityGWCommand(), stack.Region)
	if err != nil {
		t.missing = "versitygw did not start: " + err.Error()
		return t
	}
	servers = append(servers, srv)
	t.s3URL = srv.URL
	t.s3 = s3Client(srv.URL, srv.Key, srv.Secret)
	return t
}

// startDynalite starts dynalite behind independent.DynaliteFront, which
// adds the TransactWriteItems dynalite 4.0.0 lacks (so the transaction
// rows check that front on dynalite's single-item calls).
func startDynalite() *target {
	t := &target{name: "dynalite"}
	if t.missing = independent.Missing(true, false); t.missing != "" {
		return t
	}
	srv, err := independent.StartDynalite(independent.DynaliteCommand())
	if err != nil {
		t.missing = "dynalite did not start: " + err.Error()
		return t
	}
	servers = append(servers, srv)
	front := httptest.NewServer(independent.NewDynaliteFront(srv.URL))
	fronts = append(fronts, front)
	t.db = dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(front.URL),
		Credentials: credentials.NewStaticCredentialsProvider(srv.Key, srv.Secret, "")})
	return t
}

// known lists where an implementation is known to differ from AWS (its
// subtest is skipped with the reason): test → target → why.
var known = map[string]map[string]string{
	"TestDynamoDBEmptyIndexKeyIsRefused": {"dynalite": "dynalite 4.0.0 predates DynamoDB's empty-string support (2020) and accepts an empty string as an index key, which DynamoDB refuses"},
	"TestS3LifecycleFromTheTemplate":     {"versitygw": "the template's rules live in the local stack; versitygw's expiry is not driven by a clock a test can move"},
}

// each runs f as a subtest on every target; a missing independent
// implementation skips its subtest, or fails it under CI=true.
func each(t *testing.T, targets []*target, f func(t *testing.T, tg *target)) {
	test := t.Name()
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			if why := known[test][tg.name]; why != "" {
				t.Skip("known difference from AWS: " + why)
			}
			if tg.missing != "" {
				if os.Getenv("CI") == "true" {
					t.Fatal(tg.missing)
				}
				t.Skip(tg.missing)
			}
			f(t, tg)
		})
	}
}

var seq int

// unique names a bucket or table for one test.
func unique(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq)
}

func errorCode(err error) string {
	var coded interface{ ErrorCode() string }
	if err != nil && asError(err, &coded) {
		return coded.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if err != nil && asError(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
