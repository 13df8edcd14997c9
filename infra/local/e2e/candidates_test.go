package e2e_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// exampleList is the example list as the shared stack holds it.
var exampleList story.CandidateList

// loadExample imports the example list (infra/candidates/example.csv)
// into the stack s, as the import command does. startStack does it before
// any test runs.
func loadExample(ctx context.Context, s *stack.Stack) (story.CandidateList, error) {
	f, err := os.Open(filepath.Join("..", "..", "candidates", "example.csv"))
	if err != nil {
		return story.CandidateList{}, err
	}
	defer f.Close()
	people, err := story.ParseCandidatesCSV(f)
	if err != nil {
		return story.CandidateList{}, err
	}
	db := store.FromConfig(s.AWS, s.Tables["StoriesTable"])
	kept, err := db.Candidates(ctx, true)
	if err != nil {
		return story.CandidateList{}, err
	}
	return db.ReplaceCandidates(ctx, people, kept.Version)
}

// importExample is the example list, which the stack holds.
func importExample(t *testing.T) story.CandidateList {
	t.Helper()
	return exampleList
}

// shown lists the constituencies and people the form shows, in order.
func shown(t *testing.T, ctx context.Context) (seats, people []string) {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#mp-people legend, #mp-people .person > label strong')).map(e => (e.tagName === 'LEGEND' ? '# ' : '') + e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out {
		if name, ok := strings.CutPrefix(s, "# "); ok {
			seats = append(seats, name)
		} else {
			people = append(people, s)
		}
	}
	return seats, people
}

type tick struct {
	person     story.Person
	when, what string
}

// The volunteer picks a borough, sees its constituencies' people (MPs
// first), ticks two, adds someone not listed, and sends: the alert, the
// digest's count by constituency and the CSV name the ticked people by the
// list, with their ids, and mark the other as not on the list. With
// JavaScript the list follows the borough; without, a button reloads the
// form with it, every answer kept.
func TestListedPeopleReachTheAlertDigestAndCSV(t *testing.T) {
	t.Parallel()
	list := importExample(t)
	type run struct {
		js      bool
		borough string
		email   string
		ticks   []tick
	}
	runs := []*run{{js: true, borough: "hammersmith_fulham"}, {js: false, borough: "newham"}}
	for _, r := range runs {
		name := map[bool]string{true: "with-js", false: "without-js"}[r.js]
		r.email = stacktest.Unique("listed." + name + "@example.org")
		t.Run(name, func(t *testing.T) {
			ctx := tab(t, r.js)
			want := list.ForBorough(r.borough)
			if err := chromedp.Do(ctx,
				chromedp.Navigate(st.URL+"/"),
				aboutYou(r.email, r.borough, nil),
				yourStory(nil),
				waitVisible(byID("seat-"+want[0].ID)),
			); err != nil {
				t.Fatal(err)
			}
			// The right people, grouped by constituency, MPs first.
			var wantSeats, wantPeople []string
			for _, cp := range want {
				wantSeats = append(wantSeats, cp.Name)
				for _, p := range cp.People {
					wantPeople = append(wantPeople, p.Name)
				}
				if cp.People[0].Status != story.StatusMP {
					t.Fatalf("the example list has no MP first in %s", cp.Name)
				}
			}
			seats, people := shown(t, ctx)
			if !slices.Equal(seats, wantSeats) || !slices.Equal(people, wantPeople) {
				t.Fatalf("shown %v %v\nwant %v %v", seats, people, wantSeats, wantPeople)
			}
			updated, err := chromedp.Run(ctx, chromedp.Text(byID("mp-list-updated")))
			if err != nil || !strings.Contains(updated, "last updated on") {
				t.Errorf("the list's date: %q %v", updated, err)
			}
			// Tick the first constituency's MP and the last one's first candidate.
			r.ticks = []tick{{person: want[0].People[0], when: "May 2026", what: "A visit to our practice"}}
			last := want[len(want)-1].People
			r.ticks = append(r.ticks, tick{person: last[1], what: "Spoke at a hustings"})
			for _, tk := range r.ticks {
				id := "mpPerson." + tk.person.ID
				steps := []chromedp.Action[chromedp.Void]{click(byID(id)), waitVisible(byID(id + ".what"))}
				if tk.when != "" {
					steps = append(steps, typeIn(byID(id+".when"), tk.when))
				}
				steps = append(steps, typeIn(byID(id+".what"), tk.what))
				if err := chromedp.Do(ctx, steps...); err != nil {
					t.Fatal(err)
				}
			}
			screenshot(t, ctx, "mp-list-"+name)
			if err := chromedp.Do(ctx, click(byID("continue")), agree(nil)); err != nil {
				t.Fatal(err)
			}
			// The check step names the ticked people by the list.
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			for _, tk := range r.ticks {
				// As the volunteer gave it: name, then constituency, party and when if known.
				if i := strings.Index(page, tk.person.Name); i < 0 || !strings.Contains(page[i:], ": "+tk.what) {
					t.Errorf("the check step lacks %s: %s", tk.person.Name, tk.what)
				}
			}
			if err := chromedp.Do(ctx, click(byID("send")), waitVisible(chromedp.CSS(".panel h1, #error-summary"))); err != nil {
				t.Fatal(err)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/thanks") {
				summary, _ := chromedp.Run(ctx, chromedp.Text(byID("error-summary")))
				t.Fatalf("the story was not sent (at %s): %s", loc, summary)
			}
		})
	}
	if t.Failed() {
		return
	}
	waitIdle(t)

	who := func(tk tick) string {
		p := tk.person
		return story.Contact{Person: p.ID, Name: p.Name, Party: p.Party, Constituency: p.ConstituencyName(), Status: p.Status}.Who()
	}
	const unmatched = "Sam Candidate, Islington North [not on the list]: Spoke at a hustings about premises"
	for _, r := range runs {
		var alert string
		for _, e := range st.Outbox.Emails() {
			if e.To[0] != r.email && strings.Contains(e.Text, r.email) {
				alert = e.Text
			}
		}
		for _, want := range []string{who(r.ticks[0]) + ", " + r.ticks[0].when + ": " + r.ticks[0].what, who(r.ticks[1]) + ": " + r.ticks[1].what, unmatched} {
			if !strings.Contains(alert, want) {
				t.Errorf("the alert for %s lacks %q:\n%s", r.email, want, alert)
			}
		}
	}

	// The digest counts the contacts by constituency; its CSV names them.
	before := len(st.Outbox.Emails())
	req, _ := http.NewRequest(http.MethodPost, st.URL+"/_local/digest", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var digest string
	for _, e := range st.Outbox.Emails()[before:] {
		if strings.HasPrefix(e.Subject, "Frontline Voices digest:") {
			digest = e.Text
		}
	}
	if digest == "" {
		t.Fatal("no digest was sent")
	}
	for _, r := range runs {
		for _, tk := range r.ticks {
			if want := "- " + tk.person.ConstituencyName() + ": 1\n"; !strings.Contains(digest, want) {
				t.Errorf("the digest's count by constituency lacks %q", want)
			}
			if !strings.Contains(digest, "MP or candidate contact: "+who(tk)) {
				t.Errorf("the digest does not name %s as the alert does", tk.person.Name)
			}
		}
	}
	if !strings.Contains(digest, "CONTACTS BY CONSTITUENCY") || !regexp.MustCompile(`- Someone not on the list: ([2-9]|[1-9][0-9]+)\n`).MatchString(digest) {
		t.Errorf("the digest's counts:\n%s", digest)
	}
	link := regexp.MustCompile(`(?m)^(http\S+/download\?t=\S+)$`).FindStringSubmatch(digest)
	if link == nil {
		t.Fatalf("no export link in the digest:\n%s", digest)
	}
	resp, err = http.Get(link[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\uFEFF"))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("export: %v, %d rows", err, len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range runs {
		found := false
		for _, row := range rows[1:] {
			if row[col["Email"]] != r.email {
				continue
			}
			found = true
			ids := fmt.Sprintf("%s\n%s\n%s", r.ticks[0].person.ID, r.ticks[1].person.ID, story.Unmatched)
			if got := row[col["MP or candidate list ids"]]; got != ids {
				t.Errorf("CSV ids for %s = %q, want %q", r.email, got, ids)
			}
			contacts := row[col["MP or candidate contacts"]]
			for _, tk := range r.ticks {
				if !strings.Contains(contacts, who(tk)) {
					t.Errorf("CSV contacts for %s lack %q: %q", r.email, who(tk), contacts)
				}
			}
			if !strings.Contains(contacts, unmatched) {
				t.Errorf("CSV contacts lack the unmatched one: %q", contacts)
			}
		}
		if !found {
			t.Errorf("the export has no row for %s", r.email)
		}
	}
}

// The list is usable by keyboard alone and axe finds nothing wrong with it,
// with and without JavaScript.
func TestListAccessibility(t *testing.T) {
	t.Parallel()
	list := importExample(t)
	t.Run("keyboard-with-js", func(t *testing.T) {
		t.Parallel()
		ctx := tab(t, true)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(st.URL+"/"),
			aboutYou(stacktest.Unique("list.keys@example.org"), "hammersmith_fulham", nil),
			waitVisible(byID("hadContact-yes")),
			chromedp.Focus(byID("hadContact-yes")),
			chromedp.KeyEvent(" "), // yes: the list is revealed
			waitVisible(byID("seat-chelsea-and-fulham")),
		); err != nil {
			t.Fatal(err)
		}
		// Tab from the answer to the first tick box, tick it with the space bar,
		// and Tab into the questions it reveals.
		first := list.ForBorough("hammersmith_fulham")[0].People[0]
		active := func() string {
			id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
			return id
		}
		for i := 0; i < 20 && active() != "mpPerson."+first.ID; i++ {
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
				t.Fatal(err)
			}
		}
		if got := active(); got != "mpPerson."+first.ID {
			t.Fatalf("tabbing never reached the first person (at %q)", got)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(" "), chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if got := active(); got != "mpPerson."+first.ID+".when" {
			t.Fatalf("after ticking, Tab went to %q, not the question when", got)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("June 2026\t"), chromedp.KeyEvent("A letter about premises")); err != nil {
			t.Fatal(err)
		}
		vals, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`['mpPerson.`+first.ID+`', 'mpPerson.`+first.ID+`.when', 'mpPerson.`+first.ID+`.what'].map(id => { const e = document.getElementById(id); return e.type === 'checkbox' ? String(e.checked) : e.value })`))
		if err != nil || !slices.Equal(vals, []string{"true", "June 2026", "A letter about premises"}) {
			t.Fatalf("by keyboard: %v %v", vals, err)
		}
		checkAxe(t, ctx, "#mp-section")
	})
	t.Run("axe-without-js", func(t *testing.T) {
		t.Parallel()
		ctx := tab(t, false)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(st.URL+"/"),
			aboutYou(stacktest.Unique("list.axe@example.org"), "camden", nil),
			waitVisible(byID("hadContact-yes")),
			click(byID("hadContact-yes")),
			waitVisible(byID("seat-holborn-and-st-pancras")),
		); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, ctx, "#mp-section")
	})
}
