// Package links makes the comms team's download links: tokens signed with
// the site's secret that name an object (an export or a clip) and the file
// name it downloads as. Keys and file names hold story ids and dates, no
// personal data.
package links

import (
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"frontlinevoices/shared/token"
)

// DownloadPurpose is the purpose of download tokens.
const DownloadPurpose = "download"

// Download is the URL that downloads key as filename until expires.
func Download(s token.Signer, siteURL, key, filename string, expires time.Time) string {
	subject := base64.RawURLEncoding.EncodeToString([]byte(key + "\x00" + filename))
	return strings.TrimRight(siteURL, "/") + "/download?t=" + url.QueryEscape(s.Sign(DownloadPurpose, subject, expires))
}

// ParseDownload checks a download token and returns the key and file name
// it names (whether the key may be downloaded is the bucket's to say). An
// expired token returns token.ErrExpired.
func ParseDownload(s token.Signer, tok string, now time.Time) (key, filename string, err error) {
	subject, err := s.Verify(DownloadPurpose, tok, now)
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
