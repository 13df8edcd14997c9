// Command floor is the cold-start bench's SDK floor: hello, plus the AWS
// configuration every function reads at init (lambdafn.EnvConfig) and the
// SDK clients a function uses, made at init as the functions make theirs.
// Which clients is chosen at build time by the tags dynamodb, s3,
// secretsmanager and sesv2.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/lambdafn"
)

// clients make the SDK clients this build includes (one file a client).
var clients []func(aws.Config) any

func main() {
	cfg, err := lambdafn.EnvConfig(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	made := make([]any, 0, len(clients))
	for _, c := range clients {
		made = append(made, c(cfg))
	}
	lambda.Start(func(context.Context, json.RawMessage) (int, error) { return len(made), nil })
}
