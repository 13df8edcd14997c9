package digest_test

import (
	"bytes"
	"encoding/csv"
	"frontlinevoices/shared/internal/golden"
	"strings"
	"testing"
	"unicode/utf8"

	"frontlinevoices/shared/digest"
)

func parseCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte(digest.BOM)) {
		t.Fatal("the export does not start with a UTF-8 byte order mark")
	}
	r := csv.NewReader(bytes.NewReader(body[len(digest.BOM):]))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v", err)
	}
	return rows
}

func TestSafeCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://evil.example","Click")`, `'=HYPERLINK("http://evil.example","Click")`},
		{"+44 20 7946 0000", "'+44 20 7946 0000"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"", ""},
		{"Plain text = fine", "Plain text = fine"},
		{"Zoë Ångström", "Zoë Ångström"},
		{"'already quoted", "'already quoted"},
		{" =1+1", " =1+1"}, // a leading space is text to spreadsheets
	}
	for _, c := range cases {
		if got := digest.SafeCell(c.in); got != c.want {
			t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCSVExport(t *testing.T) {
	_, entries := report(t, append(sampleStories(), hostileStories()...), nil, 200)
	body, err := digest.CSV(entries)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(body) {
		t.Fatal("the export is not UTF-8")
	}
	// RFC 4180: every record ends in CRLF, and no bare LF ends a record.
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Error("the export does not end with CRLF")
	}
	rows := parseCSV(t, body)
	if len(rows) != 7 || len(rows[0]) != len(digest.CSVHeader) {
		t.Fatalf("%d rows of %d cells", len(rows), len(rows[0]))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	byName := map[string][]string{}
	for _, row := range rows[1:] {
		if len(row) != len(digest.CSVHeader) {
			t.Fatalf("row has %d cells, want %d", len(row), len(digest.CSVHeader))
		}
		byName[row[col["Reference"]]] = row
		// No cell may start like a formula.
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%s cell %q starts like a formula", rows[0][i], cell)
			}
		}
	}
	hostile := byName["00000000000000000000000011"]
	for name, want := range map[string]string{
		"Role":                     `'=HYPERLINK("http://evil.example","Click")`,
		"Topics":                   "Other: +cmd|' /C calc'!A0", // starts with "O": harmless
		"About patients":           "'@SUM(1+1)*cmd|' /C calc'!A0",
		"MP or candidate contacts": "'-2+3 [not on the list]: Line one Subject: spoofed line three",
		"MP or candidate list ids": "not on the list",
		"Name":                     `<script>alert("x")</script><b>Eve</b>`,
		// The story keeps its line breaks inside one quoted cell.
		"Story": "<style>body{display:none}</style>\nBcc: everyone@example.org\n\n<a href=\"javascript:alert(1)\">click</a>",
	} {
		if got := hostile[col[name]]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := byName["00000000000000000000000013"][col["Name"]]; got != "محمد عبد الله 👩🏽\u200d⚕️" {
		t.Errorf("non-ASCII name = %q", got)
	}
	if got := byName["00000000000000000000000003"][col["Name"]]; got != "Siobhán Ní Bhriain" {
		t.Errorf("accented name = %q", got)
	}
	// A listed person is named by the list, with their id; someone typed in is marked unmatched.
	listed := byName["00000000000000000000000002"]
	if got, want := listed[col["MP or candidate list ids"]], "jo-bloggs-holborn-and-st-pancras\nnot on the list"; got != want {
		t.Errorf("list ids = %q, want %q", got, want)
	}
	if got := listed[col["MP or candidate contacts"]]; !strings.HasPrefix(got, "Jo Bloggs (Labour), MP for Holborn and St Pancras [list id: jo-bloggs-holborn-and-st-pancras]") ||
		!strings.Contains(got, "\nJane Example (Independent), Hampstead [not on the list]") {
		t.Errorf("contacts = %q", got)
	}
	if got := byName["00000000000000000000000002"][col["Phone"]]; got != "020 7946 0000" {
		t.Errorf("phone = %q", got)
	}
	if got := byName["00000000000000000000000012"][col["Name"]]; strings.ContainsAny(got, "\u202e\u202c\r\n") {
		t.Errorf("bidi override or line break kept in a name: %q", got)
	}
	golden.Check(t, "export.csv.golden", body)
}
