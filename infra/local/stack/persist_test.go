package stack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// A second stack in this process, on a data folder: what it holds survives
// a restart, as `go run ./infra/local` promises.
func TestDataSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	opts := stack.Options{DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	first, err := stack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	sub := story.Submission{
		Name: "Kept Across Restarts", Role: "practice_manager", Practice: "Riverside Practice", Borough: "hillingdon",
		Email: "kept@example.org", PreferredContact: "email", Topics: []string{"funding"},
		Story: "A story that must still be here after the stack restarts.", PatientsSpeak: "no",
		Consent: map[string]bool{"contact": true, "store": true}, ConsentVersion: story.ConsentVersion(),
	}
	st, errs := sub.Normalize().Validate(time.Now())
	if errs != nil {
		t.Fatal(errs)
	}
	if _, _, err := store.New(dynamodb.NewFromConfig(first.AWS), first.Tables["StoriesTable"]).PutStory(ctx, st); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := first.WaitIdle(wait); err != nil {
		t.Fatal(err)
	}
	if n := len(first.Outbox.Emails()); n != 2 {
		t.Fatalf("%d emails before the restart, want 2", n)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}

	second, err := stack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(ctx)
	got, err := store.New(dynamodb.NewFromConfig(second.AWS), second.Tables["StoriesTable"]).GetStory(ctx, st.ID)
	if err != nil || got.Name != "Kept Across Restarts" {
		t.Fatalf("after the restart: %+v %v", got, err)
	}
	if n := len(second.Outbox.Emails()); n != 2 {
		t.Fatalf("%d emails after the restart, want 2", n)
	}
	// Loading the saved table raises no stream records: no email twice.
	if err := second.WaitIdle(wait); err != nil {
		t.Fatal(err)
	}
	if n := len(second.Outbox.Emails()); n != 2 {
		t.Fatalf("%d emails after the restart settled, want still 2", n)
	}
}

// Stacks side by side in one process (the tests run so) keep to their own
// emulators and logs: each stack's functions, cold-started after the other
// stack started, write to their own table and log to their own stack's
// Log, and each stack's AWS config reaches its own table.
func TestStacksSideBySideKeepToTheirOwnEmulators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var firstLog, otherLog lockedBuffer
	logTo := func(w io.Writer) func(*stack.Options) {
		return func(o *stack.Options) { o.Log = slog.New(slog.NewJSONHandler(w, nil)) }
	}
	first := startClipStack(t, logTo(&firstLog))
	other := startClipStack(t, logTo(&otherLog))
	// The next request to each function is a cold start, made after the
	// other stack started.
	first.Recycle()
	other.Recycle()
	mine, theirs := submitStory(t, first), submitStory(t, other)
	for _, c := range []struct {
		name       string
		s          *stack.Stack
		own, other string
		log        *lockedBuffer
	}{{"the first stack", first, mine.id, theirs.id, &firstLog}, {"the other stack", other, theirs.id, mine.id, &otherLog}} {
		stories := store.New(dynamodb.NewFromConfig(c.s.AWS), c.s.Tables["StoriesTable"])
		if _, err := stories.GetStory(ctx, c.own); err != nil {
			t.Errorf("%s lacks the story sent to it: %v", c.name, err)
		}
		if _, err := stories.GetStory(ctx, c.other); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s holds the story sent to the other (%v)", c.name, err)
		}
		// One story was sent to each: its submit function logged one
		// request line, to its own stack's Log.
		if n := strings.Count(c.log.String(), `"route":"POST /api/stories"`); n != 1 {
			t.Errorf("%s's log has %d request lines of POST /api/stories, want the 1 sent to it:\n%s", c.name, n, c.log.String())
		}
	}
}

// lockedBuffer is a bytes.Buffer that functions may write while a test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A secret the template gives a value keeps a value put since across a
// restart, and takes the template's new value when that changes, as a
// CloudFormation stack update does.
func TestTemplateSecretFollowsTheTemplate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	start := func(secret string) *stack.Stack {
		t.Helper()
		s, err := stack.Start(ctx, stack.Options{DataDir: dir, Log: slog.New(slog.DiscardHandler), Params: map[string]string{"TurnstileSecret": secret}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	value := func(s *stack.Stack) string {
		t.Helper()
		out, err := secretsmanager.NewFromConfig(s.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.SecretARNs["TurnstileSecretKey"])})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SecretString)
	}
	s := start("first")
	if got := value(s); got != `{"secret":"first"}` {
		t.Fatalf("made from the template: %s", got)
	}
	if _, err := secretsmanager.NewFromConfig(s.AWS).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(s.SecretARNs["TurnstileSecretKey"]), SecretString: aws.String(`{"secret":"put"}`)}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	s = start("first")
	if got := value(s); got != `{"secret":"put"}` {
		t.Errorf("after a restart with the same template: %s, want the value put", got)
	}
	_ = s.Close(ctx)
	s = start("second")
	defer s.Close(ctx)
	if got := value(s); got != `{"secret":"second"}` {
		t.Errorf("after a restart with a new TurnstileSecret: %s, want the template's", got)
	}
}
