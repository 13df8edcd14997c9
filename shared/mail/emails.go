package mail

import (
	"strings"

	"frontlinevoices/shared/markup"

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

// Alert is the comms team's email about one new story: what they may do
// with it ("Can we use this?") and its flags (e.g. the story may identify
// a patient) at the top. privacyURL is the privacy notice's address.
func Alert(st story.Story, to []string, privacyURL string) (Message, error) {
	u, rows := UsageOf(st), alertRows(st)
	sent := st.SubmittedAt.Format("2 Jan 2006 15:04 MST")

	var h markup.Builder
	Head(&h, "New story")
	h.Add("\n", `<h1 style="font-size:22px;margin:0 0 8px 0;">New story from `, esc(st.RoleLabel()), " in ", esc(st.BoroughLabel()), "</h1>\n",
		`<p style="margin:0 0 16px 0;color:#505a5f;">`, esc(st.AreaLabel()), " · sent ", esc(sent), "</p>\n")
	u.HTML(&h)
	h.Add("\n")
	if len(st.Flags) > 0 {
		h.Add(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="margin:0 0 16px 0;"><tr><td style="padding:12px;background:#fff7bf;border-left:6px solid #ffdd00;">`,
			"\n", `<strong>Check before use:</strong><ul style="margin:6px 0 0 18px;padding:0;">`)
		for _, f := range st.Flags {
			h.Add("<li>", esc(f), "</li>")
		}
		h.Add("</ul></td></tr></table>")
	}
	h.Add("\n", `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px 0;">`, "\n")
	rowsHTML(&h, rows)
	h.Add("</table>\n", `<h2 style="font-size:18px;margin:16px 0 8px 0;">Their story</h2>`, "\n",
		`<div style="padding:12px;background:#f8f8f8;border-left:4px solid #005eb8;">`)
	paragraphsHTML(&h, st.Text)
	h.Add("</div>\n")
	if len(st.Contacts) > 0 {
		h.Add(`<h2 style="font-size:18px;margin:16px 0 8px 0;">Contact with MPs and candidates</h2>`, "\n", `<ul style="margin:0 0 16px 18px;padding:0;">`)
		for _, c := range st.Contacts {
			h.Add(`<li style="margin:0 0 8px 0;"><strong>`, esc(c.Who()), "</strong>")
			if c.When != "" {
				h.Add(", ", esc(c.When))
			}
			h.Add(": ", esc(c.What), "</li>")
		}
		h.Add("</ul>")
	}
	h.Add("\n", `<p style="font-size:13px;color:#505a5f;">Reference `, esc(st.ID), "</p>\n")
	Foot(&h, privacyURL)
	h.Add("\n")

	var t markup.Builder
	t.Add("New story from ", st.RoleLabel(), " in ", st.BoroughLabel(), " (", st.AreaLabel(), ")\nSent ", sent, "\n\n")
	u.Text(&t)
	t.Add("\n")
	if len(st.Flags) > 0 {
		t.Add("\nCHECK BEFORE USE:")
		for _, f := range st.Flags {
			t.Add("\n- ", f)
		}
		t.Add("\n")
	}
	t.Add("\n")
	rowsText(&t, rows)
	t.Add("\nTHEIR STORY\n\n", st.Text, "\n")
	if len(st.Contacts) > 0 {
		t.Add("\nCONTACT WITH MPS AND CANDIDATES\n")
		for _, c := range st.Contacts {
			t.Add("\n- ", c.Who())
			if c.When != "" {
				t.Add(", ", c.When)
			}
			t.Add(": ", c.What)
		}
		t.Add("\n")
	}
	t.Add("\nReference ", st.ID, "\n")
	if privacyURL != "" {
		t.Add("Privacy notice: ", privacyURL, "\n")
	}
	t.Add("\n")

	return Message{
		To:      to,
		ReplyTo: []string{st.Email},
		Subject: "New story: " + st.RoleLabel() + " in " + st.BoroughLabel(),
		Text:    t.String(),
		HTML:    h.String(),
	}, nil
}

// alertRows are the story's answers in the alert, in the form's order,
// as the question definitions show them to the team (story.ViewAlert).
func alertRows(st story.Story) []row {
	var rows []row
	for _, r := range story.Rows(st, story.ViewAlert) {
		rows = append(rows, row{Label: r.Label, Value: r.Value()})
	}
	return rows
}

// Links are the personal links in a volunteer's confirmation.
type Links struct {
	UploadURL   string
	WithdrawURL string
	PrivacyURL  string
}

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
	cs := consents(st)

	var h markup.Builder
	Head(&h, "Thank you for your story")
	h.Add("\n", `<h1 style="font-size:22px;margin:0 0 12px 0;">Thank you for your story</h1>`, "\n",
		`<p style="margin:0 0 12px 0;">We have received your story. Someone from the communications team will be in touch by `, esc(contact), " before anything is used.</p>\n")
	if links.UploadURL != "" {
		h.Add(`<p style="margin:0 0 12px 0;">You can add short video clips to your story at any time: <a href="`, markup.URL(links.UploadURL), `" style="color:#005eb8;">add video clips</a>.</p>`)
	}
	h.Add("\n")
	if links.WithdrawURL != "" {
		h.Add(`<p style="margin:0 0 12px 0;">Changed your mind? You can see what we hold, withdraw any consent, or erase your story and clips: <a href="`, markup.URL(links.WithdrawURL),
			`" style="color:#005eb8;">manage or withdraw your story</a>. This link is personal to you: please don't forward this email.</p>`)
	}
	h.Add("\n", `<h2 style="font-size:18px;margin:16px 0 8px 0;">What you agreed to</h2>`, "\n", `<ul style="margin:0 0 16px 18px;padding:0;">`)
	for _, c := range cs {
		h.Add("<li>", yesNoWord(c.Agreed), ": ", esc(c.Text), "</li>")
	}
	h.Add("</ul>\n", `<p style="margin:0 0 12px 0;">If you did not send us a story, someone typed your address by mistake: you can ignore this email, or use the link above to erase what they sent.</p>`, "\n",
		`<p style="font-size:13px;color:#505a5f;">Reference `, esc(st.ID), "</p>\n")
	Foot(&h, links.PrivacyURL)
	h.Add("\n")

	var t markup.Builder
	t.Add("Thank you for your story\n\nWe have received your story. Someone from the communications team will be in touch by ", contact, " before anything is used.\n")
	if links.UploadURL != "" {
		t.Add("\nAdd short video clips to your story at any time:\n", links.UploadURL, "\n")
	}
	if links.WithdrawURL != "" {
		t.Add("\nChanged your mind? See what we hold, withdraw any consent, or erase your story and clips:\n", links.WithdrawURL, "\nThis link is personal to you: please don't forward this email.\n")
	}
	t.Add("\nWHAT YOU AGREED TO\n")
	for _, c := range cs {
		t.Add("\n- ", yesNoWord(c.Agreed), ": ", c.Text)
	}
	t.Add("\n\nIf you did not send us a story, someone typed your address by mistake: you can ignore this email, or use the link above to erase what they sent.\n\nReference ", st.ID, "\n")
	if links.PrivacyURL != "" {
		t.Add("\nHow we look after your information: ", links.PrivacyURL, "\n")
	}

	return Message{
		To:      []string{st.Email},
		Subject: "Thank you for your story",
		Text:    t.String(),
		HTML:    h.String(),
	}, nil
}

func yesNoWord(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}
