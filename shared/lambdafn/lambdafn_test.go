package lambdafn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// The SDK's own clients, built from EnvConfig, sign with the environment's
// credentials and region and go to AWS_ENDPOINT_URL_<SERVICE>.
func TestEnvConfigReachesTheServiceEndpoint(t *testing.T) {
	t.Parallel()
	var auth, token, target string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, token, target = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"), r.Header.Get("X-Amz-Target")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"TableNames":[]}`))
	}))
	defer srv.Close()
	cfg, err := EnvConfig(env(map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "session", "AWS_ENDPOINT_URL_DYNAMODB": srv.URL,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(auth, "Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-2/dynamodb/") || token != "session" || target != "DynamoDB_20120810.ListTables" {
		t.Fatalf("request: auth %q token %q target %q", auth, token, target)
	}
	// A service without its own endpoint setting is not sent there.
	ses := sesv2.NewFromConfig(cfg)
	if ep := ses.Options().BaseEndpoint; ep != nil {
		t.Fatalf("SESv2 endpoint = %q, want the default", *ep)
	}
}

func TestEnvConfigSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, err := EnvConfig(env(nil))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("err = %v", err)
	}
	cfg, err := EnvConfig(env(map[string]string{
		"AWS_DEFAULT_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
	}))
	if err != nil || cfg.Region != "eu-west-2" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Fatalf("cfg = %+v, %v", cfg, err)
	}
}
