// Package lambdafn is the one way every function's main starts on Lambda:
// JSON logs through aws-lambda-go's lambdacontext logger, the handler built
// once from the environment (no network call), then lambda.Start. A bad
// environment stops the function at init with a message saying what to fix.
package lambdafn

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Start builds the handler with the function's AWS configuration and runs it.
func Start[H any](build func(getenv func(string) string, awsCfg aws.Config) (H, error)) {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fail(err)
	}
	h, err := build(os.Getenv, awsCfg)
	if err != nil {
		fail(err)
	}
	lambda.Start(h)
}

func fail(err error) {
	slog.Error("init", "error", err.Error())
	os.Exit(1)
}
