package testenv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
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
// implementation (independent.EnvDynalite, independent.EnvVersityGW). Each
// names a server this test process may empty at will (the conformance lane
// starts one per package run):
//
//	TESTENV_DYNALITE=http://127.0.0.1:4567                 dynalite, fronted by independent.DynaliteFront
//	TESTENV_VERSITYGW=http://key:secret@127.0.0.1:7070     versitygw, with its root account's keys
//
// A server holds one namespace where the local emulators give each call a
// fresh one, so Table and S3 first empty it (every table, or every bucket
// with its objects and uploads), a test may hold one table and one S3 at a
// time (the packages' tests run one after another), and one test process
// may use a server at a time (by hand: one package per server, or -p 1).
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
		t.Fatalf("testenv: %s is one server, already in use by %s: a test may hold one table or S3 there at a time", env, other)
	}
	held[env] = t.Name()
	t.Cleanup(func() {
		heldMu.Lock()
		delete(held, env)
		heldMu.Unlock()
	})
}

// dynaliteTable empties the dynalite server at endpoint and makes in there.
func dynaliteTable(t testing.TB, endpoint string, in *dynamodb.CreateTableInput) *dynamodb.Client {
	t.Helper()
	hold(t, EnvDynalite)
	srv := httptest.NewServer(independent.NewDynaliteFront(endpoint))
	t.Cleanup(srv.Close)
	db := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testenv", "testenv", "")})
	ctx := context.Background()
	in.StreamSpecification = nil // dynalite has no streams; no test here reads one
	tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("%s: %v", EnvDynalite, err)
	}
	gone := dynamodb.NewTableNotExistsWaiter(db, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	for _, name := range tables.TableNames {
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if err := gone.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	active := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	if err := active.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, time.Minute); err != nil {
		t.Fatal(err)
	}
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
