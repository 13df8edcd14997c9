package turnstile_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/turnstile"
)

// The secret key comes from the stack's TurnstileSecretKey secret, read by
// the submit function with its own credentials: once while it works, again
// once siteverify calls it invalid (a new key put in the secret since).
func TestStoredKeyIsReadOnceAndAgainWhenInvalid(t *testing.T) {
	st := startStack(t, "0xNotATestSecret")
	env := map[string]string{}
	for _, kv := range st.Environment("SubmitFunction") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	arn := env["TURNSTILE_SECRET_ARN"]
	if arn == "" || arn != st.SecretARNs["TurnstileSecretKey"] {
		t.Fatalf("SubmitFunction's TURNSTILE_SECRET_ARN = %q, want the TurnstileSecretKey secret's ARN", arn)
	}
	asSubmit, err := lambdafn.EnvConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(asSubmit)
	reads := 0
	get := func(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		reads++
		return sm.GetSecretValue(ctx, in, opts...)
	}
	v := turnstile.Verifier{Key: turnstile.NewStoredKey(get, arn), URL: st.URL + "/_local/turnstile/siteverify"}
	ctx := context.Background()
	for range 2 {
		if err := v.Verify(ctx, stack.TurnstileDummyAnswer, ""); err == nil || errors.Is(err, turnstile.ErrRefused) {
			t.Fatalf("an invalid secret key: %v, want a fault (not the visitor's refusal)", err)
		}
	}
	if reads != 2 {
		t.Fatalf("read the secret %d times for two answers siteverify called the key invalid of, want 2", reads)
	}
	admin := secretsmanager.NewFromConfig(st.AWS)
	if _, err := admin.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(st.SecretARNs["TurnstileSecretKey"]),
		SecretString: aws.String(`{"secret":"` + stack.TurnstilePassSecret + `"}`)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := v.Verify(ctx, stack.TurnstileDummyAnswer, ""); err != nil {
			t.Fatalf("the new key: %v", err)
		}
	}
	if reads != 3 {
		t.Fatalf("read the secret %d times in all, want 3 (the new key once, then kept)", reads)
	}
}

// With the bot check on and no secret key given, every answer is a fault
// that says what to set.
func TestEmptyStoredKeyIsAFault(t *testing.T) {
	st := startStack(t, "")
	sm := secretsmanager.NewFromConfig(st.AWS)
	v := turnstile.Verifier{Key: turnstile.NewStoredKey(sm.GetSecretValue, st.SecretARNs["TurnstileSecretKey"]), URL: st.URL + "/_local/turnstile/siteverify"}
	err := v.Verify(context.Background(), stack.TurnstileDummyAnswer, "")
	if err == nil || errors.Is(err, turnstile.ErrRefused) || !strings.Contains(err.Error(), "TurnstileSecret") {
		t.Fatalf("an empty secret key: %v, want a fault naming TurnstileSecret", err)
	}
}

func startStack(t *testing.T, secret string) *stack.Stack {
	t.Helper()
	st, err := stack.Start(context.Background(), stack.Options{Log: slog.New(slog.DiscardHandler),
		Params: map[string]string{"TurnstileSecret": secret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}
