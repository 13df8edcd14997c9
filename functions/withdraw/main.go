// Command withdraw serves the volunteer's personal page to withdraw consent or erase their story.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"frontlinevoices/shared/withdraw"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := withdraw.FromEnv(os.Getenv, awsCfg)
	if err != nil {
		slog.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
