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
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/site"
	"frontlinevoices/shared/token"
)

// Config is the download function's configuration.
type Config struct {
	Bucket        string        `env:"FILES_BUCKET,required"`
	SigningSecret string        `env:"SIGNING_SECRET,required"`
	URLExpiry     time.Duration `env:"DOWNLOAD_URL_EXPIRY" default:"5m"`
	PathStyle     bool          `env:"S3_PATH_STYLE"`
}

// S3 is the part of the S3 client downloads use.
type S3 interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Presigner presigns GETs.
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Handler serves download links.
type Handler struct {
	cfg     Config
	s3      S3
	presign Presigner
	signer  token.Signer
}

// New returns a download handler.
func New(cfg Config, client S3, presign Presigner) (*Handler, error) {
	signer, err := token.NewSigner(cfg.SigningSecret)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, s3: client, presign: presign, signer: signer}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.PathStyle })
	h, err := New(cfg, client, s3.NewPresignClient(client))
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), h.Handle), nil
}

var csp = apigw.ContentSecurityPolicy()

// Handle answers one link.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	key, filename, err := links.ParseDownload(h.signer, apigw.Query(req).Get("t"), time.Now())
	if errors.Is(err, token.ErrExpired) {
		return site.Message(http.StatusGone, "This link has expired", "Download links in the digest last 7 days. A newer digest has fresh links.", "", csp), nil
	}
	if err != nil {
		return site.Message(http.StatusBadRequest, "This link is not valid", "Check that you used the whole link from the email.", "", csp), nil
	}
	_, err = h.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(h.cfg.Bucket), Key: aws.String(key)})
	if _, gone := errors.AsType[*types.NotFound](err); gone {
		return site.Message(http.StatusGone, "This file is no longer available",
			"It has been deleted: exports are kept for 7 days, and a volunteer may have withdrawn their clips.", "", csp), nil
	}
	if err != nil {
		return apigw.Response{}, err
	}
	signed, err := h.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(h.cfg.Bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(`attachment; filename="` + filename + `"`),
	}, s3.WithPresignExpires(h.cfg.URLExpiry))
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.Redirect(http.StatusFound, signed.URL), nil
}
