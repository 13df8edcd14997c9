package mail

import (
	"strconv"

	"frontlinevoices/shared/story"
)

type noticeData struct {
	Headline  string
	Lines     []string
	Reference string
}

func notice(to []string, subject, headline, reference string, lines ...string) (Message, error) {
	text, html, err := Render("withdrawn", noticeData{Headline: headline, Lines: lines, Reference: reference})
	if err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: subject, Text: text, HTML: html}, nil
}

// Erased tells the volunteer their story and clips were erased.
func Erased(st story.Story, clips int) (Message, error) {
	return notice([]string{st.Email}, "Your story has been erased", "We have erased your story", st.ID,
		"As you asked, we have deleted your story, your answers and your video clips ("+plural(clips, "clip")+").",
		"The communications team has been told to stop using your story. Copies in our database backups are deleted within 35 days.",
		"Thank you for taking part.")
}

// ConsentWithdrawn tells the volunteer a consent was withdrawn.
func ConsentWithdrawn(st story.Story, statement story.ConsentStatement) (Message, error) {
	return notice([]string{st.Email}, "You have withdrawn your consent", "We have recorded your choice", st.ID,
		"You no longer agree to this: “"+statement.Text+"”",
		"The communications team has been told. Your story is otherwise kept as before; you can change your mind or erase it at any time with the link in your first email.")
}

// WithdrawalAlert tells the comms team to stop using a story (or part of it).
func WithdrawalAlert(st story.Story, to []string, what string) (Message, error) {
	return notice(to, "Withdrawn: stop using story "+st.ID, "A volunteer has withdrawn", st.ID,
		"The "+st.RoleLabel()+" in "+st.BoroughLabel()+" who sent story "+st.ID+" on "+st.SubmittedAt.Format("2 January 2006")+": "+what,
		"Stop using what they withdrew, including copies in exports, drafts and edits.")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
