// Command hello is the cold-start bench's baseline: the smallest Go Lambda
// function, aws-lambda-go answering every event with "ok".
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "ok", nil })
}
