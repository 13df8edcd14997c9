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

// ConsentStatements is the one place the consent wording lives.
var ConsentStatements = []ConsentStatement{
	{ID: "contact", Required: true, Text: "I agree to be contacted by the communications team about my story."},
	{ID: "store", Required: true, Text: "I agree to my answers and any clips being stored and used as described in the privacy notice."},
	{ID: "public", Text: "My story may be quoted publicly, for example in the media or in meetings with MPs and candidates."},
	{ID: "named", Text: "I may be named when my story is used. Leave this unticked to be featured anonymously."},
	{ID: "clips", Text: "My video clips may be used in campaign videos and on social media."},
}

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
