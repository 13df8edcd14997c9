package links_test

import (
	"context"
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
	s, _ := token.StaticSigner(strings.Repeat("k", 32))
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	start := func(id string, shown time.Time) string {
		tok, err := links.Start(ctx, s, id, shown)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	f.Add(start("abcdefghijklmnopqrstuvwxyz", now))
	f.Add(start("abcdefghijklmnopqrstuvwxyz", now.Add(-30*24*time.Hour)))
	f.Add("")
	f.Add("1.2.3")
	f.Add("a-b.c.d")
	f.Add("....")
	f.Add("k1.a-b.c.d")
	f.Fuzz(func(t *testing.T, tok string) {
		id, shown, err := links.ParseStart(ctx, s, tok, now)
		if err == nil || errors.Is(err, token.ErrExpired) {
			if again, _ := links.Start(ctx, s, id, shown); id == "" || tok != again {
				t.Fatalf("accepted %q as %q at %v, which this signer did not make", tok, id, shown)
			}
		} else if !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("%q: unexpected error %v", tok, err)
		}
		if key, name, err := links.ParseDownload(ctx, s, tok, now); err == nil && (key == "" || name == "" || strings.Contains(key, "..")) {
			t.Fatalf("download token %q gave %q %q", tok, key, name)
		}
	})
}
