package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/notify"
	"frontlinevoices/shared/safeguard"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

const sampleID = "abcdefghijklmnopqrstuvwxyz"

type fixture struct {
	h      *notify.Handler
	outbox *stack.Outbox
	faults *stack.Faults
	store  *store.Store
}

func setup(t *testing.T) fixture {
	t.Helper()
	ses, outbox, faults := testenv.SES(t)
	stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	h := notify.New(notify.Config{
		Shared:  config.Shared{TableName: "StoriesTable"},
		Mail:    config.Mail{CommsAddress: []string{"comms@example.org", "press@example.org"}, Sender: "stories@example.org"},
		SiteURL: "https://stories.example.org", ClaimLease: time.Minute,
	}, stories, mail.NewMailer(ses, "stories@example.org"))
	return fixture{h: h, outbox: outbox, faults: faults, store: stories}
}

func (f fixture) put(t *testing.T, change func(*story.Submission)) story.Story {
	t.Helper()
	sub := story.Submission{
		ID: sampleID, Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: "southwark", Email: "amara@example.org", PreferredContact: "email", Topics: []string{"workload"},
		Story: "Our phone lines opened at 8am.\n\nWithin ten minutes 140 people were waiting.", PatientsSpeak: "yes",
		Consent: map[string]bool{"contact": true, "store": true}, ConsentVersion: story.ConsentVersion(),
	}
	if change != nil {
		change(&sub)
	}
	st, errs := sub.Normalize().Validate(testenv.SampleTime)
	if errs != nil {
		t.Fatal(errs)
	}
	st.Flags = safeguard.Flags(safeguard.Labels(st.Text), false) // as the submit handler does
	if _, _, err := f.store.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return st
}

func sample(t *testing.T) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	testenv.Event(t, "notify-insert.json", &ev)
	return ev
}

func TestEachEmailGoesOutOnceHoweverOftenTheRecordArrives(t *testing.T) {
	f := setup(t)
	f.put(t, nil)
	for range 3 {
		resp, err := f.h.Handle(context.Background(), sample(t))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	}
	emails := f.outbox.Emails()
	if len(emails) != 2 {
		t.Fatalf("%d emails, want an alert and a confirmation", len(emails))
	}
	alert, confirmation := emails[0], emails[1]
	if strings.Join(alert.To, ",") != "comms@example.org,press@example.org" || alert.ReplyTo[0] != "amara@example.org" ||
		alert.Subject != "New story: Practice nurse in Southwark" || !strings.Contains(alert.Text, "140 people were waiting") {
		t.Fatalf("alert %+v", alert)
	}
	if confirmation.To[0] != "amara@example.org" || !strings.Contains(confirmation.HTML, "Thank you for your story") ||
		strings.Contains(confirmation.HTML, "Amara") || strings.Contains(confirmation.Text, "Amara") {
		t.Fatalf("confirmation %+v", confirmation)
	}
}

func TestFailedSendIsRetriedAndNothingIsLost(t *testing.T) {
	f := setup(t)
	f.put(t, nil)
	f.faults.Inject("ses", "SendEmail", 1, stack.SESUnavailable)
	ev := sample(t)
	resp, err := f.h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
		t.Fatalf("first delivery: resp %+v err %v, want the record reported as failed", resp, err)
	}
	if n := len(f.outbox.Emails()); n != 1 {
		t.Fatalf("%d emails after the failure, want the confirmation only", n)
	}
	resp, err = f.h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: resp %+v err %v", resp, err)
	}
	if n := len(f.outbox.Emails()); n != 2 {
		t.Fatalf("%d emails after the retry, want 2", n)
	}
}

func TestErasedStoryAndOtherRecordsSendNothing(t *testing.T) {
	f := setup(t)
	ev := sample(t) // the story was never stored (or was erased)
	modify := sample(t)
	modify.Records[0].EventName = "MODIFY"
	for _, e := range []events.DynamoDBEvent{ev, modify} {
		resp, err := f.h.Handle(context.Background(), e)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	}
	if n := len(f.outbox.Emails()); n != 0 {
		t.Fatalf("%d emails", n)
	}
}

func TestHostileTextIsEscapedAndHeadersStayOneLine(t *testing.T) {
	f := setup(t)
	f.put(t, func(s *story.Submission) {
		s.Name = `<script>alert("x")</script> Evil`
		s.Role, s.RoleOther = "other", "Boss\r\nBcc: everyone@example.org"
		s.Story = `<img src=x onerror=alert(1)> "quoted" & <b>bold</b> — NHS number 943 476 5919`
	})
	if _, err := f.h.Handle(context.Background(), sample(t)); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.outbox.Emails() {
		if strings.ContainsAny(e.Subject, "\r\n") {
			t.Fatalf("subject has a line break: %q", e.Subject)
		}
		for _, bad := range []string{"<script>", "<img src=x", "<b>bold"} {
			if strings.Contains(e.HTML, bad) {
				t.Fatalf("HTML part carries %q unescaped", bad)
			}
		}
		confirmation := slices.Contains(e.To, "amara@example.org")
		if escaped := strings.Contains(e.HTML, "&lt;script&gt;"); escaped == confirmation {
			t.Fatalf("to %v: the sender's text escaped in HTML: %v (the alert has it, the confirmation has none of it)", e.To, escaped)
		}
		if confirmation && (strings.Contains(e.Text, "Evil") || strings.Contains(e.Text, "onerror") || strings.Contains(e.Text, "Boss")) {
			t.Fatalf("the confirmation carries text the sender typed:\n%s", e.Text)
		}
	}
	alert := f.outbox.Emails()[0]
	if !strings.Contains(alert.Text, "May identify a patient") || !strings.Contains(alert.HTML, "an NHS number") {
		t.Fatalf("the alert does not flag the NHS number:\n%s", alert.Text)
	}
}

// A permanent SES refusal is recorded and not retried: the record is not
// reported as failed, the next delivery sends nothing, the digest sees the
// failure, and the log has SES's code but never its text (the address).
func TestPermanentRefusalIsMarkedNotRetried(t *testing.T) {
	f := setup(t)
	f.put(t, nil)
	var logs strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	// The alert goes first and through; the confirmation is refused for good.
	ev := sample(t)
	f.h.Links = func(context.Context, story.Story) (mail.Links, error) {
		f.faults.Inject("ses", "SendEmail", 1, stack.SESRejected)
		return mail.Links{}, nil
	}
	for range 2 {
		resp, err := f.h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("resp %+v err %v: a permanent refusal must not be retried", resp, err)
		}
	}
	emails := f.outbox.Emails()
	if len(emails) != 1 || emails[0].To[0] != "comms@example.org" {
		t.Fatalf("emails %+v, want the alert only", emails)
	}
	st, err := f.store.GetStory(context.Background(), sampleID)
	if err != nil || st.ConfirmationFailed != "MessageRejected" || st.AlertFailed != "" {
		t.Fatalf("story failures %q %q %v", st.ConfirmationFailed, st.AlertFailed, err)
	}
	if !strings.Contains(logs.String(), "MessageRejected") || strings.Contains(logs.String(), "amara@example.org") || strings.Contains(logs.String(), "suppressed") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	if w := digest.EmailFailures(st); len(w) != 1 || !strings.Contains(w[0], "confirmation email could not be delivered (SES MessageRejected)") {
		t.Fatalf("digest warnings %v", w)
	}
}

// An address SES cannot take (not 7-bit) is refused by the local SES as by
// SES: a permanent refusal, by code only.
func TestIllegalAddressIsAPermanentRefusal(t *testing.T) {
	ses, outbox, _ := testenv.SES(t)
	_, err := mail.NewMailer(ses, "stories@example.org").Send(context.Background(), mail.Message{To: []string{"jöhn@example.org"}, Subject: "x", Text: "x"})
	se, ok := errors.AsType[*mail.SendError](err)
	if !ok || !se.Permanent || se.Code != "BadRequestException" || strings.Contains(err.Error(), "jöhn") || len(outbox.Emails()) != 0 {
		t.Fatalf("err %v", err)
	}
}
