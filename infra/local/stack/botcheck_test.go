package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"frontlinevoices/infra/local/stack"
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
		resp, err := client.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		hidden := map[string]string{}
		for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
			hidden[m[1]] = m[2]
		}
		time.Sleep(fillTime + 50*time.Millisecond)
		story := jsonStory(hidden, "bot.check."+hidden["id"]+"@example.org")
		story["turnstile"] = stack.TurnstileDummyAnswer
		b, _ := json.Marshal(story)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("secret %s: %d %s, want %d", tc.secret, resp.StatusCode, body, tc.want)
		}
	}
}
