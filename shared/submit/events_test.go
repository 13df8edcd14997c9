package submit_test

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/story"
)

var update = flag.Bool("update", false, "rewrite the submit sample events' start tokens and consent version")

// The submit sample events carry a start token bound to their story id,
// signed with testenv.Secret at testenv.SampleTime, and the current
// consent wording's version. go test ./shared/submit -run TestSampleEvents
// -update makes them so again (after a change to the token format or the
// consent wording) instead of editing them by hand.
func TestSampleEvents(t *testing.T) {
	signer := testenv.Signer(t)
	for _, name := range []string{"submit-json.json", "submit-form.json", "submit-invalid.json"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(testenv.Root(t), "events", name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var req apigw.Request
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			body, err := apigw.Body(req)
			if err != nil {
				t.Fatal(err)
			}
			var id, started, version string
			if req.IsBase64Encoded {
				vals, err := url.ParseQuery(string(body))
				if err != nil {
					t.Fatal(err)
				}
				id, started, version = vals.Get("id"), vals.Get("started"), vals.Get("consentVersion")
			} else {
				var f struct{ ID, Started, ConsentVersion string }
				if err := json.Unmarshal(body, &f); err != nil {
					t.Fatal(err)
				}
				id, started, version = f.ID, f.Started, f.ConsentVersion
			}
			wantStarted, wantVersion := start(t, signer, id, testenv.SampleTime), story.ConsentVersion()
			if started == wantStarted && version == wantVersion {
				return
			}
			if !*update {
				t.Fatalf("events/%s: started %q, consentVersion %q; want %q, %q: run go test ./shared/submit -run TestSampleEvents -update",
					name, started, version, wantStarted, wantVersion)
			}
			fix := func(s string) string {
				s = strings.Replace(s, url.QueryEscape(started), url.QueryEscape(wantStarted), 1)
				s = strings.Replace(s, started, wantStarted, 1)
				return strings.Replace(s, version, wantVersion, 1)
			}
			out := string(raw)
			if req.IsBase64Encoded {
				out = strings.Replace(out, req.Body, base64.StdEncoding.EncodeToString([]byte(fix(string(body)))), 1)
			} else {
				out = fix(out)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
