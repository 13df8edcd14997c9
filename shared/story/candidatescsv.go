package story

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// The list's CSV format (the README shows an example):
//
//	id,name,party,constituency,status,link
//
// A header row names the columns, in any order; name, party, constituency
// and status are required, id and link may be left out or empty. Files are
// UTF-8 (a byte-order mark is fine). constituency is a constituency's name
// (or id), status is MP, candidate or former. An empty id is made from the
// name and constituency; keep the ids an export gives, so stories that
// name a person still name them after the list is corrected.

// CandidateColumns are the list's CSV columns, in the order an export
// writes them.
var CandidateColumns = []string{"id", "name", "party", "constituency", "status", "link"}

// MaxCandidates is the most people the list can hold (it is kept as one
// item, well under DynamoDB's 400 KB item limit).
const MaxCandidates = 1500

// RowError is one problem with a list file, at a line (1 is the header).
type RowError struct {
	Line    int
	Column  string
	Message string
}

func (e RowError) String() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, %s: %s", e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// RowErrors are every problem found in a list file, in line order. A file
// with any is refused whole.
type RowErrors []RowError

func (e RowErrors) Error() string {
	msgs := make([]string, len(e))
	for i, r := range e {
		msgs[i] = r.String()
	}
	return strings.Join(msgs, "\n")
}

// validPersonID: a person's id is 2 to 80 of a-z, 0-9 and "-", not
// starting with "-" (checked without a regexp, which would be compiled at
// every cold start).
func validPersonID(id string) bool {
	if len(id) < 2 || len(id) > 80 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ParseCandidatesCSV reads and checks a list file. It returns every person,
// or RowErrors naming each bad line; nothing is returned from a file with
// any error, so a file is taken whole or not at all.
func ParseCandidatesCSV(r io.Reader) ([]Person, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 4<<20 {
		return nil, RowErrors{{Line: 1, Message: "the file is larger than 4 MB: is it the right file?"}}
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		line := 1
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			if r == '\n' {
				line++
			}
			i += size
		}
		return nil, RowErrors{{Line: line, Message: "the file is not UTF-8 text: in Excel, save it as \"CSV UTF-8 (Comma delimited)\""}}
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, RowErrors{{Line: 1, Message: "the file is empty: it needs a header row (" + strings.Join(CandidateColumns, ",") + ") and a row per person"}}
	}
	if err != nil {
		return nil, RowErrors{csvError(err)}
	}
	var errs RowErrors
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(CleanLine(h))
		switch {
		case !slices.Contains(CandidateColumns, h):
			errs = append(errs, RowError{Line: 1, Message: fmt.Sprintf("unknown column %q: the columns are %s", header[i], strings.Join(CandidateColumns, ", "))})
		case col[h] != 0:
			errs = append(errs, RowError{Line: 1, Message: fmt.Sprintf("the column %q is there twice", h)})
		default:
			col[h] = i + 1
		}
	}
	for _, h := range []string{"name", "party", "constituency", "status"} {
		if col[h] == 0 {
			errs = append(errs, RowError{Line: 1, Message: fmt.Sprintf("the header has no %q column (the columns are %s)", h, strings.Join(CandidateColumns, ", "))})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}

	var people []Person
	byID := map[string]int{}   // id → line
	byName := map[string]int{} // name + constituency → line
	mp := map[string]int{}     // constituency → line of its MP
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, csvError(err))
			if _, ok := errors.AsType[*csv.ParseError](err); ok {
				continue
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rec) != len(header) {
			errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("this row has %d cells and the header %d", len(rec), len(header))})
			continue
		}
		cell := func(name string) string {
			if col[name] == 0 {
				return ""
			}
			return rec[col[name]-1]
		}
		rowErrs := len(errs)
		bad := func(column, format string, args ...any) {
			errs = append(errs, RowError{Line: line, Column: column, Message: fmt.Sprintf(format, args...)})
		}
		for _, c := range CandidateColumns {
			if v := cell(c); v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				bad(c, "%q starts with %q, which a spreadsheet could run as a formula: remove that character", v, v[:1])
			}
		}
		if len(errs) > rowErrs {
			continue
		}
		p := Person{
			ID: strings.ToLower(CleanLine(cell("id"))), Name: CleanLine(cell("name")), Party: CleanLine(cell("party")),
			Status: strings.ToLower(CleanLine(cell("status"))), Link: CleanLine(cell("link")),
		}
		switch n := utf8.RuneCountInString(p.Name); {
		case n == 0:
			bad("name", "the name is missing")
		case n < 2 || n > maxShort:
			bad("name", "a name must be 2 to %d characters", maxShort)
		}
		switch n := utf8.RuneCountInString(p.Party); {
		case n == 0:
			bad("party", "the party is missing (write Independent for an independent)")
		case n > 60:
			bad("party", "a party must be 60 characters or fewer")
		}
		if raw := CleanLine(cell("constituency")); raw == "" {
			bad("constituency", "the constituency is missing")
		} else if c, ok := FindConstituency(raw); ok {
			p.Constituency = c.ID
		} else {
			bad("constituency", "%q is not a London constituency%s", raw, suggestConstituency(raw))
		}
		switch p.Status {
		case StatusMP, StatusCandidate, StatusFormer:
		case "":
			bad("status", "the status is missing: write MP, candidate or former")
		case "former mp":
			p.Status = StatusFormer
		default:
			bad("status", "%q is not a status: write MP, candidate or former", cell("status"))
		}
		if p.Link != "" {
			u, err := url.Parse(p.Link)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.Link) > 300 {
				bad("link", "the link must be a web address starting https://, of 300 characters or fewer")
			}
		}
		if p.ID == "" && p.Name != "" && p.Constituency != "" {
			p.ID = slug(p.Name + " " + p.Constituency)
		}
		if p.ID != "" && !validPersonID(p.ID) {
			bad("id", "an id is 2 to 80 lower-case letters, digits and hyphens (or leave it empty to have one made)")
		}
		if len(errs) > rowErrs {
			continue
		}
		if first, dup := byID[p.ID]; dup {
			bad("id", "duplicate: line %d has the same id %q", first, p.ID)
			continue
		}
		key := strings.ToLower(p.Name) + "\x00" + p.Constituency
		if first, dup := byName[key]; dup {
			bad("name", "duplicate: line %d has %s in %s too", first, p.Name, p.ConstituencyName())
			continue
		}
		if p.Status == StatusMP {
			if first, dup := mp[p.Constituency]; dup {
				bad("status", "%s has two sitting MPs: this line and line %d", p.ConstituencyName(), first)
				continue
			}
			mp[p.Constituency] = line
		}
		byID[p.ID], byName[key] = line, line
		people = append(people, p)
	}
	if len(errs) == 0 && len(people) == 0 {
		errs = append(errs, RowError{Line: 2, Message: "the file lists nobody: add a row per person under the header"})
	}
	if len(people) > MaxCandidates {
		errs = append(errs, RowError{Line: 1, Message: fmt.Sprintf("the file lists %d people: the list can hold at most %d", len(people), MaxCandidates)})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b RowError) int { return a.Line - b.Line })
		return nil, errs
	}
	SortPeople(people)
	return people, nil
}

func csvError(err error) RowError {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return RowError{Line: pe.StartLine, Message: "the CSV cannot be read here: " + pe.Err.Error() + " (check the quotes)"}
	}
	return RowError{Line: 1, Message: err.Error()}
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// slug makes an id from words: lower-case ASCII letters and digits joined
// by hyphens.
func slug(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
		default:
			hyphen = true
		}
	}
	out := b.String()
	if len(out) > 80 {
		out = strings.TrimRight(out[:80], "-")
	}
	return out
}

// suggestConstituency names the constituency closest to an unknown one.
func suggestConstituency(raw string) string {
	key := constituencyKey(raw)
	best, bestD := "", len(key)/3+1
	for _, c := range Constituencies() {
		if d := editDistance(key, constituencyKey(c.Name)); d < bestD {
			best, bestD = c.Name, d
		}
	}
	if best == "" {
		return " (the names are those of the 2024 boundaries)"
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// WriteCandidatesCSV writes people in the list's CSV format (UTF-8 with a
// byte-order mark, so Excel opens it as UTF-8). Reading it back with
// ParseCandidatesCSV gives the same people.
func WriteCandidatesCSV(w io.Writer, people []Person) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	_ = cw.Write(CandidateColumns)
	sorted := slices.Clone(people)
	SortPeople(sorted)
	for _, p := range sorted {
		status := p.Status
		if status == StatusMP {
			status = "MP"
		}
		_ = cw.Write([]string{p.ID, p.Name, p.Party, p.ConstituencyName(), status, p.Link})
	}
	cw.Flush()
	return cw.Error()
}

// PersonChange is a person whose details an import changes.
type PersonChange struct{ Old, New Person }

// CandidateDiff is what replacing one list with another changes.
type CandidateDiff struct {
	Added     []Person
	Removed   []Person
	Changed   []PersonChange
	Unchanged int
}

// Empty reports whether the replacement changes nothing.
func (d CandidateDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// DiffCandidates compares the list kept (old) with a new one, person by id.
func DiffCandidates(old, new []Person) CandidateDiff {
	var d CandidateDiff
	was := map[string]Person{}
	for _, p := range old {
		was[p.ID] = p
	}
	seen := map[string]bool{}
	for _, p := range new {
		seen[p.ID] = true
		o, ok := was[p.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, p)
		case o != p:
			d.Changed = append(d.Changed, PersonChange{Old: o, New: p})
		default:
			d.Unchanged++
		}
	}
	for _, p := range old {
		if !seen[p.ID] {
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}

// Describe says in one line what changed between two versions of a person.
func (c PersonChange) Describe() string {
	var parts []string
	f := func(what, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %q → %q", what, a, b))
		}
	}
	f("name", c.Old.Name, c.New.Name)
	f("party", c.Old.Party, c.New.Party)
	f("constituency", c.Old.ConstituencyName(), c.New.ConstituencyName())
	f("status", c.Old.StatusLabel(), c.New.StatusLabel())
	f("link", c.Old.Link, c.New.Link)
	return strings.Join(parts, ", ")
}
