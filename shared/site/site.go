// Package site serves the volunteer-facing pages: the story form, the
// thank-you page and the static assets. It also renders the form for the
// submit handler when answers need correcting.
package site

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/web"
)

// FormTokenPurpose is the token purpose of the form's signed start time.
const FormTokenPurpose = "form"

// FormTokenLife is how long a rendered form can be sent.
const FormTokenLife = 7 * 24 * time.Hour

// Config is the form function's configuration.
type Config struct {
	SigningSecret string `env:"SIGNING_SECRET,required"`
	// ConnectSrc lists extra origins the pages' scripts may call (the clips bucket).
	ConnectSrc []string `env:"CONNECT_SRC"`
}

// Pages serves GET /, GET /thanks and GET /static/{file}.
type Pages struct {
	signer token.Signer
	csp    string
	now    func() time.Time
}

// New returns the page handler.
func New(cfg Config) (*Pages, error) {
	signer, err := token.NewSigner(cfg.SigningSecret)
	if err != nil {
		return nil, err
	}
	return &Pages{signer: signer, csp: apigw.ContentSecurityPolicy(cfg.ConnectSrc...), now: time.Now}, nil
}

// FromEnv builds the handler from the function's environment.
func FromEnv(getenv func(string) string) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), p.Handle), nil
}

// Handle routes a request.
func (p *Pages) Handle(_ context.Context, req apigw.Request) (apigw.Response, error) {
	path := req.RawPath
	switch {
	case path == "/" || path == "":
		return FormPage(http.StatusOK, story.Submission{}, nil, "", StartToken(p.signer, p.now()), p.csp), nil
	case path == "/thanks":
		return Page(http.StatusOK, "thanks.html", nil, p.csp), nil
	case strings.HasPrefix(path, "/static/"):
		return static(strings.TrimPrefix(path, "/static/"), apigw.Query(req).Get("v") != ""), nil
	}
	return Message(http.StatusNotFound, "Page not found", "There is no page at this address.", "/", p.csp), nil
}

// StartToken signs the time a form was shown, for the minimum fill time.
func StartToken(s token.Signer, now time.Time) string {
	return s.Sign(FormTokenPurpose, strconv.FormatInt(now.UnixMilli(), 10), now.Add(FormTokenLife))
}

// FormPage renders the story form with the answers and errors given.
// started is the form's signed start time: a form shown again for
// corrections keeps the time it was first shown.
func FormPage(status int, sub story.Submission, errs story.FieldErrors, notice, started, csp string) apigw.Response {
	v := newFormView(sub, errs, started)
	v.Notice = notice
	return page(status, "form.html", v, csp)
}

// ParseForm reads a no-JS form post into a submission and the honeypot and
// start-time fields.
func ParseForm(body string) (story.Submission, string, string, error) {
	vals, err := parseQuery(body)
	if err != nil {
		return story.Submission{}, "", "", err
	}
	sub, f := parseForm(vals)
	return sub, f.Started, f.Website, nil
}

// Page renders a page template.
func Page(status int, name string, data any, csp string) apigw.Response {
	return page(status, name, data, csp)
}

// Message renders a simple page with a title, a message and a way back.
func Message(status int, title, message, back, csp string) apigw.Response {
	return page(status, "message.html", struct{ Title, Message, Back string }{title, message, back}, csp)
}

func page(status int, name string, data any, csp string) apigw.Response {
	b, err := web.Render(name, data)
	if err != nil {
		slog.Error("render page", "page", name, "error", err.Error())
		return apigw.Problem(http.StatusInternalServerError, "Something went wrong", "The page could not be shown.")
	}
	return apigw.HTML(status, b, csp)
}

func static(name string, versioned bool) apigw.Response {
	b, err := fs.ReadFile(web.Static, name)
	if err != nil || strings.Contains(name, "..") {
		return apigw.Problem(http.StatusNotFound, "Not found", "There is no such file.")
	}
	cache := "public, max-age=300"
	if versioned {
		cache = "public, max-age=31536000, immutable"
	}
	return apigw.Response{StatusCode: http.StatusOK, Headers: map[string]string{
		"content-type":           web.ContentType(name),
		"cache-control":          cache,
		"x-content-type-options": "nosniff",
	}, Body: string(b)}
}
