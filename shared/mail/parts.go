package mail

import (
	"frontlinevoices/shared/markup"
)

// The emails are written in plain Go, not with html/template and
// text/template: executing a template keeps every method of every SDK
// client in the binary (README, Size and speed). Every piece of text that
// is not ours goes through markup.Text (or markup.URL in an href), which
// escapes exactly as html/template did; the golden files in testdata/ hold
// each email byte for byte.

var esc = markup.Text

// Head opens an email's HTML part: the document, its title and the
// centred white card the content sits in.
func Head(b *markup.Builder, title string) {
	b.Add(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>`, esc(title), `</title></head>
<body style="margin:0;padding:0;background:#f3f2f1;font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f2f1;"><tr><td align="center" style="padding:16px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;width:100%;background:#ffffff;border-top:6px solid #005eb8;">
<tr><td style="padding:24px;font-size:16px;line-height:1.5;">`)
}

// Foot closes what Head opened, with the sender's name and a link to the
// privacy notice (none when privacyURL is "").
func Foot(b *markup.Builder, privacyURL string) {
	b.Add(`</td></tr></table>
<p style="font-size:12px;color:#505a5f;margin:12px 0;">Frontline Voices`)
	if privacyURL != "" {
		b.Add(` · <a href="`, markup.URL(privacyURL), `" style="color:#505a5f;">Privacy notice</a>`)
	}
	b.Add(`</p>
</td></tr></table></body></html>`)
}

// HTML writes the "Can we use this?" block of the HTML part.
func (u Usage) HTML(b *markup.Builder) {
	b.Add(`<div style="margin:0 0 12px;padding:8px;border:2px solid #005eb8;"><b>Can we use this?</b><br>Quote publicly: <b>`, esc(u.PublicText()),
		`</b><br>Name them: <b>`, esc(u.Naming), `</b><br>Clips in campaigns: <b>`, esc(u.ClipsText()), `</b><br>Contact by: <b>`, esc(u.ContactBy), `</b></div>`)
}

// Text writes the "Can we use this?" block of the plain-text part, its
// lines after the first indented by two spaces.
func (u Usage) Text(b *markup.Builder) {
	b.Add("CAN WE USE THIS?\n  Quote publicly: ", u.PublicText(), "\n  Name them: ", u.Naming,
		"\n  Clips in campaigns: ", u.ClipsText(), "\n  Contact by: ", u.ContactBy)
}

// row is one answer of a story in an email's table of answers: a label and
// its value, rendered alike for every answer (rowsHTML, rowsText).
type row struct {
	Label, Value string
	// Plain is the value in the plain-text part, where it is worded
	// differently ("" means Value).
	Plain string
	// Optional: a row without a value is left out.
	Optional bool
}

func (r row) shown() bool { return !r.Optional || r.Value != "" }

// rowsHTML writes rows as table rows, one a line. An optional row left out
// leaves its line empty.
func rowsHTML(b *markup.Builder, rows []row) {
	for _, r := range rows {
		if r.shown() {
			b.Add(`<tr><th align="left" valign="top" style="padding:6px 12px 6px 0;width:34%;font-weight:bold;border-bottom:1px solid #e5e5e5;">`, esc(r.Label),
				`</th><td valign="top" style="padding:6px 0;border-bottom:1px solid #e5e5e5;">`, esc(r.Value), `</td></tr>`)
		}
		b.Add("\n")
	}
}

// rowsText writes rows as "Label: value" lines.
func rowsText(b *markup.Builder, rows []row) {
	for _, r := range rows {
		if !r.shown() {
			continue
		}
		v := r.Value
		if r.Plain != "" {
			v = r.Plain
		}
		b.Add(r.Label, ": ", v, "\n")
	}
}

// paragraphsHTML writes each paragraph of text (Paragraphs) as a <p> that
// keeps its line breaks.
func paragraphsHTML(b *markup.Builder, text string) {
	for _, p := range Paragraphs(text) {
		b.Add(`<p style="margin:0 0 12px 0;white-space:pre-wrap;">`, esc(p), `</p>`)
	}
}
