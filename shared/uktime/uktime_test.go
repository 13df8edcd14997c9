package uktime

import (
	"archive/zip"
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the whole database, for the comparison, on any machine
)

var update = flag.Bool("update", false, "rewrite London.tzif from the Go toolchain's tz database")

// TestTZDataIsTheDatabases checks London against the full tz database: the
// same offset and abbreviation every hour from 1900 to 2100, and one second
// either side of each change (every change of the clocks in those years).
// With -update it first rewrites London.tzif from GOROOT's zoneinfo.zip.
func TestTZDataIsTheDatabases(t *testing.T) {
	if *update {
		writeFromGOROOT(t)
		return
	}
	full, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	ours := London()
	same := func(at time.Time) bool {
		n1, o1 := at.In(full).Zone()
		n2, o2 := at.In(ours).Zone()
		if n1 != n2 || o1 != o2 {
			t.Errorf("%s: uktime says %s %+d, the tz database %s %+d", at.UTC().Format(time.RFC3339), n2, o2, n1, o1)
			return false
		}
		return true
	}
	changes := 0
	_, prev := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).In(full).Zone()
	for at := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2100; at = at.Add(time.Hour) {
		if !same(at) {
			return
		}
		if _, off := at.In(full).Zone(); off != prev {
			prev = off
			changes++
			// The change is in the hour before at: find its second.
			lo, hi := at.Add(-time.Hour), at
			for hi.Sub(lo) > time.Second {
				mid := lo.Add(hi.Sub(lo) / 2)
				if _, o := mid.In(full).Zone(); o == off {
					hi = mid
				} else {
					lo = mid
				}
			}
			if !same(lo) || !same(hi) || !same(hi.Add(time.Second)) {
				return
			}
		}
	}
	if changes < 2*150 { // two a year since 1972, more in the wars
		t.Errorf("only %d changes of offset seen", changes)
	}
	// Spring forward and fall back, 2026: the clocks as people read them.
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), "2026-03-29 00:59:59 GMT"},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "2026-03-29 02:00:00 BST"},
		{time.Date(2026, 10, 25, 0, 59, 59, 0, time.UTC), "2026-10-25 01:59:59 BST"},
		{time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), "2026-10-25 01:00:00 GMT"},
	} {
		if got := c.at.In(ours).Format("2006-01-02 15:04:05 MST"); got != c.want {
			t.Errorf("%s in London: %s, want %s", c.at, got, c.want)
		}
	}
}

// writeFromGOROOT writes London.tzif from the Go toolchain's tz database.
func writeFromGOROOT(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	f, err := z.Open("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("TZif")) {
		t.Fatal("not TZif data")
	}
	if err := os.WriteFile("London.tzif", b, 0o644); err != nil {
		t.Fatal(err)
	}
}
