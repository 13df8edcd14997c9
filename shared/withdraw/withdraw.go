// Package withdraw serves the volunteer's personal withdrawal page
// (GET/POST /withdraw?t=…): it shows what is held, withdraws one consent,
// or erases the story with every clip. It works without JavaScript.
package withdraw

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/web"
)

// Config is the withdraw function's configuration.
type Config struct {
	TableName     string   `env:"TABLE_NAME,required"`
	ClipsBucket   string   `env:"CLIPS_BUCKET"`
	SigningSecret string   `env:"SIGNING_SECRET,required"`
	Sender        string   `env:"SENDER_ADDRESS,required"`
	CommsAddress  []string `env:"COMMS_ADDRESSES,required"`
	S3PathStyle   bool     `env:"S3_PATH_STYLE"`
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

// New returns a withdrawal handler.
func New(cfg Config, p *privacy.Service, sender Sender) (*Handler, error) {
	signer, err := token.NewSigner(cfg.SigningSecret)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, privacy: p, mail: sender, signer: signer}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	p := &privacy.Service{Stories: store.FromConfig(awsCfg, cfg.TableName)}
	if cfg.ClipsBucket != "" {
		p.Clips = bucket.FromConfig(awsCfg, cfg.ClipsBucket, cfg.S3PathStyle)
	}
	h, err := New(cfg, p, mail.FromConfig(awsCfg, cfg.Sender))
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), apigw.WithCompression(h.Handle)), nil
}

// view is what the withdraw page shows.
type view struct {
	Token      string
	Story      *story.Story
	Consents   []consentView
	Clips      int
	Error      string
	Done       string
	DoneDetail []string
	Retry      string // a consent whose withdrawal the team has not been told of
	Problem    *problem
}

type consentView struct {
	story.ConsentStatement
	Agreed bool
}

type problem struct{ Title, Message string }

var csp = apigw.ContentSecurityPolicy()

// Handle serves GET and POST /withdraw.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
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
	id, err := h.signer.Verify(links.WithdrawPurpose, tok, time.Now())
	switch {
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
		return h.show(ctx, tok, st, "", http.StatusOK)
	}
	switch form.Get("action") {
	case "withdraw":
		return h.withdrawConsent(ctx, tok, st, form.Get("statement"))
	case "erase":
		if form.Get("confirm") == "" {
			return h.show(ctx, tok, st, "Tick the box to confirm that you want to erase everything.", http.StatusUnprocessableEntity)
		}
		return h.erase(ctx, st)
	}
	return h.show(ctx, tok, st, "Choose what you would like to do.", http.StatusUnprocessableEntity)
}

func (h *Handler) show(ctx context.Context, tok string, st story.Story, errMsg string, status int) (apigw.Response, error) {
	clips, err := h.privacy.ClipCount(ctx, st.ID)
	if err != nil {
		return apigw.Response{}, err
	}
	v := view{Token: tok, Story: &st, Clips: clips, Error: errMsg}
	for _, c := range story.ConsentStatements {
		v.Consents = append(v.Consents, consentView{ConsentStatement: c, Agreed: st.Consented(c.ID)})
	}
	return page(ctx, status, v), nil
}

// gone answers a link whose story is no longer held: erased (the link was
// used) or expired by retention.
func (h *Handler) gone(ctx context.Context, id string) (apigw.Response, error) {
	t, err := h.privacy.Stories.GetTombstone(ctx, id)
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

func (h *Handler) withdrawConsent(ctx context.Context, tok string, st story.Story, id string) (apigw.Response, error) {
	c, ok := story.FindConsent(id)
	if !ok || c.Required {
		// Withdrawing a required consent is erasing the story.
		return h.show(ctx, tok, st, "To withdraw that, erase your story below.", http.StatusUnprocessableEntity)
	}
	if st.Consented(id) {
		rec := story.ConsentRecord{Statement: id, Version: c.Version(), Agreed: false, At: time.Now().UTC(), Channel: "withdraw-page"}
		if err := h.privacy.Stories.RecordConsent(ctx, st.ID, rec); err != nil {
			return apigw.Response{}, err
		}
	}
	// Sent on every request, so a volunteer can press again after a failure.
	told := h.tell(ctx, func() (mail.Message, error) {
		return mail.WithdrawalAlert(st, h.cfg.CommsAddress, "they no longer agree: “"+c.Text+"”")
	})
	confirmed := h.tell(ctx, func() (mail.Message, error) { return mail.ConsentWithdrawn(st, c) })
	v := view{Token: tok, Story: &st, Done: "Your choice is recorded", DoneDetail: []string{"You no longer agree to this: “" + c.Text + "”"}}
	if !told {
		v.Retry = id
		v.DoneDetail = append(v.DoneDetail, "We could not tell the communications team just now. Please press the button below in a few minutes.")
		return page(ctx, http.StatusServiceUnavailable, v), nil
	}
	v.DoneDetail = append(v.DoneDetail, "We have told the communications team.")
	v.DoneDetail = append(v.DoneDetail, confirmation(confirmed))
	return page(ctx, http.StatusOK, v), nil
}

func confirmation(sent bool) string {
	if sent {
		return "We have sent you an email to confirm."
	}
	return "We could not email you a confirmation just now: this page is your confirmation."
}

func (h *Handler) erase(ctx context.Context, st story.Story) (apigw.Response, error) {
	_, clips, err := h.privacy.Erase(ctx, st.ID)
	if err != nil {
		return apigw.Response{}, err
	}
	slog.InfoContext(ctx, "story erased at the volunteer's request", "clips", clips)
	// The erasure is done. Should the team's email fail, the tombstone still
	// puts the withdrawal in their next digest.
	h.tell(ctx, func() (mail.Message, error) {
		return mail.WithdrawalAlert(st, h.cfg.CommsAddress, "they have erased their story and clips. Stop using it.")
	})
	confirmed := h.tell(ctx, func() (mail.Message, error) { return mail.Erased(st, clips) })
	return page(ctx, http.StatusOK, view{Done: "Your story has been erased",
		DoneDetail: []string{"We have deleted your story, your answers and your video clips.",
			"The communications team has been told to stop using it.", confirmation(confirmed)}}), nil
}

// tell sends one email and reports whether it went. The change it reports
// is already made, so a failure is logged and told to the volunteer, not
// undone.
func (h *Handler) tell(ctx context.Context, m func() (mail.Message, error)) bool {
	msg, err := m()
	if err == nil {
		_, err = h.mail.Send(ctx, msg)
	}
	if err != nil {
		slog.ErrorContext(ctx, "withdrawal email not sent", "error", err.Error())
		return false
	}
	return true
}

func page(ctx context.Context, status int, v view) apigw.Response {
	return web.Page(ctx, status, "withdraw.html", v, csp)
}
