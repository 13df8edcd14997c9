// Package download serves GET /download?t=…: the comms team's links to
// exports and clips. A link is a token signed with the site's secret, so it
// lasts as long as the team needs it (a presigned S3 URL dies with the
// Lambda credentials that signed it, within hours). Each visit checks the
// object still exists (a withdrawn clip is gone) and redirects to a
// presigned GET that lasts minutes and downloads as an attachment.
package download

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/web/layout"
)

// Config is the download function's configuration.
type Config struct {
	config.Shared
	URLExpiry time.Duration `env:"DOWNLOAD_URL_EXPIRY" default:"5m"`
}

// Files is what downloads need from the bucket.
type Files interface {
	Head(ctx context.Context, key string) (bucket.Object, error)
	PresignGet(ctx context.Context, key, filename string, expiry time.Duration) (string, error)
}

// Stories tells whether a story is still held.
type Stories interface {
	GetStory(ctx context.Context, id string) (story.Story, error)
}

var (
	_ Files   = (*bucket.Bucket)(nil)
	_ Stories = (*store.Store)(nil)
)

// Handler serves download links.
type Handler struct {
	cfg     Config
	files   Files
	stories Stories
	signer  token.Signer
}

// New returns a download handler.
func New(cfg Config, files Files, stories Stories, signer token.Signer) (*Handler, error) {
	return &Handler{cfg: cfg, files: files, stories: stories, signer: signer}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	h, err := New(cfg, bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle), store.FromConfig(awsCfg, cfg.TableName), signer)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), h.Handle), nil
}

var csp = apigw.ContentSecurityPolicy()

// Handle answers one link.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	key, filename, err := links.ParseDownload(ctx, h.signer, apigw.Query(req).Get("t"), time.Now())
	if errors.Is(err, token.ErrExpired) {
		return layout.Message(ctx, http.StatusGone, "This link has expired", "Download links in the digest last 7 days. A newer digest has fresh links.", "", csp), nil
	}
	if err != nil && !errors.Is(err, token.ErrInvalid) {
		return apigw.Response{}, err // the keys could not be read: a fault of ours, not the link's
	}
	if err != nil || !bucket.Downloadable(key) {
		return layout.Message(ctx, http.StatusBadRequest, "This link is not valid", "Check that you used the whole link from the email.", "", csp), nil
	}
	if id, ok := bucket.ParseClipKey(key); ok {
		if _, err := h.stories.GetStory(ctx, id); errors.Is(err, store.ErrNotFound) {
			return layout.Message(ctx, http.StatusGone, "This clip is no longer available",
				"The volunteer withdrew it, or it was deleted at the end of its retention period.", "", csp), nil
		} else if err != nil {
			return apigw.Response{}, err
		}
	}
	_, err = h.files.Head(ctx, key)
	if errors.Is(err, bucket.ErrNotFound) {
		return layout.Message(ctx, http.StatusGone, "This file is no longer available",
			"It has been deleted: exports are kept for 7 days, and a volunteer may have withdrawn their clips.", "", csp), nil
	}
	if err != nil {
		return apigw.Response{}, err
	}
	signed, err := h.files.PresignGet(ctx, key, filename, h.cfg.URLExpiry)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.Redirect(http.StatusFound, signed), nil
}
