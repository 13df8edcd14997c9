package mail

import (
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/story"
)

func sample(t *testing.T, naming string, consents ...string) story.Story {
	t.Helper()
	sub := story.Submission{
		Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery", Borough: "southwark",
		Email: "amara@example.org", PreferredContact: "email", PersonalEmailOnly: true, Topics: []string{"workload"},
		Story: "Our phone lines opened at 8am and 140 people were waiting.", PatientsSpeak: "no", Naming: naming,
		Consent: map[string]bool{"contact": true, "store": true}, ConsentVersion: story.ConsentVersion(),
	}
	for _, c := range consents {
		sub.Consent[c] = true
	}
	st, errs := sub.Normalize().Validate(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	if errs != nil {
		t.Fatal(errs)
	}
	return st
}

// The alert opens with what the team may do with the story, from the
// consents as they are now, and links the privacy notice.
func TestAlertSaysFirstWhatTheTeamMayDo(t *testing.T) {
	st := sample(t, "role", "public")
	msg, err := Alert(st, []string{"comms@example.org"}, "https://stories.example.org/privacy")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{msg.HTML, msg.Text} {
		use := strings.Index(strings.ToLower(body), "can we use this?")
		story := strings.Index(body, "Our phone lines")
		if use < 0 || story < 0 || use > story {
			t.Fatalf("the usage block is not above the story:\n%s", body)
		}
		for _, want := range []string{"Quote publicly: ", "no name: role and borough only", "Clips in campaigns: ", "personal email only", "https://stories.example.org/privacy"} {
			if !strings.Contains(body, want) {
				t.Errorf("alert lacks %q", want)
			}
		}
		if strings.Contains(body, "Leave this unticked") {
			t.Error("the alert repeats the form's wording")
		}
	}
	if !strings.Contains(msg.Text, "Quote publicly: yes") || !strings.Contains(msg.Text, "Clips in campaigns: no") {
		t.Errorf("usage block wrong:\n%s", msg.Text)
	}
	// A later withdrawal is what the block shows.
	st.Consents = append(st.Consents, story.ConsentRecord{Statement: "public", Agreed: false})
	msg, _ = Alert(st, []string{"comms@example.org"}, "")
	if !strings.Contains(msg.Text, "Quote publicly: no") {
		t.Errorf("usage block ignores the withdrawal:\n%s", msg.Text)
	}
}

func TestConfirmationLinksThePrivacyNotice(t *testing.T) {
	msg, err := Confirmation(sample(t, "anonymous"), Links{PrivacyURL: "https://stories.example.org/privacy"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.HTML, `href="https://stories.example.org/privacy"`) || !strings.Contains(msg.Text, "https://stories.example.org/privacy") {
		t.Fatal("no privacy notice link")
	}
}
