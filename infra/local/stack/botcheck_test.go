package stack_test

import (
	"net/http"
	"strings"
	"testing"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
)

// With the bot check on, the submit function verifies each answer with the
// secret key from its secret, which no function's environment holds.
func TestBotCheckKeyIsInASecretNotTheEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secret string
		want   int
	}{
		{stack.TurnstilePassSecret, http.StatusCreated},
		{stack.TurnstileFailSecret, http.StatusUnprocessableEntity},
	} {
		s := startClipStack(t, func(o *stack.Options) {
			o.Params["TurnstileSiteKey"], o.Params["TurnstileSecret"] = stack.TurnstilePassSiteKey, tc.secret
		})
		for _, f := range s.Template.Functions() {
			for _, kv := range s.Environment(f.Name) {
				if strings.Contains(kv, tc.secret) {
					t.Errorf("%s's environment holds the Turnstile secret key: %s", f.Name, kv)
				}
			}
		}
		story := jsonStory(openFormOn(t, s), stacktest.Unique("bot.check@example.org"))
		story["turnstile"] = stack.TurnstileDummyAnswer
		if resp, out := postJSONOn(t, s, story); resp.StatusCode != tc.want {
			t.Errorf("secret %s: %d %v, want %d", tc.secret, resp.StatusCode, out, tc.want)
		}
	}
}
