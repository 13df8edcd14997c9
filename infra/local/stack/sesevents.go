package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SES's mailbox simulator: mail to these addresses bounces for good or is
// complained about, on AWS as here, so the bounce path can be tried end to
// end without hurting the account's reputation.
const (
	SimulatorBounce    = "bounce@simulator.amazonses.com"
	SimulatorComplaint = "complaint@simulator.amazonses.com"
)

// sesDestination is one AWS::SES::ConfigurationSetEventDestination with an
// SNS destination: which configuration set, which event types, which topic.
type sesDestination struct {
	configSet string
	types     []string
	topic     string
}

// snsSubscription is a function subscribed to a topic (an SNS event).
type snsSubscription struct {
	topic string
	fn    *function
}

// wireSESEvents reads the template's configuration set event destinations.
func (s *Stack) wireSESEvents() error {
	for name, r := range s.Template.Resources {
		if r.Type != "AWS::SES::ConfigurationSetEventDestination" {
			continue
		}
		set, err := s.res.Resolve(s.Template, r.Properties["ConfigurationSetName"])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		dest := asMap(r.Properties["EventDestination"])
		if dest["Enabled"] == false {
			continue
		}
		topicRef := asMap(asMap(dest["SnsDestination"])["TopicARN"])["Ref"]
		if topicRef == nil {
			continue // only SNS destinations are delivered locally
		}
		d := sesDestination{configSet: set, topic: asString(topicRef)}
		for _, t := range asSlice(dest["MatchingEventTypes"]) {
			d.types = append(d.types, strings.ToLower(asString(t)))
		}
		s.sesDests = append(s.sesDests, d)
	}
	s.Outbox.onSent = s.onEmailSent
	return nil
}

// onEmailSent raises the SES events of a message sent to the mailbox
// simulator through a configuration set with an SNS destination, and
// publishes them to the functions subscribed to that topic.
func (s *Stack) onEmailSent(e Email) {
	for _, to := range e.To {
		kind := ""
		switch strings.ToLower(to) {
		case SimulatorBounce:
			kind = "bounce"
		case SimulatorComplaint:
			kind = "complaint"
		default:
			continue
		}
		for _, d := range s.sesDests {
			if d.configSet != e.ConfigurationSet || !slices.Contains(d.types, kind) {
				continue
			}
			msg := sesEvent(kind, e, to)
			for _, sub := range s.snsSubs {
				if sub.topic == d.topic {
					s.pending.Add(1)
					go s.deliverSNS(sub, msg)
				}
			}
		}
	}
}

// sesEvent is the JSON SES event publishing sends for a bounce or complaint.
func sesEvent(kind string, e Email, to string) string {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	mail := map[string]any{"timestamp": e.At.Format(time.RFC3339Nano), "source": e.From, "messageId": e.ID,
		"destination": e.To, "tags": map[string][]string{"ses:configuration-set": {e.ConfigurationSet}}}
	ev := map[string]any{"mail": mail}
	if kind == "bounce" {
		ev["eventType"] = "Bounce"
		ev["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "timestamp": now,
			"feedbackId": "local-" + e.ID, "bouncedRecipients": []map[string]string{{"emailAddress": to, "action": "failed", "status": "5.1.1"}}}
	} else {
		ev["eventType"] = "Complaint"
		ev["complaint"] = map[string]any{"timestamp": now, "feedbackId": "local-" + e.ID,
			"complainedRecipients": []map[string]string{{"emailAddress": to}}}
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// deliverSNS invokes a subscribed function as SNS does (asynchronously,
// retried as the function's EventInvokeConfig says).
func (s *Stack) deliverSNS(sub snsSubscription, msg string) {
	defer s.pending.Add(-1)
	ev := events.SNSEvent{Records: []events.SNSEventRecord{{
		EventSource: "aws:sns", EventVersion: "1.0",
		EventSubscriptionArn: "arn:aws:sns:" + Region + ":000000000000:" + sub.topic + ":local",
		SNS: events.SNSEntity{
			Type: "Notification", MessageID: newRequestID(), Message: msg, Timestamp: time.Now().UTC(),
			TopicArn: "arn:aws:sns:" + Region + ":000000000000:" + sub.topic,
		},
	}}}
	retries := 2
	if n, ok := asMap(s.Template.Resources[sub.fn.name].Properties["EventInvokeConfig"])["MaximumRetryAttempts"].(int); ok {
		retries = n
	}
	for attempt := 0; ; attempt++ {
		err := sub.fn.invoke(context.Background(), ev, nil)
		if err == nil {
			return
		}
		if attempt >= retries {
			s.log.Error("SNS event dropped after retries (on AWS: sent to the on-failure destination)", "function", sub.fn.name, "error", err.Error())
			return
		}
		time.Sleep(backoff(attempt, s.retryWait()))
	}
}
