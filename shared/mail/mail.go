// Package mail sends the service's emails through SES v2 and writes them:
// an HTML part (every piece of volunteer text escaped by markup, as
// html/template would) and a plain-text part, in plain Go (parts.go).
package mail

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"frontlinevoices/shared/story"
)

// SES is the part of the SES v2 client the mailer uses.
type SES interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Message is one email.
type Message struct {
	To      []string
	ReplyTo []string
	Subject string
	Text    string
	HTML    string
}

// Mailer sends messages from one sender address.
type Mailer struct {
	ses  SES
	from string
	set  string
}

// WithConfigurationSet sends every message through SES configuration set
// name (its bounce and complaint events and reputation metrics); "" sends
// without one.
func (m *Mailer) WithConfigurationSet(name string) *Mailer {
	m.set = name
	return m
}

// NewMailer returns a mailer sending as from.
func NewMailer(ses SES, from string) *Mailer { return &Mailer{ses: ses, from: from} }

// FromConfig returns a mailer sending as from through the SDK's SES v2
// client.
func FromConfig(awsCfg aws.Config, from string) *Mailer {
	return NewMailer(sdk(sesv2.NewFromConfig(awsCfg).SendEmail), from)
}

// sdk is the SDK client's SendEmail seen through SES. The client itself is
// never reachable from an interface value: a binary that reaches reflect's
// MethodByName (text/template does) would otherwise keep all of the
// client's 117 operations.
type sdk func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)

var _ SES = sdk(nil)

func (s sdk) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return s(ctx, in, opts...)
}

// Send sends msg and returns SES's message id. Header values are checked:
// addresses must parse and the subject is kept to one line.
func (m *Mailer) Send(ctx context.Context, msg Message) (string, error) {
	if len(msg.To) == 0 {
		return "", errors.New("mail: no recipients")
	}
	if _, err := mail.ParseAddress(m.from); err != nil || strings.ContainsAny(m.from, "\r\n") {
		return "", errors.New("mail: the sender address is not valid")
	}
	for _, a := range append(append([]string{}, msg.To...), msg.ReplyTo...) {
		if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
			return "", &SendError{Code: "InvalidAddress", Permanent: true}
		}
	}
	out, err := m.ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress:     aws.String(m.from),
		ConfigurationSetName: optional(m.set),
		Destination:          &types.Destination{ToAddresses: msg.To},
		ReplyToAddresses:     msg.ReplyTo,
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject(msg.Subject)), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	})
	if err != nil {
		return "", sendError(err)
	}
	return aws.ToString(out.MessageId), nil
}

// SendError is SES's refusal of a message, by its error code only: SES's
// message text names the addresses, so it is never kept or logged.
type SendError struct {
	Code string
	// Permanent: SES refused this message for good (a rejected or illegal
	// address); sending it again would fail again.
	Permanent bool
}

func (e *SendError) Error() string {
	if e.Permanent {
		return "mail: SES refused the message for good (" + e.Code + ")"
	}
	return "mail: SES did not send the message (" + e.Code + ")"
}

// permanentCodes are the SES errors that refuse one message for good.
// Account-wide refusals (sending paused, account suspended) are not here:
// they end, and the email should go out then.
var permanentCodes = map[string]bool{"MessageRejected": true, "BadRequestException": true}

// sendError turns an SES error into a SendError that keeps only its code.
func sendError(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return &SendError{Code: api.ErrorCode(), Permanent: permanentCodes[api.ErrorCode()]}
	}
	var op *smithy.OperationError
	if errors.As(err, &op) && op.Err != nil {
		// A network failure: its text names the endpoint, not an address.
		return &SendError{Code: "Unreachable"}
	}
	return &SendError{Code: "Unknown"}
}

// subject makes s safe for the Subject header: one clean line (see
// story.CleanLine: no CR, LF or other control characters), at most 150
// characters.
func subject(s string) string {
	s = story.CleanLine(s)
	if r := []rune(s); len(r) > 150 {
		s = string(r[:149]) + "…"
	}
	return s
}

// Excerpt returns at most n characters of s, cut at a word where it can be.
func Excerpt(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexAny(cut, " \n"); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}

// Marks says whether SES reported an address undeliverable (a permanent
// bounce or a complaint); store.Store keeps them.
type Marks interface {
	Undeliverable(ctx context.Context, address string) (bool, error)
}

// Sender is anything that sends a message, such as a Mailer.
type Sender interface {
	Send(ctx context.Context, msg Message) (string, error)
}

var _ Sender = (*Mailer)(nil)

// SkipUndeliverable sends through next only to the recipients not marked
// undeliverable, so no further email is tried to an address that bounced
// for good or complained. A message left with no recipient is not sent: it
// returns the message id "" and no error (the email is done with).
func SkipUndeliverable(next Sender, marks Marks) Sender {
	return skipping{next: next, marks: marks}
}

type skipping struct {
	next  Sender
	marks Marks
}

func (s skipping) Send(ctx context.Context, msg Message) (string, error) {
	var to []string
	for _, a := range msg.To {
		bad, err := s.marks.Undeliverable(ctx, a)
		if err != nil {
			return "", err
		}
		if !bad {
			to = append(to, a)
		}
	}
	if len(to) < len(msg.To) {
		slog.InfoContext(ctx, "email not sent to addresses marked undeliverable", "skipped", len(msg.To)-len(to), "kept", len(to))
	}
	if len(to) == 0 {
		return "", nil
	}
	msg.To = to
	return s.next.Send(ctx, msg)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
