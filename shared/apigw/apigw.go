// Package apigw is the glue between API Gateway HTTP API (payload v2) events
// and the site's handlers: reading requests, writing responses, problem+json
// errors and one log line per request.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Request and Response are the HTTP API's payload v2 event types.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// Handler serves one HTTP API request. It returns an error only for a real
// fault (Lambda then answers 500 and logs it); everything the client caused
// is a Response.
type Handler func(ctx context.Context, req Request) (Response, error)

// Body returns the request body, decoded when API Gateway base64-encoded it.
func Body(req Request) ([]byte, error) {
	if req.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(req.Body)
	}
	return []byte(req.Body), nil
}

// Header returns a request header; HTTP API lower-cases header names.
func Header(req Request, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// MediaType is the request's Content-Type without parameters, lower-cased.
func MediaType(req Request) string {
	ct, _, _ := strings.Cut(Header(req, "content-type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// Query parses the raw query string.
func Query(req Request) url.Values {
	q, _ := url.ParseQuery(req.RawQueryString)
	return q
}

// Cookie returns the value of the named cookie.
func Cookie(req Request, name string) string {
	for _, c := range req.Cookies {
		k, v, ok := strings.Cut(c, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// WantsJSON reports whether the client asked for JSON rather than HTML.
func WantsJSON(req Request) bool {
	return strings.Contains(Header(req, "accept"), "json") || MediaType(req) == "application/json"
}

// JSON is a JSON response.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Problem(http.StatusInternalServerError, "Something went wrong", "The response could not be written.")
	}
	return Response{StatusCode: status, Headers: map[string]string{
		"content-type":  "application/json",
		"cache-control": "no-store",
	}, Body: string(b)}
}

// ContentSecurityPolicy keeps pages to their own scripts and styles.
// connectSrc adds origins the page's scripts may call (the clips bucket).
func ContentSecurityPolicy(connectSrc ...string) string {
	return "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; " +
		"style-src 'self' 'unsafe-inline'; connect-src 'self' blob: " + strings.Join(connectSrc, " ") +
		"; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

// HTML is an HTML page that is never cached (it may hold a volunteer's answers).
func HTML(status int, body []byte, csp string) Response {
	return Response{StatusCode: status, Headers: map[string]string{
		"content-type":            "text/html; charset=utf-8",
		"cache-control":           "no-store",
		"content-security-policy": csp,
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "no-referrer",
	}, Body: string(body)}
}

// Redirect is a redirect to location.
func Redirect(status int, location string) Response {
	return Response{StatusCode: status, Headers: map[string]string{"location": location, "cache-control": "no-store"}}
}

// ProblemDetails is an RFC 9457 problem. Errors lists per-field problems.
type ProblemDetails struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Errors any    `json:"errors,omitempty"`
}

// Problem is an application/problem+json response.
func Problem(status int, title, detail string) Response {
	return ProblemWith(ProblemDetails{Title: title, Status: status, Detail: detail})
}

// ProblemWith writes p, filling in its type and status defaults.
func ProblemWith(p ProblemDetails) Response {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	return ProblemBody(p.Status, p)
}

// ProblemBody writes v, a problem with extension members (a struct that
// embeds ProblemDetails), as application/problem+json.
func ProblemBody(status int, v any) Response {
	b, _ := json.Marshal(v)
	return Response{StatusCode: status, Headers: map[string]string{
		"content-type":  "application/problem+json",
		"cache-control": "no-store",
	}, Body: string(b)}
}

// WithLogging logs one line per request: request id, route, status and
// latency. It never logs bodies, query strings or headers, which may hold
// personal data.
func WithLogging(log *slog.Logger, h Handler) Handler {
	return func(ctx context.Context, req Request) (Response, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		status := resp.StatusCode
		if err != nil {
			status = http.StatusInternalServerError
		}
		attrs := []any{
			"requestId", req.RequestContext.RequestID,
			"route", req.RouteKey,
			"status", status,
			"latencyMs", time.Since(start).Milliseconds(),
		}
		if err != nil {
			log.ErrorContext(ctx, "request failed", append(attrs, "error", err.Error())...)
		} else {
			log.InfoContext(ctx, "request", attrs...)
		}
		return resp, err
	}
}
