// Package layout is the site's page layout (web's layout.html) and its
// simple message page, written without the template engine, for functions
// whose pages are written in plain Go: executing a template keeps every
// method of the SDK clients in a binary (README, Size and speed). parts.go
// is layout.html cut at the page's title and content, generated and
// checked by `go test ./shared/web` (-update rewrites it), so the layout
// has one source.
package layout

import (
	"context"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/markup"
)

// Open writes the layout up to the page's content, for a page titled
// title (the layout adds the site's name).
func Open(b *markup.Builder, title string) {
	b.Add(top[0], markup.Text(title), top[1])
}

// Close writes the layout after the page's content.
func Close(b *markup.Builder) { b.Add(bottom) }

// Message answers with a simple page: a title, a message and a way back
// (a path, or "" for none).
func Message(_ context.Context, status int, title, message, back, csp string) apigw.Response {
	return apigw.HTML(status, MessageHTML(title, message, back), csp)
}

// MessageHTML is the page Message answers with.
func MessageHTML(title, message, back string) []byte {
	var b markup.Builder
	Open(&b, title)
	b.Add("\n<h1>", markup.Text(title), "</h1>\n<p>", markup.Text(message), "</p>\n")
	if back != "" {
		b.Add(`<p><a href="`, markup.URL(back), `">Go back</a></p>`)
	}
	b.Add("\n")
	Close(&b)
	return []byte(b.String())
}
