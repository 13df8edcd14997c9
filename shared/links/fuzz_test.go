package links_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/links"
	"frontlinevoices/shared/token"
)

// FuzzTokens: any string handed in as a start or download token is either
// one this signer made or an error; never a panic, never another's.
func FuzzTokens(f *testing.F) {
	s, _ := token.NewSigner(strings.Repeat("k", 32))
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	f.Add(links.Start(s, "abcdefghijklmnopqrstuvwxyz", now))
	f.Add(links.Start(s, "abcdefghijklmnopqrstuvwxyz", now.Add(-30*24*time.Hour)))
	f.Add("")
	f.Add("1.2.3")
	f.Add("a-b.c.d")
	f.Add("....")
	f.Fuzz(func(t *testing.T, tok string) {
		id, shown, err := links.ParseStart(s, tok, now)
		if err == nil || errors.Is(err, token.ErrExpired) {
			if id == "" || tok != links.Start(s, id, shown) {
				t.Fatalf("accepted %q as %q at %v, which this signer did not make", tok, id, shown)
			}
		} else if !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("%q: unexpected error %v", tok, err)
		}
		if key, name, err := links.ParseDownload(s, tok, now); err == nil && (key == "" || name == "" || strings.Contains(key, "..")) {
			t.Fatalf("download token %q gave %q %q", tok, key, name)
		}
	})
}
