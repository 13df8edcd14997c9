package stack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"frontlinevoices/infra/local/stack"
)

func root(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("template.yaml not found")
		}
		dir = filepath.Dir(dir)
	}
}

// functionDir is where a function's code lives: NotifyFunction → functions/notify.
func functionDir(name string) string {
	return filepath.Join("functions", strings.ToLower(strings.TrimSuffix(name, "Function")))
}

// TestEveryRouteAndEventReachesAFunction checks the template against the
// code. That each function builds as SAM builds it (arm64, stripped) is
// `make build`'s job, run by CI: a cross-build of every function is minutes
// of CPU, not a unit test.
func TestEveryRouteAndEventReachesAFunction(t *testing.T) {
	t.Parallel()
	dir := root(t)
	tmpl, err := stack.LoadTemplate(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns := tmpl.Functions()
	if len(fns) == 0 {
		t.Fatal("no functions in the template")
	}
	makefile, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]string{}
	inTemplate := map[string]bool{}
	for _, f := range fns {
		t.Run(f.Name, func(t *testing.T) {
			code := functionDir(f.Name)
			inTemplate[code] = true
			if _, err := os.Stat(filepath.Join(dir, code, "main.go")); err != nil {
				t.Fatalf("%s: no %s/main.go", f.Name, code)
			}
			if _, ok := stack.Functions[f.Name]; !ok {
				t.Errorf("%s has no constructor in the local stack", f.Name)
			}
			if f.Properties["Runtime"] != "provided.al2023" || fmt.Sprint(f.Properties["Architectures"]) != "[arm64]" || f.Properties["Handler"] != "bootstrap" {
				t.Errorf("%s: runtime %v, architectures %v, handler %v", f.Name, f.Properties["Runtime"], f.Properties["Architectures"], f.Properties["Handler"])
			}
			if tmpl.Resources[f.Name].Metadata["BuildMethod"] != "makefile" {
				t.Errorf("%s is not built with the Makefile", f.Name)
			}
			if !strings.Contains(string(makefile), "build-%Function:") && !strings.Contains(string(makefile), "build-"+f.Name+":") {
				t.Errorf("the Makefile has no target for %s", f.Name)
			}
			if len(f.Events) == 0 {
				t.Errorf("%s has no events: nothing would ever run it", f.Name)
			}
			for _, ev := range f.Events {
				switch ev.Type {
				case "HttpApi":
					key := fmt.Sprint(ev.Properties["Method"], " ", ev.Properties["Path"])
					if other, dup := routes[key]; dup {
						t.Errorf("route %s is served by %s and %s", key, other, f.Name)
					}
					routes[key] = f.Name
					if fmt.Sprint(ev.Properties["ApiId"]) != "map[Ref:HttpApi]" {
						t.Errorf("%s route %s is not on the HttpApi", f.Name, key)
					}
				case "DynamoDB":
					ref, _ := ev.Properties["Stream"].(map[string]any)
					ga, _ := ref["Fn::GetAtt"].([]any)
					if len(ga) != 2 || tmpl.Resources[fmt.Sprint(ga[0])].Properties["StreamSpecification"] == nil {
						t.Errorf("%s: stream %v is not a table with a stream", f.Name, ev.Properties["Stream"])
					}
				}
			}
			for _, action := range policyActions(f.Properties["Policies"]) {
				if action == "*" || strings.HasSuffix(action, ":*") {
					t.Errorf("%s: wildcard action %q (least privilege: name each action)", f.Name, action)
				}
			}
		})
	}
	for _, want := range []string{"GET /", "POST /api/stories"} {
		if routes[want] == "" {
			t.Errorf("no function serves %s", want)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "functions"))
	for _, e := range entries {
		if e.IsDir() && !inTemplate[filepath.Join("functions", e.Name())] {
			t.Errorf("functions/%s is not in template.yaml", e.Name())
		}
	}
}

// policyActions lists the actions of a function's inline policy statements.
func policyActions(policies any) []string {
	var out []string
	list, _ := policies.([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		stmts, _ := m["Statement"].([]any)
		for _, st := range stmts {
			sm, _ := st.(map[string]any)
			switch a := sm["Action"].(type) {
			case string:
				out = append(out, a)
			case []any:
				for _, x := range a {
					out = append(out, fmt.Sprint(x))
				}
			}
		}
	}
	return out
}
