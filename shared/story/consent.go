package story

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// ConsentStatement is one thing a volunteer agrees to, worded exactly as the
// form shows it. Changing the text changes its Version.
type ConsentStatement struct {
	ID       string
	Text     string
	Required bool
}

// Version is a short hash of the exact wording.
func (c ConsentStatement) Version() string { return shortHash(c.ID + "\x00" + c.Text) }

// ConsentStatements is the one place the consent wording lives: one
// statement per box. "named" and "role" are not boxes: they are set by the
// answer to "How would you like to be named?" (see Namings).
var ConsentStatements = []ConsentStatement{
	{ID: "contact", Required: true, Text: "The communications team may contact me about my story."},
	{ID: "store", Required: true, Text: "You may keep my answers and any video clips, as the privacy notice describes."},
	{ID: "public", Text: "My story may be quoted publicly, for example in the media or in meetings with MPs and candidates."},
	{ID: "named", Text: "My name may be given when my story is used."},
	{ID: "role", Text: "My role and borough may be given when my story is used."},
	{ID: "clips", Text: "My video clips may be used in campaign videos and on social media."},
}

// Naming is one answer to "How would you like to be named if we use your
// story?" and the naming consents it gives.
type Naming struct {
	ID, Label string
	Named     bool // the "named" consent
	Role      bool // the "role" consent
}

// Namings are the answers to the naming question, most open first.
var Namings = []Naming{
	{ID: "name", Label: "By my name, role and borough", Named: true, Role: true},
	{ID: "role", Label: "By my role and borough only", Role: true},
	{ID: "anonymous", Label: "Anonymously: no name, role or borough"},
}

// NamingOf is the naming the ledger's current naming consents amount to.
func NamingOf(ledger []ConsentRecord) Naming {
	named, role := Consented(ledger, "named"), Consented(ledger, "role")
	for _, n := range Namings {
		if n.Named == named && n.Role == (role || named) {
			return n
		}
	}
	return Namings[len(Namings)-1]
}

// FindNaming looks a naming answer up by id.
func FindNaming(id string) (Naming, bool) {
	for _, n := range Namings {
		if n.ID == id {
			return n, true
		}
	}
	return Naming{}, false
}

// IsBox reports whether the statement is a tickbox of its own on the form
// (the naming consents are one radio question instead).
func (c ConsentStatement) IsBox() bool { return c.ID != "named" && c.ID != "role" }

// ConsentVersion is the version of the whole wording the form shows; the form
// sends it back so the server knows which wording the volunteer saw.
func ConsentVersion() string {
	var b strings.Builder
	for _, c := range ConsentStatements {
		b.WriteString(c.Version())
	}
	return shortHash(b.String())
}

// FindConsent returns the statement with the given id.
func FindConsent(id string) (ConsentStatement, bool) {
	for _, c := range ConsentStatements {
		if c.ID == id {
			return c, true
		}
	}
	return ConsentStatement{}, false
}

// ConsentRecord is one entry in a story's consent ledger.
type ConsentRecord struct {
	Statement string    `json:"statement" dynamodbav:"statement"`
	Version   string    `json:"version" dynamodbav:"version"`
	Agreed    bool      `json:"agreed" dynamodbav:"agreed"`
	At        time.Time `json:"at" dynamodbav:"at"`
	Channel   string    `json:"channel" dynamodbav:"channel"` // "form", "withdraw-page", …
}

// Consented reports whether the ledger's latest record for statement id is agreed.
func Consented(ledger []ConsentRecord, id string) bool {
	agreed := false
	for _, r := range ledger {
		if r.Statement == id {
			agreed = r.Agreed
		}
	}
	return agreed
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
