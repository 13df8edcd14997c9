// Command digest emails the comms team a scheduled digest of the stories
// since the last one, with a CSV export, each period exactly once.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"frontlinevoices/shared/digest"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := digest.FromEnv(os.Getenv, awsCfg)
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
