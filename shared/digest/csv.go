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

// csvHeader is the export's first row: the story's reference and time,
// its answers (story.Columns), then its clips, flags and current consents.
var csvHeader = func() []string {
	h := []string{"Reference", "Submitted (UK time)"}
	for _, c := range story.Columns(story.Story{}) {
		h = append(h, c.Header)
	}
	return append(h, "Clips", "Clip links", "Check before use", "May quote publicly", "May name them", "Clips in campaigns")
}()

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
		links := make([]string, len(e.Clips))
		for i, c := range e.Clips {
			links[i] = c.URL
		}
		row := []string{e.ID, e.SubmittedAt.In(ukTime).Format("2006-01-02 15:04")}
		for _, c := range e.answers {
			row = append(row, c.Value)
		}
		row = append(row, strconv.Itoa(len(e.Clips)), strings.Join(links, "\n"), strings.Join(e.Flags, "\n"),
			yesNo(e.Use.Public), yesNo(e.Use.Named), yesNo(e.Use.Clips))
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
