package story

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The shipped constituency data: London's 75 constituencies of the 2024
// boundaries, each in at least one borough the form offers, every borough
// the form offers with at least one constituency, names and ids unique.
func TestConstituencyData(t *testing.T) {
	if len(Constituencies()) != 75 {
		t.Errorf("%d constituencies, want London's 75", len(Constituencies()))
	}
	offered := map[string]bool{}
	for _, a := range Options().ICBAreas {
		for _, b := range a.Boroughs {
			offered[b.ID] = true
		}
	}
	names, ids := map[string]bool{}, map[string]bool{}
	for _, c := range Constituencies() {
		if c.Name == "" || c.ID == "" {
			t.Errorf("%+v has no name or id", c)
		}
		if names[constituencyKey(c.Name)] || ids[c.ID] {
			t.Errorf("%s is listed twice", c.Name)
		}
		names[constituencyKey(c.Name)], ids[c.ID] = true, true
		if len(c.Boroughs) == 0 {
			t.Errorf("%s is in no borough", c.Name)
		}
		for _, b := range c.Boroughs {
			if !offered[b] {
				t.Errorf("%s: %q is not a borough the form offers", c.Name, b)
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(c.Boroughs)))) != len(c.Boroughs) {
			t.Errorf("%s lists a borough twice", c.Name)
		}
	}
	for b := range offered {
		if len(ConstituenciesIn(b)) == 0 {
			t.Errorf("borough %s has no constituency", b)
		}
	}
	t.Logf("%d constituencies in %d boroughs", len(Constituencies()), len(offered))
	// A constituency that spans boroughs appears under each.
	for _, b := range []string{"kensington_chelsea_westminster", "hammersmith_fulham"} {
		if !slices.ContainsFunc(ConstituenciesIn(b), func(c Constituency) bool { return c.Name == "Chelsea and Fulham" }) {
			t.Errorf("Chelsea and Fulham is not under %s", b)
		}
	}
}

func TestFindConstituency(t *testing.T) {
	for _, in := range []string{"Queen's Park and Maida Vale", "queen’s park & maida vale", "  QUEEN'S  PARK AND MAIDA VALE ", "queens-park-and-maida-vale"} {
		if c, ok := FindConstituency(in); !ok || c.ID != "queens-park-and-maida-vale" {
			t.Errorf("FindConstituency(%q) = %+v, %v", in, c, ok)
		}
	}
	if _, ok := FindConstituency("Westminster North"); ok {
		t.Error("an abolished constituency was found")
	}
}

func exampleFile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "candidates", "example.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTheExampleList(t *testing.T) {
	people, err := ParseCandidatesCSV(bytes.NewReader(exampleFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	mps := 0
	for _, p := range people {
		if p.Status == StatusMP {
			mps++
		}
	}
	if mps != 75 {
		t.Errorf("the example has %d MPs, want one for each of the 75 constituencies", mps)
	}
	// Every borough shows someone.
	l := CandidateList{People: people}
	for _, a := range Options().ICBAreas {
		for _, b := range a.Boroughs {
			for _, cp := range l.ForBorough(b.ID) {
				if len(cp.People) == 0 || cp.People[0].Status != StatusMP {
					t.Errorf("%s: %s has no MP first: %+v", b.ID, cp.Name, cp.People)
				}
			}
		}
	}
}

func TestParseCandidatesCSV(t *testing.T) {
	const header = "id,name,party,constituency,status,link\n"
	good := header +
		"ab-mp,Ada Brook,Labour,Hackney South and Shoreditch,MP,https://example.org/ada\n" +
		",Ben Cole,Green,hackney south & shoreditch,Candidate,\n" +
		",Cara Dunn,Conservative,Cities of London and Westminster,former,\n"
	people, err := ParseCandidatesCSV(strings.NewReader("\uFEFF" + good))
	if err != nil {
		t.Fatal(err)
	}
	want := []Person{
		{ID: "cara-dunn-cities-of-london-and-westminster", Name: "Cara Dunn", Party: "Conservative", Constituency: "cities-of-london-and-westminster", Status: StatusFormer},
		{ID: "ab-mp", Name: "Ada Brook", Party: "Labour", Constituency: "hackney-south-and-shoreditch", Status: StatusMP, Link: "https://example.org/ada"},
		{ID: "ben-cole-hackney-south-and-shoreditch", Name: "Ben Cole", Party: "Green", Constituency: "hackney-south-and-shoreditch", Status: StatusCandidate},
	}
	if !slices.Equal(people, want) {
		t.Fatalf("got %+v\nwant %+v", people, want)
	}

	// Columns in another order, without id and link.
	if _, err := ParseCandidatesCSV(strings.NewReader("Status,Constituency,Name,Party\r\nMP,Tooting,Dee Ess,Labour\r\n")); err != nil {
		t.Errorf("columns in another order: %v", err)
	}

	for _, tc := range []struct {
		name, file string
		want       []string // each a line-numbered message, in order
	}{
		{"missing name", header + "a1,,Labour,Tooting,MP,\n", []string{"line 2, name: the name is missing"}},
		{"unknown constituency", header + "a1,Ada Brook,Labour,Tootingg,MP,\nb1,Bo Lee,Green,Westminster North,candidate,\n",
			[]string{`line 2, constituency: "Tootingg" is not a London constituency (did you mean Tooting?)`, `line 3, constituency: "Westminster North" is not a London constituency`}},
		{"bad status", header + "a1,Ada Brook,Labour,Tooting,sitting,\n", []string{`line 2, status: "sitting" is not a status: write MP, candidate or former`}},
		{"duplicate id", header + "a1,Ada Brook,Labour,Tooting,MP,\na1,Bo Lee,Green,Tooting,candidate,\n", []string{`line 3, id: duplicate: line 2 has the same id "a1"`}},
		{"duplicate person", header + ",Ada Brook,Labour,Tooting,MP,\n,ada brook,Labour,tooting,candidate,\n", []string{"line 3, "}},
		{"two MPs", header + ",Ada Brook,Labour,Tooting,MP,\n,Bo Lee,Green,Tooting,MP,\n", []string{"line 3, status: Tooting has two sitting MPs"}},
		{"formula-like cells", header + "a1,\"=HYPERLINK(\"\"x\"\")\",Labour,Tooting,MP,\na2,Bo Lee,+Green,Tooting,candidate,\na3,@Cy,-1,Tooting,candidate,\na4,Di,\tLab,Tooting,candidate,\n",
			[]string{`line 2, name: "=HYPERLINK(\"x\")" starts with "="`, `line 3, party: "+Green" starts with "+"`, `line 4, name: "@Cy"`, `line 4, party: "-1"`, `line 5, party:`}},
		{"wrong encoding", header + "a1,Ada Brook,Labour,Tooting,MP,\na2,Z\xf6e Lee,Green,Tooting,candidate,\n", []string{"line 3: the file is not UTF-8 text"}},
		{"bad link", header + "a1,Ada Brook,Labour,Tooting,MP,javascript:alert(1)\n", []string{"line 2, link: the link must be a web address"}},
		{"wrong cell count", header + "a1,Ada Brook,Labour,Tooting\n", []string{"line 2: this row has 4 cells and the header 6"}},
		{"unknown column", "name,party,constituency,status,email\n", []string{`line 1: unknown column "email"`}},
		{"missing column", "name,party,status\n", []string{`line 1: the header has no "constituency" column`}},
		{"empty", "", []string{"line 1: the file is empty"}},
		{"nobody", header + "\n,,,,,\n", []string{"line 2: the file lists nobody"}},
		{"bad quotes", header + "a1,\"Ada Brook,Labour,Tooting,MP,\n", []string{"line 2: the CSV cannot be read here"}},
		{"every error at once", header + "a1,,Labour,Tooting,MP,\na2,Bo Lee,Green,Nowhere,candidate,\na3,Cy Ode,Green,Tooting,incumbent,\n",
			[]string{"line 2, name", "line 3, constituency", "line 4, status"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			people, err := ParseCandidatesCSV(strings.NewReader(tc.file))
			var rows RowErrors
			if !errors.As(err, &rows) {
				t.Fatalf("got %v, %v; want row errors", people, err)
			}
			if people != nil {
				t.Errorf("a refused file still gave %d people", len(people))
			}
			if len(rows) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(rows), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(rows[i].String(), w) {
					t.Errorf("error %d = %q, want it to start %q", i, rows[i].String(), w)
				}
			}
		})
	}
}

// An export read back is the same list, whatever the list.
func TestCandidatesCSVRoundTrip(t *testing.T) {
	people, err := ParseCandidatesCSV(bytes.NewReader(exampleFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCandidatesCSV(&buf, people); err != nil {
		t.Fatal(err)
	}
	again, err := ParseCandidatesCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(people, again) {
		t.Fatal("the export read back differs from the list")
	}
	if d := DiffCandidates(people, again); !d.Empty() || d.Unchanged != len(people) {
		t.Errorf("diff of a list with itself: %+v", d)
	}
}

func TestDiffCandidates(t *testing.T) {
	a := Person{ID: "a", Name: "Ada", Party: "Labour", Constituency: "tooting", Status: StatusCandidate}
	b := Person{ID: "b", Name: "Bo", Party: "Green", Constituency: "tooting", Status: StatusCandidate}
	c := Person{ID: "c", Name: "Cy", Party: "Green", Constituency: "putney", Status: StatusCandidate}
	a2 := a
	a2.Status = StatusMP
	d := DiffCandidates([]Person{a, b}, []Person{a2, c})
	if len(d.Added) != 1 || d.Added[0].ID != "c" || len(d.Removed) != 1 || d.Removed[0].ID != "b" || len(d.Changed) != 1 || d.Unchanged != 0 {
		t.Fatalf("%+v", d)
	}
	if got := d.Changed[0].Describe(); got != `status "Candidate" → "MP"` {
		t.Errorf("Describe = %q", got)
	}
}

func TestListStale(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	if !(CandidateList{}).Stale(now) {
		t.Error("a list never imported is not stale")
	}
	if (CandidateList{UpdatedAt: now.Add(-90 * 24 * time.Hour)}).Stale(now) {
		t.Error("90 days old is stale")
	}
	if !(CandidateList{UpdatedAt: now.Add(-91 * 24 * time.Hour)}).Stale(now) {
		t.Error("91 days old is not stale")
	}
}

func FuzzParseCandidatesCSV(f *testing.F) {
	f.Add([]byte("id,name,party,constituency,status,link\na1,Ada Brook,Labour,Tooting,MP,https://example.org\n"))
	f.Add([]byte("name,party,constituency,status\n\"Bo, Lee\",Green,Putney,candidate\n"))
	f.Add([]byte("name,party,constituency,status\n=1,+2,-3,@4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		people, err := ParseCandidatesCSV(bytes.NewReader(b))
		if err != nil {
			var rows RowErrors
			if !errors.As(err, &rows) || len(rows) == 0 {
				t.Fatalf("error %v is not row errors", err)
			}
			for _, r := range rows {
				if r.Line < 1 {
					t.Fatalf("error without a line: %+v", r)
				}
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteCandidatesCSV(&buf, people); err != nil {
			t.Fatal(err)
		}
		again, err := ParseCandidatesCSV(&buf)
		if err != nil || !slices.Equal(people, again) {
			t.Fatalf("accepted list does not survive an export: %v", err)
		}
	})
}

func TestListedContacts(t *testing.T) {
	list := CandidateList{People: []Person{
		{ID: "ada", Name: "Ada Brook", Party: "Labour", Constituency: "tooting", Status: StatusMP},
		{ID: "bo", Name: "Bo Lee", Party: "Green", Constituency: "putney", Status: StatusCandidate},
	}}
	sub := valid()
	sub.Contacts = []Contact{
		{Person: "ada", Name: "Forged Name", Party: "Forged", When: "May 2026", What: "A surgery visit"},
		{Name: "Cy Ode", Constituency: "Battersea", Status: StatusMP, What: "A letter"},
		{Person: "bo", What: "A hustings"},
	}
	st, errs := sub.Normalize().MatchContacts(list).Validate(time.Now())
	if errs != nil {
		t.Fatal(errs)
	}
	want := []Contact{
		{Person: "ada", Name: "Ada Brook", Party: "Labour", Constituency: "Tooting", Status: StatusMP, When: "May 2026", What: "A surgery visit"},
		{Name: "Cy Ode", Constituency: "Battersea", What: "A letter"},
		{Person: "bo", Name: "Bo Lee", Party: "Green", Constituency: "Putney", Status: StatusCandidate, What: "A hustings"},
	}
	if !slices.Equal(st.Contacts, want) {
		t.Fatalf("contacts %+v\nwant %+v", st.Contacts, want)
	}

	sub.Contacts = []Contact{{Person: "gone", What: "A visit"}, {Person: "ada"}, {Name: "Dee", What: "x"}}
	_, errs = sub.Normalize().MatchContacts(list).Validate(time.Now())
	for _, f := range []string{"mpPerson.gone.what", "mpPerson.ada.what", "mpContacts.0.what"} {
		if errs.For(f) == "" {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
	if !strings.Contains(errs.For("mpPerson.ada.what"), "Ada Brook") {
		t.Errorf("the error does not name the person: %q", errs.For("mpPerson.ada.what"))
	}
}
