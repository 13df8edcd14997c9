// Package lambdafn is the one way every function's main starts on Lambda:
// JSON logs through aws-lambda-go's lambdacontext logger, the handler built
// once from the environment (no network call), then lambda.Start. A bad
// environment stops the function at init with a message saying what to fix.
package lambdafn

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Start builds the handler with the function's AWS configuration and runs it.
func Start[H any](build func(getenv func(string) string, awsCfg aws.Config) (H, error)) {
	slog.SetDefault(lambdacontext.NewLogger())
	awsCfg, err := EnvConfig(os.Getenv)
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

// EnvConfig is the AWS configuration Lambda gives a function in its
// environment: the region, and the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which
// Lambda sets for the life of the execution environment. It reads no file
// and makes no network call.
//
// It stands in for config.LoadDefaultConfig, which on Lambda finds the same
// values but links the STS, SSO, SSO-OIDC, sign-in and IMDS clients into
// every binary (about 1.6 MB each, and their package init) for credential
// sources a function never has. AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> are honoured as the SDK documents, so the same
// binary also runs against local emulators.
func EnvConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set (Lambda sets it)"))
	}
	if id == "" || secret == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role)"))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		ConfigSources: []any{serviceEndpoints(getenv)},
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

// serviceEndpoints gives each client its AWS_ENDPOINT_URL_<SERVICE>, the
// service's SDK id in upper case with spaces as underscores (DynamoDB →
// AWS_ENDPOINT_URL_DYNAMODB, SESv2 → AWS_ENDPOINT_URL_SESV2). The SDK's
// clients look for this method on the config's sources.
type serviceEndpoints func(string) string

func (e serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
