package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/links"
)

var hiddenField = regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`)

// postStory sends a story to the stack s from Go, as the form's script
// sends it (the form's hidden fields, then the answers as JSON once the
// minimum fill time has passed), and gives the tab of ctx the upload
// cookie of the response, as the browser keeps it. The tests of the pages
// after the form (the thank-you page's uploader, the withdraw page) start
// there: filling the form in the browser costs about 2 s of CPU, and the
// form's own tests, and TestClipsFromTheThankYouPage, fill it there.
func postStory(t *testing.T, ctx context.Context, s *stack.Stack, email string) {
	t.Helper()
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hidden := map[string]string{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		hidden[m[1]] = m[2]
	}
	// A story sent sooner than this after its form was shown is a bot's.
	time.Sleep(fillTime)
	body, _ := json.Marshal(map[string]any{
		"id": hidden["id"], "started": hidden["started"], "consentVersion": hidden["consentVersion"],
		"name": "Priya Shah", "role": "gp_partner", "practice": "Canonbury Health Centre", "borough": "islington",
		"email": email, "phone": "020 7946 0123", "preferredContact": "email",
		"topics":     []string{"funding", "premises"},
		"story":      "Our building was designed for 4,000 patients and we now look after 11,000. We run clinics from a corridor and a converted cupboard.",
		"activities": []string{"mp_meeting"}, "hadContact": "yes",
		"mpContacts":         []map[string]string{{"name": "Sam Candidate", "constituency": "Islington North", "what": "Spoke at a hustings about premises"}},
		"patientsWouldSpeak": "yes", "naming": "role",
		"consent": map[string]bool{"contact": true, "store": true, "public": true},
	})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /api/stories = %d: %s", resp.StatusCode, b)
	}
	for _, c := range resp.Cookies() {
		if c.Name != links.UploadCookie {
			continue
		}
		sameSite := map[http.SameSite]network.CookieSameSite{http.SameSiteStrictMode: network.CookieSameSiteStrict,
			http.SameSiteLaxMode: network.CookieSameSiteLax, http.SameSiteNoneMode: network.CookieSameSiteNone}[c.SameSite]
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{
				Name: c.Name, Value: c.Value, URL: s.URL + "/", Path: c.Path, HTTPOnly: &c.HttpOnly, SameSite: sameSite,
				Expires: cdp.TimeSinceEpoch(time.Now().Add(time.Duration(c.MaxAge) * time.Second).Unix()),
			})
			return err
		})); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("POST /api/stories set no %s cookie", links.UploadCookie)
}
