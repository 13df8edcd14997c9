package stack

import (
	"encoding/json"
	"net/http"
)

// Cloudflare's documented Turnstile test keys: a site key and a secret
// that always pass, one pair that always fails, a secret whose answers are
// always "already spent", and the answer the test site keys give the page.
const (
	TurnstilePassSiteKey = "1x00000000000000000000AA"
	TurnstileFailSiteKey = "2x00000000000000000000AB"
	TurnstilePassSecret  = "1x0000000000000000000000000000000AA"
	TurnstileFailSecret  = "2x0000000000000000000000000000000AA"
	TurnstileSpentSecret = "3x0000000000000000000000000000000AA"
	TurnstileDummyAnswer = "XXXX.DUMMY.TOKEN.XXXX"
)

// Siteverify is a local stand-in for Turnstile's siteverify endpoint
// (POST, form-encoded secret, response and remoteip) that answers as
// Cloudflare documents for its test secrets. Any other secret is refused as
// invalid-input-secret: the local stack cannot check real answers.
func Siteverify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(ok bool, codes ...string) {
			w.Header().Set("Content-Type", "application/json")
			if codes == nil {
				codes = []string{}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"success": ok, "error-codes": codes})
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			answer(false, "bad-request")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			answer(false, "bad-request")
			return
		}
		secret, response := r.PostForm.Get("secret"), r.PostForm.Get("response")
		switch {
		case secret == "":
			answer(false, "missing-input-secret")
		case response == "":
			answer(false, "missing-input-response")
		case secret == TurnstilePassSecret:
			answer(true)
		case secret == TurnstileFailSecret:
			answer(false, "invalid-input-response")
		case secret == TurnstileSpentSecret:
			answer(false, "timeout-or-duplicate")
		default:
			answer(false, "invalid-input-secret")
		}
	})
}
