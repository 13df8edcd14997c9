package digest_test

import (
	"context"
	"fmt"
	"frontlinevoices/shared/internal/golden"
	"regexp"
	"strings"
	"testing"
	"time"

	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// report builds what Handler.send builds, without AWS.
func report(t *testing.T, stories []story.Story, clips fakeClips, max int, withdrawn ...string) (digest.Report, []digest.Entry) {
	t.Helper()
	files := &fakeFiles{}
	h := digest.New(digest.Config{}, nil, files, nil)
	if clips != nil {
		h.Clips = clips
	}
	var read []store.PeriodStory
	for _, st := range stories {
		read = append(read, store.PeriodStory{Story: st, ClipSlots: len(clips[st.ID])})
	}
	entries, err := h.Entries(context.Background(), read)
	if err != nil {
		t.Fatal(err)
	}
	r := digest.Build(entries, max, withdrawn)
	r.Start, r.End = lastDigest.In(digest.UKTime), thisDigest.In(digest.UKTime)
	r.Period = digest.Period(r.Start, r.End)
	r.Empty = len(entries) == 0 && len(withdrawn) == 0
	r.PrivacyURL = "https://stories.example.org/privacy"
	if len(entries) > 0 {
		r.Export = digest.Link{URL: "https://files.example/exports-bucket/exports/digest.csv?X-Amz-Signature=abc&X-Amz-Expires=604800", Name: "digest.csv", Expires: "Mon 7 Dec 2026, 08:00"}
	}
	return r, entries
}

func TestRenderGolden(t *testing.T) {
	var many []story.Story
	for i := range 5 {
		many = append(many, newStory(100+i, "Volunteer "+string(rune('A'+i)), []string{"barnet", "croydon", "brent", "newham", "bexley"}[i], lastDigest.Add(time.Duration(i+1)*time.Hour)))
	}
	cases := []struct {
		name      string
		stories   []story.Story
		clips     fakeClips
		max       int
		withdrawn []string
		warning   string
	}{
		{name: "typical", stories: sampleStories(), clips: fakeClips{
			"00000000000000000000000002": {
				{Key: "clips/00000000000000000000000002/a.mp4", Name: "waiting room.mp4", Duration: 95 * time.Second},
				{Key: "clips/00000000000000000000000002/b.webm", Name: "", Duration: 0},
			},
		}, max: 200},
		{name: "hostile", stories: hostileStories(), max: 200},
		{name: "empty", max: 200},
		{name: "overflow", stories: many, max: 3, withdrawn: []string{"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"}},
		{name: "withdrawn-only", max: 200, withdrawn: []string{"abcdefghijklmnopqrstuvwxyz"}},
		{name: "long-answers", stories: []story.Story{newStory(21, "Long & <Answers>", "camden", lastDigest.Add(time.Hour), func(st *story.Story) {
			st.Phone, st.PersonalEmailOnly, st.PreferredContact = "+44 20 7946 0000", true, "phone"
			st.PatientsNote = strings.Repeat("Two patients said they would speak, if asked first & kindly. ", 3)
			st.Contacts = []story.Contact{{Name: "Ann O'Neil", Party: "Green", When: "May", What: strings.Repeat("We talked about <the> phone queue and the 8am rush. ", 4)}}
			st.Activities = nil
		}, consent("public", "clips", "named", "role"))}, clips: fakeClips{
			"00000000000000000000000021": {{Key: "clips/00000000000000000000000021/a.mp4", Name: `"quoted" <clip> & +1.mp4`, Duration: 61 * time.Second}},
		}, max: 200, warning: "The list of MPs and candidates was last updated on 1 May 2026, 200 days ago: <check> it & import it again."},
		{name: "warning-empty", max: 200, warning: "No list of MPs and candidates has been imported."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := report(t, c.stories, c.clips, c.max, c.withdrawn...)
			r.ListWarning = c.warning
			msg, err := digest.Message(r, []string{"comms@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, c.name+".html.golden", []byte(msg.HTML))
			golden.Check(t, c.name+".txt.golden", []byte("Subject: "+msg.Subject+"\n\n"+msg.Text))
			checkSafeHTML(t, msg.HTML)
		})
	}
}

// checkSafeHTML checks what must hold of every digest: nothing executable,
// nothing remote, no layout broken by unbalanced tags. Volunteer text is
// escaped, so every real tag in the output is the template's own: each one
// must be of a known, harmless kind, with no event handlers, no src, and
// links only to http(s) or mailto.
func checkSafeHTML(t *testing.T, html string) {
	t.Helper()
	allowed := map[string]bool{
		"!doctype": true, "html": true, "head": true, "meta": true, "title": true, "body": true,
		"table": true, "tr": true, "th": true, "td": true, "p": true, "h1": true, "h2": true, "h3": true,
		"a": true, "strong": true, "br": true, "span": true, "small": true, "b": true, "ul": true, "li": true, "div": true,
	}
	tagRe := regexp.MustCompile(`<(/?)([a-zA-Z!][a-zA-Z0-9]*)([^>]*)>`)
	attrRe := regexp.MustCompile(`([a-zA-Z-]+)="([^"]*)"`)
	for _, m := range tagRe.FindAllStringSubmatch(html, -1) {
		name := strings.ToLower(m[2])
		if !allowed[name] {
			t.Errorf("unexpected tag %q", m[0])
		}
		for _, a := range attrRe.FindAllStringSubmatch(m[3], -1) {
			attr, val := strings.ToLower(a[1]), a[2]
			switch {
			case strings.HasPrefix(attr, "on"), attr == "src", attr == "srcset", attr == "background":
				t.Errorf("tag %q has attribute %s", m[0], attr)
			case attr == "href" && !strings.HasPrefix(val, "https://") && !strings.HasPrefix(val, "http://") && !strings.HasPrefix(val, "mailto:"):
				t.Errorf("link to %q", val)
			case attr == "style" && (strings.Contains(val, "url(") || strings.Contains(val, "expression(")):
				t.Errorf("style loads something: %q", val)
			}
		}
	}
	if strings.ContainsAny(html, "\u202e\u202c\u200b") {
		t.Error("HTML keeps an invisible or bidi override character")
	}
	for _, tag := range []string{"table", "tr", "td", "th", "p", "h2", "h3", "a", "strong"} {
		open := len(regexp.MustCompile(`<`+tag+`[\s>]`).FindAllString(html, -1))
		closed := strings.Count(html, "</"+tag+">")
		if open != closed {
			t.Errorf("<%s>: %d opened, %d closed", tag, open, closed)
		}
	}
}

func TestHostileTextIsEscapedEverywhere(t *testing.T) {
	r, _ := report(t, hostileStories(), nil, 200)
	msg, err := digest.Message(r, []string{"comms@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Eve&lt;/b&gt;",
		"&#34;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; Co",
		"&lt;a href=&#34;javascript:alert(1)&#34;&gt;click&lt;/a&gt;",
		"&lt;i&gt;stored flag&lt;/i&gt;",
		"محمد عبد الله 👩🏽\u200d⚕️", "Łódź &amp; Zoë’s Surgery — 東京", "👨\u200d👩\u200d👧",
		"May identify a patient: it seems to contain a patient&#39;s name, an NHS number.",
	} {
		if !strings.Contains(msg.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The text part: volunteer line breaks cannot start lines of their own
	// that pass for headers or for the digest's own lines.
	for _, line := range strings.Split(msg.Text, "\n") {
		for _, bad := range []string{"Bcc:", "Subject:", "X-Header:", "line three"} {
			if strings.HasPrefix(strings.TrimSpace(line), bad) {
				t.Errorf("text part has a line starting %q: %q", bad, line)
			}
		}
		if strings.ContainsAny(line, "\r\u202e\u202c\u200b") {
			t.Errorf("text part line has a CR or an invisible character: %q", line)
		}
	}
	if strings.ContainsAny(msg.Subject, "<>\r\n") {
		t.Errorf("subject = %q", msg.Subject)
	}
}

func TestOverflowShowsFirstInFullAndCountsAll(t *testing.T) {
	var stories []story.Story
	for i := range 205 {
		stories = append(stories, newStory(1000+i, "Volunteer", []string{"barnet", "croydon"}[i%2], lastDigest.Add(time.Duration(i+1)*time.Minute)))
	}
	r, entries := report(t, stories, nil, 200)
	if r.Total != 205 || r.Shown != 200 || r.More() != 5 || r.Counts.Stories != 205 {
		t.Fatalf("total=%d shown=%d more=%d counted=%d", r.Total, r.Shown, r.More(), r.Counts.Stories)
	}
	shown := 0
	for _, a := range r.Areas {
		for _, b := range a.Boroughs {
			shown += len(b.Stories)
			for _, e := range b.Stories {
				if e.SubmittedAt.After(stories[199].SubmittedAt) {
					t.Errorf("story %s shown in full but is not among the first 200", e.ID)
				}
			}
		}
	}
	if shown != 200 {
		t.Fatalf("%d stories shown in full, want 200", shown)
	}
	if r.Counts.Areas[0].N != 103 || r.Counts.Areas[4].N != 102 { // NCL (Barnet), SWL (Croydon)
		t.Errorf("area counts = %+v", r.Counts.Areas)
	}
	body, err := digest.CSV(entries)
	if err != nil {
		t.Fatal(err)
	}
	if rows := len(parseCSV(t, body)); rows != 206 {
		t.Errorf("CSV has %d rows, want 205 and a header", rows)
	}
	msg, err := digest.Message(r, []string{"comms@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "This email shows the first 200 of 205 stories in full. The other 5 are in the spreadsheet.") {
		t.Error("the text part does not say that 5 stories are only in the spreadsheet")
	}
}

func TestCounts(t *testing.T) {
	stories := sampleStories()
	r, _ := report(t, stories, fakeClips{"00000000000000000000000003": {{Key: "k", Name: "c.mp4"}}}, 200)
	c := r.Counts
	areas := map[string]int{}
	for _, a := range c.Areas {
		areas[a.Label] = a.N
	}
	acts := map[string]int{}
	for _, a := range c.Activities {
		acts[a.Label] = a.N
	}
	if c.Stories != 3 || c.MPContact != 1 || c.WithClips != 1 || c.PatientsYes != 1 || c.PatientsMaybe != 1 {
		t.Errorf("counts = %+v", c)
	}
	if areas["North Central London"] != 2 || areas["South East London"] != 1 || areas["North West London"] != 0 || len(c.Areas) != 5 {
		t.Errorf("areas = %v", areas)
	}
	if acts["Media interviews"] != 1 || acts["Meeting my MP or parliamentary candidates"] != 1 || acts["A short campaign video"] != 1 || acts["Social media"] != 0 {
		t.Errorf("activities = %v", acts)
	}
	// Grouping: areas in the form's order, then boroughs, oldest first.
	if len(r.Areas) != 2 || r.Areas[0].Label != "North Central London" || r.Areas[1].Label != "South East London" {
		t.Fatalf("areas = %+v", r.Areas)
	}
	camden := r.Areas[0].Boroughs[0]
	if camden.Label != "Camden" || camden.N != 2 || camden.Stories[0].Name != "Tomasz Nowak" || camden.Stories[1].Name != "Siobhán Ní Bhriain" {
		t.Errorf("Camden = %+v", camden)
	}
}

func TestUnknownBoroughIsShownNotLost(t *testing.T) {
	st := newStory(7, "Old Data", "somewhere_renamed", lastDigest.Add(time.Hour))
	r, _ := report(t, []story.Story{st}, nil, 200)
	if len(r.Areas) != 1 || r.Areas[0].Label != digest.UnknownArea || r.Areas[0].Boroughs[0].Label != "somewhere_renamed" {
		t.Fatalf("areas = %+v", r.Areas)
	}
	if last := r.Counts.Areas[len(r.Counts.Areas)-1]; last.Label != digest.UnknownArea || last.N != 1 {
		t.Errorf("area counts = %+v", r.Counts.Areas)
	}
}

// busyStory is a story with every part the digest shows filled: a long
// story, MP contacts, a patients' note and a flag.
func busyStory(n, contacts int, at time.Time) story.Story {
	boroughs := []string{"barnet", "croydon", "brent", "newham", "bexley", "islington", "lambeth"}
	return newStory(n, fmt.Sprintf("Volunteer Number %d", n), boroughs[n%len(boroughs)], at, consent("public", "role", "clips"), func(st *story.Story) {
		st.Text = strings.Repeat("We opened the phone lines at 8am and by ten past there were 140 people waiting. ", 60)
		st.Topics = []string{"workload", "access", "funding"}
		st.Activities = []string{"media", "mp_meeting", "video"}
		st.PatientsNote = strings.Repeat("Two patients from our participation group offered. ", 5)
		st.Phone = "020 7946 0000"
		st.Flags = []string{"May identify a patient (an NHS number)"}
		for i := range contacts {
			st.Contacts = append(st.Contacts, story.Contact{Name: fmt.Sprintf("Candidate %d", i), Constituency: "Islington North", Party: "Independent", When: "March 2026", What: "Spoke at a hustings about premises and asked for a visit"})
		}
	})
}

// The digest's HTML stays below Gmail's clipping size: 50 full stories
// (a long story, an MP contact, a clip, a note, a flag) fit whole, and a
// bigger or heavier period (200 stories, three contacts and two clips
// each) shows what fits and leaves the rest to the export.
func TestDigestHTMLFitsInOneEmail(t *testing.T) {
	for _, n := range []int{50, 200} {
		var stories []story.Story
		clips := fakeClips{}
		for i := range n {
			heavy := n > 50
			st := busyStory(1000+i, map[bool]int{false: 1, true: 3}[heavy], lastDigest.Add(time.Duration(i+1)*time.Minute))
			stories = append(stories, st)
			clips[st.ID] = []digest.Clip{{Key: "clips/" + st.ID + "/a.mp4", Name: "waiting room.mp4", Duration: 95 * time.Second}}
			if heavy {
				clips[st.ID] = append(clips[st.ID], digest.Clip{Key: "clips/" + st.ID + "/b.webm", Name: "corridor.webm", Duration: 40 * time.Second})
			}
		}
		r, entries := report(t, stories, clips, 50)
		msg, err := digest.Fit(r, entries, []string{"comms@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		shown := strings.Count(msg.HTML, "Can we use this?")
		t.Logf("%d stories: %d shown in full, HTML %d bytes", n, shown, len(msg.HTML))
		if len(msg.HTML) >= digest.MaxHTMLBytes {
			t.Errorf("%d stories: HTML is %d bytes, want under %d", n, len(msg.HTML), digest.MaxHTMLBytes)
		}
		if n == 50 && shown != 50 {
			t.Errorf("50 stories: %d shown in full, want all", shown)
		}
		if n == 200 && (shown == 0 || !strings.Contains(msg.HTML, fmt.Sprintf("The other %d are in the spreadsheet", n-shown))) {
			t.Errorf("200 stories: %d shown and no word of the rest", shown)
		}
	}
}
