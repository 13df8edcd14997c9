// Package samples makes the sample events in events/ that carry something
// signed or derived: the HTTP API requests, whose submissions carry a start
// token signed with Secret at SampleTime and the current consent wording's
// version, with every answer the question definitions (story.Fields) ask
// for. go run ./infra/events writes them; TestEventsAreCurrent fails when
// a file differs from what Events makes.
package samples

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"frontlinevoices/shared/links"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// Secret is the signing secret of the sample events (key id k1); the
// handler tests sign with it too.
const Secret = "frontline-voices-sample-events-secret-0000"

// SampleTime is when the sample events' forms were shown.
var SampleTime = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// received is when the sample requests arrive: a minute after the form.
var received = SampleTime.Add(time.Minute)

// Amara's story, sent by the enhanced (JavaScript) form as JSON.
var amara = story.Submission{
	ID: "abcdefghijklmnopqrstuvwxyz", Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
	Borough: "southwark", Email: "amara.okafor@example.org", Phone: "020 7946 0000", PreferredContact: "email",
	Topics:     []string{"workload", "access"},
	Story:      "On Monday morning our phone lines opened at 8am and within ten minutes we had 140 people waiting. We saw every urgent case that day, but it took the whole team working through lunch.",
	Activities: []string{"media", "mp_meeting"},
	Contacts: []story.Contact{{Name: "Jane Example MP", Constituency: "Peckham", Party: "Labour", When: "March 2026",
		What: "Visited the practice and met the nursing team"}},
	PatientsSpeak: "maybe", PatientsNote: "Two patients from our participation group have offered before.",
	Consent: map[string]bool{"contact": true, "store": true, "public": true, "named": false, "clips": true},
}

// Tomasz's story, sent by the plain form from its last step.
var tomasz = story.Submission{
	ID: "bcdefghijklmnopqrstuvwxyza", Name: "Tomasz Nowak", Role: "receptionist", Practice: "Lea Valley Medical Centre",
	Borough: "waltham_forest", Email: "t.nowak@example.org", PreferredContact: "email",
	Topics:     []string{"access", "workforce"},
	Story:      "Every morning I am the first voice patients hear. Last winter we answered 600 calls a day with four of us on the phones.",
	Activities: []string{"video"}, HadContact: "no", PatientsSpeak: "no", Naming: "role",
	Consent: map[string]bool{"contact": true, "store": true},
}

// invalid has a problem in several answers.
var invalid = func() story.Submission {
	s := amara
	s.ID, s.Name, s.Borough, s.Email, s.Story = "cdefghijklmnopqrstuvwxyzab", "", "atlantis", "not-an-email", "Too short"
	s.Consent = map[string]bool{"contact": true}
	return s
}()

// Events are the sample events this package makes, by file name.
func Events() (map[string][]byte, error) {
	signer, err := token.StaticSigner(Secret)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	add := func(name string, req events.APIGatewayV2HTTPRequest) error {
		// Through a map, to leave out what the event type writes empty
		// (a client certificate) and to sort the keys.
		var m map[string]any
		b, err := json.Marshal(req)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return fmt.Errorf("samples: %s: %w", name, err)
		}
		rc := m["requestContext"].(map[string]any)
		delete(rc, "authentication")
		delete(rc, "domainPrefix")
		if b, err = json.MarshalIndent(m, "", "  "); err != nil {
			return fmt.Errorf("samples: %s: %w", name, err)
		}
		out[name] = append(b, '\n')
		return nil
	}
	if err := add("form-get.json", request("GET", "/", "", "", "", false)); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		sub  story.Submission
		form bool
	}{{"submit-json.json", amara, false}, {"submit-invalid.json", invalid, false}, {"submit-form.json", tomasz, true}} {
		started, err := links.Start(context.Background(), signer, s.sub.ID, SampleTime)
		if err != nil {
			return nil, err
		}
		s.sub.ConsentVersion = story.ConsentVersion()
		var req events.APIGatewayV2HTTPRequest
		if s.form {
			body := formBody(s.sub, started)
			req = request("POST", "/api/stories", "text/html,application/xhtml+xml", "application/x-www-form-urlencoded",
				base64.StdEncoding.EncodeToString([]byte(body)), true)
		} else {
			b, err := json.Marshal(struct {
				Started string `json:"started"`
				Website string `json:"website"`
				story.Submission
			}{started, "", s.sub})
			if err != nil {
				return nil, err
			}
			req = request("POST", "/api/stories", "application/json", "application/json", string(b), false)
		}
		if err := add(s.name, req); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// formBody is sub as the plain form's last step posts it: every answer
// under its question's name (story.Fields), then the naming and consents.
func formBody(sub story.Submission, started string) string {
	v := url.Values{"id": {sub.ID}, "started": {started}, "website": {""}, "consentVersion": {sub.ConsentVersion}, "step": {"check"}}
	for _, f := range story.Fields {
		switch {
		case f.Kind == story.KindCheckbox:
			if f.Ticked(sub) {
				v.Set(f.ID, "yes")
			}
		case f.Kind == story.KindCheckboxes:
			v[f.ID] = f.Values(sub)
		case f.ID == "mpContacts":
			for i, c := range sub.Contacts {
				p := "mp." + strconv.Itoa(i) + "."
				v.Set(p+"name", c.Name)
				v.Set(p+"constituency", c.Constituency)
				v.Set(p+"party", c.Party)
				v.Set(p+"when", c.When)
				v.Set(p+"what", c.What)
			}
		default:
			v.Set(f.ID, f.Value(sub))
		}
	}
	v.Set("naming", sub.Naming)
	for k, ok := range sub.Consent {
		if ok {
			v.Set("consent."+k, "yes")
		}
	}
	return v.Encode()
}

// request is an HTTP API request as API Gateway hands it to a function.
func request(method, path, accept, contentType, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	route := method + " " + path
	h := map[string]string{"host": "abc123.execute-api.eu-west-2.amazonaws.com", "user-agent": "Mozilla/5.0 (sample)"}
	if accept != "" {
		h["accept"] = accept
	}
	if contentType != "" {
		h["content-type"] = contentType
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, Headers: h, Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "abc123", DomainName: "abc123.execute-api.eu-west-2.amazonaws.com",
			RequestID: "sample-request-1", RouteKey: route, Stage: "$default",
			Time: received.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: received.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "192.0.2.10", UserAgent: "Mozilla/5.0 (sample)",
			},
		},
	}
}
