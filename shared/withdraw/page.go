package withdraw

import (
	"context"
	"strconv"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/markup"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/web/layout"
)

// The withdraw page is written in plain Go, in the site's layout
// (web/layout), not with html/template: executing a template keeps every
// method of the SDK clients in the binary (README, Size and speed). Every
// value goes through markup, which escapes as html/template did; the golden
// files in testdata/ hold the page in each of its states, byte for byte.

var esc = markup.Text

func page(_ context.Context, status int, v view) apigw.Response {
	return apigw.HTML(status, render(v), csp)
}

// row is one answer on the page: a label and the lines of its value.
type row struct {
	Label string
	// Lines are the value, each escaped, with a line break between two.
	Lines []string
	// Class and ID are the value's attributes, if any.
	Class, ID string
}

// storyRows are what the page shows of st, in its two lists: about the
// volunteer, and their story. clips is how many clips it has.
func storyRows(st story.Story, clips int) (about, yours []row) {
	for _, r := range story.Rows(st, story.ViewWithdraw) {
		w := row{Label: r.Label, Lines: []string{r.Value()}}
		if r.Lines {
			w.Lines = r.Values
		}
		if r.Long {
			w.Class = "text"
		}
		if r.Step == story.StepAbout {
			about = append(about, w)
		} else {
			yours = append(yours, w)
		}
	}
	yours = append(yours, row{Label: "Video clips", Lines: []string{strconv.Itoa(clips)}, ID: "clip-count"})
	return about, yours
}

// rowsHTML writes rows as a summary list.
func rowsHTML(b *markup.Builder, rows []row) {
	b.Add(`<dl class="summary">`, "\n")
	for _, r := range rows {
		b.Add("<div><dt>", esc(r.Label), "</dt><dd")
		if r.Class != "" {
			b.Add(` class="`, esc(r.Class), `"`)
		}
		if r.ID != "" {
			b.Add(` id="`, esc(r.ID), `"`)
		}
		b.Add(">")
		for i, l := range r.Lines {
			if i > 0 {
				b.Add("<br>")
			}
			b.Add(esc(l))
		}
		b.Add("</dd></div>\n")
	}
	b.Add("</dl>\n")
}

// hidden writes hidden form fields, given as name, value pairs.
func hidden(b *markup.Builder, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		b.Add(`<input type="hidden" name="`, pairs[i], `" value="`, esc(pairs[i+1]), `">`)
	}
}

// render is the withdraw page of v.
func render(v view) []byte {
	var b markup.Builder
	layout.Open(&b, v.Title())
	b.Add("\n")
	switch {
	case v.Problem != nil:
		b.Add("\n<h1>", esc(v.Problem.Title), "</h1>\n<p>", esc(v.Problem.Message), "</p>\n",
			`<p>If you want to withdraw, write to the communications team and we will do it for you. The <a href="/privacy">privacy notice</a> says how.</p>`, "\n")
	case v.Done != "":
		b.Add("\n", `<div class="panel" role="status"><h1>`, esc(v.Done), "</h1></div>\n")
		for _, d := range v.DoneDetail {
			b.Add("<p>", esc(d), "</p>")
		}
		b.Add("\n")
		if r := v.Retry; r != nil {
			b.Add(`<form method="post" action="/withdraw">`, "\n  ")
			hidden(&b, "t", v.Token, "action", r.Action, "statement", r.Statement, "naming", r.Naming, "from", r.From)
			b.Add("\n", `  <button class="button" id="retry">Tell the team again</button>`, "\n</form>")
		}
		b.Add("\n")
		if v.Story != nil {
			b.Add(`<p><a href="/withdraw?t=`, markup.QueryValue(v.Token), `">Back to your story</a></p>`)
		}
		b.Add("\n")
	default:
		storyHTML(&b, v)
	}
	b.Add("\n")
	layout.Close(&b)
	return []byte(b.String())
}

// storyHTML is the page's main state: the story, the consents and the
// forms that change them.
func storyHTML(b *markup.Builder, v view) {
	naming, confirm := v.ErrorField == "naming", v.ErrorField == "confirm"
	if st := v.Story; st != nil {
		b.Add("\n<h1>Your story</h1>\n<p>This is everything we hold about the story you sent on ", esc(st.SubmittedAt.Format("2 January 2006")),
			`. Only you have this link. The <a href="/privacy">privacy notice</a> says how long we keep it and who sees it.</p>`, "\n")
		if v.Error != "" {
			target := "main"
			switch {
			case naming:
				target = "naming-" + markup.QueryValue(v.Naming.ID)
			case v.ErrorField != "":
				target = markup.QueryValue(v.ErrorField)
			}
			b.Add(`<div class="error-summary" role="alert" aria-labelledby="error-summary-title">`, "\n",
				`  <h2 id="error-summary-title">There is a problem</h2>`, "\n",
				`  <ul><li><a href="#`, target, `">`, esc(v.Error), "</a></li></ul>\n</div>")
		}
		about, yours := storyRows(*st, v.Clips)
		b.Add("\n<h2>About you</h2>\n")
		rowsHTML(b, about)
		b.Add("<h2>Your story</h2>\n")
		rowsHTML(b, yours)
	}
	b.Add("\n<h2>What you have agreed to</h2>\n", `<ul class="consents">`, "\n")
	for _, c := range v.Required {
		b.Add("<li><strong>Yes:</strong> ", esc(c.Text), ` <span class="hint">To withdraw this, erase your story below.</span></li>`, "\n")
	}
	for _, c := range v.Boxes {
		answer, action, button := "No", "give", c.Give
		if c.Agreed {
			answer, action, button = "Yes", "withdraw", c.Withdraw
		}
		b.Add("<li><strong>", answer, ":</strong> ", esc(c.Text), "\n", `  <form method="post" action="/withdraw">`, "\n    ")
		hidden(b, "t", v.Token, "action", action, "statement", c.ID)
		b.Add("\n", `    <button class="button secondary" id="`, action, "-", esc(c.ID), `">`, esc(button), "</button>\n  </form>\n</li>\n")
	}
	b.Add("</ul>\n", `<form method="post" action="/withdraw" novalidate>`, "\n  ")
	hidden(b, "t", v.Token, "action", "naming")
	b.Add("\n", `  <div class="field`)
	if naming {
		b.Add(" has-error")
	}
	b.Add(`">`, "\n  <fieldset")
	if naming {
		b.Add(` aria-describedby="naming-error"`)
	}
	b.Add("><legend>How would you like to be named if we use your story?</legend>\n  ")
	if naming {
		b.Add(`<p class="error-message" id="naming-error"><span class="visually-hidden">Error:</span> `, esc(v.Error), "</p>")
	}
	b.Add("\n  ")
	for _, n := range v.Namings {
		id := esc(n.ID)
		b.Add(`<div class="choice"><input type="radio" id="naming-`, id, `" name="naming" value="`, id, `"`)
		if n.ID == v.Naming.ID {
			b.Add(" checked")
			if naming {
				b.Add(" autofocus")
			}
		}
		b.Add(`><label for="naming-`, id, `">`, esc(n.Label), "</label></div>\n  ")
	}
	b.Add("</fieldset>\n  </div>\n", `  <button class="button secondary" id="change-naming">Change how I am named</button>`, "\n</form>\n",
		"<h2>Erase everything</h2>\n",
		"<p>This deletes your story, your answers and every video clip straight away. The communications team is told to stop using your story. You will get an email to confirm. Backups of our database are kept for up to 35 days and then they are gone too.</p>\n",
		`<form method="post" action="/withdraw" novalidate>`, "\n  ")
	hidden(b, "t", v.Token, "action", "erase")
	b.Add("\n", `  <div class="field`)
	if confirm {
		b.Add(" has-error")
	}
	b.Add(`">`, "\n    ")
	if confirm {
		b.Add(`<p class="error-message" id="confirm-error"><span class="visually-hidden">Error:</span> `, esc(v.Error), "</p>")
	}
	b.Add("\n", `    <div class="choice"><input type="checkbox" id="confirm" name="confirm" value="yes"`)
	if confirm {
		b.Add(` aria-describedby="confirm-error" aria-invalid="true" autofocus`)
	}
	b.Add(`><label for="confirm">I understand that this cannot be undone</label></div>`, "\n  </div>\n",
		`  <button class="button danger" id="erase">Erase my story and clips</button>`, "\n</form>\n")
}
