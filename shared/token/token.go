// Package token makes and checks short signed tokens (HMAC-SHA256) that
// bind a purpose, a subject such as a story id, and an expiry. Tokens carry
// no personal data: subjects are opaque ids and timestamps.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors from Verify.
var (
	ErrInvalid = errors.New("token: invalid")
	ErrExpired = errors.New("token: expired")
)

var b64 = base64.RawURLEncoding

// Signer signs tokens with one secret key.
type Signer struct{ key []byte }

// NewSigner returns a signer; the secret must be at least 32 bytes.
func NewSigner(secret string) (Signer, error) {
	if len(secret) < 32 {
		return Signer{}, errors.New("token: the signing secret must be at least 32 characters")
	}
	return Signer{key: []byte(secret)}, nil
}

// Sign returns a token for subject and purpose that expires at expires.
// The subject must not contain '.'.
func (s Signer) Sign(purpose, subject string, expires time.Time) string {
	body := subject + "." + strconv.FormatInt(expires.Unix(), 36)
	return body + "." + b64.EncodeToString(s.mac(purpose, body))
}

// Verify checks tok for purpose and returns its subject. An expired token
// with a good signature returns its subject together with ErrExpired.
func (s Signer) Verify(purpose, tok string, now time.Time) (string, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return "", ErrInvalid
	}
	body, sig := tok[:i], tok[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(purpose, body)) {
		return "", ErrInvalid
	}
	subject, exp, ok := strings.Cut(body, ".")
	if !ok {
		return "", ErrInvalid
	}
	secs, err := strconv.ParseInt(exp, 36, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if !now.Before(time.Unix(secs, 0)) {
		return subject, ErrExpired
	}
	return subject, nil
}

func (s Signer) mac(purpose, body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Digest is a keyed hash of v for purpose: a stable name for a value (an
// address, an IP) that cannot be turned back into it without the secret.
func (s Signer) Digest(purpose, v string) string {
	return b64.EncodeToString(s.mac("digest:"+purpose, v)[:18])
}

// ExpiresAt reads the expiry written in tok, without checking it: call
// Verify first.
func ExpiresAt(tok string) (time.Time, bool) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return time.Time{}, false
	}
	j := strings.LastIndexByte(tok[:i], '.')
	secs, err := strconv.ParseInt(tok[j+1:i], 36, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}
