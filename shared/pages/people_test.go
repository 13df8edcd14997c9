package pages_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/story"
)

var testPeople = []story.Person{
	{ID: "cand-chelsea", Name: "Cass Candidate", Party: "Green", Constituency: "chelsea-and-fulham", Status: story.StatusCandidate},
	{ID: "mp-chelsea", Name: "Mo Member", Party: "Labour", Constituency: "chelsea-and-fulham", Status: story.StatusMP, Link: "https://example.org/mo"},
	{ID: "mp-hammersmith", Name: "Hal Member", Party: "Labour", Constituency: "hammersmith-and-chiswick", Status: story.StatusMP},
	{ID: "mp-tooting", Name: "Tess Tooting", Party: "Labour", Constituency: "tooting", Status: story.StatusMP},
}

func get(t *testing.T, h apigw.Handler, path, query string) apigw.Response {
	t.Helper()
	req := apigw.Request{RawPath: path, RawQueryString: query}
	req.RequestContext.HTTP.Method = http.MethodGet
	resp, err := h(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A borough's people, grouped by constituency (a constituency spanning
// boroughs under each), MPs first, and the list's date.
func TestPeopleForABorough(t *testing.T) {
	h, s := handlerAndStore(t)
	if got := get(t, h, "/candidates", "borough=hammersmith_fulham"); !strings.Contains(got.Body, "We have no list of MPs and candidates yet") {
		t.Errorf("before an import: %s", got.Body)
	}
	if _, err := s.ReplaceCandidates(context.Background(), testPeople, 0); err != nil {
		t.Fatal(err)
	}
	resp := get(t, h, "/candidates", "borough=hammersmith_fulham")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b := resp.Body
	order := []string{"<legend>Chelsea and Fulham</legend>", "Mo Member", "Cass Candidate", "<legend>Hammersmith and Chiswick</legend>", "Hal Member"}
	last := -1
	for _, w := range order {
		i := strings.Index(b, w)
		if i <= last {
			t.Fatalf("%q is missing or out of order in:\n%s", w, b)
		}
		last = i
	}
	if strings.Contains(b, "Tess Tooting") {
		t.Error("another borough's MP is shown")
	}
	for _, w := range []string{`name="mp.person" value="mp-chelsea"`, `id="mpPerson.mp-chelsea.what" name="mp.person.mp-chelsea.what"`,
		`<label for="mpPerson.mp-chelsea.when">When were you in touch with Mo Member?</label>`, "MP for Chelsea and Fulham", `href="https://example.org/mo"`,
		"Our list of MPs and candidates was last updated on"} {
		if !strings.Contains(b, w) {
			t.Errorf("the list lacks %s", w)
		}
	}
	// Chelsea and Fulham spans two boroughs: it is under the other too.
	if b := get(t, h, "/candidates", "borough=kensington_chelsea_westminster").Body; !strings.Contains(b, "Mo Member") || strings.Contains(b, "Hal Member") {
		t.Errorf("Kensington, Chelsea and Westminster:\n%s", b)
	}
	if resp := get(t, h, "/candidates", "borough=atlantis"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown borough: %d", resp.StatusCode)
	}
	// The form asks about MPs on its story step, after the borough (shared/submit's tests).
}
