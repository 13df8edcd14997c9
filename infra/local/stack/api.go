package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// route is one HttpApi event of a function.
type route struct {
	method   string
	path     string
	segments []string
	fn       *function
}

// api is the local HTTP API: it turns each request into a payload v2
// event, invokes the route's function, and writes its response back.
type api struct {
	routes []route
	log    *slog.Logger
}

func (a *api) add(method, path string, fn *function) {
	a.routes = append(a.routes, route{method: strings.ToUpper(method), path: path, segments: split(path), fn: fn})
	// Routes with more literal segments win, as in API Gateway.
	sort.SliceStable(a.routes, func(i, j int) bool { return literals(a.routes[i]) > literals(a.routes[j]) })
}

// split cuts a path into its segments, keeping empty ones: "//x" and "/x/"
// are not "/x".
func split(p string) []string { return strings.Split(strings.TrimPrefix(p, "/"), "/") }

func literals(r route) int {
	n := 0
	for _, s := range r.segments {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// match finds the route for method and path. As on API Gateway's HTTP
// APIs, a path with routes for other methods only is no route at all: the
// request gets 404, not 405.
func (a *api) match(method, path string) (*route, map[string]string) {
	segs := split(path)
	for i := range a.routes {
		r := &a.routes[i]
		if r.method != method && r.method != "ANY" {
			continue
		}
		if params, ok := matchSegments(r.segments, segs); ok {
			return r, params
		}
	}
	return nil, nil
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			params[p[1:len(p)-2]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" || segs[i] == "." || segs[i] == ".." {
				return nil, false
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, len(pattern) == len(segs)
}

// API Gateway's HTTP API quotas: the payload, and the request line and
// header values together.
const (
	maxPayload     = 10 << 20
	maxHeaderBytes = 10240
)

// apiError answers as API Gateway does when it, not the function, answers.
func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

// headerBytes is the size of the request line and the header values.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)
	for _, vs := range r.Header {
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if headerBytes(r) > maxHeaderBytes {
		apiError(w, http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large")
		return
	}
	// Routes match the path as sent: no cleaning of "..", "." or "//"
	// (Go's ServeMux would redirect), so such a path matches no route.
	rt, params := a.match(r.Method, r.URL.Path)
	if rt == nil {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		apiError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	start := time.Now()
	ev := toEvent(r, rt, params, body)
	var resp events.APIGatewayV2HTTPResponse
	if err := rt.fn.invoke(r.Context(), ev, &resp); err != nil {
		a.log.Error("function error", "function", rt.fn.name, "route", ev.RouteKey, "error", err.Error())
		if errors.Is(err, errPayloadLarge) {
			apiError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		apiError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
	a.log.Debug("api", "route", ev.RouteKey, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
}

func toEvent(r *http.Request, rt *route, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, v := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	headers["host"] = r.Host
	var cookies []string
	for _, c := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(c, ";") {
			if part = strings.TrimSpace(part); part != "" {
				cookies = append(cookies, part)
			}
		}
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	routeKey := rt.method + " " + rt.path
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   routeKey,
			AccountID:  "000000000000",
			Stage:      "$default",
			RequestID:  newRequestID(),
			APIID:      "local",
			DomainName: r.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		// HTTP APIs base64-encode bodies that are not plain text or JSON,
		// and any that is not UTF-8 (a text payload is a UTF-8 string; the
		// event itself is JSON, which cannot carry other bytes as text).
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		if (strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serve runs an HTTP server on l until ctx ends.
func serve(ctx context.Context, l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(l) }()
	return srv
}
