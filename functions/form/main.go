// Command form serves the story form, the thank-you page and static assets.
// It calls no AWS service, so it does not load an AWS configuration.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"frontlinevoices/shared/pages"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := pages.FromEnv(os.Getenv)
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
