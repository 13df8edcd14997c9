package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/signing"
)

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)
	withdrawURL = regexp.MustCompile(`https?://[^\s"<>]+/withdraw\?t=[^\s"<>]+`)
	client      = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
)

// The rotation procedure of the README, run with this command against a
// running local stack: a withdrawal link from before a rotation keeps
// working after it, new emails carry the new key's links, and once the old
// key is retired its links stop, as soon as the functions read the keys
// again (at the latest token.KeysTTL later; here the stack recycles their
// execution environments, which has the same effect at once).
func TestRotateAndRetireOnTheLocalStack(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{Params: map[string]string{"MinFillTime": "1ms"}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	var printed []string
	keys := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "--local", st.URL), &out); err != nil {
			t.Fatalf("keys %s: %v", strings.Join(args, " "), err)
		}
		printed = append(printed, out.String())
		return out.String()
	}
	// Every key the secret held, to show that none is ever printed.
	sm := secretsmanager.NewFromConfig(st.AWS)
	seen := map[string]string{}
	remember := func() {
		k, err := signing.Keys(ctx, sm, st.SecretARNs["SigningKeys"])
		if err != nil {
			t.Fatal(err)
		}
		for id, key := range k.ByID {
			seen[id] = string(key)
		}
	}
	remember()
	withdraw := func(link string) int {
		t.Helper()
		resp, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if out := keys("list"); out != "keys: k1\nsigning: k1\n" {
		t.Fatalf("list = %q", out)
	}
	old := story(t, st, "before.rotation@example.org")
	if !strings.Contains(old, "t=k1.") || withdraw(old) != http.StatusOK {
		t.Fatalf("the first link %s does not work", old)
	}

	out := keys("rotate")
	m := regexp.MustCompile(`^(k\d{8}) now signs`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate said %q", out)
	}
	k2 := m[1]
	remember()
	if list := keys("list"); list != "keys: k1 "+k2+"\nsigning: "+k2+"\n" {
		t.Fatalf("after rotate: %q", list)
	}
	st.Recycle()
	if withdraw(old) != http.StatusOK {
		t.Fatal("an old link stopped working after a rotation")
	}
	fresh := story(t, st, "after.rotation@example.org")
	if !strings.Contains(fresh, "t="+k2+".") || withdraw(fresh) != http.StatusOK {
		t.Fatalf("the new email's link %s is not signed with %s, or does not work", fresh, k2)
	}

	if err := run(ctx, []string{"retire", "--id", k2, "--local", st.URL}, io.Discard); err == nil || !strings.Contains(err.Error(), "rotate first") {
		t.Fatalf("retiring the key that signs: %v", err)
	}
	keys("retire", "--id", "k1")
	if out := keys("list"); out != "keys: "+k2+"\nsigning: "+k2+"\n" {
		t.Fatalf("after retire: %q", out)
	}
	// Until the functions read the keys again, they still know k1.
	if withdraw(old) != http.StatusOK {
		t.Fatal("a warm function dropped k1 before its cached keys expired")
	}
	st.Recycle()
	if code := withdraw(old); code != http.StatusBadRequest {
		t.Fatalf("a retired key's link answers %d, want 400", code)
	}
	if withdraw(fresh) != http.StatusOK {
		t.Fatal("the current key's link stopped working")
	}
	for _, out := range printed {
		for id, key := range seen {
			if strings.Contains(out, key) {
				t.Fatalf("the command printed key %s: %q", id, out)
			}
		}
	}
	if len(seen) != 2 {
		t.Fatalf("keys seen: %d, want k1 and %s", len(seen), k2)
	}
}

// story sends a story from the site's form and returns the withdrawal link
// of the confirmation emailed to email.
func story(t *testing.T, st *stack.Stack, email string) string {
	t.Helper()
	resp, err := client.Get(st.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f := map[string]string{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		f[m[1]] = m[2]
	}
	time.Sleep(10 * time.Millisecond) // MinFillTime is 1ms here
	body, _ := json.Marshal(map[string]any{
		"id": f["id"], "started": f["started"], "consentVersion": f["consentVersion"],
		"name": "Amara Okafor", "role": "practice_nurse", "practice": "Bellenden Road Surgery", "borough": "southwark",
		"email": email, "preferredContact": "email", "topics": []string{"workload"},
		"story":              "Our phone lines opened at 8am and within ten minutes 140 people were waiting.",
		"activities":         []string{"media"},
		"patientsWouldSpeak": "maybe",
		"consent":            map[string]bool{"contact": true, "store": true},
	})
	req, _ := http.NewRequest(http.MethodPost, st.URL+"/api/stories", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/stories = %d", resp.StatusCode)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := st.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Outbox.Emails() {
		if e.To[0] == email {
			if link := withdrawURL.FindString(e.Text); link != "" {
				u, err := url.Parse(link)
				if err != nil {
					t.Fatal(err)
				}
				return u.String()
			}
		}
	}
	t.Fatalf("no confirmation with a withdrawal link reached %s", email)
	return ""
}
