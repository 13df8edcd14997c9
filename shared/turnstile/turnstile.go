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
	"time"
)

// VerifyURL is Cloudflare's siteverify endpoint.
const VerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

// ErrRefused is a siteverify answer of "no": the widget's answer is
// missing, forged, expired or already used.
var ErrRefused = errors.New("turnstile: the answer was refused")

// Verifier asks siteverify about widget answers with one secret key.
type Verifier struct {
	Secret string
	URL    string // VerifyURL unless set (a local fake in tests)
	Client *http.Client
}

// Verify reports whether response is a good, unused answer of the widget,
// given by the visitor at remoteIP. Cloudflare's "no" is ErrRefused
// (wrapping its error codes); any other error means siteverify could not be
// asked, which is a fault, not the visitor's doing.
func (v Verifier) Verify(ctx context.Context, response, remoteIP string) error {
	if response == "" || len(response) > 2048 {
		return fmt.Errorf("%w: missing-input-response", ErrRefused)
	}
	form := url.Values{"secret": {v.Secret}, "response": {response}}
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
			return fmt.Errorf("turnstile: siteverify: %s", c)
		}
	}
	return fmt.Errorf("%w: %s", ErrRefused, strings.Join(out.ErrorCodes, ","))
}
