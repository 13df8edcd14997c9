// Package notify handles the stories table's DynamoDB stream: for each new
// story it emails the comms team an alert and the volunteer a confirmation.
// Records arrive at least once, so each email is claimed with a conditional
// write before it is sent and marked sent after: however often a record is
// delivered, each email goes out once. A failed send releases its claim and
// reports the record as failed, so Lambda delivers it again.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// Config is the notify function's configuration.
type Config struct {
	// SigningKeys (in Shared) signs the personal links in the confirmation;
	// RetentionDays is how long stories are kept, and so how long the
	// withdrawal link lasts.
	config.Shared
	config.Mail
	SiteURL    string        `env:"SITE_URL,required" check:"origin"`
	ClaimLease time.Duration `env:"CLAIM_LEASE" default:"2m"`
}

// Stories is what notify needs from the store.
type Stories interface {
	GetStory(ctx context.Context, id string) (story.Story, error)
	ClaimEmail(ctx context.Context, id, kind string, lease time.Duration) (bool, error)
	MarkEmailSent(ctx context.Context, id, kind, messageID string) error
	MarkEmailFailed(ctx context.Context, id, kind, code string) error
	ReleaseEmail(ctx context.Context, id, kind string) error
}

// Sender sends one email.
type Sender interface {
	Send(ctx context.Context, msg mail.Message) (string, error)
}

var (
	_ Stories = (*store.Store)(nil)
	_ Sender  = (*mail.Mailer)(nil)
)

// Email kinds, also the names of the sent markers on the story.
const (
	KindAlert        = "alert"
	KindConfirmation = "confirmation"
)

// Handler handles stream batches.
type Handler struct {
	cfg     Config
	stories Stories
	mail    Sender
	// Links returns the volunteer's personal links for the confirmation.
	Links func(context.Context, story.Story) (mail.Links, error)
}

// New returns a notify handler.
func New(cfg Config, stories Stories, sender Sender) *Handler {
	return &Handler{cfg: cfg, stories: stories, mail: sender,
		Links: func(context.Context, story.Story) (mail.Links, error) {
			return mail.Links{PrivacyURL: mail.PrivacyURL(cfg.SiteURL)}, nil
		},
	}
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	st := store.FromConfig(awsCfg, cfg.TableName)
	h := New(cfg, st, mail.SkipUndeliverable(mail.FromConfig(awsCfg, cfg.Sender).WithConfigurationSet(cfg.ConfigurationSet), st))
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	h.Links = PersonalLinks(signer, cfg.SiteURL, cfg.Retention(), time.Now)
	return h.Handle, nil
}

// PersonalLinks gives the confirmation its personal links: "add video
// clips" (the thank-you page with an upload token that lasts
// links.UploadLinkLife) and "manage or withdraw your story" (a token that
// lasts as long as the story is kept). Tokens carry only the story id.
func PersonalLinks(signer token.Signer, siteURL string, retention time.Duration, now func() time.Time) func(context.Context, story.Story) (mail.Links, error) {
	site := strings.TrimRight(siteURL, "/")
	return func(ctx context.Context, st story.Story) (mail.Links, error) {
		up, err := signer.Sign(ctx, links.UploadPurpose, st.ID, now().Add(links.UploadLinkLife))
		if err != nil {
			return mail.Links{}, err
		}
		wd, err := signer.Sign(ctx, links.WithdrawPurpose, st.ID, st.SubmittedAt.Add(retention))
		if err != nil {
			return mail.Links{}, err
		}
		return mail.Links{UploadURL: site + "/thanks?t=" + up, WithdrawURL: site + "/withdraw?t=" + wd, PrivacyURL: mail.PrivacyURL(site)}, nil
	}
}

// Handle processes one batch and reports the records to deliver again.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		start := time.Now()
		id, ok := storyID(rec)
		if !ok || rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue
		}
		sent, err := h.notify(ctx, id)
		attrs := []any{"eventId", rec.EventID, "sequence", rec.Change.SequenceNumber, "sent", sent, "latencyMs", time.Since(start).Milliseconds()}
		if err != nil {
			slog.ErrorContext(ctx, "notify failed; the record will be retried", append(attrs, "error", err.Error())...)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			continue
		}
		slog.InfoContext(ctx, "notified", attrs...)
	}
	return resp, nil
}

func storyID(rec events.DynamoDBEventRecord) (string, bool) {
	pk, sk := rec.Change.Keys[store.AttrPK], rec.Change.Keys[store.AttrSK]
	if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
		return "", false
	}
	return store.StoryIDFromKey(pk.String(), sk.String())
}

// notify sends whichever of the story's emails have not gone out yet and
// returns how many it sent.
func (h *Handler) notify(ctx context.Context, id string) (int, error) {
	st, err := h.stories.GetStory(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil // erased before we got to it: nothing to tell anyone
	}
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, kind := range []string{KindAlert, KindConfirmation} {
		ok, err := h.sendOnce(ctx, st, kind)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

func (h *Handler) sendOnce(ctx context.Context, st story.Story, kind string) (bool, error) {
	claimed, err := h.stories.ClaimEmail(ctx, st.ID, kind, h.cfg.ClaimLease)
	if err != nil || !claimed {
		return false, err
	}
	msg, err := h.message(ctx, st, kind)
	var id string
	if err == nil {
		id, err = h.mail.Send(ctx, msg)
	}
	if se, ok := errors.AsType[*mail.SendError](err); ok && se.Permanent {
		// Sending again would fail again (and block the stream shard
		// meanwhile): record it for the digest, and go on.
		slog.WarnContext(ctx, "email refused for good; not retried", "kind", kind, "code", se.Code)
		if err := h.stories.MarkEmailFailed(ctx, st.ID, kind, se.Code); err != nil {
			return false, fmt.Errorf("%s email: %w", kind, err)
		}
		return false, nil
	}
	if err != nil {
		if rerr := h.stories.ReleaseEmail(ctx, st.ID, kind); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, fmt.Errorf("%s email: %w", kind, err)
	}
	if err := h.stories.MarkEmailSent(ctx, st.ID, kind, id); err != nil {
		// The email went out: retrying the record would send it twice. The
		// claim expires after the lease; log so the gap can be seen.
		slog.WarnContext(ctx, "email sent but not marked", "kind", kind, "error", err.Error())
	}
	return true, nil
}

func (h *Handler) message(ctx context.Context, st story.Story, kind string) (mail.Message, error) {
	if kind == KindAlert {
		return mail.Alert(st, h.cfg.CommsAddress, mail.PrivacyURL(h.cfg.SiteURL))
	}
	links, err := h.Links(ctx, st)
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Confirmation(st, links)
}
