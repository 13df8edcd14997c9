package web_test

import (
	"testing"
	"unicode/utf8"

	"frontlinevoices/shared/web"
)

// FuzzParseForm: any urlencoded body is answers or an error, never a
// panic, and every answer accepted is UTF-8.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"", "name=Amara&topics=a&topics=b&consent.store=yes", "a=%zz", "name=%ff", "mp.0.name=x&mp.9.name=y", ";;;", "started=a.b.c&website=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		sub, posted, err := web.ParseForm(body)
		if err != nil {
			return
		}
		for _, v := range append([]string{sub.Name, sub.Email, sub.Story, posted.Started, posted.Website, posted.Turnstile}, sub.Topics...) {
			if !utf8.ValidString(v) {
				t.Fatalf("accepted a value that is not UTF-8: %q", v)
			}
		}
	})
}
