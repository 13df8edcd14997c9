package web

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/story"
)

// countHarness runs form.js in node with the few page elements its
// character count reads: the story textarea (maxlength, data-min) and
// the count (data-short, data-left, data-over), as given in argv[2]. It
// prints the count's text for each story in argv[3].
const countHarness = `
const fs = require('fs');
const page = JSON.parse(process.argv[2]);
const out = [];
for (const value of JSON.parse(process.argv[3])) {
  const el = (attrs) => ({ attrs, textContent: '', value: '', classList: { toggle() {} },
    getAttribute(n) { return n in this.attrs ? this.attrs[n] : null; }, addEventListener() {}, focus() {} });
  const story = el(page.story); story.value = value;
  const els = { 'story-form': el({}), 'story': story, 'story-count': el(page.count), 'story-count-live': el({}) };
  els['story-form'].dataset = { step: 'story' };
  els['story-form'].querySelectorAll = () => [];
  els['story-form'].querySelector = () => null;
  globalThis.document = { getElementById: (id) => els[id] || null };
  globalThis.window = { addEventListener() {} };
  globalThis.sessionStorage = { getItem: () => null, setItem() {}, removeItem() {} };
  eval(fs.readFileSync(process.argv[1], 'utf8'));
  out.push(els['story-count'].textContent);
}
console.log(JSON.stringify(out));
`

var (
	textareaTag = regexp.MustCompile(`<textarea id="story"[^>]*>`)
	countTag    = regexp.MustCompile(`<p id="story-count"[^>]*>`)
	attr        = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// runCount runs form.js's count over stories on a page with these attributes.
func runCount(t *testing.T, storyAttrs, countAttrs map[string]string, stories []string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; skipping the form.js parity test")
	}
	page, _ := json.Marshal(map[string]any{"story": storyAttrs, "count": countAttrs})
	in, _ := json.Marshal(stories)
	out, err := exec.Command(node, "-e", countHarness, "static/form.js", string(page), string(in)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	return got
}

// form.js takes the story's limits and the count's wording from the page,
// which writes them from the story question's definition: the counts it
// shows agree with the limits validation applies, and a page with other
// limits and words gets other counts (nothing is copied into the script).
func TestFormJSReadsLimitsFromThePage(t *testing.T) {
	def, _ := story.FindField("story")
	r := FormPage(context.Background(), 200, Form{Step: StepStory}, "")
	ta, ct := attrs(textareaTag.FindString(r.Body)), attrs(countTag.FindString(r.Body))
	if ta["maxlength"] != strconv.Itoa(def.Max) || ta["data-min"] != strconv.Itoa(def.Min) {
		t.Fatalf("the story's textarea says maxlength %q data-min %q; the definition %d and %d", ta["maxlength"], ta["data-min"], def.Max, def.Min)
	}
	fill := func(msg string, n int) string {
		return strings.NewReplacer("{min}", strconv.Itoa(def.Min), "{n}", thousands(n)).Replace(msg)
	}
	short, ok, over := strings.Repeat("a", def.Min-1), strings.Repeat("é", def.Min), strings.Repeat("長", def.Max+2)
	want := []string{fill(def.Count.Short, def.Min-1), fill(def.Count.Left, def.Max-def.Min), fill(def.Count.Over, 2)}
	got := runCount(t, ta, ct, []string{short, ok, over})
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("form.js counts %q, want %q", got, want)
	}
	// Validation agrees at the same lengths.
	for _, c := range []struct {
		text string
		bad  bool
	}{{short, true}, {ok, false}, {over, true}} {
		_, errs := story.Submission{Story: c.text}.Validate(time.Now())
		if (errs.For("story") != "") != c.bad {
			t.Errorf("a story of %d characters: error %q", len([]rune(c.text)), errs.For("story"))
		}
	}
	// Other limits and words on the page: form.js follows them.
	ta["maxlength"], ta["data-min"] = "10", "3"
	ct["data-short"], ct["data-left"], ct["data-over"] = "short {n}", "left {n}", "over {n}"
	got = runCount(t, ta, ct, []string{"ab", "abcd", "abcdefghijkl"})
	if strings.Join(got, "|") != "short 2|left 6|over 2" {
		t.Errorf("with other limits form.js counts %q", got)
	}
	// And the script holds no copy of the limits or the wording.
	src, err := os.ReadFile("static/form.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, copied := range []string{strconv.Itoa(def.Max), thousands(def.Max), "characters remaining", "too many", "are needed"} {
		if strings.Contains(string(src), copied) {
			t.Errorf("form.js copies %q from the definitions", copied)
		}
	}
}
