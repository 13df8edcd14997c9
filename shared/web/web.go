// Package web holds the site's page templates and static assets, embedded
// in the binary, and renders pages.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the site's static assets (site.css, form.js, …).
var Static, _ = fs.Sub(staticFS, "static")

// versions maps an asset name to a short hash of its content, so asset URLs
// change when the content does and can be cached for ever. Worked out on
// first use, not at init: most functions never render a page.
var versions = sync.OnceValue(func() map[string]string {
	v := map[string]string{}
	_ = fs.WalkDir(Static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Static, p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		v[p] = hex.EncodeToString(h[:5])
		return nil
	})
	return v
})

// AssetURL is the cache-busting URL of a static asset.
func AssetURL(name string) string {
	return "/static/" + name + "?v=" + versions()[name]
}

// ContentType returns the Content-Type of a static asset by its extension.
func ContentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}

// Compressible reports whether an asset is text worth gzipping.
func Compressible(name string) bool {
	switch path.Ext(name) {
	case ".css", ".js", ".svg", ".html", ".json", ".txt":
		return true
	}
	return false
}

// Head is what a page's <head> holds beyond the layout's own: its title
// and its extra stylesheets (kept in the head, so they never block
// rendering half-way down the page).
type Head struct {
	Title  string
	Styles []string
}

var funcs = template.FuncMap{
	"head":  func(title string, styles ...string) Head { return Head{Title: title, Styles: styles} },
	"asset": AssetURL,
	"has":   func(list []string, v string) bool { return slices.Contains(list, v) },
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
}

var pages = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))

// Render renders the named page template with data.
func Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

var gzipped sync.Map // asset name → []byte

// GzippedAsset returns the static asset gzipped, compressed once per
// process and kept: assets never change while the function runs.
func GzippedAsset(name string, compress func([]byte) []byte) ([]byte, error) {
	if b, ok := gzipped.Load(name); ok {
		return b.([]byte), nil
	}
	raw, err := fs.ReadFile(Static, name)
	if err != nil {
		return nil, err
	}
	b := compress(raw)
	gzipped.Store(name, b)
	return b, nil
}
