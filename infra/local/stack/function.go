package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/download"
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
	"FormFunction":     func(g func(string) string, _ aws.Config) (any, error) { return pages.FromEnv(g) },
	"SubmitFunction":   func(g func(string) string, c aws.Config) (any, error) { return submit.FromEnv(g, c) },
	"NotifyFunction":   func(g func(string) string, c aws.Config) (any, error) { return notify.FromEnv(g, c) },
	"UploadsFunction":  func(g func(string) string, c aws.Config) (any, error) { return uploads.FromEnv(g, c) },
	"IngestFunction":   func(g func(string) string, c aws.Config) (any, error) { return ingest.FromEnv(g, c) },
	"DownloadFunction": func(g func(string) string, c aws.Config) (any, error) { return download.FromEnv(g, c) },
	"WithdrawFunction": func(g func(string) string, c aws.Config) (any, error) { return withdraw.FromEnv(g, c) },
	"DigestFunction":   func(g func(string) string, c aws.Config) (any, error) { return digest.FromEnv(g, c) },
}

// function is one deployed function: its handler behind the same JSON
// invoke interface the Lambda runtime uses.
type function struct {
	name    string
	timeout time.Duration
	handler lambda.Handler
	// onInvoke, when set, sees every payload (stack.Options.OnInvoke).
	onInvoke func(function string, payload []byte)
}

// invoke calls the function with event and decodes its result into out.
func (f *function) invoke(ctx context.Context, event, out any) (err error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return err
	}
	if f.onInvoke != nil {
		f.onInvoke(f.name, payload)
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newRequestID(),
		InvokedFunctionArn: "arn:aws:lambda:local:000000000000:function:" + f.name,
	})
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", f.name, p, debug.Stack())
		}
	}()
	resp, err := f.handler.Invoke(ctx, payload)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	if out != nil {
		return json.Unmarshal(resp, out)
	}
	return nil
}
