// Package apigw is the glue between API Gateway HTTP API (payload v2) events
// and the site's handlers: reading requests, writing responses, problem+json
// errors and one log line per request.
package apigw

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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

// WithLogging logs one line per request: API Gateway's request id
// (apiRequestId; Lambda's logger adds Lambda's as requestId), route, status
// and latency. It never logs bodies, query strings or headers, which may hold
// personal data.
func WithLogging(log *slog.Logger, h Handler) Handler {
	return func(ctx context.Context, req Request) (Response, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		status := resp.StatusCode
		if err != nil {
			status = http.StatusInternalServerError
		}
		// Lambda's logger adds Lambda's own requestId to every line; API
		// Gateway's id for the request is apiRequestId.
		attrs := []any{
			"apiRequestId", req.RequestContext.RequestID,
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

// minCompress is the smallest body worth compressing: below it gzip's own
// header and a round trip's packet make no difference.
const minCompress = 1024

// compressible reports whether a content type is text that gzip shrinks.
func compressible(contentType string) bool {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	switch strings.TrimSpace(ct) {
	case "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
		"application/problem+json", "image/svg+xml", "text/plain", "text/csv":
		return true
	}
	return false
}

// AcceptsGzip reports whether the client accepts a gzip-encoded response
// (Accept-Encoding lists gzip, or *, without q=0).
func AcceptsGzip(req Request) bool {
	for _, part := range strings.Split(Header(req, "accept-encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// WithCompression gzips text responses of at least 1 KB for clients that
// accept gzip. HTTP API passes the body through when the function returns
// it base64-encoded, and its own compression is for REST APIs only, so the
// function compresses. Responses already encoded are left alone. Every
// compressible response says Vary: Accept-Encoding, so a cache between
// never hands gzip to a client that did not ask for it.
func WithCompression(h Handler) Handler {
	return func(ctx context.Context, req Request) (Response, error) {
		resp, err := h(ctx, req)
		if err != nil || resp.IsBase64Encoded || resp.Headers["content-encoding"] != "" || !compressible(resp.Headers["content-type"]) {
			return resp, err
		}
		resp.Headers["vary"] = "Accept-Encoding"
		if len(resp.Body) < minCompress || !AcceptsGzip(req) {
			return resp, nil
		}
		return Gzipped(resp, Gzip([]byte(resp.Body))), nil
	}
}

// Gzipped returns resp with gz, its body already gzipped, as the body.
func Gzipped(resp Response, gz []byte) Response {
	h := make(map[string]string, len(resp.Headers)+2)
	maps.Copy(h, resp.Headers)
	h["content-encoding"] = "gzip"
	h["vary"] = "Accept-Encoding"
	resp.Headers = h
	resp.Body = base64.StdEncoding.EncodeToString(gz)
	resp.IsBase64Encoded = true
	return resp
}

// Gzip compresses b at the best compression. It is safe for concurrent
// use.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	zw.Reset(nil) // keep the writer's state, not the body
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// gzipWriters keeps gzip writers from one response to the next: a new one
// allocates and clears about a megabyte of compression state, more than
// compressing a page costs.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return zw
}}
