// Package web holds the site's page templates and the shared layout,
// embedded in the binary, and renders pages: every handler that answers with
// a page renders it here. The static assets the pages link are in
// web/static, linked only by the function that serves them; this package
// knows their versions (versions.go), not their bytes.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/web/layout"
)

//go:embed templates/*.html
var templateFS embed.FS

// AssetURL is the cache-busting URL of a static asset.
func AssetURL(name string) string {
	return "/static/" + name + "?v=" + assetVersions[name]
}

// Head is what a page's <head> holds beyond the layout's own: its title
// and its extra stylesheets (kept in the head, so they never block
// rendering half-way down the page).
type Head struct {
	Title  string
	Styles []string
	// InForm: a step of the form, where the brand in the header is not a
	// link (it would leave the form mid-way, and it is one more Tab stop
	// on each step).
	InForm bool
}

var funcs = template.FuncMap{
	"head":     func(title string, styles ...string) Head { return Head{Title: title, Styles: styles} },
	"formHead": func(title string) Head { return Head{Title: title, InForm: true} },
	"asset":    AssetURL,
	"has":      func(list []string, v string) bool { return slices.Contains(list, v) },
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"typed":    typedContacts,
}

// pages are parsed on first use, not at init: a cold start that answers
// with a redirect or JSON (most downloads, every JSON submission) does not
// wait for them.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
})

// Render renders the named page template with data.
func Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Page answers with the named page template rendered with data. A page
// that cannot be rendered is logged (with the request's context) and
// answered with a 500 problem.
func Page(ctx context.Context, status int, name string, data any, csp string) apigw.Response {
	b, err := Render(name, data)
	if err != nil {
		slog.ErrorContext(ctx, "render page", "page", name, "error", err.Error())
		return apigw.Problem(http.StatusInternalServerError, "Something went wrong", "The page could not be shown.")
	}
	return apigw.HTML(status, b, csp)
}

// Message answers with a simple page: a title, a message and a way back
// (a path, or "" for none). It is layout.Message, written without the
// template engine (a function whose only pages are messages links none);
// message.html is what it writes, checked by the tests.
func Message(ctx context.Context, status int, title, message, back, csp string) apigw.Response {
	return layout.Message(ctx, status, title, message, back, csp)
}
