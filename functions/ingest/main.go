// Command ingest checks each new clip in the clips bucket (S3 ObjectCreated)
// and records it under its story, or deletes it and records why.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"frontlinevoices/shared/ingest"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := ingest.FromEnv(os.Getenv, awsCfg)
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
