package apigw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"frontlinevoices/shared/apigw"
)

// TestRequestLogLines reads the log lines of one request as Lambda's logger
// writes them, and checks their keys: Lambda's requestId on every line, API
// Gateway's apiRequestId beside it on the request line, each key once, and
// nothing the volunteer sent.
//
// Lambda's logger reads AWS_LAMBDA_LOG_FORMAT once and writes to stdout, so
// the request runs in a child process of the test with the format Lambda
// gives the functions (LoggingConfig: JSON), and the test reads its output.
func TestRequestLogLines(t *testing.T) {
	if os.Getenv("FV_LOG_CHILD") == "1" {
		logOneRequest(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRequestLogLines$", "-test.v=false")
	cmd.Env = append(os.Environ(), "FV_LOG_CHILD=1", "AWS_LAMBDA_LOG_FORMAT=JSON")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	var lines []string
	for line := range strings.SplitSeq(out.String(), "\n") {
		if strings.HasPrefix(line, "{") {
			lines = append(lines, line)
		}
	}
	checkLogLines(t, lines)
}

// logOneRequest handles one request that fails to save, as submit does,
// with Lambda's logger as the default, as lambdafn sets it.
func logOneRequest(t *testing.T) {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h := apigw.WithLogging(log, func(ctx context.Context, req apigw.Request) (apigw.Response, error) {
		slog.ErrorContext(ctx, "saving story failed", "error", errors.New("throttled").Error())
		return apigw.Problem(http.StatusServiceUnavailable, "Please try again", "Later."), nil
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	req := apigw.Request{
		RouteKey:       "POST /api/stories",
		RawQueryString: "email=someone%40example.org",
		Body:           `{"name":"Amara Okafor"}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "api-req-1"},
	}
	if _, err := h(ctx, req); err != nil {
		t.Fatal(err)
	}
}

func checkLogLines(t *testing.T, lines []string) {
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the handler's and the request's:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, line)
		}
		if strings.Count(line, `"requestId"`) != 1 || m["requestId"] != "lambda-req-1" {
			t.Errorf("line %d: requestId must be Lambda's, once: %s", i, line)
		}
		if strings.Contains(line, "example.org") || strings.Contains(line, "Amara") {
			t.Errorf("line %d holds personal data: %s", i, line)
		}
	}
	var request map[string]any
	_ = json.Unmarshal([]byte(lines[1]), &request)
	for key, want := range map[string]any{
		"message": "request", "apiRequestId": "api-req-1", "route": "POST /api/stories", "status": float64(503),
	} {
		if request[key] != want {
			t.Errorf("request line %s = %v, want %v: %s", key, request[key], want, lines[1])
		}
	}
	if _, ok := request["latencyMs"]; !ok {
		t.Errorf("request line lacks latencyMs: %s", lines[1])
	}
	var handler map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &handler)
	if handler["error"] != "throttled" || handler["level"] != "ERROR" {
		t.Errorf("handler line: %s", lines[0])
	}
}
