package story

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// The list of MPs and candidates. The comms team keeps it (a CSV file they
// import, see ParseCandidatesCSV); the form shows each volunteer the people
// of their borough's constituencies, and a contact with a listed person
// carries the person's id, so every email and export names them the same way.

// Statuses a person on the list can have.
const (
	StatusMP        = "mp"
	StatusCandidate = "candidate"
	StatusFormer    = "former"
)

// ListStaleAfter is how old the list can be before the digest warns the
// comms team that it needs updating.
const ListStaleAfter = 90 * 24 * time.Hour

// Constituency is a Westminster constituency and the form's boroughs
// (options.json) it lies in, wholly or partly.
type Constituency struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Boroughs []string `json:"boroughs"`
}

//go:embed constituencies.json
var constituenciesJSON []byte

// Constituencies are London's Westminster constituencies, in name order.
// They are data (constituencies.json) the comms team can correct. They are
// read on first use, not at init: most cold starts never need them.
var Constituencies = sync.OnceValue(func() []Constituency { return mustLoadConstituencies(constituenciesJSON) })

var constituencyByID = sync.OnceValue(func() map[string]Constituency {
	m := map[string]Constituency{}
	for _, c := range Constituencies() {
		m[c.ID] = c
	}
	return m
})

func mustLoadConstituencies(b []byte) []Constituency {
	var f struct {
		Constituencies []Constituency `json:"constituencies"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		panic(fmt.Sprintf("story: constituencies.json: %v", err))
	}
	slices.SortFunc(f.Constituencies, func(a, b Constituency) int { return strings.Compare(a.Name, b.Name) })
	return f.Constituencies
}

// FindConstituency looks a constituency up by its id or its name, ignoring
// case, runs of spaces, the kind of apostrophe and "&" for "and".
func FindConstituency(idOrName string) (Constituency, bool) {
	if c, ok := constituencyByID()[idOrName]; ok {
		return c, true
	}
	key := constituencyKey(idOrName)
	for _, c := range Constituencies() {
		if constituencyKey(c.Name) == key {
			return c, true
		}
	}
	return Constituency{}, false
}

func constituencyKey(s string) string {
	s = strings.ToLower(CleanLine(s))
	s = strings.NewReplacer("’", "'", "‘", "'", "`", "'", "&", " and ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// ConstituencyName is the name of constituency id, or id itself when it is
// unknown.
func ConstituencyName(id string) string {
	if c, ok := FindConstituency(id); ok {
		return c.Name
	}
	return id
}

// ConstituenciesIn lists the constituencies that lie, wholly or partly, in
// borough, in name order.
func ConstituenciesIn(borough string) []Constituency {
	var out []Constituency
	for _, c := range Constituencies() {
		if slices.Contains(c.Boroughs, borough) {
			out = append(out, c)
		}
	}
	return out
}

// Person is one MP, candidate or former MP on the list.
type Person struct {
	// ID is stable across imports, so a contact recorded today names the
	// same person after the list is corrected.
	ID           string `json:"id" dynamodbav:"id"`
	Name         string `json:"name" dynamodbav:"name"`
	Party        string `json:"party" dynamodbav:"party"`
	Constituency string `json:"constituency" dynamodbav:"constituency"` // a Constituency's ID
	Status       string `json:"status" dynamodbav:"status"`
	Link         string `json:"link,omitempty" dynamodbav:"link,omitempty"`
}

// ConstituencyName is the person's constituency as people read it.
func (p Person) ConstituencyName() string { return ConstituencyName(p.Constituency) }

// StatusLabel is the person's status as people read it.
func (p Person) StatusLabel() string { return StatusLabel(p.Status) }

// StatusLabel is a status as people read it.
func StatusLabel(status string) string {
	switch status {
	case StatusMP:
		return "MP"
	case StatusCandidate:
		return "Candidate"
	case StatusFormer:
		return "Former MP"
	}
	return status
}

func statusRank(s string) int {
	switch s {
	case StatusMP:
		return 0
	case StatusCandidate:
		return 1
	}
	return 2
}

// CandidateList is the list as it is kept: the people, when it was last
// replaced, and a version that each replacement increases.
type CandidateList struct {
	People    []Person
	UpdatedAt time.Time
	Version   int64
}

// Find returns the person with id.
func (l CandidateList) Find(id string) (Person, bool) {
	for _, p := range l.People {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// Stale reports whether the list is missing or was last updated more than
// ListStaleAfter before now.
func (l CandidateList) Stale(now time.Time) bool {
	return l.UpdatedAt.IsZero() || now.Sub(l.UpdatedAt) > ListStaleAfter
}

// ConstituencyPeople is one constituency and the people on the list for it.
type ConstituencyPeople struct {
	Constituency
	People []Person
}

// ForBorough lists the people of every constituency in borough, grouped by
// constituency (in name order), MPs first, then candidates, then former
// MPs, each by name. A constituency with nobody on the list is still listed.
func (l CandidateList) ForBorough(borough string) []ConstituencyPeople {
	var out []ConstituencyPeople
	for _, c := range ConstituenciesIn(borough) {
		cp := ConstituencyPeople{Constituency: c}
		for _, p := range l.People {
			if p.Constituency == c.ID {
				cp.People = append(cp.People, p)
			}
		}
		SortPeople(cp.People)
		out = append(out, cp)
	}
	return out
}

// SortPeople orders people by constituency name, then MPs first, then
// candidates, then former MPs, then by name.
func SortPeople(people []Person) {
	slices.SortStableFunc(people, func(a, b Person) int {
		if c := strings.Compare(a.ConstituencyName(), b.ConstituencyName()); c != 0 {
			return c
		}
		if c := statusRank(a.Status) - statusRank(b.Status); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}
