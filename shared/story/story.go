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
	"regexp"
	"time"
)

// MaxContacts is how many MP or candidate contacts one story can list.
const MaxContacts = 5

// Submission is what a volunteer sends: the form's answers before they are
// trusted. Field names are the form's and the JSON API's.
type Submission struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	RoleOther        string `json:"roleOther,omitempty"`
	Practice         string `json:"practice"`
	Borough          string `json:"borough"`
	Email            string `json:"email"`
	Phone            string `json:"phone,omitempty"`
	PreferredContact string `json:"preferredContact"`
	// PersonalEmailOnly asks the team to contact the volunteer only at
	// this (personal) address, never through their practice.
	PersonalEmailOnly bool            `json:"personalEmailOnly,omitempty"`
	Topics            []string        `json:"topics"`
	TopicOther        string          `json:"topicOther,omitempty"`
	Story             string          `json:"story"`
	Activities        []string        `json:"activities"`
	Contacts          []Contact       `json:"mpContacts,omitempty"`
	PatientsSpeak     string          `json:"patientsWouldSpeak"`
	PatientsNote      string          `json:"patientsNote,omitempty"`
	Consent           map[string]bool `json:"consent"`
	ConsentVersion    string          `json:"consentVersion"`
	// SafeguardingConfirmed is set when the volunteer was warned that the
	// story may identify a patient and chose to send it as it is.
	SafeguardingConfirmed bool `json:"safeguardingConfirmed,omitempty"`
}

// Contact is one contact the volunteer has had with an MP or a candidate.
type Contact struct {
	Name         string `json:"name" dynamodbav:"name"`
	Constituency string `json:"constituency,omitempty" dynamodbav:"constituency,omitempty"`
	Party        string `json:"party,omitempty" dynamodbav:"party,omitempty"`
	When         string `json:"when,omitempty" dynamodbav:"when,omitempty"`
	What         string `json:"what" dynamodbav:"what"`
}

func (c Contact) empty() bool {
	return c.Name == "" && c.Constituency == "" && c.Party == "" && c.When == "" && c.What == ""
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
	// ContentHash identifies the answers, so a repeated submission with the
	// same id can be told apart from a different one.
	ContentHash string `json:"-" dynamodbav:"contentHash"`
}

// RoleLabel is the role as people read it.
func (s Story) RoleLabel() string {
	if s.Role == "other" && s.RoleOther != "" {
		return s.RoleOther
	}
	return Label(Options.Roles, s.Role)
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
func (s Story) TopicLabels() []string { return labels(Options.Topics, s.Topics, s.TopicOther) }

// ActivityLabels are the activities as people read them.
func (s Story) ActivityLabels() []string { return labels(Options.Activities, s.Activities, "") }

// PatientsSpeakLabel is the answer about patients as people read it.
func (s Story) PatientsSpeakLabel() string { return Label(Options.PatientsWouldSpeak, s.PatientsSpeak) }

// Anonymous reports whether the volunteer asked to be featured anonymously
// (they did not agree to be named).
func (s Story) Anonymous() bool { return !s.Consented("named") }

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

var idPattern = regexp.MustCompile(`^[a-z2-7]{26}$`)

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
func ValidID(id string) bool { return idPattern.MatchString(id) }

// hashOf is a stable hash of a normalised submission.
func hashOf(s Submission) string {
	s.ID = ""
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}
