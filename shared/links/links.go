// Package links holds every signed token the site hands out, each with its
// purpose, its life and what its subject is: the form's start time, the
// upload permission, the volunteer's withdraw link and the comms team's
// download links. Subjects hold story ids, times, keys and dates: never
// personal data, since tokens travel in URLs and emails.
package links

import (
	"context"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"frontlinevoices/shared/token"
)

// Token purposes: a token signed for one purpose is refused for another.
const (
	// FormPurpose binds a form to its story id and the time it was shown
	// (see Start), for the minimum fill time and one story per form.
	FormPurpose = "form"
	// UploadPurpose lets the browser that sent a story (or the volunteer,
	// from the link in their confirmation email) attach clips to it. The
	// subject is the story id.
	UploadPurpose = "upload"
	// WithdrawPurpose is the volunteer's personal link to see, withdraw or
	// erase their story. The subject is the story id, and it lasts as long
	// as the story is kept.
	WithdrawPurpose = "withdraw"
	// DownloadPurpose is the comms team's link to an export or a clip: the
	// subject names the object and the file name it downloads as.
	DownloadPurpose = "download"
)

// Token lives.
const (
	// FormLife is how long a rendered form can be sent.
	FormLife = 7 * 24 * time.Hour
	// UploadTokenLife is how long the upload token from submitting a story
	// lasts.
	UploadTokenLife = 2 * time.Hour
	// UploadLinkLife is how long the upload link in the confirmation email
	// lasts.
	UploadLinkLife = 7 * 24 * time.Hour
)

// UploadCookie carries the upload token from the submit response to the
// thank-you page and the upload routes (HttpOnly, SameSite=Strict), so it
// never appears in a URL.
const UploadCookie = "fv_upload"

// Download is the URL that downloads key as filename until expires. It
// fails only when the signing keys cannot be read.
func Download(ctx context.Context, s token.Signer, siteURL, key, filename string, expires time.Time) (string, error) {
	subject := base64.RawURLEncoding.EncodeToString([]byte(key + "\x00" + filename))
	tok, err := s.Sign(ctx, DownloadPurpose, subject, expires)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(siteURL, "/") + "/download?t=" + url.QueryEscape(tok), nil
}

// ParseDownload checks a download token and returns the key and file name
// it names (whether the key may be downloaded is the bucket's to say). An
// expired token returns token.ErrExpired.
func ParseDownload(ctx context.Context, s token.Signer, tok string, now time.Time) (key, filename string, err error) {
	subject, err := s.Verify(ctx, DownloadPurpose, tok, now)
	if err != nil {
		return "", "", err
	}
	b, err := base64.RawURLEncoding.DecodeString(subject)
	if err != nil {
		return "", "", token.ErrInvalid
	}
	key, filename, ok := strings.Cut(string(b), "\x00")
	if !ok || key == "" || filename == "" || strings.ContainsAny(filename, "\"\r\n\\/") {
		return "", "", token.ErrInvalid
	}
	return key, filename, nil
}

// Start is the start token of a form shown at shown for story storyID. It
// binds the form to that one story: the story saved with it spends it (the
// story id can be saved once), so one token cannot send a second story.
// It fails only when the signing keys cannot be read.
func Start(ctx context.Context, s token.Signer, storyID string, shown time.Time) (string, error) {
	return s.Sign(ctx, FormPurpose, storyID+"-"+strconv.FormatInt(shown.UnixMilli(), 36), shown.Add(FormLife))
}

// ParseStart checks a start token and returns the story id and the time
// the form was shown. An expired token returns them with token.ErrExpired;
// anything not made by Start is token.ErrInvalid; any other error means
// the signing keys could not be read.
func ParseStart(ctx context.Context, s token.Signer, tok string, now time.Time) (storyID string, shown time.Time, err error) {
	subject, err := s.Verify(ctx, FormPurpose, tok, now)
	if subject == "" {
		return "", time.Time{}, cmpErr(err)
	}
	id, ms, ok := strings.Cut(subject, "-")
	n, perr := strconv.ParseInt(ms, 36, 64)
	if !ok || perr != nil || id == "" {
		return "", time.Time{}, token.ErrInvalid
	}
	return id, time.UnixMilli(n), err
}

func cmpErr(err error) error {
	if err == nil {
		return token.ErrInvalid
	}
	return err
}
