// Package bounce handles the SES events of the configuration set every
// email goes through (delivered by SNS): a permanent bounce or a complaint
// marks the address undeliverable, so no further email is tried to it (see
// mail.SkipUndeliverable). Transient bounces (a full mailbox) mark nothing.
// SNS delivers at least once; marking twice is harmless. The addresses are
// never logged.
package bounce

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/config"
	"frontlinevoices/shared/store"
)

// Config is the bounce function's configuration.
type Config struct {
	// TableName keeps the marks, each for RetentionDays.
	config.Shared
}

// Marks is what the handler needs from the store.
type Marks interface {
	MarkUndeliverable(ctx context.Context, address, reason string, at time.Time) error
}

var _ Marks = (*store.Store)(nil)

// Handler handles SNS batches of SES events.
type Handler struct{ marks Marks }

// New returns a handler marking addresses in marks.
func New(marks Marks) *Handler { return &Handler{marks: marks} }

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, events.SNSEvent) error, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	st := store.FromConfig(awsCfg, cfg.TableName).WithRetention(cfg.Retention())
	return New(st).Handle, nil
}

// Event is the part of an SES event (event publishing's eventType, or an
// identity notification's notificationType) the handler reads.
type Event struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType        string      `json:"bounceType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []recipient `json:"complainedRecipients"`
		Timestamp            time.Time   `json:"timestamp"`
	} `json:"complaint"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// Handle marks every address a message reports. An error (the table could
// not be written) fails the invocation, and Lambda retries the event, then
// parks it in the dead-letter queue.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) error {
	for _, rec := range ev.Records {
		var e Event
		if err := json.Unmarshal([]byte(rec.SNS.Message), &e); err != nil {
			slog.WarnContext(ctx, "not an SES event; ignored", "messageId", rec.SNS.MessageID)
			continue
		}
		reason, addrs, at := e.undeliverable()
		for _, a := range addrs {
			if err := h.marks.MarkUndeliverable(ctx, a, reason, cmp.Or(at, rec.SNS.Timestamp)); err != nil {
				return fmt.Errorf("bounce: %w", err)
			}
		}
		slog.InfoContext(ctx, "ses event", "messageId", rec.SNS.MessageID, "type", cmp.Or(e.EventType, e.NotificationType),
			"reason", reason, "marked", len(addrs))
	}
	return nil
}

// undeliverable returns the reason and the addresses to mark: those of a
// permanent bounce or of a complaint; none for anything else.
func (e Event) undeliverable() (string, []string, time.Time) {
	var out []string
	switch strings.ToLower(cmp.Or(e.EventType, e.NotificationType)) {
	case "bounce":
		if e.Bounce == nil || e.Bounce.BounceType != "Permanent" {
			return "", nil, time.Time{}
		}
		for _, r := range e.Bounce.BouncedRecipients {
			out = append(out, r.EmailAddress)
		}
		return "bounce", out, e.Bounce.Timestamp
	case "complaint":
		if e.Complaint == nil {
			return "", nil, time.Time{}
		}
		for _, r := range e.Complaint.ComplainedRecipients {
			out = append(out, r.EmailAddress)
		}
		return "complaint", out, e.Complaint.Timestamp
	}
	return "", nil, time.Time{}
}
