package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Connect points this process's AWS SDK clients at the local stack running at
// base (e.g. http://127.0.0.1:8080), through the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> settings, with the stack's admin credentials. The
// commands under infra/ use it for their --local flag.
func Connect(ctx context.Context, base string) (Endpoints, error) {
	var ep Endpoints
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_local/endpoints", nil)
	if err != nil {
		return ep, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ep, fmt.Errorf("no local stack answers at %s: start it with `go run ./infra/local`", base)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&ep); err != nil || ep.Tables["StoriesTable"] == "" {
		return ep, fmt.Errorf("%s does not look like the local stack (GET /_local/endpoints)", base)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": ep.DynamoDB, "AWS_ENDPOINT_URL_S3": ep.S3, "AWS_ENDPOINT_URL_SESV2": ep.SES,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": ep.Secrets,
		"AWS_REGION":                       ep.Region, "AWS_ACCESS_KEY_ID": AdminKey, "AWS_SECRET_ACCESS_KEY": localSecretKey,
	} {
		os.Setenv(k, v)
	}
	return ep, nil
}
