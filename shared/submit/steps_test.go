package submit_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/submit"
)

// post sends a plain form post (as a browser without JavaScript does).
func post(t *testing.T, h *submit.Handler, form url.Values) apigw.Response {
	t.Helper()
	var req apigw.Request
	testenv.Event(t, "submit-form.json", &req)
	req.Body, req.IsBase64Encoded = form.Encode(), false
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	summaryLink = regexp.MustCompile(`<li><a href="#([^"]+)">`)
	pageTitle   = regexp.MustCompile(`<title>([^<]*)</title>`)
)

// carried is what a page's hidden fields carry to the next step.
func carried(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], strings.ReplaceAll(strings.ReplaceAll(m[2], "&#39;", "'"), "&amp;", "&"))
	}
	return v
}

// The form's three steps without JavaScript: each step's answers travel in
// the next step's hidden fields, people ticked on the list are named by
// the list on the check step, and a Change button goes back with
// everything kept; nothing is stored before the last step.
func TestFormStepsCarryEveryAnswer(t *testing.T) {
	h, stories := newHandler(t)
	people := []story.Person{{ID: "jo-walthamstow", Name: "Jo Bloggs", Party: "Labour", Constituency: "walthamstow", Status: story.StatusMP}}
	if _, err := stories.ReplaceCandidates(context.Background(), people, 0); err != nil {
		t.Fatal(err)
	}
	var req apigw.Request
	testenv.Event(t, "submit-form.json", &req)
	sample := submitFormValues(t)

	about := url.Values{"step": {"about"}}
	for _, k := range []string{"id", "started", "website", "consentVersion", "name", "role", "practice", "borough", "email", "phone", "preferredContact"} {
		about[k] = sample[k]
	}
	resp := post(t, h, about)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `name="step" value="story"`) {
		t.Fatalf("after the first step: %d %.400s", resp.StatusCode, resp.Body)
	}
	if got := pageTitle.FindStringSubmatch(resp.Body); got == nil || !strings.HasPrefix(got[1], "Your story") {
		t.Errorf("story step title %q", got)
	}
	// The story step shows the borough's people to tick.
	if !strings.Contains(resp.Body, `id="mpPerson.jo-walthamstow"`) {
		t.Errorf("the story step does not list the borough's MP")
	}
	next := carried(resp.Body)
	if next.Get("name") != "Tomasz Nowak" || next.Get("email") != "t.nowak@example.org" {
		t.Fatalf("the first step's answers are not carried: %v", next)
	}
	// A person ticked without saying what the contact was: the error is
	// tied to the question, the summary links it.
	ticked := url.Values{}
	for k, v := range next {
		ticked[k] = v
	}
	ticked.Set("step", "story")
	ticked["topics"] = sample["topics"]
	ticked.Set("story", sample.Get("story"))
	ticked.Set("hadContact", "yes")
	ticked.Set("mp.person", "jo-walthamstow")
	ticked.Set("patientsWouldSpeak", "no")
	resp = post(t, h, ticked)
	for _, want := range []string{`<a href="#mpPerson.jo-walthamstow.what">`, `aria-describedby="mpPerson.jo-walthamstow.what-hint mpPerson.jo-walthamstow.what-error" aria-invalid="true"`,
		`<p class="error-message" id="mpPerson.jo-walthamstow.what-error">`} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("a ticked person without an answer: the page lacks %s", want)
		}
	}
	next.Set("step", "story")
	next["topics"] = sample["topics"]
	next.Set("story", sample.Get("story"))
	next.Set("hadContact", "yes")
	next.Set("mp.person", "jo-walthamstow")
	next.Set("mp.person.jo-walthamstow.what", "A surgery visit")
	next.Set("mp.0.name", "Sam Candidate")
	next.Set("mp.0.what", "A hustings")
	next.Set("patientsWouldSpeak", "no")
	resp = post(t, h, next)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `name="step" value="check"`) {
		t.Fatalf("after the story step: %d %.600s", resp.StatusCode, resp.Body)
	}
	for _, want := range []string{"Jo Bloggs, Walthamstow (Labour): A surgery visit", "Sam Candidate: A hustings", "Tomasz Nowak", `id="naming-name"`, `id="consent.contact"`, `id="send"`, `id="change-about"`} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the check step lacks %s", want)
		}
	}
	for _, s := range story.ConsentStatements {
		if s.IsBox() && !strings.Contains(resp.Body, s.Text) {
			t.Errorf("the check step does not show the consent %q", s.ID)
		}
	}
	if _, err := stories.GetStory(context.Background(), sample.Get("id")); err == nil {
		t.Fatal("a story was stored before the last step")
	}
	// Change the first step's answers: everything comes back.
	check := carried(resp.Body)
	back := url.Values{}
	for k, v := range check {
		back[k] = v
	}
	back.Set("goto", "about")
	resp = post(t, h, back)
	if !strings.Contains(resp.Body, `value="Tomasz Nowak"`) || !strings.Contains(resp.Body, `name="mp.person.jo-walthamstow.what" value="A surgery visit"`) {
		t.Fatalf("going back lost answers: %.600s", resp.Body)
	}
	// Send it.
	check.Set("naming", "role")
	check.Set("consent.contact", "yes")
	check.Set("consent.store", "yes")
	resp = post(t, h, check)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d %.600s", resp.StatusCode, resp.Body)
	}
	st, err := stories.GetStory(context.Background(), sample.Get("id"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Contacts) != 2 || st.Contacts[0].Name != "Jo Bloggs" || st.Contacts[1].Name != "Sam Candidate" || st.Naming().ID != "role" {
		t.Fatalf("stored %+v", st)
	}
}

// Errors as the GOV.UK Design System shows them: "Error: " in the title, a
// summary in page order linking each error to its control (the first
// radio or checkbox of a group), and each control pointing at its hint
// and error with aria-describedby and marked aria-invalid.
func TestStepErrorsFollowTheDesignSystem(t *testing.T) {
	h, _ := newHandler(t)
	sample := submitFormValues(t)
	resp := post(t, h, url.Values{"step": {"about"}, "id": sample["id"], "started": sample["started"], "email": {"not an address"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := pageTitle.FindStringSubmatch(resp.Body); got == nil || !strings.HasPrefix(got[1], "Error: ") {
		t.Errorf("title %q", got)
	}
	var links []string
	for _, m := range summaryLink.FindAllStringSubmatch(resp.Body, -1) {
		links = append(links, m[1])
	}
	if want := []string{"name", "role", "practice", "borough", "email", "preferredContact-email"}; !slices.Equal(links, want) {
		t.Errorf("summary links %v, want %v", links, want)
	}
	for _, id := range links {
		if !strings.Contains(resp.Body, `id="`+id+`"`) {
			t.Errorf("the summary links #%s, which is not on the page", id)
		}
	}
	for _, want := range []string{
		`id="email" name="email" type="email" autocomplete="email" spellcheck="false" maxlength="254" value="not an address" aria-describedby="email-hint email-error" aria-invalid="true"`,
		`<p class="error-message" id="email-error"><span class="visually-hidden">Error:</span> Enter an email address like name@example.org</p>`,
		`id="error-summary" class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus`,
	} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// The story step's groups: the summary links the first checkbox.
	next := carried(resp.Body)
	for _, k := range []string{"name", "role", "practice", "borough", "email", "preferredContact"} {
		next[k] = sample[k]
	}
	next.Set("step", "story")
	next.Set("hadContact", "yes")
	resp = post(t, h, next)
	links = nil
	for _, m := range summaryLink.FindAllStringSubmatch(resp.Body, -1) {
		links = append(links, m[1])
	}
	if want := []string{"topics-" + story.Options().Topics[0].ID, "story", "mpContacts.0.name", "patientsWouldSpeak-" + story.Options().PatientsWouldSpeak[0].ID}; !slices.Equal(links, want) {
		t.Errorf("story step summary links %v, want %v", links, want)
	}
	if !strings.Contains(resp.Body, `<details class="contact" open>`) {
		t.Error("the contact with an error is not open")
	}
}

func submitFormValues(t *testing.T) url.Values {
	t.Helper()
	var req apigw.Request
	testenv.Event(t, "submit-form.json", &req)
	body, err := apigw.Body(req)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
