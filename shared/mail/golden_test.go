package mail

import (
	"frontlinevoices/shared/internal/golden"
	"testing"
	"time"

	"frontlinevoices/shared/story"
)

func goldenMessage(t *testing.T, name string, msg Message, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, name+".html.golden", []byte(msg.HTML))
	golden.Check(t, name+".txt.golden", []byte("Subject: "+msg.Subject+"\n\n"+msg.Text))
}

var sentAt = time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)

// typical is a story with every optional answer given.
func typical() story.Story {
	return story.Story{
		ID: "01KAXQ3G7ZV6R9T2M4N8P0B5CD", Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: "southwark", Email: "amara@example.org", Phone: "07700 900123", PreferredContact: "phone", PersonalEmailOnly: true, ListSize: "10000_19999",
		Topics: []string{"workload", "access"}, Activities: []string{"media", "mp_meeting"},
		Text:          "Our phone lines opened at 8am and 140 people were waiting.\n\nBy 8:05 every appointment had gone.\nSome waited again the next day.",
		PatientsSpeak: "maybe", PatientsNote: "Two patients said they would, if asked first.",
		Contacts: []story.Contact{
			{Name: "Jane Doe", Party: "Labour", Constituency: "Peckham", When: "March 2026", What: "Wrote about the phone queue."},
			{Name: "John Roe", What: "Met at a surgery."},
		},
		Flags:       []string{"May identify a patient: a name after “called”"},
		SubmittedAt: sentAt,
		Consents: []story.ConsentRecord{
			{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}, {Statement: "public", Agreed: true},
			{Statement: "named", Agreed: true}, {Statement: "role", Agreed: true}, {Statement: "clips", Agreed: true},
		},
	}
}

// minimal is a story with no optional answer.
func minimal() story.Story {
	return story.Story{
		ID: "01KAXQ3G7ZV6R9T2M4N8P0B5CE", Name: "Sam Lee", Role: "gp", Practice: "The Surgery", Borough: "barnet",
		Email: "sam@example.org", PreferredContact: "email", Topics: []string{"funding"}, Text: "Short.",
		PatientsSpeak: "no", SubmittedAt: sentAt.Add(200 * 24 * time.Hour),
		Consents: []story.ConsentRecord{{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}},
	}
}

// hostile is a story whose every answer tries to break out of its place.
func hostile() story.Story {
	return story.Story{
		ID: `01"><script>`, Name: `<script>alert("x")</script><b>Eve</b> & 'Co' +1`, Role: "other", RoleOther: `=HYPERLINK("http://evil.example")`,
		Practice: `"><img src=x onerror=alert(1)> & Co`, Borough: "lambeth", Email: "eve\r\nBcc: all@example.org",
		Phone: "+44 <20>", PreferredContact: `email"<`, Topics: []string{"other"}, TopicOther: "+cmd|' /C calc'!A0",
		Text:          "<style>body{display:none}</style>\r\nBcc: everyone@example.org\r\n\r\n<a href=\"javascript:alert(1)\">click</a>\x00nul",
		PatientsSpeak: "yes", PatientsNote: "@SUM(1+1)*cmd|' /C calc'!A0",
		Contacts:    []story.Contact{{Name: "-2+3", When: "<now>", What: "Line one\r\nSubject: spoofed\nline three"}},
		Flags:       []string{"<i>stored flag</i>"},
		SubmittedAt: sentAt,
		Consents:    []story.ConsentRecord{{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}, {Statement: "public", Agreed: true}},
	}
}

// TestEmailsGolden keeps every email the mail package writes, byte for
// byte, in testdata/.
func TestEmailsGolden(t *testing.T) {
	const privacy = "https://stories.example.org/privacy"
	comms := []string{"comms@example.org"}
	for name, st := range map[string]story.Story{"typical": typical(), "minimal": minimal(), "hostile": hostile()} {
		t.Run(name, func(t *testing.T) {
			msg, err := Alert(st, comms, privacy)
			goldenMessage(t, "alert-"+name, msg, err)
			links := Links{UploadURL: "https://stories.example.org/upload?t=abc&x=1", WithdrawURL: "https://stories.example.org/withdraw?t=a+b/c", PrivacyURL: privacy}
			if name == "minimal" {
				links = Links{}
			}
			if name == "hostile" {
				links = Links{UploadURL: "javascript:alert(1)", WithdrawURL: `https://x.example/"><b>?a=<1>&b='2' é`, PrivacyURL: privacy}
			}
			msg, err = Confirmation(st, links)
			goldenMessage(t, "confirmation-"+name, msg, err)
			pURL := privacy
			if name == "minimal" {
				pURL = ""
			}
			msg, err = Erased(st, len(name)%3, pURL)
			goldenMessage(t, "erased-"+name, msg, err)
			msg, err = ConsentChanged(st, "You no longer agree to this: “"+name+" <&>”", pURL)
			goldenMessage(t, "consent-changed-"+name, msg, err)
			msg, err = ConsentChangeAlert(st, comms, []Change{
				{What: "Quote publicly", From: "yes", To: "no", Summary: "stop quoting it publicly"},
				{What: "Name them", From: "yes: name, role and borough", To: "no name: role and borough only", Summary: "name them: <" + name + ">"},
			}, pURL)
			goldenMessage(t, "consent-change-alert-"+name, msg, err)
			msg, err = ErasureAlert(st, comms, pURL)
			goldenMessage(t, "erasure-alert-"+name, msg, err)
		})
	}
}
