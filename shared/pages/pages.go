// Package pages is the handler of the volunteer-facing pages the form
// function serves: the story form, the thank-you page with the clip
// uploader, the privacy notice and the static assets. The pages themselves
// are rendered by web, which the other handlers share.
package pages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/web"
	"frontlinevoices/shared/web/static"
)

// Config is the form function's configuration.
type Config struct {
	config.Shared
	// The clip limits the thank-you page's uploader shows and applies
	// before anything is sent (the uploads function enforces them).
	config.Clips
	// ConnectSrc lists extra origins the pages' scripts may call (the clips bucket).
	ConnectSrc []string `env:"CONNECT_SRC"`
	// The privacy notice names the data controller and where to write
	// (and, from RetentionDays, how long stories are kept).
	Controller   string `env:"CONTROLLER_NAME" default:"Frontline Voices"`
	PrivacyEmail string `env:"PRIVACY_CONTACT"`
	// TurnstileSiteKey turns on the form's bot check (Cloudflare
	// Turnstile); the submit function then verifies its answer.
	TurnstileSiteKey string `env:"TURNSTILE_SITE_KEY"`
}

// privacyView is what the privacy notice shows.
type privacyView struct {
	Controller, Contact, Retention string
}

// retention says a number of days the way people say it: in months when
// it is a whole number of them (730 days is 24 months).
func retention(days int) string {
	switch {
	case days%365 == 0 && days >= 365:
		return fmt.Sprintf("%d months", days/365*12)
	case days%30 == 0 && days >= 60:
		return fmt.Sprintf("%d months", days/30)
	case days == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

// Pages serves GET /, GET /thanks and GET /static/{file}.
type Pages struct {
	lists     web.Lists
	signer    token.Signer
	csp       string
	turnstile string
	clips     story.ClipLimits
	privacy   privacyView
	now       func() time.Time
}

// New returns the page handler;
// lists gives it the list of MPs and candidates, signer the tokens.
func New(cfg Config, lists web.Lists, signer token.Signer) (*Pages, error) {
	clips := cfg.ClipLimits()
	if err := clips.Check(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	privacy := privacyView{Controller: cfg.Controller, Contact: cfg.PrivacyEmail, Retention: retention(cfg.RetentionDays)}
	csp := apigw.ContentSecurityPolicy(cfg.ConnectSrc...)
	if cfg.TurnstileSiteKey != "" {
		csp = web.TurnstileCSP(csp)
	}
	return &Pages{lists: lists, signer: signer, csp: csp, turnstile: cfg.TurnstileSiteKey, clips: clips, privacy: privacy, now: time.Now}, nil
}

// FromEnv builds the handler from the function's environment.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	p, err := New(cfg, store.FromConfig(awsCfg, cfg.TableName), signer)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), apigw.WithCompression(p.Handle)), nil
}

// Handle routes a request.
func (p *Pages) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	path := req.RawPath
	switch {
	case path == "/" || path == "":
		id := story.NewID()
		started, err := links.Start(ctx, p.signer, id, p.now())
		if err != nil {
			return apigw.Response{}, err
		}
		return web.FormPage(ctx, http.StatusOK, web.Form{Step: web.StepAbout, Values: story.Submission{ID: id}, Started: started,
			Turnstile: p.turnstile}, p.csp), nil
	case path == "/candidates":
		return p.people(ctx, req), nil
	case path == "/thanks":
		return p.thanks(ctx, req)
	case path == "/privacy":
		return web.Page(ctx, http.StatusOK, "privacy.html", p.privacy, p.csp), nil
	case path == "/favicon.ico":
		return static.Serve(req, "favicon.ico", true), nil
	case strings.HasPrefix(path, "/static/"):
		return static.Serve(req, strings.TrimPrefix(path, "/static/"), apigw.Query(req).Get("v") != ""), nil
	}
	return web.Message(ctx, http.StatusNotFound, "Page not found", "There is no page at this address.", "/", p.csp), nil
}

// thanksView is what the thank-you page shows: the uploader, when the
// visitor may add clips to a story, or why not.
type thanksView struct {
	Uploader *uploaderView
	Notice   string
}

// uploaderView fills the uploader's data attributes (see
// web/uploader/README.md).
type uploaderView struct {
	Story            string
	MaxBytes         int64
	MaxFiles         int
	Types, Exts      string
	PartSize         int64
	MaxSize, Formats string
	MaxLength        string
}

// thanks shows the thank-you page, with the uploader for the story whose
// upload token the visitor holds in the cookie the submit response set.
// The link in the confirmation email (?t=) is exchanged for that cookie and
// redirected to the bare page, so the token leaves the address bar and the
// history at once and is never in the page. An error means the signing
// keys could not be read.
func (p *Pages) thanks(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	v := thanksView{}
	if tok := apigw.Query(req).Get("t"); tok != "" {
		id, err := p.signer.Verify(ctx, links.UploadPurpose, tok, p.now())
		switch {
		case err != nil && !errors.Is(err, token.ErrExpired) && !errors.Is(err, token.ErrInvalid):
			return apigw.Response{}, err
		case err == nil && story.ValidID(id):
			resp := apigw.Redirect(http.StatusSeeOther, "/thanks")
			exp, _ := token.ExpiresAt(tok)
			resp.Cookies = []string{web.UploadCookie(req, tok, exp.Sub(p.now()))}
			return resp, nil
		case errors.Is(err, token.ErrExpired):
			v.Notice = "The link to add video clips has expired: links last 7 days. Reply to your confirmation email if you would still like to send a clip."
			return web.Page(ctx, http.StatusGone, "thanks.html", v, p.csp), nil
		default:
			v.Notice = "This link to add video clips is not valid. Use the link in your confirmation email exactly as it is."
			return web.Page(ctx, http.StatusBadRequest, "thanks.html", v, p.csp), nil
		}
	}
	if tok := apigw.Cookie(req, links.UploadCookie); tok != "" {
		id, err := p.signer.Verify(ctx, links.UploadPurpose, tok, p.now())
		if err != nil && !errors.Is(err, token.ErrExpired) && !errors.Is(err, token.ErrInvalid) {
			return apigw.Response{}, err
		}
		if err == nil && story.ValidID(id) {
			v.Uploader = &uploaderView{
				Story:    id,
				MaxBytes: p.clips.MaxBytes, MaxFiles: p.clips.MaxClips, PartSize: p.clips.PartSize,
				Types: strings.Join(p.clips.Types, ","), Exts: strings.Join(p.clips.Extensions(), ","),
				MaxSize: story.HumanBytes(p.clips.MaxBytes), Formats: p.clips.TypeNames(),
				MaxLength: story.HumanDuration(p.clips.MaxDuration),
			}
		}
	}
	return web.Page(ctx, http.StatusOK, "thanks.html", v, p.csp), nil
}

// people serves GET /candidates?borough=…: the MP and candidate question
// for one borough, as the form shows it, for the form's script to put in
// place when the volunteer picks a borough. The borough is not personal.
func (p *Pages) people(ctx context.Context, req apigw.Request) apigw.Response {
	borough := apigw.Query(req).Get("borough")
	if _, ok := story.FindBorough(borough); !ok && borough != "" {
		return apigw.Problem(http.StatusNotFound, "Unknown borough", "Choose a borough from the form's list.")
	}
	return web.PeoplePage(ctx, http.StatusOK, borough, web.ReadList(ctx, p.lists), p.csp)
}

var _ web.Lists = (*store.Store)(nil)
