package withdraw

import (
	"frontlinevoices/shared/internal/golden"
	"testing"
	"time"

	"frontlinevoices/shared/story"
)

// TestPageGolden keeps the withdraw page in each of its states, byte for
// byte, in testdata/.
func TestPageGolden(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	full := story.Story{
		ID: "01KAXQ3G7ZV6R9T2M4N8P0B5CD", Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: "southwark", Email: "amara@example.org", Phone: "07700 900123", PreferredContact: "phone", PersonalEmailOnly: true, ListSize: "10000_19999",
		Topics: []string{"workload", "access"}, Activities: []string{"media", "mp_meeting"},
		Text:          "Our phone lines opened at 8am.\n\nBy 8:05 every appointment had gone.",
		PatientsSpeak: "maybe", PatientsNote: "Two patients said they would.",
		Contacts: []story.Contact{
			{Name: "Jane Doe", Party: "Labour", Constituency: "Peckham", When: "March 2026", What: "Wrote about the phone queue."},
			{Name: "John Roe", What: "Met at a surgery."},
		},
		SubmittedAt: at,
		Consents: []story.ConsentRecord{
			{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}, {Statement: "public", Agreed: true},
			{Statement: "named", Agreed: true}, {Statement: "role", Agreed: true},
		},
	}
	bare := story.Story{
		ID: "01KAXQ3G7ZV6R9T2M4N8P0B5CE", Name: "Sam Lee", Role: "gp", Practice: "The Surgery", Borough: "barnet",
		Email: "sam@example.org", PreferredContact: "email", Topics: []string{"funding"}, Text: "Short.", PatientsSpeak: "no",
		SubmittedAt: at, Consents: []story.ConsentRecord{{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}},
	}
	hostile := story.Story{
		ID: `01"><script>`, Name: `<script>alert("x")</script><b>Eve</b> & 'Co' +1`, Role: "other", RoleOther: `=HYPERLINK("http://evil.example")`,
		Practice: `"><img src=x onerror=alert(1)> & Co`, Borough: "lambeth", Email: "eve\r\nBcc: all@example.org", Phone: "+44 <20>",
		PreferredContact: "email", Topics: []string{"other"}, TopicOther: "+cmd|' /C calc'!A0",
		Text:          "<style>body{display:none}</style>\r\n\r\n<a href=\"javascript:alert(1)\">click</a>\x00nul",
		PatientsSpeak: "yes", PatientsNote: "@SUM(1+1)", Contacts: []story.Contact{{Name: "-2+3", Party: "<p>", Constituency: "a&b", When: "<now>", What: "Line one\r\nSubject: spoofed"}},
		SubmittedAt: at, Consents: []story.ConsentRecord{{Statement: "contact", Agreed: true}, {Statement: "store", Agreed: true}, {Statement: "clips", Agreed: true}},
	}
	const tok = "v1.AbC-_d+e/f=.sig&x=<1>"
	cases := map[string]view{
		"story":          storyView(tok, full, 2, "", ""),
		"story-bare":     storyView("t1", bare, 0, "", ""),
		"story-hostile":  storyView(`"><script>`, hostile, 1, "Choose what you would like to do.", ""),
		"error-confirm":  storyView(tok, full, 0, "Tick the box to confirm that you want to erase everything", "confirm"),
		"error-naming":   storyView(tok, bare, 0, "That is already how you will be named: choose another answer", "naming"),
		"error-general":  storyView(tok, full, 0, "To withdraw that, erase your story below.", ""),
		"problem":        {Problem: &problem{"This link has expired", "Links to manage a story last as long as we keep the story. <We> no longer hold yours & \"that\"."}},
		"done":           {Done: "Your story has been erased", DoneDetail: []string{"We have deleted your story.", "The team is being told & you get an email."}},
		"done-story":     {Token: tok, Story: &full, Done: "Your choice is recorded", DoneDetail: []string{"You no longer agree to this: “<b>x</b>”", "We have told the communications team."}},
		"done-retry":     {Token: tok, Story: &full, Done: "Your choice is recorded", DoneDetail: []string{"We could not tell the team."}, Retry: &retry{Action: "naming", Naming: "role", From: `na"me`}},
		"done-retry-box": {Token: tok, Story: &full, Done: "Your choice is recorded", Retry: &retry{Action: "withdraw", Statement: "public"}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			got := render(v)
			golden.Check(t, name+".html.golden", got)
		})
	}
}
