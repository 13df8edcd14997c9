package digest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/story"
)

// ExcerptChars is how much of each story the email shows.
const ExcerptChars = 300

// Report is everything one digest email shows. Every string that came
// from a volunteer has been cleaned (see story.CleanLine) and is escaped by the
// templates; nothing in it is trusted markup.
type Report struct {
	Start, End time.Time
	Period     string // the period in words, UK time
	Counts     Counts
	// Areas are the stories shown in full, grouped by ICB area then borough.
	Areas []AreaGroup
	// Shown of Total stories are in the email; the rest are only in the export.
	Shown, Total int
	Export       Link
	// Withdrawn are the references of the stories erased at their
	// volunteer's request in the period (their tombstones hold nothing else).
	Withdrawn []string
	// Empty is a "nothing new" note (sent only when asked for).
	Empty bool
	// ListWarning tells the team their list of MPs and candidates needs
	// updating (see story.ListStaleAfter); empty when it is fine.
	ListWarning string
	// PrivacyURL is the privacy notice's address, for the footer.
	PrivacyURL string
}

// ListWarning is the digest's warning about the list of MPs and
// candidates at now, or "" when the list is fresh.
func ListWarning(l story.CandidateList, now time.Time) string {
	switch {
	case l.UpdatedAt.IsZero():
		return "No list of MPs and candidates has been imported, so volunteers have nobody to tick: import one (go run ./infra/candidates import)."
	case l.Stale(now):
		days := int(now.Sub(l.UpdatedAt).Hours() / 24)
		return fmt.Sprintf("The list of MPs and candidates was last updated on %s, %d days ago: please check it and import it again.", l.UpdatedAt.In(ukTime).Format("2 January 2006"), days)
	}
	return ""
}

// Link is a download link.
type Link struct {
	URL     string
	Name    string
	Expires string // when the link stops working, in words
}

// More is how many stories are only in the export.
func (r Report) More() int { return r.Total - r.Shown }

// Subject is the email's subject line. It carries no volunteer text.
func (r Report) Subject() string {
	return "Frontline Voices digest: " + strings.ToLower(r.Heading()[:1]) + r.Heading()[1:] + " (" + r.End.Format("Mon 2 Jan") + ")"
}

// Heading is the email's first line.
func (r Report) Heading() string {
	if r.Empty {
		return "Nothing new"
	}
	h := plural(r.Total, "new story", "new stories")
	if len(r.Withdrawn) > 0 {
		h += ", " + strconv.Itoa(len(r.Withdrawn)) + " withdrawn"
	}
	return h
}

// Count is one line of the counts.
type Count struct {
	Label string
	N     int
}

// Value is N as text, for the templates' rows.
func (c Count) Value() string { return strconv.Itoa(c.N) }

// Counts summarise every story of the period, including those only in the
// export.
type Counts struct {
	Stories    int
	Areas      []Count // every ICB area, in the form's order, then any unknown
	Activities []Count // every activity offered, in the form's order
	MPContact  int     // stories reporting contact with an MP or candidate
	// Constituencies count the contacts with MPs and candidates by the
	// list's constituency (most first), then those with people not on the list.
	Constituencies []Count
	WithClips      int
	// PatientsYes say patients would speak too; PatientsMaybe would ask.
	PatientsYes, PatientsMaybe int
	Flagged                    int // stories with something to check before use
	// Withdrawn is how many stories were erased at their volunteer's request.
	Withdrawn int
}

// Glance are the headline counts.
func (c Counts) Glance() []Count {
	out := []Count{
		{"New stories", c.Stories},
		{"Report contact with an MP or candidate", c.MPContact},
		{"Have video clips", c.WithClips},
		{"Say patients would speak too", c.PatientsYes},
		{"Say patients might speak (would need to ask)", c.PatientsMaybe},
		{"Flagged: check before use", c.Flagged},
	}
	if c.Withdrawn > 0 {
		out = append(out, Count{"Withdrawn by the volunteer", c.Withdrawn})
	}
	return out
}

// AreaGroup is an ICB area's stories in the email.
type AreaGroup struct {
	Label    string
	N        int
	Boroughs []BoroughGroup
}

// BoroughGroup is a borough's stories in the email.
type BoroughGroup struct {
	Label   string
	N       int
	Stories []Entry
}

// Entry is one story as the digest shows it. Its answers are the
// story's rows and columns as the question definitions give them
// (story.Rows, story.Columns), so a new question needs nothing here.
type Entry struct {
	ID       string
	Name     string
	Role     string
	Practice string
	Borough  string
	Area     string
	// Rows are the answers the digest shows below the excerpt, in the
	// form's order (story.ViewDigest).
	Rows     []story.Row
	Contacts []Contact
	Excerpt  string // one line, at most ExcerptChars
	Flags    []string
	Clips    []ClipLink
	// Use is what the team may do with the story under its current
	// consents (the "Can we use this?" block).
	Use         mail.Usage
	SubmittedAt time.Time
	Submitted   string // in words, UK time

	contact                       string // ContactLine
	areaID, boroughID, patientsID string
	activities                    []string
	answers                       []story.Column // the export's (story.Columns)
}

// Contact is a contact with an MP or candidate, cleaned for display.
// Person is the id of someone on the list, empty for someone not on it.
type Contact struct{ Person, Name, Constituency, Party, Status, When, What string }

// Who names the person as every email and export does (story.Contact.Who),
// with when the contact was.
func (c Contact) Who() string {
	s := story.Contact{Person: c.Person, Name: c.Name, Constituency: c.Constituency, Party: c.Party, Status: c.Status}.Who()
	if c.When != "" {
		s += ", " + c.When
	}
	return s
}

// String is the whole contact on one line.
func (c Contact) String() string { return c.Who() + ": " + c.What }

// ClipLink is a download link to one clip.
type ClipLink struct {
	Name     string
	URL      string
	Duration string
}

// ContactLine is how to reach the volunteer, in one line.
func (e Entry) ContactLine() string { return e.contact }

// contactLine is how to reach st's volunteer, in one line.
func contactLine(st story.Story) string {
	s := story.CleanLine(st.Email)
	if p := story.CleanLine(st.Phone); p != "" {
		s += " · " + p
	}
	if p := story.CleanLine(st.PreferredContact); p != "" {
		s += " (prefers " + p + ")"
	}
	if st.PersonalEmailOnly {
		s += " · only at this personal email, never through the practice"
	}
	return s
}

// Clip is one video clip of a story, in the clips bucket.
type Clip struct {
	Key      string
	Name     string // the file name offered on download
	Duration time.Duration
}

// newEntry turns a stored story into what the digest shows. flags are the
// warnings for the team; clips are its download links.
func newEntry(st story.Story, loc *time.Location, flags []string, clips []ClipLink) Entry {
	b, ok := story.FindBorough(st.Borough)
	area, borough := b.Area.Label, b.Label
	areaID := b.Area.ID
	if !ok {
		areaID, area, borough = "", unknownArea, story.CleanLine(st.Borough)
		if borough == "" {
			borough = "Unknown borough"
		}
	}
	e := Entry{
		ID:          story.CleanLine(st.ID),
		Name:        story.CleanLine(st.Name),
		Role:        story.CleanLine(st.RoleLabel()),
		Practice:    story.CleanLine(st.Practice),
		Borough:     borough,
		Area:        area,
		Rows:        story.Rows(st, story.ViewDigest),
		Flags:       story.CleanLines(flags),
		Clips:       clips,
		Use:         mail.UsageOf(st),
		SubmittedAt: st.SubmittedAt,
		Submitted:   st.SubmittedAt.In(loc).Format("Mon 2 Jan 2006, 15:04"),
		contact:     contactLine(st),
		areaID:      areaID,
		boroughID:   st.Borough,
		patientsID:  st.PatientsSpeak,
		activities:  st.Activities,
		answers:     story.Columns(st),
	}
	e.Excerpt = mail.Excerpt(ExcerptChars, story.CleanLine(st.Text))
	for _, c := range st.Contacts {
		e.Contacts = append(e.Contacts, Contact{
			Person: story.CleanLine(c.Person), Status: story.CleanLine(c.Status),
			Name: story.CleanLine(c.Name), Constituency: story.CleanLine(c.Constituency), Party: story.CleanLine(c.Party),
			When: story.CleanLine(c.When), What: story.CleanLine(c.What),
		})
	}
	return e
}

const unknownArea = "Area not recognised"

// Build counts every entry and groups the first max of them (oldest first)
// for the email. withdrawn are the references of the stories erased.
func Build(entries []Entry, max int, withdrawn []string) Report {
	r := Report{Total: len(entries), Counts: count(entries), Withdrawn: withdrawn}
	r.Counts.Withdrawn = len(withdrawn)
	shown := entries
	if max >= 0 && len(shown) > max {
		shown = shown[:max]
	}
	r.Shown = len(shown)
	r.Areas = group(shown)
	return r
}

func count(entries []Entry) Counts {
	c := Counts{Stories: len(entries)}
	areaN := map[string]int{}
	actN := map[string]int{}
	unknown, unmatched := 0, 0
	seatN := map[string]int{}
	for _, e := range entries {
		if e.areaID == "" {
			unknown++
		} else {
			areaN[e.areaID]++
		}
		for _, a := range e.activities {
			actN[a]++
		}
		if len(e.Contacts) > 0 {
			c.MPContact++
		}
		for _, ct := range e.Contacts {
			if ct.Person == "" || ct.Constituency == "" {
				unmatched++
			} else {
				seatN[ct.Constituency]++
			}
		}
		if len(e.Clips) > 0 {
			c.WithClips++
		}
		switch e.patientsID {
		case "yes":
			c.PatientsYes++
		case "maybe":
			c.PatientsMaybe++
		}
		if len(e.Flags) > 0 {
			c.Flagged++
		}
	}
	for _, a := range story.Options().ICBAreas {
		c.Areas = append(c.Areas, Count{a.Label, areaN[a.ID]})
	}
	if unknown > 0 {
		c.Areas = append(c.Areas, Count{unknownArea, unknown})
	}
	for _, a := range story.Options().Activities {
		c.Activities = append(c.Activities, Count{a.Label, actN[a.ID]})
	}
	for seat, n := range seatN {
		c.Constituencies = append(c.Constituencies, Count{seat, n})
	}
	slices.SortFunc(c.Constituencies, func(a, b Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Label, b.Label)
	})
	if unmatched > 0 {
		c.Constituencies = append(c.Constituencies, Count{"Someone not on the list", unmatched})
	}
	return c
}

// group sorts entries into ICB areas and boroughs in the form's order,
// keeping each borough's stories oldest first.
func group(entries []Entry) []AreaGroup {
	var out []AreaGroup
	add := func(label string, boroughs []story.Option, match func(Entry) bool) {
		g := AreaGroup{Label: label}
		var rest []Entry
		for _, e := range entries {
			if match(e) {
				rest = append(rest, e)
			}
		}
		if len(rest) == 0 {
			return
		}
		g.N = len(rest)
		for _, b := range boroughs {
			var bg BoroughGroup
			for _, e := range rest {
				if e.boroughID == b.ID {
					bg.Stories = append(bg.Stories, e)
				}
			}
			if len(bg.Stories) > 0 {
				bg.Label, bg.N = b.Label, len(bg.Stories)
				g.Boroughs = append(g.Boroughs, bg)
			}
		}
		if boroughs == nil { // unknown area: one group per unknown borough text
			for _, e := range rest {
				i := slices.IndexFunc(g.Boroughs, func(b BoroughGroup) bool { return b.Label == e.Borough })
				if i < 0 {
					g.Boroughs = append(g.Boroughs, BoroughGroup{Label: e.Borough})
					i = len(g.Boroughs) - 1
				}
				g.Boroughs[i].Stories = append(g.Boroughs[i].Stories, e)
				g.Boroughs[i].N++
			}
		}
		out = append(out, g)
	}
	for _, a := range story.Options().ICBAreas {
		add(a.Label, a.Boroughs, func(e Entry) bool { return e.areaID == a.ID })
	}
	add(unknownArea, nil, func(e Entry) bool { return e.areaID == "" })
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func formatDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
