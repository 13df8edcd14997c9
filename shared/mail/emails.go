package mail

import (
	"strings"

	"frontlinevoices/shared/story"
)

// Consent is one consent statement with the volunteer's answer, for display.
type Consent struct {
	Text   string
	Agreed bool
}

func consents(st story.Story) []Consent {
	out := make([]Consent, 0, len(story.ConsentStatements))
	for _, c := range story.ConsentStatements {
		out = append(out, Consent{Text: c.Text, Agreed: st.Consented(c.ID)})
	}
	return out
}

// Paragraphs splits long text at blank lines, for HTML that keeps its shape.
func Paragraphs(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Usage is what the comms team may do with a story now, from the
// volunteer's current consents (a withdrawal changes it at once): the
// "Can we use this?" block at the top of each story in the alert and the
// digest.
type Usage struct {
	Public    bool
	Named     bool
	Clips     bool
	Naming    string // how they may be named, in the team's words
	ContactBy string
}

// namingForTeam says each naming answer in the comms team's words.
var namingForTeam = map[string]string{
	"name":      "yes: name, role and borough",
	"role":      "no name: role and borough only",
	"anonymous": "no: anonymous (no name, role or borough)",
}

// UsageOf is the story's usage under its current consents.
func UsageOf(st story.Story) Usage {
	contact := "email"
	if st.PreferredContact == "phone" {
		contact = "phone"
	}
	if st.PersonalEmailOnly {
		contact += " (personal email only, never through the practice)"
	}
	n := st.Naming()
	return Usage{
		Public: st.Consented("public"), Named: n.Named, Clips: st.Consented("clips"),
		Naming: namingForTeam[n.ID], ContactBy: contact,
	}
}

// PublicText is the public-quoting answer in a word.
func (u Usage) PublicText() string { return yesNo(u.Public) }

// ClipsText is the clips answer in a word.
func (u Usage) ClipsText() string { return yesNo(u.Clips) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// PrivacyURL is the privacy notice's address on the site.
func PrivacyURL(siteURL string) string {
	if siteURL == "" {
		return ""
	}
	return strings.TrimRight(siteURL, "/") + "/privacy"
}

type alertData struct {
	Story      story.Story
	Flags      []string
	Paragraphs []string
	Usage      Usage
	PrivacyURL string
}

// Alert is the comms team's email about one new story: what they may do
// with it ("Can we use this?") and its flags (e.g. the story may identify
// a patient) at the top. privacyURL is the privacy notice's address.
func Alert(st story.Story, to []string, privacyURL string) (Message, error) {
	text, html, err := Render("alert", alertData{Story: st, Flags: st.Flags, Paragraphs: Paragraphs(st.Text), Usage: UsageOf(st), PrivacyURL: privacyURL})
	if err != nil {
		return Message{}, err
	}
	return Message{
		To:      to,
		ReplyTo: []string{st.Email},
		Subject: "New story: " + st.RoleLabel() + " in " + st.BoroughLabel(),
		Text:    text,
		HTML:    html,
	}, nil
}

// Links are the personal links in a volunteer's confirmation.
type Links struct {
	UploadURL   string
	WithdrawURL string
	PrivacyURL  string
}

type confirmationData struct {
	Story    confirmationStory
	Consents []Consent
	Links
}

// confirmationStory is all of a story the confirmation may show: nothing
// the sender typed.
type confirmationStory struct{ ID, PreferredContact string }

// Confirmation is the receipt for a story, sent to the address the story
// gives. Anyone can type any address, so it carries nothing the sender
// typed (no name, no story): a reference, what happens next, the consents
// as worded by us, and the personal links. It cannot relay a stranger's
// text to another stranger.
func Confirmation(st story.Story, links Links) (Message, error) {
	contact := "email"
	if st.PreferredContact == "phone" {
		contact = "phone"
	}
	text, html, err := Render("confirmation", confirmationData{Story: confirmationStory{ID: st.ID, PreferredContact: contact}, Consents: consents(st), Links: links})
	if err != nil {
		return Message{}, err
	}
	return Message{
		To:      []string{st.Email},
		Subject: "Thank you for your story",
		Text:    text,
		HTML:    html,
	}, nil
}
