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

type alertData struct {
	Story      story.Story
	Flags      []string
	Paragraphs []string
	Consents   []Consent
}

// Alert is the comms team's email about one new story, with its flags
// (e.g. the story may identify a patient) at the top.
func Alert(st story.Story, to []string) (Message, error) {
	text, html, err := Render("alert", alertData{Story: st, Flags: st.Flags, Paragraphs: Paragraphs(st.Text), Consents: consents(st)})
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
}

type confirmationData struct {
	Story      story.Story
	Paragraphs []string
	Consents   []Consent
	Links
}

// Confirmation is the volunteer's receipt for their story.
func Confirmation(st story.Story, links Links) (Message, error) {
	text, html, err := Render("confirmation", confirmationData{Story: st, Paragraphs: Paragraphs(st.Text), Consents: consents(st), Links: links})
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
