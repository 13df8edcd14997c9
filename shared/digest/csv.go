package digest

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"

	"frontlinevoices/shared/story"
)

// bom makes Excel read the file as UTF-8.
const bom = "\uFEFF"

var csvHeader = []string{
	"Reference", "Submitted (UK time)", "Name", "Role", "Practice", "Borough", "ICB area",
	"Email", "Phone", "Prefers contact by", "Personal email only", "Topics", "Would do", "MP or candidate contacts", "MP or candidate list ids",
	"Patients would speak", "About patients", "Story", "Clips", "Clip links",
	"Check before use", "May quote publicly", "May name them", "Clips in campaigns",
}

// CSV is the export of a period's stories: RFC 4180 (CRLF line ends,
// quoted where needed), UTF-8 with a byte order mark, one row a story, and
// every cell that a spreadsheet could read as a formula neutralised.
func CSV(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(bom)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(csvHeader); err != nil {
		return nil, err
	}
	for _, e := range entries {
		contacts := make([]string, len(e.Contacts))
		ids := make([]string, len(e.Contacts))
		for i, c := range e.Contacts {
			contacts[i] = c.String()
			ids[i] = c.Person
			if ids[i] == "" {
				ids[i] = story.Unmatched
			}
		}
		links := make([]string, len(e.Clips))
		for i, c := range e.Clips {
			links[i] = c.URL
		}
		row := []string{
			e.ID, e.SubmittedAt.In(ukTime).Format("2006-01-02 15:04"), e.Name, e.Role, e.Practice, e.Borough, e.Area,
			e.Email, e.Phone, e.PreferredContact, yesNo(e.PersonalEmailOnly), strings.Join(e.Topics, "; "), strings.Join(e.Activities, "; "),
			strings.Join(contacts, "\n"), strings.Join(ids, "\n"), e.PatientsSpeak, e.PatientsNote, e.Text,
			strconv.Itoa(len(e.Clips)), strings.Join(links, "\n"), strings.Join(e.Flags, "\n"),
			yesNo(e.Use.Public), yesNo(e.Use.Named), yesNo(e.Use.Clips),
		}
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SafeCell neutralises a cell a spreadsheet would run as a formula (CSV or
// formula injection): one that starts with =, +, -, @, a tab or a carriage
// return gets a leading single quote, so it is shown as the text it is.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
