package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	s, err := NewSigner(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner(strings.Repeat("o", 32))
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tok := s.Sign("upload", "storyid", now.Add(time.Hour))
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
		{"tampered subject", s, "upload", "storyie" + tok[7:], now, "", ErrInvalid},
		{"tampered signature", s, "upload", tok[:len(tok)-1] + "A", now, "", ErrInvalid},
		{"empty", s, "upload", "", now, "", ErrInvalid},
		{"garbage", s, "upload", "a.b.c.d", now, "", ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subject, err := c.signer.Verify(c.purpose, c.tok, c.at)
			if subject != c.subject || !errors.Is(err, c.err) {
				t.Fatalf("Verify = %q %v, want %q %v", subject, err, c.subject, c.err)
			}
		})
	}
	if _, err := NewSigner("short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
}
