package mail

import (
	"strconv"
	"strings"

	"frontlinevoices/shared/markup"
	"frontlinevoices/shared/story"
)

type noticeData struct {
	Headline   string
	Lines      []string
	Reference  string
	Usage      *Usage
	PrivacyURL string
}

// notice is an email of a few lines about a request done: the erasure and
// consent emails, to the volunteer and to the team.
func notice(to []string, subject string, d noticeData) (Message, error) {
	var h markup.Builder
	Head(&h, "Your request is done")
	h.Add("\n", `<h1 style="font-size:22px;margin:0 0 12px 0;">`, esc(d.Headline), "</h1>\n")
	for _, l := range d.Lines {
		h.Add(`<p style="margin:0 0 12px 0;">`, esc(l), "</p>")
	}
	h.Add("\n")
	if d.Usage != nil {
		d.Usage.HTML(&h)
	}
	h.Add("\n", `<p style="font-size:13px;color:#505a5f;">Reference `, esc(d.Reference), "</p>\n")
	Foot(&h, d.PrivacyURL)
	h.Add("\n")

	var t markup.Builder
	t.Add(d.Headline, "\n")
	for _, l := range d.Lines {
		t.Add("\n", l, "\n")
	}
	if d.Usage != nil {
		t.Add("\n")
		d.Usage.Text(&t)
		t.Add("\n")
	}
	t.Add("\nReference ", d.Reference, "\n")
	if d.PrivacyURL != "" {
		t.Add("\nPrivacy notice: ", d.PrivacyURL, "\n")
	}
	return Message{To: to, Subject: subject, Text: t.String(), HTML: h.String()}, nil
}

// Erased tells the volunteer their story and clips were erased.
func Erased(st story.Story, clips int, privacyURL string) (Message, error) {
	return notice([]string{st.Email}, "Your story has been erased", noticeData{Headline: "We have erased your story", Reference: st.ID, PrivacyURL: privacyURL, Lines: []string{
		"As you asked, we have deleted your story, your answers and your video clips (" + plural(clips, "clip") + ").",
		"The communications team has been told to stop using your story. Copies in our database backups are deleted within 35 days.",
		"Thank you for taking part."}})
}

// Change is one consent a volunteer changed on the withdraw page: what
// the team may do, and whether it may do it now.
type Change struct {
	What    string // "Quote publicly", "Name them", … (as in the usage block)
	From    string // the answer before, "yes" or "no", or a naming
	To      string // the answer now
	Summary string // for the subject line: "stop quoting it publicly"
}

// ConsentChanged tells the volunteer a change of consent is recorded.
// sentence says the change in their words.
func ConsentChanged(st story.Story, sentence, privacyURL string) (Message, error) {
	return notice([]string{st.Email}, "We have recorded your choice", noticeData{Headline: "We have recorded your choice", Reference: st.ID, PrivacyURL: privacyURL, Lines: []string{
		sentence,
		"The communications team has been told. Your story is otherwise kept as before; you can change your mind or erase it at any time with the link in your first email."}})
}

// ConsentChangeAlert tells the comms team exactly what a volunteer changed
// and what they may do with the story now (st is the story after the
// change). A narrowing says "stop"; a consent given again says "may again".
func ConsentChangeAlert(st story.Story, to []string, changes []Change, privacyURL string) (Message, error) {
	var what []string
	for _, c := range changes {
		what = append(what, c.Summary)
	}
	u := UsageOf(st)
	lines := []string{"The " + st.RoleLabel() + " in " + st.BoroughLabel() + " who sent story " + st.ID + " on " + st.SubmittedAt.Format("2 January 2006") + " has changed what we may do with it:"}
	for _, c := range changes {
		lines = append(lines, c.What+": now "+c.To+" (was "+c.From+")")
	}
	lines = append(lines, "Everything else stays as it was. Where they withdrew something, stop using it, including copies in exports, drafts and edits.")
	return notice(to, "Consent changed for story "+st.ID+": "+strings.Join(what, "; "), noticeData{
		Headline: "A volunteer has changed their consent", Reference: st.ID, Lines: lines, Usage: &u, PrivacyURL: privacyURL})
}

// ErasureAlert tells the comms team a volunteer erased their story.
func ErasureAlert(st story.Story, to []string, privacyURL string) (Message, error) {
	return notice(to, "Erased: stop using story "+st.ID, noticeData{Headline: "A volunteer has erased their story", Reference: st.ID, PrivacyURL: privacyURL, Lines: []string{
		"The " + st.RoleLabel() + " in " + st.BoroughLabel() + " who sent story " + st.ID + " on " + st.SubmittedAt.Format("2 January 2006") + " has erased their story and clips.",
		"Stop using it, including copies in exports, drafts and edits."}})
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
