// Package story is the domain of Frontline Voices: what a volunteer tells us,
// the lists they choose from, and the rules their answers must meet. It knows
// nothing of AWS, HTTP or storage.
package story

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// MaxContacts is how many contacts with someone not on the list of MPs and
// candidates one story can give (typed in full).
const MaxContacts = 5

// MaxListedContacts is how many people on the list one story can tick.
const MaxListedContacts = 20

// Submission is what a volunteer sends: the form's answers before they are
// trusted. Field names are the form's and the JSON API's.
type Submission struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	RoleOther        string `json:"roleOther,omitempty"`
	Practice         string `json:"practice"`
	Borough          string `json:"borough"`
	ListSize         string `json:"listSize,omitempty"`
	Email            string `json:"email"`
	Phone            string `json:"phone,omitempty"`
	PreferredContact string `json:"preferredContact"`
	// PersonalEmailOnly asks the team to contact the volunteer only at
	// this (personal) address, never through their practice.
	PersonalEmailOnly bool     `json:"personalEmailOnly,omitempty"`
	Topics            []string `json:"topics"`
	TopicOther        string   `json:"topicOther,omitempty"`
	Story             string   `json:"story"`
	Activities        []string `json:"activities"`
	// HadContact answers "Have you been in touch with an MP or a
	// candidate?" ("yes" or "no"); with "no" any contacts are dropped.
	// Left out, it is "yes" when contacts are given.
	HadContact    string    `json:"hadContact,omitempty"`
	Contacts      []Contact `json:"mpContacts,omitempty"`
	PatientsSpeak string    `json:"patientsWouldSpeak"`
	PatientsNote  string    `json:"patientsNote,omitempty"`
	// Naming answers "How would you like to be named?" (a Namings id); it
	// sets the "named" and "role" consents. Left out, those come from
	// Consent as they are.
	Naming         string          `json:"naming,omitempty"`
	Consent        map[string]bool `json:"consent"`
	ConsentVersion string          `json:"consentVersion"`
	// SafeguardingConfirmed is set when the volunteer was warned that the
	// story may identify a patient and chose to send it as it is.
	SafeguardingConfirmed bool `json:"safeguardingConfirmed,omitempty"`
}

// Contact is one contact the volunteer has had with an MP or a candidate.
// A contact with someone on the list carries the person's id (Person), and
// their name, party, constituency and status as the list had them when the
// story was sent (MatchContacts fills them in, whatever the client sent). A
// contact without a Person is someone not on the list, as the volunteer
// typed them: unmatched.
type Contact struct {
	Person       string `json:"person,omitempty" dynamodbav:"person,omitempty"`
	Name         string `json:"name" dynamodbav:"name"`
	Constituency string `json:"constituency,omitempty" dynamodbav:"constituency,omitempty"`
	Party        string `json:"party,omitempty" dynamodbav:"party,omitempty"`
	Status       string `json:"status,omitempty" dynamodbav:"status,omitempty"`
	When         string `json:"when,omitempty" dynamodbav:"when,omitempty"`
	What         string `json:"what" dynamodbav:"what"`
}

func (c Contact) empty() bool {
	return c.Person == "" && c.Name == "" && c.Constituency == "" && c.Party == "" && c.When == "" && c.What == ""
}

// Listed reports whether the contact is with someone on the list.
func (c Contact) Listed() bool { return c.Person != "" }

// Unmatched marks, in emails and exports, a contact with someone not on the
// list of MPs and candidates.
const Unmatched = "not on the list"

// Who names the person contacted the same way in every email and export:
// "Ada Brook (Labour), MP for Tooting [list id: ada]" for someone on the
// list, "Cy Ode (Green), Battersea [not on the list]" for someone typed in.
func (c Contact) Who() string {
	s := c.Name
	if c.Party != "" {
		s += " (" + c.Party + ")"
	}
	if c.Person != "" {
		role := strings.ToLower(StatusLabel(c.Status))
		if c.Status == StatusMP {
			role = "MP"
		}
		if c.Constituency != "" {
			role += " for " + c.Constituency
		}
		return s + ", " + role + " [list id: " + c.Person + "]"
	}
	if c.Constituency != "" {
		s += ", " + c.Constituency
	}
	return s + " [" + Unmatched + "]"
}

// StatusLabel is the listed person's status as people read it ("MP").
func (c Contact) StatusLabel() string { return StatusLabel(c.Status) }

// MatchContacts fills in each listed contact's name, party, constituency and
// status from list, so they are the list's and never what a client sent. A
// contact whose person is not on the list keeps its id and loses its name:
// Validate then asks the volunteer to give them as someone not listed.
// Free-text contacts are left as typed.
func (s Submission) MatchContacts(list CandidateList) Submission {
	contacts := make([]Contact, len(s.Contacts))
	for i, c := range s.Contacts {
		if c.Person != "" {
			p, ok := list.Find(c.Person)
			c.Name, c.Party, c.Constituency, c.Status = "", "", "", ""
			if ok {
				c.Name, c.Party, c.Constituency, c.Status = p.Name, p.Party, p.ConstituencyName(), p.Status
			}
		} else {
			c.Status = ""
		}
		contacts[i] = c
	}
	if len(contacts) > 0 {
		s.Contacts = contacts
	}
	return s
}

// Story is a validated, normalised submission as it is kept.
type Story struct {
	ID                string          `json:"id" dynamodbav:"id"`
	Name              string          `json:"name" dynamodbav:"name"`
	Role              string          `json:"role" dynamodbav:"role"`
	RoleOther         string          `json:"roleOther,omitempty" dynamodbav:"roleOther,omitempty"`
	Practice          string          `json:"practice" dynamodbav:"practice"`
	Borough           string          `json:"borough" dynamodbav:"borough"`
	Area              string          `json:"area" dynamodbav:"area"`
	ListSize          string          `json:"listSize,omitempty" dynamodbav:"listSize,omitempty"`
	Email             string          `json:"email" dynamodbav:"email"`
	Phone             string          `json:"phone,omitempty" dynamodbav:"phone,omitempty"`
	PreferredContact  string          `json:"preferredContact" dynamodbav:"preferredContact"`
	PersonalEmailOnly bool            `json:"personalEmailOnly,omitempty" dynamodbav:"personalEmailOnly,omitempty"`
	Topics            []string        `json:"topics" dynamodbav:"topics"`
	TopicOther        string          `json:"topicOther,omitempty" dynamodbav:"topicOther,omitempty"`
	Text              string          `json:"story" dynamodbav:"story"`
	Activities        []string        `json:"activities" dynamodbav:"activities"`
	Contacts          []Contact       `json:"mpContacts,omitempty" dynamodbav:"mpContacts,omitempty"`
	PatientsSpeak     string          `json:"patientsWouldSpeak" dynamodbav:"patientsWouldSpeak"`
	PatientsNote      string          `json:"patientsNote,omitempty" dynamodbav:"patientsNote,omitempty"`
	Consents          []ConsentRecord `json:"consents" dynamodbav:"consents"`
	Flags             []string        `json:"flags,omitempty" dynamodbav:"flags,omitempty"`
	SubmittedAt       time.Time       `json:"submittedAt" dynamodbav:"submittedAt"`
	// ConfirmationFailed and AlertFailed hold SES's error code when it
	// refused that email for good (notify sets them; the digest shows them).
	ConfirmationFailed string `json:"-" dynamodbav:"failed_confirmation,omitempty"`
	AlertFailed        string `json:"-" dynamodbav:"failed_alert,omitempty"`
	// ContentHash identifies the answers, so a repeated submission with the
	// same id can be told apart from a different one.
	ContentHash string `json:"-" dynamodbav:"contentHash"`
}

// RoleLabel is the role as people read it.
func (s Story) RoleLabel() string {
	if s.Role == "other" && s.RoleOther != "" {
		return s.RoleOther
	}
	return Label(Options().Roles, s.Role)
}

// BoroughLabel is the borough as people read it.
func (s Story) BoroughLabel() string {
	b, _ := FindBorough(s.Borough)
	return b.Label
}

// AreaLabel is the ICB area as people read it.
func (s Story) AreaLabel() string {
	b, _ := FindBorough(s.Borough)
	return b.Area.Label
}

// TopicLabels are the topics as people read them.
func (s Story) TopicLabels() []string { return labels(Options().Topics, s.Topics, s.TopicOther) }

// ActivityLabels are the activities as people read them.
func (s Story) ActivityLabels() []string { return labels(Options().Activities, s.Activities, "") }

// PatientsSpeakLabel is the answer about patients as people read it.
func (s Story) PatientsSpeakLabel() string {
	return Label(Options().PatientsWouldSpeak, s.PatientsSpeak)
}

// Anonymous reports whether the volunteer asked to be featured anonymously
// (they did not agree to be named).
func (s Story) Anonymous() bool { return !s.Consented("named") }

// Naming is how the volunteer currently agrees to be named.
func (s Story) Naming() Naming { return NamingOf(s.Consents) }

// Consented reports whether the volunteer currently agrees to statement id.
func (s Story) Consented(id string) bool { return Consented(s.Consents, id) }

func labels(list []Option, ids []string, other string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "other" && other != "" {
			out = append(out, "Other: "+other)
			continue
		}
		out = append(out, Label(list, id))
	}
	return out
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a new random story id: 26 lowercase base32 characters.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := idEncoding.EncodeToString(b[:])
	out := make([]byte, len(s))
	for i := range len(s) {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// ValidID reports whether id has the form NewID gives.
func ValidID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// hashOf is a stable hash of a normalised submission.
func hashOf(s Submission) string {
	s.ID = ""
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}
