// Command uploads signs direct browser-to-S3 clip uploads: the Uppy
// companion S3 routes under /api/s3 and the clip list at /api/clips.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"frontlinevoices/shared/uploads"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := uploads.FromEnv(os.Getenv, awsCfg)
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
