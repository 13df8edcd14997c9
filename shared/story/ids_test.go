package story

import (
	"regexp"
	"testing"
)

// The id checks are written without regexps (compiled at every cold
// start); these are the regexps they replace, and the fuzz test checks
// that each check says what its regexp says.
var (
	idRegexp       = regexp.MustCompile(`^[a-z2-7]{26}$`)
	personIDRegexp = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,79}$`)
)

var idSeeds = []string{
	"", "a", "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxy2", "abcdefghijklmnopqrstuvwxy8", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"abcdefghijklmnopqrstuvwxyz7", "jo-bloggs-holborn", "-jo", "j-", "x", "jo bloggs", "é-à", "a\n",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
}

func FuzzIDChecksAreTheirRegexps(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidID(s), idRegexp.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the regexp says %v", s, got, want)
		}
		if got, want := validPersonID(s), personIDRegexp.MatchString(s); got != want {
			t.Errorf("validPersonID(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
