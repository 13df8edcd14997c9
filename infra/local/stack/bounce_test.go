package stack_test

import (
	"context"
	"net/http"
	"testing"

	"frontlinevoices/infra/local/stack"
)

// The bounce path end to end: a confirmation sent through the configuration
// set to SES's mailbox simulator bounces for good (or is complained about);
// SES publishes the event to the topic, BounceFunction marks the address,
// and no further email is tried to it, while the comms team's alerts go
// on. On AWS the same simulator addresses raise the same events.
func TestPermanentBounceAndComplaintStopFurtherEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, addr := range []string{stack.SimulatorBounce, stack.SimulatorComplaint} {
		t.Run(addr, func(t *testing.T) {
			wasMarked, err := stories().Undeliverable(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			alerts0, confirmations0 := emailsTo(t, addr)
			send := func() {
				if resp, out := postJSON(t, jsonStory(openForm(t), addr)); resp.StatusCode != http.StatusCreated {
					t.Fatalf("POST = %d %v", resp.StatusCode, out)
				}
				waitIdle(t)
			}

			send()
			marked, err := stories().Undeliverable(ctx, addr)
			if err != nil || !marked {
				t.Fatalf("after the first confirmation: marked %v (%v), want the address marked", marked, err)
			}
			alerts1, confirmations1 := emailsTo(t, addr)
			wantConfirmations := confirmations0 + 1
			if wasMarked { // a second run of the test on the same stack
				wantConfirmations = confirmations0
			}
			if alerts1 != alerts0+1 || confirmations1 != wantConfirmations {
				t.Fatalf("first story: alerts %d→%d, confirmations %d→%d (want one alert, one confirmation sent through the set)",
					alerts0, alerts1, confirmations0, confirmations1)
			}
			for _, e := range st.Outbox.Emails() {
				if e.To[0] == addr && e.ConfigurationSet == "" {
					t.Errorf("%q was sent without the configuration set: SES would report nothing", e.Subject)
				}
			}

			// A second story from the same address: the team is told, the
			// address is not written to again.
			send()
			alerts2, confirmations2 := emailsTo(t, addr)
			if alerts2 != alerts1+1 || confirmations2 != confirmations1 {
				t.Fatalf("second story: alerts %d→%d, confirmations %d→%d (want the alert only)", alerts1, alerts2, confirmations1, confirmations2)
			}
		})
	}
}
