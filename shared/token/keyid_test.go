package token

import (
	"regexp"
	"testing"
)

// keyIDRegexp is what validKeyID checks, as a regexp (which would be
// compiled at every cold start).
var keyIDRegexp = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

func FuzzKeyIDIsItsRegexp(f *testing.F) {
	for _, s := range []string{"", "k1", "k20261128", "-", "K1", "k 1", "é", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validKeyID(s), keyIDRegexp.MatchString(s); got != want {
			t.Errorf("validKeyID(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
