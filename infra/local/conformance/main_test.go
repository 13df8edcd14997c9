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
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
	local    *stack.Stack
	s3s      []*target // the local stack's S3, versitygw
	dynamos  []*target // the local stack's DynamoDB, dynalite
	children []*exec.Cmd
)

const (
	vgwKey    = "conformance"
	vgwSecret = "conformance-secret-key"
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

	tmp, _ := os.MkdirTemp("", "conformance-*")
	s3s = append(s3s, startVersityGW(tmp))
	dynamos = append(dynamos, startDynalite())

	code := m.Run()
	for _, c := range children {
		_ = c.Process.Kill()
	}
	_ = local.Close(ctx)
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

func s3Client(url, key, secret string) *s3.Client {
	return s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

// find looks for an independent implementation's command: $ENV, then PATH.
func find(env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, _ := exec.LookPath(name)
	return p
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a server and waits until it answers HTTP on addr.
func start(name, addr string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	children = append(children, cmd)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited: %v", filepath.Base(name), err)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer on %s", filepath.Base(name), addr)
}

func startVersityGW(tmp string) *target {
	t := &target{name: "versitygw"}
	bin := find("VERSITYGW", "versitygw")
	if bin == "" {
		t.missing = "versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, or set VERSITYGW)"
		return t
	}
	root, side := filepath.Join(tmp, "root"), filepath.Join(tmp, "meta")
	_ = os.MkdirAll(root, 0o700)
	_ = os.MkdirAll(side, 0o700)
	addr := freeAddr()
	if err := start(bin, addr, "--access", vgwKey, "--secret", vgwSecret, "--region", stack.Region, "--port", addr, "--quiet",
		"posix", "--sidecar", side, root); err != nil {
		t.missing = "versitygw did not start: " + err.Error()
		return t
	}
	t.s3URL = "http://" + addr
	t.s3 = s3Client(t.s3URL, vgwKey, vgwSecret)
	return t
}

func startDynalite() *target {
	t := &target{name: "dynalite"}
	bin := find("DYNALITE", "dynalite")
	if bin == "" {
		t.missing = "dynalite is not installed (npm install -g dynalite@4.0.0, or set DYNALITE)"
		return t
	}
	addr := freeAddr()
	_, port, _ := net.SplitHostPort(addr)
	if err := start(bin, addr, "--host", "127.0.0.1", "--port", port); err != nil {
		t.missing = "dynalite did not start: " + err.Error()
		return t
	}
	t.db = dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider("conformance", "conformance", "")})
	return t
}

// known lists where an implementation is known to differ from AWS (its
// subtest is skipped with the reason): test → target → why.
var known = map[string]map[string]string{
	"TestDynamoDBEmptyIndexKeyIsRefused":    {"dynalite": "dynalite 4.0.0 predates DynamoDB's empty-string support (2020) and accepts an empty string as an index key, which DynamoDB refuses"},
	"TestDynamoDBTransactionIsAllOrNothing": {"dynalite": "dynalite 4.0.0 has no TransactWriteItems (UnknownOperationException)"},
	"TestDynamoDBRemoveInTransaction":       {"dynalite": "dynalite 4.0.0 has no TransactWriteItems (UnknownOperationException)"},
	"TestS3LifecycleFromTheTemplate":        {"versitygw": "the template's rules live in the local stack; versitygw's expiry is not driven by a clock a test can move"},
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
