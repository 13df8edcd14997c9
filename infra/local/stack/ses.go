package stack

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Email is one message SES was asked to send, as kept in the local outbox.
type Email struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	From    string    `json:"from"`
	To      []string  `json:"to"`
	ReplyTo []string  `json:"replyTo,omitempty"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
	// ConfigurationSet is the SES configuration set it was sent through.
	ConfigurationSet string `json:"configurationSet,omitempty"`
}

// Outbox is the local SES v2: POST /v2/email/outbound-emails keeps the
// message on disk instead of sending it.
type Outbox struct {
	dir    string
	faults *Faults
	iam    *IAM // nil: every sender allowed (handler tests)
	mu     sync.Mutex
	emails []Email
	seq    int
	// onSent, when set, sees every message kept (the stack raises the
	// configuration set's events from it).
	onSent func(Email)
}

// NewOutbox returns a local SES v2 endpoint keeping messages in dir.
func NewOutbox(dir string, faults *Faults) (*Outbox, error) {
	o := &Outbox{dir: dir, faults: faults}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var e Email
		if json.Unmarshal(b, &e) == nil {
			o.emails = append(o.emails, e)
		}
	}
	o.seq = len(o.emails)
	return o, nil
}

// Emails returns a copy of every message in the outbox, oldest first.
func (o *Outbox) Emails() []Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Email(nil), o.emails...)
}

func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		sesError(w, http.StatusNotFound, "NotFoundException", "the local SES only sends email")
		return
	}
	if f, ok := o.faults.take("ses", "SendEmail"); ok {
		sesError(w, f.Status, f.Code, f.Message)
		return
	}
	var in struct {
		FromEmailAddress     string
		ConfigurationSetName string
		ReplyToAddresses     []string
		Destination          struct{ ToAddresses, CcAddresses, BccAddresses []string }
		Content              struct {
			Simple *struct {
				Subject struct{ Data string }
				Body    struct{ Text, Html *struct{ Data string } }
			}
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Content.Simple == nil {
		sesError(w, http.StatusBadRequest, "BadRequestException", "only Simple content is supported locally")
		return
	}
	if len(in.Destination.ToAddresses) == 0 || in.FromEmailAddress == "" {
		sesError(w, http.StatusBadRequest, "BadRequestException", "a sender and a recipient are required")
		return
	}
	from := in.FromEmailAddress
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	// SendEmail is authorised on the identity and, when the message names
	// one, on the configuration set too, as SES does.
	steps := []authz{{action: "ses:SendEmail", resource: "arn:aws:ses:" + Region + ":000000000000:identity/" + from,
		context: map[string][]string{"ses:fromaddress": {from}}}}
	if in.ConfigurationSetName != "" {
		steps = append(steps, authz{action: "ses:SendEmail", resource: "arn:aws:ses:" + Region + ":000000000000:configuration-set/" + in.ConfigurationSetName,
			context: map[string][]string{"ses:fromaddress": {from}}})
	}
	if err := o.iam.check(accessKeyOf(r), steps...); err != nil {
		code := "AccessDeniedException"
		if err.unknownKey {
			code = "UnrecognizedClientException"
		}
		sesError(w, http.StatusForbidden, code, err.Error())
		return
	}
	// SES needs 7-bit addresses (an internationalised domain in punycode)
	// and refuses others for good, whatever the retries.
	for _, a := range append(append(append([]string{}, in.Destination.ToAddresses...), in.Destination.CcAddresses...), in.ReplyToAddresses...) {
		for i := range len(a) {
			if a[i] >= 0x80 {
				sesError(w, http.StatusBadRequest, "BadRequestException", "Illegal address: "+a)
				return
			}
		}
	}
	if strings.ContainsAny(in.Content.Simple.Subject.Data, "\r\n") {
		sesError(w, http.StatusBadRequest, "MessageRejected", "line break in the subject")
		return
	}
	o.mu.Lock()
	o.seq++
	e := Email{
		ID:      fmt.Sprintf("local-%06d-%d", o.seq, time.Now().UnixNano()%1e6),
		At:      time.Now().UTC(),
		From:    in.FromEmailAddress,
		To:      in.Destination.ToAddresses,
		ReplyTo: in.ReplyToAddresses,
		Subject: in.Content.Simple.Subject.Data,

		ConfigurationSet: in.ConfigurationSetName,
	}
	if b := in.Content.Simple.Body.Text; b != nil {
		e.Text = b.Data
	}
	if b := in.Content.Simple.Body.Html; b != nil {
		e.HTML = b.Data
	}
	b, _ := json.MarshalIndent(e, "", "  ")
	err := os.WriteFile(filepath.Join(o.dir, e.ID+".json"), b, 0o600)
	if err == nil {
		o.emails = append(o.emails, e)
	}
	o.mu.Unlock()
	if err != nil {
		sesError(w, http.StatusInternalServerError, "InternalFailure", "could not keep the message")
		return
	}
	// The message's events are raised before the sender hears back, so a
	// stack that waits for its work to finish (WaitIdle) waits for them too.
	if o.onSent != nil {
		o.onSent(e)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": e.ID})
}

func sesError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

var outboxPage = template.Must(template.New("outbox").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local outbox – Frontline Voices</title><link rel="stylesheet" href="/static/site.css"></head>
<body><header class="masthead"><div class="wrap"><a class="brand" href="/">Frontline Voices</a><span class="tagline">Local outbox: emails SES would have sent</span></div></header>
<main class="wrap" style="max-width:60rem">
{{if .Email}}{{with .Email}}
<p><a href="/_local/outbox">All emails</a></p>
<h1 id="subject">{{.Subject}}</h1>
<table class="data"><tr><th>From</th><td>{{.From}}</td></tr><tr><th>To</th><td>{{range .To}}{{.}} {{end}}</td></tr>
{{if .ReplyTo}}<tr><th>Reply to</th><td>{{range .ReplyTo}}{{.}} {{end}}</td></tr>{{end}}<tr><th>Sent</th><td>{{.At.Format "2006-01-02 15:04:05 MST"}}</td></tr></table>
<p><a id="open-html" href="/_local/outbox/{{.ID}}/html">Open the HTML part on its own</a></p>
<iframe title="HTML part" src="/_local/outbox/{{.ID}}/html" sandbox="allow-popups allow-top-navigation-by-user-activation" style="width:100%;height:60vh;border:1px solid #b1b4b6"></iframe>
<h2>Text part</h2><pre style="white-space:pre-wrap;background:#f3f2f1;padding:1rem">{{.Text}}</pre>
{{end}}{{else}}
<h1>Outbox</h1>
{{range .Actions}}<form method="post" action="{{.Path}}" style="display:inline-block;margin:0 .5rem 1rem 0"><button class="button secondary" id="{{.ID}}">{{.Label}}</button></form>{{end}}
{{if .Emails}}<table class="data" id="emails"><thead><tr><th>Sent</th><th>To</th><th>Subject</th></tr></thead><tbody>
{{range .Emails}}<tr><td>{{.At.Format "02 Jan 15:04:05"}}</td><td>{{range .To}}{{.}} {{end}}</td><td><a href="/_local/outbox/{{.ID}}">{{.Subject}}</a></td></tr>{{end}}
</tbody></table>{{else}}<p>No emails yet. Send a story from <a href="/">the form</a>.</p>{{end}}
{{end}}</main></body></html>`))

// localAction is a button on the outbox page (e.g. run the digest now).
type localAction struct{ ID, Label, Path string }

func (o *Outbox) page(w http.ResponseWriter, r *http.Request, actions []localAction) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/_local/outbox"), "/")
	w.Header().Set("Cache-Control", "no-store")
	if rest == "" {
		emails := o.Emails()
		for i, j := 0, len(emails)-1; i < j; i, j = i+1, j-1 {
			emails[i], emails[j] = emails[j], emails[i]
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = outboxPage.Execute(w, map[string]any{"Emails": emails, "Actions": actions})
		return
	}
	id, part, _ := strings.Cut(rest, "/")
	for _, e := range o.Emails() {
		if e.ID != id {
			continue
		}
		switch part {
		case "":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = outboxPage.Execute(w, map[string]any{"Email": e})
		case "html":
			// An email's HTML runs no script, as in a mail client.
			w.Header().Set("Content-Security-Policy", "script-src 'none'; object-src 'none'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(e.HTML))
		case "json":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(e)
		default:
			http.NotFound(w, r)
		}
		return
	}
	http.NotFound(w, r)
}
