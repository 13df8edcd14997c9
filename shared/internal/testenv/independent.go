package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/infra/local/independent"
	"frontlinevoices/infra/local/stack"
)

// The environment variables that point the tests at an independent
// implementation (independent.EnvDynalite, independent.EnvVersityGW):
//
//	TESTENV_DYNALITE=http://127.0.0.1:4567                 dynalite, fronted by independent.DynaliteFront
//	TESTENV_VERSITYGW=http://key:secret@127.0.0.1:7070     versitygw, with its root account's keys
//
// On dynalite each Table call gets table names of its own (the front
// prefixes them), so any number of tests and processes may share one
// server. versitygw's buckets are one namespace where the local S3 gives
// each call a fresh one, so S3 first empties that server (every bucket,
// with its objects and uploads): a test may hold one S3 there at a time,
// and one test process may use a server at a time (by hand: one package
// per server, or -p 1; the conformance lane starts one per package run).
const (
	EnvDynalite  = independent.EnvDynalite
	EnvVersityGW = independent.EnvVersityGW
)

var (
	heldMu sync.Mutex
	held   = map[string]string{} // server → the test holding it
)

// hold claims the server named by env for t until t ends.
func hold(t testing.TB, env string) {
	t.Helper()
	heldMu.Lock()
	defer heldMu.Unlock()
	if other, ok := held[env]; ok {
		t.Fatalf("testenv: %s is one namespace of buckets, already in use by %s: a test may hold one S3 there at a time", env, other)
	}
	held[env] = t.Name()
	t.Cleanup(func() {
		heldMu.Lock()
		delete(held, env)
		heldMu.Unlock()
	})
}

// tables numbers the tables this process makes on dynalite.
var tables atomic.Int64

// dynaliteTable makes in on the dynalite server at endpoint, under a name
// of its own: a DynaliteFront prefixes every table name this client sends
// with one unique to the call (process and count), and takes it off the
// answers, so tests and test processes may share one server.
func dynaliteTable(t testing.TB, endpoint string, in *dynamodb.CreateTableInput) *dynamodb.Client {
	t.Helper()
	prefix := fmt.Sprintf("testenv-%d-%d-", os.Getpid(), tables.Add(1))
	srv := httptest.NewServer(independent.NewDynaliteFront(endpoint).WithPrefix(prefix))
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testenv", "testenv", "")})
	ctx := context.Background()
	in.StreamSpecification = nil // dynalite has no streams; no test here reads one
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatalf("%s: %v", EnvDynalite, err)
	}
	active := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	if err := active.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: in.TableName})
	})
	return db
}

// versityS3 empties the versitygw server at endpoint and makes buckets
// there; its client goes through a proxy that applies faults and wrap.
func versityS3(t testing.TB, endpoint string, wrap func(http.Handler) http.Handler, faults *stack.Faults, buckets []string) *s3.Client {
	t.Helper()
	hold(t, EnvVersityGW)
	u, err := url.Parse(endpoint)
	if err != nil || u.User == nil {
		t.Fatalf("%s=%q: want http://key:secret@host:port", EnvVersityGW, endpoint)
	}
	key := u.User.Username()
	secret, _ := u.User.Password()
	u.User = nil
	proxy, err := independent.HostProxy(u.String())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wrap(stack.WithS3Faults(faults, proxy)))
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	// Emptied straight, not through faults or wrap.
	direct := s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(u.String()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	if err := emptyS3(context.Background(), direct); err != nil {
		t.Fatalf("%s: %v", EnvVersityGW, err)
	}
	for _, b := range buckets {
		if _, err := direct.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return client
}

// emptyS3 deletes every bucket, with its objects and unfinished uploads.
func emptyS3(ctx context.Context, c *s3.Client) error {
	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return err
	}
	for _, b := range list.Buckets {
		uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b.Name})
		if err != nil {
			return err
		}
		for _, up := range uploads.Uploads {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b.Name, Key: up.Key, UploadId: up.UploadId}); err != nil {
				return err
			}
		}
		pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b.Name})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return err
			}
			if len(page.Contents) == 0 {
				continue
			}
			var ids []s3types.ObjectIdentifier
			for _, o := range page.Contents {
				ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
			}
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b.Name, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			if err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return errors.New("emptying " + aws.ToString(b.Name) + ": " + aws.ToString(out.Errors[0].Message))
			}
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b.Name}); err != nil {
			return err
		}
	}
	return nil
}
