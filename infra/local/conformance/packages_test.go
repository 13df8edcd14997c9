package conformance_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"frontlinevoices/infra/local/independent"
	"frontlinevoices/infra/local/stack"
)

// EnvPackages=1 turns on TestPackagesOnIndependentImplementations.
const EnvPackages = "CONFORMANCE_PACKAGES"

// packageSuites are the packages whose own tests run again on the
// independent implementations, with what they speak.
var packageSuites = []struct {
	pkg           string
	dynamoDB, s3v bool
}{
	{"./shared/store/", true, false},
	{"./shared/bucket/", false, true},
	{"./shared/uploads/", true, true},
	{"./shared/ingest/", true, true},
	{"./shared/withdraw/", true, true},
	{"./shared/privacy/", true, true},
	{"./shared/download/", true, true},
	// Beyond the list, the other handlers whose tests read and
	// write the table.
	{"./shared/submit/", true, false},
	{"./shared/notify/", true, false},
	{"./shared/digest/", true, false},
	{"./shared/pages/", true, false},
}

// TestPackagesOnIndependentImplementations runs the store, bucket, uploads,
// ingest, withdraw, privacy (erasure) and download tests, and submit's, notify's, digest's
// and pages' (the same tests of each package, each binary built once) with their
// DynamoDB on dynalite (behind independent.DynaliteFront) and, apart, their
// S3 on versitygw: one run per package and implementation, each with a
// server of its own, pointed at by independent.EnvDynalite and
// independent.EnvVersityGW (read by the packages' shared/internal/testenv).
// Their run on the local stack is the ordinary one. Each subtest logs how
// many of the package's tests passed and which were skipped, with the
// reason.
//
// It is opt-in (EnvPackages=1): it runs ten packages' tests again, which
// is most of the lane's time and more than the rest of go test ./...
// together. .ci/run's conformance lane sets it, so CI runs every cell; a
// developer's go test ./... runs those packages once, on the local stack.
func TestPackagesOnIndependentImplementations(t *testing.T) {
	if os.Getenv(EnvPackages) != "1" {
		t.Skip(EnvPackages + "=1 runs the packages' tests again on dynalite and versitygw (.ci/run's conformance lane sets it)")
	}
	if testing.Short() {
		t.Skip("-short: the packages' tests are not run again on dynalite and versitygw")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run the packages' tests with")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// Each package's test binary is built once (for both implementations).
	bin := t.TempDir()
	build := exec.Command(goCmd, "test", "-c", "-o", bin+string(filepath.Separator))
	for _, p := range packageSuites {
		build.Args = append(build.Args, p.pkg)
	}
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(build.Args, " "), err, out)
	}
	for _, impl := range []string{"dynalite", "versitygw"} {
		for _, p := range packageSuites {
			if (impl == "dynalite" && !p.dynamoDB) || (impl == "versitygw" && !p.s3v) {
				continue
			}
			name := filepath.Base(p.pkg) + "/" + impl
			t.Run(name, func(t *testing.T) {
				if missing := independent.Missing(impl == "dynalite", impl == "versitygw"); missing != "" {
					if os.Getenv("CI") == "true" {
						t.Fatal(missing)
					}
					t.Skip(missing)
				}
				var env string
				if impl == "dynalite" {
					srv, err := independent.StartDynalite(independent.DynaliteCommand())
					if err != nil {
						t.Fatal(err)
					}
					defer srv.Close()
					env = independent.EnvDynalite + "=" + srv.URL
				} else {
					srv, err := independent.StartVersityGW(independent.VersityGWCommand(), stack.Region)
					if err != nil {
						t.Fatal(err)
					}
					defer srv.Close()
					env = independent.EnvVersityGW + "=" + strings.Replace(srv.URL, "://", "://"+srv.Key+":"+srv.Secret+"@", 1)
				}
				// As go test runs it: in the package's directory, its
				// output read by test2json.
				cmd := exec.Command(goCmd, "tool", "test2json", "-t", filepath.Join(bin, filepath.Base(p.pkg)+".test"), "-test.v=test2json", "-test.count=1")
				cmd.Dir = filepath.Join(root, p.pkg)
				cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
					return strings.HasPrefix(kv, independent.EnvDynalite+"=") || strings.HasPrefix(kv, independent.EnvVersityGW+"=")
				}), env)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, runErr := cmd.Output()
				r := readTestEvents(out)
				t.Logf("%s on %s: %s", p.pkg, impl, r.summary())
				for _, s := range r.skipped {
					t.Logf("  skipped %s: %s", s, r.why[s])
				}
				if runErr != nil || len(r.failed) > 0 || r.passed == 0 {
					for _, f := range r.failed {
						t.Errorf("%s failed on %s:\n%s", f, impl, r.output[f])
					}
					t.Fatalf("the tests of %s on %s: %v\n%s%s", p.pkg, impl, runErr, stderr.String(), r.output[""])
				}
			})
		}
	}
}

// testEvents is what `go test -json` said of a package's top-level tests.
type testEvents struct {
	passed          int
	failed, skipped []string
	why             map[string]string // skipped test → its skip message
	output          map[string]string // test → its output ("" the package's)
}

func readTestEvents(b []byte) testEvents {
	r := testEvents{why: map[string]string{}, output: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		top, _, sub := strings.Cut(ev.Test, "/")
		switch {
		case ev.Action == "output":
			r.output[top] += ev.Output
		case sub || ev.Test == "":
		case ev.Action == "pass":
			r.passed++
		case ev.Action == "fail":
			r.failed = append(r.failed, ev.Test)
		case ev.Action == "skip":
			r.skipped = append(r.skipped, ev.Test)
		}
	}
	for _, s := range r.skipped {
		for line := range strings.Lines(r.output[s]) {
			if _, msg, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(strings.TrimSpace(line), "---") && !strings.HasPrefix(line, "===") {
				r.why[s] = strings.TrimSpace(msg)
			}
		}
	}
	return r
}

func (r testEvents) summary() string {
	s := fmt.Sprintf("%d passed", r.passed)
	if len(r.skipped) > 0 {
		s += fmt.Sprintf(", %d skipped", len(r.skipped))
	}
	if len(r.failed) > 0 {
		s += fmt.Sprintf(", %d FAILED", len(r.failed))
	}
	return s
}
