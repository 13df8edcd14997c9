// Package static holds the site's static assets (site.css, form.js, the
// uploader bundle…), embedded, and serves them. Only the function that
// serves them links this package: the others render pages through web,
// which knows the assets' versions but not their bytes.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"frontlinevoices/shared/apigw"
)

//go:embed *.css *.js *.ico
var files embed.FS

// FS is the assets, by name.
var FS fs.FS = files

// Versions maps each asset's name to a short hash of its content, so asset
// URLs change when the content does and can be cached for ever.
func Versions() map[string]string {
	v := map[string]string{}
	entries, _ := fs.ReadDir(FS, ".")
	for _, e := range entries {
		b, err := fs.ReadFile(FS, e.Name())
		if err != nil || e.IsDir() {
			continue
		}
		h := sha256.Sum256(b)
		v[e.Name()] = hex.EncodeToString(h[:5])
	}
	return v
}

// ContentType returns the Content-Type of an asset by its extension.
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

// compressible reports whether an asset is text worth gzipping.
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".css", ".js", ".svg", ".html", ".json", ".txt":
		return true
	}
	return false
}

var gzipped sync.Map // asset name → []byte

// gzippedAsset returns the asset gzipped, compressed once per process and
// kept: assets never change while the function runs.
func gzippedAsset(name string) ([]byte, error) {
	if b, ok := gzipped.Load(name); ok {
		return b.([]byte), nil
	}
	raw, err := fs.ReadFile(FS, name)
	if err != nil {
		return nil, err
	}
	b := apigw.Gzip(raw)
	gzipped.Store(name, b)
	return b, nil
}

// Serve answers a request for the asset name, gzipped when the client
// accepts it. A versioned URL (?v=<hash>) is cached for ever, any other for
// five minutes.
func Serve(req apigw.Request, name string, versioned bool) apigw.Response {
	b, err := fs.ReadFile(FS, name)
	if err != nil || strings.Contains(name, "..") {
		return apigw.Problem(http.StatusNotFound, "Not found", "There is no such file.")
	}
	cache := "public, max-age=300"
	if versioned {
		cache = "public, max-age=31536000, immutable"
	}
	resp := apigw.Response{StatusCode: http.StatusOK, Headers: map[string]string{
		"content-type":           ContentType(name),
		"cache-control":          cache,
		"x-content-type-options": "nosniff",
	}}
	if compressible(name) {
		resp.Headers["vary"] = "Accept-Encoding"
		if apigw.AcceptsGzip(req) {
			if gz, err := gzippedAsset(name); err == nil {
				return apigw.Gzipped(resp, gz)
			}
		}
	}
	if !utf8.Valid(b) {
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
		return resp
	}
	resp.Body = string(b)
	return resp
}
