package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/bounce"
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/download"
	"frontlinevoices/shared/erasure"
	"frontlinevoices/shared/ingest"
	"frontlinevoices/shared/notify"
	"frontlinevoices/shared/pages"
	"frontlinevoices/shared/submit"
	"frontlinevoices/shared/uploads"
	"frontlinevoices/shared/withdraw"
)

// Constructor builds a function's handler from its environment, exactly as
// its main.go does on Lambda.
type Constructor func(getenv func(string) string, awsCfg aws.Config) (any, error)

// Functions maps each function in template.yaml to its constructor. A test
// checks that every function in the template has one.
var Functions = map[string]Constructor{
	"FormFunction":     func(g func(string) string, c aws.Config) (any, error) { return pages.FromEnv(g, c) },
	"SubmitFunction":   func(g func(string) string, c aws.Config) (any, error) { return submit.FromEnv(g, c) },
	"NotifyFunction":   func(g func(string) string, c aws.Config) (any, error) { return notify.FromEnv(g, c) },
	"UploadsFunction":  func(g func(string) string, c aws.Config) (any, error) { return uploads.FromEnv(g, c) },
	"IngestFunction":   func(g func(string) string, c aws.Config) (any, error) { return ingest.FromEnv(g, c) },
	"DownloadFunction": func(g func(string) string, c aws.Config) (any, error) { return download.FromEnv(g, c) },
	"WithdrawFunction": func(g func(string) string, c aws.Config) (any, error) { return withdraw.FromEnv(g, c) },
	"EraseFunction":    func(g func(string) string, c aws.Config) (any, error) { return erasure.FromEnv(g, c) },
	"DigestFunction":   func(g func(string) string, c aws.Config) (any, error) { return digest.FromEnv(g, c) },
	"BounceFunction":   func(g func(string) string, c aws.Config) (any, error) { return bounce.FromEnv(g, c) },
}

// function is one deployed function, run as Lambda runs it: a pool of
// execution environments (instances), each built on demand by the
// function's constructor (a cold start, logged with its init duration) and
// handling one request at a time. An instance whose request timed out is
// thrown away, as Lambda does, since its handler may still be running.
type function struct {
	name     string
	timeout  time.Duration
	memoryMB int
	// build makes a new instance's handler (the function's constructor
	// with its environment and its own credentials).
	build func() (any, error)
	log   *slog.Logger
	// onInvoke, when set, sees every payload (stack.Options.OnInvoke).
	onInvoke func(function string, payload []byte)

	mu   sync.Mutex
	idle []*instance
	made int
}

// instance is one execution environment of a function.
type instance struct {
	id      int
	handler lambda.Handler
}

// Invocation limits of Lambda: a synchronous request or response payload
// is at most 6 MB.
const maxInvokePayload = 6 << 20

var (
	errTimeout      = errors.New("task timed out")
	errPayloadLarge = errors.New("RequestEntityTooLargeException: the request payload is over 6 MB")
	errResponseSize = errors.New("the response payload is over 6 MB")
)

// take returns an idle instance, or starts a new one (a cold start).
func (f *function) take() (*instance, error) {
	f.mu.Lock()
	if n := len(f.idle); n > 0 {
		in := f.idle[n-1]
		f.idle = f.idle[:n-1]
		f.mu.Unlock()
		return in, nil
	}
	f.made++
	id := f.made
	f.mu.Unlock()
	start := time.Now()
	h, err := f.build()
	if err != nil {
		return nil, fmt.Errorf("%s: init: %w", f.name, err)
	}
	if f.log != nil {
		f.log.Info("cold start", "function", f.name, "instance", id,
			"initMs", float64(time.Since(start).Microseconds())/1000, "memoryMB", f.memoryMB, "timeout", f.timeout.String())
	}
	return &instance{id: id, handler: lambda.NewHandler(h)}, nil
}

func (f *function) release(in *instance) {
	f.mu.Lock()
	f.idle = append(f.idle, in)
	f.mu.Unlock()
}

// recycle forgets the idle instances: the next request starts a new one.
func (f *function) recycle() {
	f.mu.Lock()
	f.idle = nil
	f.mu.Unlock()
}

// Instances reports how many execution environments the function has
// started so far.
func (f *function) instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.made
}

// invoke calls the function with event and decodes its result into out.
func (f *function) invoke(ctx context.Context, event, out any) error {
	payload, err := json.Marshal(event)
	if err != nil {
		return err
	}
	if len(payload) > maxInvokePayload {
		return fmt.Errorf("%s: %w", f.name, errPayloadLarge)
	}
	if f.onInvoke != nil {
		f.onInvoke(f.name, payload)
	}
	in, err := f.take()
	if err != nil {
		return err
	}
	// A caller that goes away does not stop the invocation, as on Lambda.
	ctx = lambdacontext.NewContext(withLog(context.WithoutCancel(ctx), f.log), &lambdacontext.LambdaContext{
		AwsRequestID:       newRequestID(),
		InvokedFunctionArn: "arn:aws:lambda:" + Region + ":000000000000:function:" + f.name,
	})
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	type result struct {
		resp []byte
		err  error
		lost bool // the runtime crashed: Lambda starts a new environment
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("%s panicked: %v\n%s", f.name, p, debug.Stack()), lost: true}
			}
		}()
		resp, err := in.handler.Invoke(ctx, payload)
		// The handler's response is a pooled buffer it reuses on its next
		// invoke: copy it before the instance takes another request.
		done <- result{resp: bytes.Clone(resp), err: err}
	}()
	var r result
	select {
	case r = <-done:
		if !r.lost {
			f.release(in)
		}
	case <-ctx.Done():
		// The instance is lost with its request, as on Lambda.
		return fmt.Errorf("%s: %w after %s", f.name, errTimeout, f.timeout)
	}
	if r.err != nil {
		return fmt.Errorf("%s: %w", f.name, r.err)
	}
	if len(r.resp) > maxInvokePayload {
		return fmt.Errorf("%s: %w", f.name, errResponseSize)
	}
	if out != nil {
		return json.Unmarshal(r.resp, out)
	}
	return nil
}
