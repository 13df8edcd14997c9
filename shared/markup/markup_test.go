package markup

import (
	"html/template"
	"strings"
	"testing"
)

// probe renders s in each context with html/template: what Text, URL and
// QueryValue must write.
var probes = []string{
	`<title>{{.}}</title>`, `<p>{{.}}</p>`, `<input value="{{.}}">`, `<a href="{{.}}">`, `<a href="/p?t={{.}}">`, `<a href="#{{.}}">`,
}

func check(t *testing.T, s string) {
	t.Helper()
	var want []string
	for _, p := range probes {
		var b strings.Builder
		if err := template.Must(template.New("").Parse(p)).Execute(&b, s); err != nil {
			t.Fatal(err)
		}
		want = append(want, b.String())
	}
	got := []string{
		"<title>" + Text(s) + "</title>", "<p>" + Text(s) + "</p>", `<input value="` + Text(s) + `">`,
		`<a href="` + URL(s) + `">`, `<a href="/p?t=` + QueryValue(s) + `">`, `<a href="#` + QueryValue(s) + `">`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q:\n got %s\nwant %s (html/template)", s, got[i], want[i])
		}
	}
}

var hostile = []string{
	"", "plain", `<script>alert("x")</script>`, `"><img src=x onerror=alert(1)>`, "Tom & Jerry's +1",
	"\x00nul", "line\r\nBcc: x@example.org", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>",
	"mailto:a@example.org", "HTTPS://x.example/a b?c=d&e=f#g", "/withdraw?t=a+b/c=&d", "%41%zz%4", "é ü 東京 👩🏽‍⚕️",
	"\u202Egnp.exe\u202C", "\xff\xfe invalid", "a/b:c", "{{.}}", "`backtick` =eq",
}

func TestEscapingIsHTMLTemplates(t *testing.T) {
	for _, s := range hostile {
		check(t, s)
	}
}

func FuzzEscapingIsHTMLTemplates(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(check)
}
