// Package functions_test checks what each function's binary links.
package functions_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// templated are the functions that render pages with the template engine
// (the story form's pages). Executing a template reaches reflect's
// MethodByName, and then the linker keeps every exported method of every
// type put in an interface: every operation of the SDK clients (README,
// Size and speed). Every other function writes its pages and emails in
// plain Go and must not link the engine at all.
var templated = []string{"form", "submit"}

// TestWhatFunctionsLink fails if a function that should not link
// text/template or html/template does, or if any function links
// time/tzdata (the whole tz database, about 450 KB: shared/uktime holds
// Europe/London alone). It lists each function's packages as the
// Makefile builds it.
func TestWhatFunctionsLink(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, d := range dirs {
		if d.IsDir() {
			fns = append(fns, "./"+d.Name())
		}
	}
	if len(fns) < 10 {
		t.Fatalf("found only %v", fns)
	}
	statSources(t)
	// Deps are every package a function's binary links, with the
	// Makefile's build tags (without lambda.norpc, aws-lambda-go's net/rpc
	// would bring html/template in).
	out, err := exec.Command("go", append([]string{"list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`}, fns...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for line := range strings.Lines(string(out)) {
		fn, deps, _ := strings.Cut(strings.TrimSpace(line), " ")
		seen++
		for _, p := range strings.Fields(deps) {
			switch {
			case (p == "text/template" || p == "html/template") && !slices.Contains(templated, path.Base(fn)):
				t.Errorf("%s links %s: write its pages and emails without the template engine (see the markup package)", fn, p)
			case p == "time/tzdata":
				t.Errorf("%s links time/tzdata: use shared/uktime for Europe/London", fn)
			}
		}
	}
	if seen != len(fns) {
		t.Errorf("go list gave %d functions of %d", seen, len(fns))
	}
}

// statSources looks at every Go file of the module, so that go test's
// cache (which sees the files a test opens, not those go list reads) runs
// this test again whenever one changes.
func statSources(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != "..":
			return filepath.SkipDir
		case strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum":
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
