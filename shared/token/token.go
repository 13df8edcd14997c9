// Package token makes and checks short signed tokens (HMAC-SHA256) that
// bind a purpose, a subject such as a story id, and an expiry. Tokens carry
// no personal data: subjects are opaque ids and timestamps.
//
// Every token names the key that signed it (a key id), so keys can be
// rotated: a new key signs from the moment it becomes current, and the old
// ones keep verifying the links they signed until those expire.
//
//	<key id>.<subject>.<expiry, unix seconds base 36>.<HMAC, base64url>
package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors from Verify. Any other error (the keys could not be read) is a
// fault of ours, not of the token.
var (
	ErrInvalid = errors.New("token: invalid")
	ErrExpired = errors.New("token: expired")
)

var b64 = base64.RawURLEncoding

// MinKeyLength is the shortest key accepted, in bytes.
const MinKeyLength = 32

// validKeyID: a key id is 1 to 32 of a-z, 0-9 and "-" (checked without a
// regexp, which would be compiled at every cold start).
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Keys are the signing keys: Current names the one that signs, and every
// key verifies the tokens that name it.
type Keys struct {
	Current string
	ByID    map[string][]byte
}

// ParseKeys reads keys as kept in the secret: a JSON object whose member
// "current" names the signing key and whose other members are key ids and
// keys, {"current":"k2","k1":"…","k2":"…"}.
func ParseKeys(doc string) (Keys, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return Keys{}, errors.New(`token: the signing keys are not a JSON object of strings like {"current":"k1","k1":"<64 random characters>"}`)
	}
	k := Keys{Current: m["current"], ByID: map[string][]byte{}}
	for id, key := range m {
		if id == "current" {
			continue
		}
		if !validKeyID(id) {
			return Keys{}, fmt.Errorf("token: key id %q: use 1 to 32 of a-z, 0-9 and -", id)
		}
		if len(key) < MinKeyLength {
			return Keys{}, fmt.Errorf("token: key %q is shorter than %d characters", id, MinKeyLength)
		}
		k.ByID[id] = []byte(key)
	}
	if _, ok := k.ByID[k.Current]; !ok {
		return Keys{}, fmt.Errorf("token: \"current\" is %q, which is not one of the keys", k.Current)
	}
	return k, nil
}

// JSON is the keys as kept in the secret (see ParseKeys).
func (k Keys) JSON() string {
	m := map[string]string{"current": k.Current}
	for id, key := range k.ByID {
		m[id] = string(key)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// IDs lists the key ids, sorted.
func (k Keys) IDs() []string {
	ids := make([]string, 0, len(k.ByID))
	for id := range k.ByID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Source loads the keys (from Secrets Manager on AWS).
type Source func(ctx context.Context) (Keys, error)

// How long loaded keys are used before they are read again, and how soon a
// token naming an unknown key may cause a fresh read: a token signed with
// a new key by one function is verified by another within UnknownKeyWait
// of the rotation, and each function reads the keys at most once a second
// however many tokens name keys it does not know.
const (
	KeysTTL        = 5 * time.Minute
	UnknownKeyWait = time.Second
)

// Signer signs and verifies tokens with keys loaded from its source at first
// use and cached (KeysTTL). Copies share one cache; it is safe for
// concurrent use.
type Signer struct{ c *cache }

type cache struct {
	src    Source
	now    func() time.Time
	mu     sync.Mutex
	keys   Keys
	loaded time.Time
}

// NewSigner returns a signer whose keys come from src, read at first use.
func NewSigner(src Source) Signer {
	return Signer{c: &cache{src: src, now: time.Now}}
}

// StaticSigner returns a signer with one key, id "k1" (tests, tools).
func StaticSigner(secret string) (Signer, error) {
	if len(secret) < MinKeyLength {
		return Signer{}, fmt.Errorf("token: the signing secret must be at least %d characters", MinKeyLength)
	}
	keys := Keys{Current: "k1", ByID: map[string][]byte{"k1": []byte(secret)}}
	return NewSigner(func(context.Context) (Keys, error) { return keys, nil }), nil
}

// get returns the cached keys, loading them when there are none, when
// they are older than KeysTTL, or when want is a key id they lack and the
// last load is older than UnknownKeyWait.
func (c *cache) get(ctx context.Context, want string) (Keys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	age := c.now().Sub(c.loaded)
	_, known := c.keys.ByID[want]
	stale := c.keys.ByID == nil || age >= KeysTTL || (want != "" && !known && age >= UnknownKeyWait)
	if !stale {
		return c.keys, nil
	}
	k, err := c.src(ctx)
	if err != nil {
		if c.keys.ByID != nil && age < 4*KeysTTL {
			return c.keys, nil // keep working on the keys we have for a while
		}
		return Keys{}, fmt.Errorf("token: loading the signing keys: %w", err)
	}
	c.keys, c.loaded = k, c.now()
	return k, nil
}

// Sign returns a token for subject and purpose that expires at expires,
// signed with the current key. The subject must not contain '.'. It fails
// only when the keys cannot be loaded.
func (s Signer) Sign(ctx context.Context, purpose, subject string, expires time.Time) (string, error) {
	k, err := s.c.get(ctx, "")
	if err != nil {
		return "", err
	}
	body := k.Current + "." + subject + "." + strconv.FormatInt(expires.Unix(), 36)
	return body + "." + b64.EncodeToString(mac(k.ByID[k.Current], purpose, body)), nil
}

// Verify checks tok for purpose and returns its subject. An expired token
// with a good signature returns its subject together with ErrExpired. A
// bad token is ErrInvalid; any other error means the keys could not be
// loaded.
func (s Signer) Verify(ctx context.Context, purpose, tok string, now time.Time) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 4 || !validKeyID(parts[0]) {
		return "", ErrInvalid
	}
	k, err := s.c.get(ctx, parts[0])
	if err != nil {
		return "", err
	}
	key, ok := k.ByID[parts[0]]
	if !ok {
		return "", ErrInvalid
	}
	i := strings.LastIndexByte(tok, '.')
	// Compared encoded, so only the signer's own spelling is accepted (the
	// decoder would skip a CR or LF inside the signature).
	if !hmac.Equal([]byte(tok[i+1:]), []byte(b64.EncodeToString(mac(key, purpose, tok[:i])))) {
		return "", ErrInvalid
	}
	secs, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if !now.Before(time.Unix(secs, 0)) {
		return parts[1], ErrExpired
	}
	return parts[1], nil
}

func mac(key []byte, purpose, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Digest is a keyed hash of v for purpose, made with the current key: a
// stable name for a value (an address, an IP) that cannot be turned back
// into it without the key. A rotation changes it (what is counted under
// the old name starts again). It fails only when the keys cannot be loaded.
func (s Signer) Digest(ctx context.Context, purpose, v string) (string, error) {
	k, err := s.c.get(ctx, "")
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(mac(k.ByID[k.Current], "digest:"+purpose, v)[:18]), nil
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
