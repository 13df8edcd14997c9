// Package turnstile checks the answer of Cloudflare's Turnstile widget (the
// form's optional bot check) with Cloudflare's siteverify endpoint.
package turnstile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// VerifyURL is Cloudflare's siteverify endpoint.
const VerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

// ErrRefused is a siteverify answer of "no": the widget's answer is
// missing, forged, expired or already used.
var ErrRefused = errors.New("turnstile: the answer was refused")

// Verifier asks siteverify about widget answers with the secret key Key
// gives.
type Verifier struct {
	Key    Key
	URL    string // VerifyURL unless set (a local fake in tests)
	Client *http.Client
}

// Key gives the secret key siteverify checks answers with.
type Key interface {
	Secret(ctx context.Context) (string, error)
}

// Fixed is a secret key known up front (tests and tools).
type Fixed string

// Secret returns k.
func (k Fixed) Secret(context.Context) (string, error) { return string(k), nil }

// GetSecretValue is Secrets Manager's call of that name (a client's method
// value: the client itself stays out of interface values, so the linker
// keeps only the operations used).
type GetSecretValue func(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

// StoredKey is the secret key kept in a Secrets Manager secret as
// {"secret": "<key>"}, so it is in no function's environment. It is read at
// first use, not at init, kept, and read again once siteverify calls it
// invalid (a new key put in the secret since). A secret whose key is empty
// (the bot check turned on without one) is an error, a fault of the site's
// configuration, not the visitor's.
type StoredKey struct {
	get GetSecretValue
	id  string

	mu  sync.Mutex
	key string
}

// NewStoredKey reads the key from the secret id (its name or ARN).
func NewStoredKey(get GetSecretValue, id string) *StoredKey {
	return &StoredKey{get: get, id: id}
}

// Secret returns the key, reading the secret unless it is kept already.
func (k *StoredKey) Secret(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != "" {
		return k.key, nil
	}
	out, err := k.get(ctx, &secretsmanager.GetSecretValueInput{SecretId: &k.id})
	if err != nil {
		return "", fmt.Errorf("turnstile: reading the secret key: %w", err)
	}
	var v struct {
		Secret string `json:"secret"`
	}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &v) != nil {
		return "", errors.New(`turnstile: the secret key's secret is not {"secret": "…"}`)
	}
	if v.Secret == "" {
		return "", errors.New("turnstile: the secret key's secret holds no key (set TurnstileSecret with TurnstileSiteKey)")
	}
	k.key = v.Secret
	return k.key, nil
}

// forget drops the kept key: the next answer reads the secret again.
func (k *StoredKey) forget() {
	k.mu.Lock()
	k.key = ""
	k.mu.Unlock()
}

// Verify reports whether response is a good, unused answer of the widget,
// given by the visitor at remoteIP. Cloudflare's "no" is ErrRefused
// (wrapping its error codes); any other error means siteverify could not be
// asked, which is a fault, not the visitor's doing.
func (v Verifier) Verify(ctx context.Context, response, remoteIP string) error {
	if response == "" || len(response) > 2048 {
		return fmt.Errorf("%w: missing-input-response", ErrRefused)
	}
	secret, err := v.Key.Secret(ctx)
	if err != nil {
		return err
	}
	form := url.Values{"secret": {secret}, "response": {response}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	endpoint := v.URL
	if endpoint == "" {
		endpoint = VerifyURL
	}
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("turnstile: siteverify: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Success    bool     `json:"success"`
		ErrorCodes []string `json:"error-codes"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return fmt.Errorf("turnstile: siteverify answered %d, not JSON: %w", resp.StatusCode, err)
	}
	if out.Success {
		return nil
	}
	for _, c := range out.ErrorCodes {
		// The site's own configuration is wrong: not the visitor's fault.
		if c == "missing-input-secret" || c == "invalid-input-secret" || c == "internal-error" {
			if k, ok := v.Key.(*StoredKey); ok && c == "invalid-input-secret" {
				k.forget()
			}
			return fmt.Errorf("turnstile: siteverify: %s", c)
		}
	}
	return fmt.Errorf("%w: %s", ErrRefused, strings.Join(out.ErrorCodes, ","))
}
