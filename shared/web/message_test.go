package web

import (
	"testing"

	"frontlinevoices/shared/web/layout"
)

// message renders message.html with the template engine: what Message
// writes without it.
func message(t *testing.T, title, text, back string) string {
	t.Helper()
	b, err := Render("message.html", struct{ Title, Message, Back string }{title, text, back})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMessageWithoutTemplates checks that Message (layout.Message) writes,
// byte for byte, what message.html renders.
func TestMessageWithoutTemplates(t *testing.T) {
	for _, c := range []struct{ title, text, back string }{
		{"Page not found", "There is no page at this address.", "/"},
		{"This link has expired", "Download links in the digest last 7 days.", ""},
		{`Tom & Jerry's <"quotes"> +1`, "a < b > c & 'd' \"e\" +\x00", "/withdraw?a=1&b=2 c"},
		{"", "", "javascript:alert(1)"},
	} {
		if got, want := string(layout.MessageHTML(c.title, c.text, c.back)), message(t, c.title, c.text, c.back); got != want {
			t.Errorf("Message(%q, %q, %q):\n%s\nwant (message.html):\n%s", c.title, c.text, c.back, got, want)
		}
	}
}
