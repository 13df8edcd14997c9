package digest

import (
	"cmp"
	"strconv"
	"strings"

	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/markup"
	"frontlinevoices/shared/story"
)

// The digest email is written in plain Go, as every email is (see the
// mail package): each value goes through markup.Text or markup.URL, which
// escape as html/template did, and the golden files in testdata/ hold the
// email byte for byte.

var esc = markup.Text

// row is one answer of a story in the digest, rendered alike for every
// answer: "<b>Label:</b> value" in the HTML part, "  Label: value" in the
// plain-text part.
type row struct {
	Label, Value string
	// PlainLabel is the label in the plain-text part, where it differs.
	PlainLabel string
	// Brief is the value cut short, where the HTML part shows less of it
	// than the plain-text part ("" means Value).
	Brief string
	// URL: the value links here (in the plain-text part, the address is on
	// a line of its own below it).
	URL string
	// After follows the value (and its link), as it is.
	After string
}

// briefChars is how much of a long value the HTML part shows.
const briefChars = 100

// entryRows are the answers of e the digest shows below its excerpt, in
// order: the story's rows (one a contact, long answers cut short in the
// HTML part), then its clips, how to reach the volunteer and the reference.
func entryRows(e Entry) []row {
	var rows []row
	for _, r := range e.Rows {
		switch {
		case r.ID == "mpContacts":
			for _, c := range e.Contacts {
				rows = append(rows, row{Label: "MP or candidate", PlainLabel: "MP or candidate contact", Value: c.Who() + ": " + c.What, Brief: c.Who() + ": " + mail.Excerpt(briefChars, c.What)})
			}
		case r.Long:
			v := story.CleanLine(r.Value()) // one line in the digest
			rows = append(rows, row{Label: r.Label, Value: v, Brief: mail.Excerpt(briefChars, v)})
		default:
			rows = append(rows, row{Label: r.Label, Value: r.Value()})
		}
	}
	for _, c := range e.Clips {
		r := row{Label: "Clip", Value: c.Name, URL: c.URL}
		if c.Duration != "" {
			r.After = " (" + c.Duration + ")"
		}
		rows = append(rows, r)
	}
	return append(rows,
		row{Label: "Contact", Value: e.ContactLine()},
		row{Label: "Reference", Value: e.ID})
}

// rowsHTML writes rows one after another, separated by line breaks.
func rowsHTML(b *markup.Builder, rows []row) {
	for i, r := range rows {
		if i > 0 {
			b.Add("<br>")
		}
		v := cmp.Or(r.Brief, r.Value)
		b.Add("<b>", esc(r.Label), ":</b> ")
		if r.URL != "" {
			b.Add(`<a href="`, markup.URL(r.URL), `">`, esc(v), "</a>")
		} else {
			b.Add(esc(v))
		}
		b.Add(esc(r.After))
	}
}

// rowsText writes rows as indented "Label: value" lines.
func rowsText(b *markup.Builder, rows []row) {
	for i, r := range rows {
		if i > 0 {
			b.Add("\n")
		}
		b.Add("  ", cmp.Or(r.PlainLabel, r.Label), ": ", r.Value, r.After)
		if r.URL != "" {
			b.Add("\n    ", r.URL)
		}
	}
}

// Message is the digest email of r, to the comms team.
func Message(r Report, to []string) (mail.Message, error) {
	return mail.Message{To: to, Subject: r.Subject(), Text: textPart(r), HTML: htmlPart(r)}, nil
}

const (
	h2    = `<h2 style="font-size:18px;margin:16px 0 8px 0;">`
	table = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px 0;">`
	box   = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="margin:0 0 16px 0;"><tr><td style="padding:12px;background:`
)

// one picks the singular or plural words for n.
func one(n int, singular, plural string) string {
	if n == 1 {
		return singular
	}
	return plural
}

func htmlPart(r Report) string {
	var b markup.Builder
	mail.Head(&b, r.Subject())
	b.Add("\n", `<h1 style="font-size:22px;margin:0 0 4px 0;">`, esc(r.Heading()), "</h1>\n",
		`<p style="margin:0 0 16px 0;color:#505a5f;">`, esc(r.Period), "</p>\n")
	if r.ListWarning != "" {
		b.Add(box, `#fff7bf;border-left:6px solid #ffdd00;"><strong>`, esc(r.ListWarning), "</strong></td></tr></table>\n")
	}
	if r.Empty {
		b.Add(`<p style="margin:0 0 16px 0;">No stories came in during this period. The next digest will include anything that arrives before it.</p>`, "\n")
	} else {
		if n := len(r.Withdrawn); n > 0 {
			b.Add(box, `#fdeceb;border-left:6px solid #d4351c;">`, "\n",
				"<strong>", strconv.Itoa(n), " withdrawn: stop using ", one(n, "this story", "these stories"),
				"</strong>, including copies in exports, drafts and edits. The ", one(n, "volunteer has", "volunteers have"),
				" had ", one(n, "it", "them"), " erased.<br>\n",
				`<span style="font-size:14px;">Reference`, one(n, "", "s"), ": ", esc(strings.Join(r.Withdrawn, ", ")), "</span></td></tr></table>\n")
		}
		if r.Total != 0 {
			c := r.Counts
			counts := func(heading string, cs []Count) {
				b.Add(h2, heading, "</h2>\n", table, "\n")
				for _, c := range cs {
					b.Add(`<tr><th align="left" style="padding:3px 8px 3px 0;font-weight:normal;">`, esc(c.Label),
						`</th><td style="padding:3px 0;"><b>`, strconv.Itoa(c.N), "</b></td></tr>\n")
				}
				b.Add("</table>")
			}
			counts("At a glance", c.Glance())
			b.Add("\n")
			counts("By ICB area", c.Areas)
			b.Add("\n")
			counts("Would take part in", c.Activities)
			if len(c.Constituencies) > 0 {
				b.Add("\n")
				counts("Contacts by constituency", c.Constituencies)
			}
		}
		b.Add("\n")
		if r.Export.URL != "" {
			b.Add(box, `#e8f1f8;border-left:6px solid #005eb8;">`, "\n",
				`<a href="`, markup.URL(r.Export.URL), `" style="color:#005eb8;font-weight:bold;">Download all `, strconv.Itoa(r.Total), " as a spreadsheet (CSV)</a><br>\n",
				`<span style="font-size:14px;color:#505a5f;">The link works until `, esc(r.Export.Expires), ".</span></td></tr></table>")
		}
		b.Add("\n")
		if r.More() != 0 {
			b.Add(`<p style="margin:0 0 16px 0;"><strong>This email shows the first `, strconv.Itoa(r.Shown), " of ", strconv.Itoa(r.Total),
				" stories in full.</strong> The other ", strconv.Itoa(r.More()), " are in the spreadsheet.</p>")
		}
		b.Add("\n")
		for _, a := range r.Areas {
			b.Add(`<h2 style="font-size:20px;margin:24px 0 8px 0;padding:0 0 4px 0;border-bottom:2px solid #005eb8;">`, esc(a.Label), " (", strconv.Itoa(a.N), ")</h2>\n")
			for _, g := range a.Boroughs {
				b.Add(`<h3 style="font-size:17px;margin:16px 0 8px 0;color:#505a5f;">`, esc(g.Label), " (", strconv.Itoa(g.N), ")</h3>\n")
				for _, e := range g.Stories {
					b.Add(`<div style="margin:0 0 16px;padding:12px;border:1px solid #d8dde0;overflow-wrap:anywhere;word-break:break-word;">`, "\n",
						`<p style="margin:0 0 8px;"><b>`, esc(e.Name), "</b>, ", esc(e.Role), "<br><small>", esc(e.Practice), " · sent ", esc(e.Submitted), "</small></p>\n")
					e.Use.HTML(&b)
					b.Add("\n")
					if len(e.Flags) > 0 {
						b.Add(`<p style="margin:0 0 8px;padding:6px;background:#fff7bf;"><b>Check before use:</b> `, esc(strings.Join(e.Flags, "; ")), "</p>\n")
					}
					b.Add(`<p style="margin:0 0 8px;padding:8px;background:#f8f8f8;">`, esc(e.Excerpt), "</p>\n", `<p style="margin:0;font-size:14px;">`)
					rowsHTML(&b, entryRows(e))
					b.Add("</p>\n</div>\n")
				}
			}
		}
	}
	if r.Export.URL != "" {
		b.Add(`<p style="margin:16px 0 0 0;font-size:13px;color:#505a5f;">Links to the spreadsheet and to clips are private: please don't forward this email.</p>`, "\n")
	}
	mail.Foot(&b, r.PrivacyURL)
	b.Add("\n\n")
	return b.String()
}

func textPart(r Report) string {
	var b markup.Builder
	b.Add(r.Heading(), "\n", r.Period, "\n")
	if r.ListWarning != "" {
		b.Add("\n", r.ListWarning, "\n")
	}
	if r.Empty {
		b.Add("\nNo stories came in during this period. The next digest will include anything that arrives before it.\n")
	} else {
		if n := len(r.Withdrawn); n > 0 {
			b.Add("\n", strconv.Itoa(n), " WITHDRAWN: stop using ", one(n, "this story", "these stories"),
				", including copies in exports, drafts and edits. The ", one(n, "volunteer has", "volunteers have"),
				" had ", one(n, "it", "them"), " erased.\nReference", one(n, "", "s"), ": ", strings.Join(r.Withdrawn, ", "), "\n")
		}
		if r.Total != 0 {
			c := r.Counts
			counts := func(heading string, cs []Count) {
				b.Add(heading, "\n")
				for _, c := range cs {
					b.Add("\n- ", c.Label, ": ", strconv.Itoa(c.N))
				}
				b.Add("\n")
			}
			b.Add("\n")
			counts("AT A GLANCE", c.Glance())
			b.Add("\n")
			counts("BY ICB AREA", c.Areas)
			b.Add("\n")
			counts("WOULD TAKE PART IN", c.Activities)
			if len(c.Constituencies) > 0 {
				b.Add("\n")
				counts("CONTACTS BY CONSTITUENCY", c.Constituencies)
			}
		}
		if r.Export.URL != "" {
			b.Add("\nDownload all ", strconv.Itoa(r.Total), " as a spreadsheet (CSV); the link works until ", r.Export.Expires, ":\n", r.Export.URL, "\n")
		}
		if r.More() != 0 {
			b.Add("\nThis email shows the first ", strconv.Itoa(r.Shown), " of ", strconv.Itoa(r.Total), " stories in full. The other ", strconv.Itoa(r.More()), " are in the spreadsheet.\n")
		}
		for _, a := range r.Areas {
			b.Add("\n\n==== ", a.Label, " (", strconv.Itoa(a.N), ") ====\n")
			for _, g := range a.Boroughs {
				b.Add("\n---- ", g.Label, " (", strconv.Itoa(g.N), ") ----\n")
				for _, e := range g.Stories {
					b.Add("\n* ", e.Name, ", ", e.Role, "\n  ", e.Practice, " · sent ", e.Submitted, "\n  ")
					e.Use.Text(&b)
					if len(e.Flags) > 0 {
						b.Add("\n  CHECK BEFORE USE: ", strings.Join(e.Flags, "; "))
					}
					b.Add("\n  \"", e.Excerpt, "\"\n")
					rowsText(&b, entryRows(e))
					b.Add("\n")
				}
			}
		}
	}
	if r.Export.URL != "" {
		b.Add("\nLinks to the spreadsheet and to clips are private: please don't forward this email.\n")
	}
	if r.PrivacyURL != "" {
		b.Add("\nPrivacy notice: ", r.PrivacyURL, "\n")
	}
	return b.String()
}
