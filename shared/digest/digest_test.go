package digest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func run(t *testing.T, e *env, ev digest.Event) digest.Result {
	t.Helper()
	res, err := e.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return res
}

func state(t *testing.T, e *env) store.DigestState {
	t.Helper()
	s, err := e.store.DigestState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDigestSendsTheNewStoriesOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	e.setWatermark(t, lastDigest)
	old := newStory(50, "Already Sent", "barnet", lastDigest.Add(-time.Hour))
	e.put(t, append(sampleStories(), old)...)

	res := run(t, e, event(thisDigest))
	if res.Status != digest.StatusSent || res.Stories != 3 {
		t.Fatalf("result = %+v", res)
	}
	sent := e.mail.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d emails, want 1", len(sent))
	}
	msg := sent[0]
	if msg.To[0] != "comms@example.org" || msg.Subject != "Frontline Voices digest: 3 new stories (Mon 30 Nov)" {
		t.Errorf("to %v, subject %q", msg.To, msg.Subject)
	}
	for _, want := range []string{"Amara Okafor", "Tomasz Nowak", "Siobhán Ní Bhriain", "North Central London (2)", "Camden (2)", "Southwark (1)"} {
		if !strings.Contains(msg.HTML, want) || !strings.Contains(msg.Text, want) {
			t.Errorf("the digest lacks %q", want)
		}
	}
	if strings.Contains(msg.Text, "Already Sent") {
		t.Error("a story from before the watermark was sent again")
	}
	// The export is written, linked and holds the same stories.
	key := "exports/digest-20261127T080000Z-20261130T080000Z.csv"
	if res.ExportKey != key || e.files.objects[key] == nil {
		t.Fatalf("export %q, objects %v", res.ExportKey, sortedKeys(e.files.objects))
	}
	if !strings.Contains(msg.Text, "https://files.example/"+key+"?download=frontline-voices-digest-2026-11-30.csv") {
		t.Errorf("the digest does not link the export:\n%s", msg.Text)
	}
	if rows := parseCSV(t, e.files.objects[key]); len(rows) != 4 {
		t.Errorf("export has %d rows, want a header and 3", len(rows))
	}
	if s := state(t, e); !s.Watermark.Equal(thisDigest) || s.Claimed(e.clock.Now()) {
		t.Errorf("state after sending = %+v", s)
	}

	// The same firing again (a duplicate or a late retry): nothing.
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusDone {
		t.Errorf("repeat = %+v", res)
	}
	// The next firing, with nothing new: nothing.
	e.clock.Set(thisDigest.Add(24 * time.Hour))
	if res := run(t, e, event(thisDigest.Add(24*time.Hour))); res.Status != digest.StatusEmpty {
		t.Errorf("next = %+v", res)
	}
	if n := len(e.mail.Sent()); n != 1 {
		t.Fatalf("%d emails in all, want 1", n)
	}
}

// An erasure that begins after the digest read its period, and sweeps the
// exports before the digest writes its own: the digest reads each story
// again, and neither its export nor its email holds the erased story.
func TestStoryErasedWhileTheDigestRunsIsLeftOut(t *testing.T) {
	e := newEnv(t, testConfig())
	e.setWatermark(t, lastDigest)
	stories := sampleStories()
	e.put(t, stories...)
	gone := stories[0]
	e.files.beforePut = func() {
		if _, err := e.store.BeginErasure(context.Background(), gone.ID); err != nil {
			t.Error(err)
		}
	}
	res := run(t, e, event(thisDigest))
	if res.Status != digest.StatusSent {
		t.Fatalf("result = %+v", res)
	}
	export := string(e.files.objects[res.ExportKey])
	if strings.Contains(export, gone.ID) || strings.Contains(export, gone.Email) || !strings.Contains(export, stories[1].Email) {
		t.Fatalf("export after the erasure began:\n%s", export)
	}
	msg := e.mail.Sent()[0]
	if strings.Contains(msg.Text, gone.Name) || strings.Contains(msg.HTML, gone.Email) || !strings.Contains(msg.Text, stories[1].Name) {
		t.Fatalf("the email lists the erased story:\n%s", msg.Text)
	}
}

func TestConcurrentInvocationsSendOneEmail(t *testing.T) {
	for _, c := range []struct {
		name string
		evs  []digest.Event
	}{
		{"same firing twice", []digest.Event{event(thisDigest), event(thisDigest)}},
		// A run by hand beside the scheduled one: different ends, same start.
		{"scheduled and by hand", []digest.Event{event(thisDigest), {}}},
		{"ten at once", []digest.Event{event(thisDigest), event(thisDigest), event(thisDigest), event(thisDigest), event(thisDigest),
			event(thisDigest), event(thisDigest), {}, {}, {}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testConfig(), sampleStories()...)
			e.setWatermark(t, lastDigest)
			// The first sender holds on until every other invocation is done.
			e.mail.gate, e.mail.began = make(chan struct{}), make(chan struct{}, len(c.evs))
			results := make(chan digest.Result, len(c.evs))
			var wg sync.WaitGroup
			for _, ev := range c.evs {
				wg.Go(func() {
					res, err := e.h.Handle(context.Background(), ev)
					if err != nil {
						t.Error(err)
					}
					results <- res
				})
			}
			<-e.mail.began
			for range len(c.evs) - 1 {
				select {
				case res := <-results:
					if res.Status != digest.StatusBusy && res.Status != digest.StatusDone {
						t.Errorf("a second invocation did %+v", res)
					}
				case <-time.After(10 * time.Second):
					close(e.mail.gate)
					t.Fatal("another invocation is sending too")
				}
			}
			close(e.mail.gate)
			wg.Wait()
			close(results)
			if res := <-results; res.Status != digest.StatusSent {
				t.Errorf("the claiming invocation = %+v", res)
			}
			if n := len(e.mail.Sent()); n != 1 {
				t.Fatalf("%d emails, want 1", n)
			}
		})
	}
}

func TestFailedSendIsRetriedAndSentOnce(t *testing.T) {
	e := newEnv(t, testConfig(), sampleStories()...)
	e.setWatermark(t, lastDigest)
	e.mail.fail = 1

	if _, err := e.h.Handle(context.Background(), event(thisDigest)); err == nil {
		t.Fatal("a failed send returned no error: Lambda would not retry it")
	}
	s := state(t, e)
	if len(e.mail.Sent()) != 0 || !s.Watermark.Equal(lastDigest) || s.Claimed(e.clock.Now()) {
		t.Fatalf("after a failed send: %d emails, state %+v (want the watermark kept and the claim released)", len(e.mail.Sent()), s)
	}
	// Lambda's retry: the same event a minute later.
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusSent || res.Stories != 3 {
		t.Fatalf("retry = %+v", res)
	}
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusDone {
		t.Fatalf("second retry = %+v", res)
	}
	if n := len(e.mail.Sent()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

func TestFailedExportIsRetried(t *testing.T) {
	e := newEnv(t, testConfig(), sampleStories()...)
	e.setWatermark(t, lastDigest)
	e.files.fail = 1
	if _, err := e.h.Handle(context.Background(), event(thisDigest)); err == nil {
		t.Fatal("a failed export returned no error")
	}
	if len(e.mail.Sent()) != 0 {
		t.Fatal("the digest went out without its export")
	}
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusSent {
		t.Fatalf("retry = %+v", res)
	}
}

func TestStaleClaimIsTakenOver(t *testing.T) {
	e := newEnv(t, testConfig(), sampleStories()...)
	e.setWatermark(t, lastDigest)
	ctx := context.Background()
	now := e.clock.Now()
	// An invocation claimed the period and died.
	ok, err := e.store.ClaimDigest(ctx, store.DigestClaim{Watermark: lastDigest, End: thisDigest, Owner: "dead", Now: now, Until: now.Add(15 * time.Minute)})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusBusy {
		t.Fatalf("with a live claim = %+v", res)
	}
	e.clock.Set(now.Add(16 * time.Minute))
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusSent {
		t.Fatalf("with a stale claim = %+v", res)
	}
	// The dead invocation cannot complete over the new owner's digest.
	if err := e.store.CompleteDigest(ctx, store.DigestSent{Owner: "dead", Start: lastDigest, End: thisDigest, SentAt: now}); err != store.ErrDigestClaimLost {
		t.Fatalf("late complete = %v", err)
	}
	if n := len(e.mail.Sent()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

func TestEmptyPeriodSendsNothing(t *testing.T) {
	e := newEnv(t, testConfig(), newStory(1, "Old", "camden", lastDigest.Add(-time.Hour)))
	e.setWatermark(t, lastDigest)
	before := state(t, e)
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusEmpty {
		t.Fatalf("result = %+v", res)
	}
	if n := len(e.mail.Sent()); n != 0 {
		t.Fatalf("%d emails for an empty period", n)
	}
	// The watermark moves on, so the next run does not read this period again.
	if s := state(t, e); !s.Watermark.Equal(thisDigest) || s.ClaimOwner != before.ClaimOwner || !s.ClaimUntil.Equal(before.ClaimUntil) || !s.ClaimEnd.Equal(before.ClaimEnd) {
		t.Errorf("after an empty period: %+v, want the watermark at %v and the claim untouched", s, thisDigest)
	}
}

// A first run reads its whole look-back once, one Query for each month it
// touches; after it, empty or not, each run reads only the time since the
// last run.
func TestQueriesAfterAnEmptyFirstRun(t *testing.T) {
	e := newEnv(t, testConfig())
	first := run(t, e, event(thisDigest))
	if first.Status != digest.StatusEmpty || first.Queries > 3 {
		t.Fatalf("first run = %+v, want at most 3 queries (the months its 30-day look-back touches)", first)
	}
	if s := state(t, e); !s.Watermark.Equal(thisDigest) {
		t.Fatalf("an empty first run left the watermark at %v", s.Watermark)
	}
	next := run(t, e, event(thisDigest.Add(24*time.Hour)))
	if next.Status != digest.StatusEmpty || next.Queries > 2 {
		t.Fatalf("the empty run after it = %+v, want at most 2 queries (the months it touches)", next)
	}
	t.Logf("queries: first run %d, the empty run after it %d", first.Queries, next.Queries)
}

func TestEmptyPeriodNoteWhenAskedFor(t *testing.T) {
	cfg := testConfig()
	cfg.SendWhenEmpty = true
	e := newEnv(t, cfg)
	e.setWatermark(t, lastDigest)
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusSent || res.Stories != 0 {
		t.Fatalf("result = %+v", res)
	}
	sent := e.mail.Sent()
	if len(sent) != 1 || sent[0].Subject != "Frontline Voices digest: nothing new (Mon 30 Nov)" || !strings.Contains(sent[0].Text, "No stories came in") {
		t.Fatalf("emails = %+v", sent)
	}
	if len(e.files.objects) != 0 || strings.Contains(sent[0].Text, "spreadsheet") {
		t.Error("an empty period wrote or linked an export")
	}
	if s := state(t, e); !s.Watermark.Equal(thisDigest) {
		t.Errorf("watermark = %v", s.Watermark)
	}
	if res := run(t, e, event(thisDigest)); res.Status != digest.StatusDone || len(e.mail.Sent()) != 1 {
		t.Fatalf("repeat = %+v, %d emails", res, len(e.mail.Sent()))
	}
}

func TestFirstDigestLooksBackFirstLookback(t *testing.T) {
	e := newEnv(t, testConfig(),
		newStory(1, "Recent", "camden", thisDigest.Add(-24*time.Hour)),
		newStory(2, "Ancient", "camden", thisDigest.Add(-40*24*time.Hour)))
	res := run(t, e, event(thisDigest))
	if res.Status != digest.StatusSent || res.Stories != 1 {
		t.Fatalf("result = %+v", res)
	}
	if text := e.mail.Sent()[0].Text; !strings.Contains(text, "Recent") || strings.Contains(text, "Ancient") {
		t.Errorf("first digest:\n%s", text)
	}
}

func TestStoryAfterTheScheduledTimeWaitsForTheNextDigest(t *testing.T) {
	e := newEnv(t, testConfig(), sampleStories()...)
	e.setWatermark(t, lastDigest)
	late := newStory(9, "Just After Eight", "camden", thisDigest.Add(time.Second))
	e.put(t, late)
	e.clock.Set(thisDigest.Add(5 * time.Second)) // the digest runs a little after 08:00
	if res := run(t, e, event(thisDigest)); res.Stories != 3 {
		t.Fatalf("result = %+v", res)
	}
	e.clock.Set(thisDigest.Add(24 * time.Hour))
	if res := run(t, e, event(thisDigest.Add(24*time.Hour))); res.Status != digest.StatusSent || res.Stories != 1 {
		t.Fatalf("next = %+v", res)
	}
	sent := e.mail.Sent()
	if len(sent) != 2 || strings.Contains(sent[0].Text, "Just After Eight") || !strings.Contains(sent[1].Text, "Just After Eight") {
		t.Fatal("the story after the scheduled time was not in the next digest alone")
	}
}

// A story that reaches the index after the digest that should have had it
// (a slow write, index lag) is sent by the next one, and the stories the
// last digest sent from the same minutes are not sent again.
func TestLateVisibleStoryIsNotLost(t *testing.T) {
	e := newEnv(t, testConfig())
	e.setWatermark(t, lastDigest)
	onTime := newStory(1, "On Time", "camden", thisDigest.Add(-2*time.Minute))
	e.put(t, onTime)
	if res := run(t, e, event(thisDigest)); res.Stories != 1 {
		t.Fatalf("first = %+v", res)
	}
	if s := state(t, e); len(s.Recent) != 1 || s.Recent[0] != onTime.ID {
		t.Fatalf("recent = %v, want the story sent within the grace window", s.Recent)
	}
	// Submitted a minute before 08:00, visible only now.
	late := newStory(2, "Late Visible", "camden", thisDigest.Add(-time.Minute))
	e.put(t, late)
	next := thisDigest.Add(24 * time.Hour)
	e.clock.Set(next)
	if res := run(t, e, event(next)); res.Status != digest.StatusSent || res.Stories != 1 {
		t.Fatalf("next = %+v", res)
	}
	sent := e.mail.Sent()
	if !strings.Contains(sent[1].Text, "Late Visible") || strings.Contains(sent[1].Text, "On Time") {
		t.Fatalf("second digest:\n%s", sent[1].Text)
	}
}

func TestReadsGrowWithTheNewStoriesNotTheTable(t *testing.T) {
	e := newEnv(t, testConfig())
	// 30 days of older stories, 20 a day, then a watermark.
	var old []story.Story
	for d := range 30 {
		for i := range 20 {
			old = append(old, newStory(10000+d*100+i, "Old", "camden", lastDigest.Add(-time.Duration(d)*24*time.Hour-time.Duration(i+1)*time.Hour)))
		}
	}
	e.put(t, old...)
	e.setWatermark(t, lastDigest)
	e.put(t, sampleStories()...)
	res := run(t, e, event(thisDigest))
	if res.Stories != 3 {
		t.Fatalf("result = %+v", res)
	}
	// Fri to Mon is one month of the index, which holds the older stories
	// too; only the stories after (watermark - grace) are read.
	if res.Queries != 1 || res.ItemsRead != 3 {
		t.Errorf("read %d items in %d queries, want 3 in 1 (the table holds %d)", res.ItemsRead, res.Queries, len(old)+3)
	}
}

func TestClipsAreLinkedAndCounted(t *testing.T) {
	e := newEnv(t, testConfig(), sampleStories()...)
	e.setWatermark(t, lastDigest)
	e.h.Clips = fakeClips{
		"00000000000000000000000001": {{Key: "clips/1/a.mp4", Name: "my clip (1).mp4", Duration: 61 * time.Second}},
		// Clips of a story without clip slots are not asked for.
		"00000000000000000000000002": {{Key: "clips/2/a.mp4", Name: "never.mp4"}},
	}
	const id = "00000000000000000000000001"
	if err := e.store.ReserveClip(context.Background(), store.ClipRecord{StoryID: id, Clip: story.Clip{Key: bucket.NewClipKey(id, story.ClipTypes[0])}}, 5); err != nil {
		t.Fatal(err)
	}
	run(t, e, event(thisDigest))
	msg := e.mail.Sent()[0]
	if !strings.Contains(msg.HTML, `<a href="https://files.example/clips/1/a.mp4?download=my_clip_1.mp4&amp;expires=604800"`) {
		t.Errorf("clip link missing:\n%s", msg.HTML)
	}
	if !strings.Contains(msg.Text, "- Have video clips: 1") || !strings.Contains(msg.Text, "Clip: my_clip_1.mp4 (1:01)") || strings.Contains(msg.Text, "never.mp4") {
		t.Errorf("clip count or lines wrong:\n%s", msg.Text)
	}
}

func TestEventTimes(t *testing.T) {
	h := digest.New(digest.Config{}, nil, nil, nil)
	h.SetClock(func() time.Time { return thisDigest.Add(90 * time.Second) })
	for _, c := range []struct {
		ev   digest.Event
		want time.Time
	}{
		{digest.Event{ScheduledTime: "2026-11-30T08:00:00Z"}, thisDigest},
		{digest.Event{Time: "2026-11-30T08:00:00Z"}, thisDigest},
		{digest.Event{}, thisDigest.Add(90 * time.Second)},
		{digest.Event{ScheduledTime: "<aws.scheduler.scheduled-time>"}, thisDigest.Add(90 * time.Second)},
		{digest.Event{ScheduledTime: "2026-12-01T08:00:00Z"}, thisDigest.Add(90 * time.Second)}, // never in the future
	} {
		if got := h.EndOf(c.ev); !got.Equal(c.want) {
			t.Errorf("end(%+v) = %v, want %v", c.ev, got, c.want)
		}
	}
	var ev digest.Event
	testenv.Event(t, "digest-schedule.json", &ev)
	if ev.ScheduledTime == "" || ev.ExecutionID == "" {
		t.Errorf("events/digest-schedule.json = %+v", ev)
	}
	if got := h.EndOf(ev); !got.Equal(thisDigest) {
		t.Errorf("the sample event's period ends %v, want %v", got, thisDigest)
	}
}

func TestSafeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"waiting room.mp4":                    "waiting_room.mp4",
		`a"; filename=evil.exe`:               "a_filenameevil.exe",
		"../../etc/passwd":                    "etcpasswd",
		"клип.webm":                           "webm",
		"\r\nContent-Type: text/html\r\n.mp4": "Content-Type_texthtml.mp4",
	} {
		if got := digest.SafeFilename(in); got != want {
			t.Errorf("safeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// Erased stories leave tombstones in the index: the next digest lists them
// so the team stops using them, once.
func TestWithdrawalsAreReportedOnce(t *testing.T) {
	// EraseStory stamps tombstones with the real clock, so this test runs on it.
	now := time.Now().UTC()
	e := newEnv(t, testConfig())
	e.clock.Set(now)
	e.setWatermark(t, now.Add(-time.Hour))
	kept := newStory(1, "Kept", "camden", now.Add(-30*time.Minute))
	gone := newStory(2, "Gone", "camden", now.Add(-20*time.Minute))
	e.put(t, kept, gone)
	if _, err := e.store.EraseStory(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Now().UTC().Add(time.Second))
	res := run(t, e, digest.Event{})
	if res.Status != digest.StatusSent || res.Stories != 1 || res.Withdrawn != 1 {
		t.Fatalf("result = %+v", res)
	}
	msg := e.mail.Sent()[0]
	if strings.Contains(msg.Text, "Gone") || !strings.Contains(msg.Text, "1 WITHDRAWN: stop using this story") || !strings.Contains(msg.Text, "Reference: "+gone.ID) {
		t.Errorf("digest:\n%s", msg.Text)
	}
	if !strings.HasSuffix(msg.Subject, "1 new story, 1 withdrawn ("+e.clock.Now().In(digest.UKTime).Format("Mon 2 Jan")+")") {
		t.Errorf("subject = %q", msg.Subject)
	}
	// The tombstone lies within the next digest's grace window: not again.
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if res := run(t, e, digest.Event{}); res.Status != digest.StatusEmpty {
		t.Fatalf("next = %+v", res)
	}
}
