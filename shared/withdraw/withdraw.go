// Package withdraw serves the volunteer's personal withdrawal page
// (GET/POST /withdraw?t=…): it shows what is held, withdraws one consent,
// or erases the story with every clip. It works without JavaScript.
package withdraw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// Config is the withdraw function's configuration.
type Config struct {
	config.Shared
	config.Mail
	// SiteURL makes the emails' link to the privacy notice. Unset (the
	// template cannot give this function its own API's address: that is a
	// circular dependency), it is the address the request came to.
	SiteURL string `env:"SITE_URL" check:"origin"`
}

// Sender sends one email.
type Sender interface {
	Send(ctx context.Context, msg mail.Message) (string, error)
}

// Handler serves the withdrawal page.
type Handler struct {
	cfg     Config
	privacy *privacy.Service
	mail    Sender
	signer  token.Signer
}

// New returns a withdrawal handler. The erasures it runs send no email:
// the erase function sends them once, driven by the tombstone.
func New(cfg Config, p *privacy.Service, sender Sender, signer token.Signer) (*Handler, error) {
	return &Handler{cfg: cfg, privacy: p, mail: sender, signer: signer}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	st := store.FromConfig(awsCfg, cfg.TableName)
	p := &privacy.Service{Stories: st, Clips: bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle), ExportPrefix: bucket.ExportsPrefix}
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	sender := mail.SkipUndeliverable(mail.FromConfig(awsCfg, cfg.Sender).WithConfigurationSet(cfg.ConfigurationSet), st)
	h, err := New(cfg, p, sender, signer)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), apigw.WithCompression(h.Handle)), nil
}

// view is what the withdraw page shows.
type view struct {
	Token      string
	Story      *story.Story
	Boxes      []consentView // the consents a volunteer can withdraw or give again
	Required   []story.ConsentStatement
	Naming     story.Naming
	Namings    []story.Naming
	Clips      int
	Error      string
	ErrorField string // the control the error is about: "confirm" or "naming"
	Done       string
	DoneDetail []string
	Retry      *retry // a change the team has not been told of
	Problem    *problem
}

// Title is the page's title: "Error: " first when there is an error.
func (v view) Title() string {
	t := "Your story"
	switch {
	case v.Problem != nil:
		t = v.Problem.Title
	case v.Done != "":
		t = v.Done
	}
	if v.Error != "" {
		t = "Error: " + t
	}
	return t
}

type consentView struct {
	story.ConsentStatement
	Agreed bool
	// Withdraw and Give name the buttons: each says what it does.
	Withdraw, Give string
}

// retry is the form that sends a change again.
type retry struct{ Action, Statement, Naming, From string }

// buttons are the optional box consents' button labels.
var buttons = map[string][2]string{
	"public": {"Stop quoting my story publicly", "Allow my story to be quoted publicly"},
	"clips":  {"Stop using my clips in campaigns", "Allow my clips in campaigns"},
}

// teamWords say each box consent as the comms team's email does.
var teamWords = map[string]struct{ what, stop, again string }{
	"public": {"Quote publicly", "stop quoting it publicly", "may quote it publicly again"},
	"clips":  {"Clips in campaigns", "stop using their clips in campaigns", "may use their clips in campaigns again"},
}

type problem struct{ Title, Message string }

var csp = apigw.ContentSecurityPolicy()

// Handle serves GET and POST /withdraw.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	if h.cfg.SiteURL == "" && req.RequestContext.DomainName != "" {
		r := *h
		r.cfg.SiteURL = "https://" + strings.ToLower(req.RequestContext.DomainName)
		h = &r
	}
	form := apigw.Query(req)
	if req.RequestContext.HTTP.Method == http.MethodPost {
		body, err := apigw.Body(req)
		if err == nil {
			form, err = url.ParseQuery(string(body))
		}
		if err != nil {
			return page(ctx, http.StatusBadRequest, view{Problem: &problem{"We could not read that", "Go back and try again."}}), nil
		}
	}
	tok := form.Get("t")
	id, err := h.signer.Verify(ctx, links.WithdrawPurpose, tok, time.Now())
	switch {
	case err != nil && !errors.Is(err, token.ErrExpired) && !errors.Is(err, token.ErrInvalid):
		return apigw.Response{}, err // the keys could not be read: a fault of ours, not the link's
	case errors.Is(err, token.ErrExpired):
		return page(ctx, http.StatusGone, view{Problem: &problem{"This link has expired",
			"Links to manage a story last as long as we keep the story. We no longer hold yours."}}), nil
	case err != nil:
		return page(ctx, http.StatusBadRequest, view{Problem: &problem{"This link is not valid",
			"Check that you used the whole link from your confirmation email. If it still does not work, the link may have been changed."}}), nil
	}
	st, err := h.privacy.Stories.GetStory(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return h.gone(ctx, id)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	if req.RequestContext.HTTP.Method != http.MethodPost {
		return h.show(ctx, tok, st, "", "", http.StatusOK)
	}
	switch form.Get("action") {
	case "withdraw":
		return h.setConsent(ctx, tok, st, form.Get("statement"), false)
	case "give":
		return h.setConsent(ctx, tok, st, form.Get("statement"), true)
	case "naming":
		return h.setNaming(ctx, tok, st, form.Get("naming"), form.Get("from"))
	case "erase":
		if form.Get("confirm") == "" {
			return h.show(ctx, tok, st, "Tick the box to confirm that you want to erase everything", "confirm", http.StatusUnprocessableEntity)
		}
		return h.erase(ctx, st)
	}
	return h.show(ctx, tok, st, "Choose what you would like to do.", "", http.StatusUnprocessableEntity)
}

func (h *Handler) show(ctx context.Context, tok string, st story.Story, errMsg, errField string, status int) (apigw.Response, error) {
	clips, err := h.privacy.ClipCount(ctx, st.ID)
	if err != nil {
		return apigw.Response{}, err
	}
	return page(ctx, status, storyView(tok, st, clips, errMsg, errField)), nil
}

// storyView is the page showing st, its consents and the ways to change
// them, with an error about one control (errField) or none.
func storyView(tok string, st story.Story, clips int, errMsg, errField string) view {
	v := view{Token: tok, Story: &st, Clips: clips, Error: errMsg, ErrorField: errField, Naming: st.Naming(), Namings: story.Namings}
	for _, c := range story.ConsentStatements {
		switch {
		case c.Required:
			v.Required = append(v.Required, c)
		case c.IsBox():
			b := buttons[c.ID]
			v.Boxes = append(v.Boxes, consentView{ConsentStatement: c, Agreed: st.Consented(c.ID), Withdraw: b[0], Give: b[1]})
		}
	}
	return v
}

// gone answers a link whose story is no longer held: erased (the link was
// used) or expired by retention.
func (h *Handler) gone(ctx context.Context, id string) (apigw.Response, error) {
	t, err := h.privacy.Stories.GetTombstone(ctx, id)
	if err == nil && !t.Done() {
		return page(ctx, http.StatusGone, view{Problem: &problem{"This story is being erased",
			"We began erasing it on " + t.WithdrawnAt.Format("2 January 2006") + ". It can no longer be used, and we will email you when nothing of it is left."}}), nil
	}
	if err == nil {
		return page(ctx, http.StatusGone, view{Problem: &problem{"This story has already been erased",
			"It was erased on " + t.WithdrawnAt.Format("2 January 2006") + ". We hold nothing of it any more."}}), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return apigw.Response{}, err
	}
	return page(ctx, http.StatusGone, view{Problem: &problem{"We no longer hold this story",
		"Stories are deleted when our retention period ends. There is nothing left to withdraw."}}), nil
}

// record adds a ledger entry for statement id unless the ledger already
// says agreed, and returns the story as it now is and whether this call
// changed it. Two presses at once record one entry: the later re-reads the
// ledger and finds the change made.
func (h *Handler) record(ctx context.Context, st story.Story, c story.ConsentStatement, agreed bool) (story.Story, bool, error) {
	for attempt := 0; ; attempt++ {
		if st.Consented(c.ID) == agreed {
			return st, false, nil
		}
		rec := story.ConsentRecord{Statement: c.ID, Version: c.Version(), Agreed: agreed, At: time.Now().UTC(), Channel: "withdraw-page"}
		err := h.privacy.Stories.RecordConsent(ctx, st.ID, len(st.Consents), rec)
		if errors.Is(err, store.ErrLedgerChanged) && attempt < 5 {
			if st, err = h.privacy.Stories.GetStory(ctx, st.ID); err != nil {
				return st, false, err
			}
			continue
		}
		if err != nil {
			return st, false, err
		}
		st.Consents = append(append([]story.ConsentRecord(nil), st.Consents...), rec)
		return st, true, nil
	}
}

// lastChange is the ledger position of the latest entry the withdraw page
// made for any of statements, or -1 when it made none. It names a change's
// emails, so a press that changes nothing sends only what failed before.
func lastChange(st story.Story, statements ...string) int {
	last := -1
	for i, r := range st.Consents {
		if r.Channel != "withdraw-page" {
			continue
		}
		for _, s := range statements {
			if r.Statement == s {
				last = i
			}
		}
	}
	return last
}

// setConsent withdraws (agreed false) or gives again one box consent.
func (h *Handler) setConsent(ctx context.Context, tok string, st story.Story, id string, agreed bool) (apigw.Response, error) {
	c, ok := story.FindConsent(id)
	if !ok || c.Required || !c.IsBox() {
		// Withdrawing a required consent is erasing the story.
		return h.show(ctx, tok, st, "To withdraw that, erase your story below.", "", http.StatusUnprocessableEntity)
	}
	st, changed, err := h.record(ctx, st, c, agreed)
	if err != nil {
		return apigw.Response{}, err
	}
	w := teamWords[id]
	change := mail.Change{What: w.what, From: "yes", To: "no", Summary: w.stop}
	sentence := "You no longer agree to this: “" + c.Text + "”"
	action := "withdraw"
	already := "You had already withdrawn this"
	if agreed {
		change = mail.Change{What: w.what, From: "no", To: "yes", Summary: w.again}
		sentence = "You agree to this again: “" + c.Text + "”"
		action = "give"
		already = "You had already agreed to this"
	}
	return h.told(ctx, tok, st, changed, "consent_"+id, lastChange(st, id), change, sentence, already, retry{Action: action, Statement: id})
}

// setNaming records a new answer to "How would you like to be named?".
func (h *Handler) setNaming(ctx context.Context, tok string, st story.Story, id, from string) (apigw.Response, error) {
	n, ok := story.FindNaming(id)
	if !ok {
		return h.show(ctx, tok, st, story.NamingMissing, "naming", http.StatusUnprocessableEntity)
	}
	before := st.Naming()
	if f, ok := story.FindNaming(from); ok && before.ID == n.ID {
		before = f // a retry: the change was recorded, the team not told
	}
	if before.ID == n.ID {
		return h.show(ctx, tok, st, "That is already how you will be named: choose another answer to change it", "naming", http.StatusUnprocessableEntity)
	}
	changed := false
	for _, sc := range []struct {
		id     string
		agreed bool
	}{{"named", n.Named}, {"role", n.Role}} {
		c, _ := story.FindConsent(sc.id)
		var err error
		var ch bool
		if st, ch, err = h.record(ctx, st, c, sc.agreed); err != nil {
			return apigw.Response{}, err
		}
		changed = changed || ch
	}
	after := mail.UsageOf(st).Naming
	change := mail.Change{What: "Name them", From: mail.UsageOf(story.Story{Consents: namingLedger(before)}).Naming, To: after, Summary: "name them: " + after}
	return h.told(ctx, tok, st, changed, "naming", lastChange(st, "named", "role"), change, "You would now like to be named: "+strings.ToLower(n.Label[:1])+n.Label[1:]+".",
		"You had already chosen this", retry{Action: "naming", Naming: n.ID, From: before.ID})
}

// namingLedger is a ledger that amounts to naming n.
func namingLedger(n story.Naming) []story.ConsentRecord {
	return []story.ConsentRecord{{Statement: "named", Agreed: n.Named}, {Statement: "role", Agreed: n.Role}}
}

// told tells the team and the volunteer of a recorded change. Each email
// is sent once per change (claimed on the story under kind): pressing
// again sends nothing more, except an email that failed before. A press
// that changed nothing and has nothing left to send says so. at is the
// change's ledger position (lastChange), -1 when this page made none.
func (h *Handler) told(ctx context.Context, tok string, st story.Story, changed bool, what string, at int, change mail.Change, sentence, already string, again retry) (apigw.Response, error) {
	privacyURL := mail.PrivacyURL(h.cfg.SiteURL)
	v := view{Token: tok, Story: &st, Done: "Your choice is recorded", DoneDetail: []string{sentence}}
	if !changed && at < 0 {
		// Nothing changed here, ever: there is no change to tell of.
		v.Done = already
		return page(ctx, http.StatusOK, v), nil
	}
	kind := what + "_" + strconv.Itoa(at)
	told, err := h.once(ctx, st.ID, kind+"_alert", func() (mail.Message, error) {
		return mail.ConsentChangeAlert(st, h.cfg.CommsAddress, []mail.Change{change}, privacyURL)
	})
	if err != nil {
		return apigw.Response{}, err
	}
	confirmed, err := h.once(ctx, st.ID, kind+"_confirmation", func() (mail.Message, error) { return mail.ConsentChanged(st, sentence, privacyURL) })
	if err != nil {
		return apigw.Response{}, err
	}
	if !changed && told == emailDone && confirmed == emailDone {
		v.Done = already
		v.DoneDetail = append(v.DoneDetail, "The communications team was told when you made this change.")
		return page(ctx, http.StatusOK, v), nil
	}
	if told == emailFailed {
		v.Retry = &again
		v.DoneDetail = append(v.DoneDetail, "We could not tell the communications team just now. Please press the button below in a few minutes.")
		return page(ctx, http.StatusServiceUnavailable, v), nil
	}
	v.DoneDetail = append(v.DoneDetail, "We have told the communications team.")
	v.DoneDetail = append(v.DoneDetail, confirmation(confirmed != emailFailed))
	return page(ctx, http.StatusOK, v), nil
}

// What became of one email.
type emailOutcome int

const (
	emailSent   emailOutcome = iota // sent now
	emailDone                       // sent before (or being sent by another request)
	emailFailed                     // not sent: a later press tries again
)

// once sends the email kind of story id unless it went out before.
func (h *Handler) once(ctx context.Context, id, kind string, m func() (mail.Message, error)) (emailOutcome, error) {
	claimed, err := h.privacy.Stories.ClaimEmail(ctx, id, kind, 2*time.Minute)
	if err != nil {
		return emailFailed, err
	}
	if !claimed {
		return emailDone, nil
	}
	msg, err := m()
	var msgID string
	if err == nil {
		msgID, err = h.mail.Send(ctx, msg)
	}
	if err != nil {
		slog.ErrorContext(ctx, "withdrawal email not sent", "kind", kind, "error", err.Error())
		return emailFailed, h.privacy.Stories.ReleaseEmail(context.WithoutCancel(ctx), id, kind)
	}
	if err := h.privacy.Stories.MarkEmailSent(ctx, id, kind, msgID); err != nil {
		slog.WarnContext(ctx, "withdrawal email sent but not marked", "kind", kind, "error", err.Error())
	}
	return emailSent, nil
}

func confirmation(sent bool) string {
	if sent {
		return "We have sent you an email to confirm."
	}
	return "We could not email you a confirmation just now: this page is your confirmation."
}

// erase runs the erasure. Once it has begun it is carried on by the
// tombstone's stream record should this request fail part way. A transient
// fault (throttling, a server error, a timeout) after the tombstone exists
// is answered 202: the volunteer is told the erasure is under way rather
// than asked to try again. Any other failure (a denied call, a bug) is the
// request's error, logged and answered 5xx, never hidden behind a 202.
func (h *Handler) erase(ctx context.Context, st story.Story) (apigw.Response, error) {
	res, err := h.privacy.Erase(ctx, st.ID)
	if err != nil {
		if !privacy.Transient(err) {
			return apigw.Response{}, fmt.Errorf("erase: %w", err)
		}
		t, terr := h.privacy.Stories.GetTombstone(context.WithoutCancel(ctx), st.ID)
		if terr != nil {
			return apigw.Response{}, errors.Join(fmt.Errorf("erase: %w", err), terr)
		}
		slog.WarnContext(ctx, "erasure will be finished from the stream", "error", err.Error())
		return page(ctx, http.StatusAccepted, view{Done: "Your story is being erased",
			DoneDetail: []string{"We began erasing your story on " + t.WithdrawnAt.Format("2 January 2006") + ": it can no longer be used.",
				"We will finish within minutes, tell the communications team, and email you when nothing of it is left."}}), nil
	}
	slog.InfoContext(ctx, "story erased at the volunteer's request", "clips", res.Clips, "uploads", res.Uploads, "exports", res.Exports)
	return page(ctx, http.StatusOK, view{Done: "Your story has been erased",
		DoneDetail: []string{"We have deleted your story, your answers and your video clips.",
			"The communications team is being told to stop using it, and we are sending you an email to confirm."}}), nil
}
