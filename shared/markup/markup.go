// Package markup escapes text for HTML the way html/template does, so
// pages and emails can be written in plain Go, without the template engine
// (executing a template keeps every method of the SDK clients in a binary:
// README, Size and speed). Each function is the escaping html/template
// applies in one context; markup_test.go checks them against html/template
// itself, on hostile and random input.
package markup

import (
	"fmt"
	"strings"
)

// Builder collects a page or an email part.
type Builder struct{ strings.Builder }

// Add writes each part as it is: markup, or text already escaped.
func (b *Builder) Add(parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}

// escaper is html/template's escaping of text, of RCDATA (a <title>) and
// of a quoted attribute's value: the five characters that could end or
// change an element, plus '+' (UTF-7) and NUL.
var escaper = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
)

// Text is s escaped for an element's text or a quoted attribute's value
// (other than a URL).
func Text(s string) string { return escaper.Replace(s) }

// URL is s escaped as a whole URL in a quoted href: a URL whose scheme is
// not http, https or mailto becomes "#ZgotmplZ" (html/template's mark of a
// refused value), characters that may not stand in a URL are
// percent-encoded, and the result is escaped as an attribute value.
func URL(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		return "#ZgotmplZ"
	}
	return Text(percent(s, true))
}

// QueryValue is s escaped as part of a URL's query or fragment in a
// quoted href: every character but letters, digits and "-._~" is
// percent-encoded.
func QueryValue(s string) string { return percent(s, false) }

// percent percent-encodes s as html/template does: keeping the URL's
// reserved characters and existing escapes when norm (a whole URL), only
// the unreserved ones otherwise (a value inside a query).
func percent(s string, norm bool) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~", c) >= 0:
			continue
		case norm && strings.IndexByte("!#$&*+,/:;=?@[]", c) >= 0:
			continue
		case norm && c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
