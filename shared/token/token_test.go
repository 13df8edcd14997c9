package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

func TestSignAndVerify(t *testing.T) {
	s, err := StaticSigner(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := StaticSigner(strings.Repeat("o", 32))
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tok, err := s.Sign(ctx, "upload", "storyid", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "k1.storyid.") {
		t.Fatalf("token %q does not start with its key id and subject", tok)
	}
	cases := []struct {
		name    string
		signer  Signer
		purpose string
		tok     string
		at      time.Time
		subject string
		err     error
	}{
		{"good", s, "upload", tok, now, "storyid", nil},
		{"expired keeps its subject", s, "upload", tok, now.Add(time.Hour), "storyid", ErrExpired},
		{"another purpose", s, "withdraw", tok, now, "", ErrInvalid},
		{"another key", other, "upload", tok, now, "", ErrInvalid},
		{"tampered subject", s, "upload", "k1.storyie" + tok[10:], now, "", ErrInvalid},
		{"unknown key id", s, "upload", "k9" + tok[2:], now, "", ErrInvalid},
		{"tampered signature", s, "upload", tok[:len(tok)-1] + "A", now, "", ErrInvalid},
		{"empty", s, "upload", "", now, "", ErrInvalid},
		{"garbage", s, "upload", "a.b.c.d", now, "", ErrInvalid},
		{"old format without a key id", s, "upload", tok[3:], now, "", ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subject, err := c.signer.Verify(ctx, c.purpose, c.tok, c.at)
			if subject != c.subject || !errors.Is(err, c.err) {
				t.Fatalf("Verify = %q %v, want %q %v", subject, err, c.subject, c.err)
			}
		})
	}
	if _, err := StaticSigner("short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

func TestParseKeys(t *testing.T) {
	long := strings.Repeat("x", 64)
	k, err := ParseKeys(`{"current":"k2","k1":"` + long + `","k2":"` + strings.Repeat("y", 64) + `"}`)
	if err != nil || k.Current != "k2" || len(k.ByID) != 2 {
		t.Fatalf("ParseKeys = %+v, %v", k, err)
	}
	back, err := ParseKeys(k.JSON())
	if err != nil || back.Current != "k2" || string(back.ByID["k1"]) != long {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	for name, doc := range map[string]string{
		"not JSON":             `k1=abc`,
		"current is missing":   `{"k1":"` + long + `"}`,
		"current names no key": `{"current":"k2","k1":"` + long + `"}`,
		"short key":            `{"current":"k1","k1":"short"}`,
		"bad id":               `{"current":"K.1","K.1":"` + long + `"}`,
	} {
		if _, err := ParseKeys(doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A rotation as a running function sees it: tokens signed before keep
// verifying, new ones name the new key, a token naming a key this function
// has not loaded yet makes it read the keys again, and a retired key's
// tokens stop verifying once the cache is refreshed.
func TestRotation(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	k1, k2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	doc := `{"current":"k1","k1":"` + k1 + `"}`
	loads := 0
	src := func(context.Context) (Keys, error) { loads++; return ParseKeys(doc) }
	s := NewSigner(src)
	s.c.now = func() time.Time { return now }
	if loads != 0 {
		t.Fatal("keys were read before first use")
	}
	old, _ := s.Sign(ctx, "withdraw", "story", now.Add(24*30*24*time.Hour))
	if _, err := s.Sign(ctx, "withdraw", "story", now.Add(time.Hour)); err != nil || loads != 1 {
		t.Fatalf("second sign: %v, %d loads (want cached)", err, loads)
	}

	// Another function instance loads the rotated keys and signs with k2.
	doc = `{"current":"k2","k1":"` + k1 + `","k2":"` + k2 + `"}`
	other := NewSigner(src)
	fresh, _ := other.Sign(ctx, "withdraw", "story2", now.Add(time.Hour))
	if !strings.HasPrefix(fresh, "k2.") {
		t.Fatalf("after rotation the token is %q", fresh)
	}
	// This instance has only k1 cached: an unknown id reloads at once the
	// first time (the cache is older than UnknownKeyWait).
	now = now.Add(UnknownKeyWait)
	if got, err := s.Verify(ctx, "withdraw", fresh, now); err != nil || got != "story2" {
		t.Fatalf("new key's token: %q %v", got, err)
	}
	if got, err := s.Verify(ctx, "withdraw", old, now); err != nil || got != "story" {
		t.Fatalf("old key's token after rotation: %q %v", got, err)
	}
	// Retire k1: after the cache's lifetime its tokens are invalid.
	doc = `{"current":"k2","k2":"` + k2 + `"}`
	now = now.Add(KeysTTL)
	if _, err := s.Verify(ctx, "withdraw", old, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("retired key's token: %v", err)
	}
}

func TestKeysUnavailable(t *testing.T) {
	down := errors.New("secrets manager is down")
	s := NewSigner(func(context.Context) (Keys, error) { return Keys{}, down })
	if _, err := s.Sign(ctx, "upload", "x", time.Now().Add(time.Hour)); !errors.Is(err, down) {
		t.Fatalf("Sign = %v", err)
	}
	_, err := s.Verify(ctx, "upload", "k1.x.abc.def", time.Now())
	if !errors.Is(err, down) || errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify = %v: an outage must not look like a bad link", err)
	}
}
