package digest_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"frontlinevoices/shared/config"
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/safeguard"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// Times of the tests: a Monday 08:00 digest in winter (UK time = UTC).
var (
	lastDigest = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) // Fri 08:00
	thisDigest = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // Mon 08:00
)

// newStory is a valid story as the store keeps it.
func newStory(n int, name, borough string, at time.Time, opts ...func(*story.Story)) story.Story {
	b, _ := story.FindBorough(borough)
	st := story.Story{
		ID:               fmt.Sprintf("%026d", n),
		Name:             name,
		Role:             "practice_nurse",
		Practice:         "Bellenden Road Surgery",
		Borough:          borough,
		Area:             b.Area.ID,
		Email:            fmt.Sprintf("volunteer%d@example.org", n),
		PreferredContact: "email",
		Topics:           []string{"workload"},
		Text:             "Our phone lines opened at 8am and within ten minutes 140 people were waiting.",
		Activities:       []string{"media"},
		PatientsSpeak:    "maybe",
		SubmittedAt:      at,
		ContentHash:      fmt.Sprintf("hash%d", n),
	}
	for _, id := range []string{"contact", "store"} {
		st.Consents = append(st.Consents, story.ConsentRecord{Statement: id, Version: "v", Agreed: true, At: at, Channel: "form"})
	}
	for _, o := range opts {
		o(&st)
	}
	return st
}

func consent(ids ...string) func(*story.Story) {
	return func(st *story.Story) {
		for _, id := range ids {
			st.Consents = append(st.Consents, story.ConsentRecord{Statement: id, Version: "v", Agreed: true, At: st.SubmittedAt, Channel: "form"})
		}
	}
}

// sampleStories are three ordinary stories in two areas.
func sampleStories() []story.Story {
	return []story.Story{
		newStory(1, "Amara Okafor", "southwark", lastDigest.Add(2*time.Hour), consent("public")),
		newStory(2, "Tomasz Nowak", "camden", lastDigest.Add(26*time.Hour), func(st *story.Story) {
			st.Role = "receptionist"
			st.Practice = "Kentish Town Health Centre"
			st.Activities = []string{"mp_meeting", "video"}
			st.Topics = []string{"access", "workforce"}
			st.PatientsSpeak = "yes"
			st.Phone = "020 7946 0000"
			st.PreferredContact = "phone"
			st.PersonalEmailOnly = true
			st.ListSize = "10000_19999" // a practice of 12,000 patients
			st.Contacts = []story.Contact{
				{Person: "jo-bloggs-holborn-and-st-pancras", Name: "Jo Bloggs", Constituency: "Holborn and St Pancras", Party: "Labour", Status: story.StatusMP, When: "October 2026", What: "Met at a surgery about appointment waits."},
				{Name: "Jane Example", Constituency: "Hampstead", Party: "Independent", What: "Spoke at a hustings."},
			}
			st.Text = "Every morning I am the first voice patients hear.\n\nSome of them have been trying since 7am."
		}, consent("public", "named", "clips")),
		newStory(3, "Siobhán Ní Bhriain", "camden", lastDigest.Add(50*time.Hour), func(st *story.Story) {
			st.Role = "gp_partner"
			st.Activities = nil
			st.PatientsSpeak = "no"
		}),
	}
}

// hostileStories carry text meant to break the email, the export or the
// reader's trust: markup and script, header-like line breaks, a bidi
// override, a very long word, emoji and non-Latin names.
func hostileStories() []story.Story {
	long := strings.Repeat("Supercalifragilistic", 12)
	return []story.Story{
		newStory(11, `<script>alert("x")</script><b>Eve</b>`, "lambeth", lastDigest.Add(time.Hour), func(st *story.Story) {
			st.Practice = `"><img src=x onerror=alert(1)> & Co`
			st.Text = "<style>body{display:none}</style>\r\nBcc: everyone@example.org\r\n\r\n<a href=\"javascript:alert(1)\">click</a>"
			st.Role = "other"
			st.RoleOther = "=HYPERLINK(\"http://evil.example\",\"Click\")"
			st.Topics = []string{"other"}
			st.TopicOther = "+cmd|' /C calc'!A0"
			st.PatientsNote = "@SUM(1+1)*cmd|' /C calc'!A0"
			st.Contacts = []story.Contact{{Name: "-2+3", What: "Line one\r\nSubject: spoofed\nline three"}}
			st.Flags = []string{"<i>stored flag</i>"}
		}),
		newStory(12, "\u202Egnp.exe\u202C Mallory\r\nX-Header: injected", "lambeth", lastDigest.Add(2*time.Hour), func(st *story.Story) {
			st.Practice = long
			st.Text = "Word: " + long + " end. \u200BZero\u200Bwidth and RTL \u202Eoverride\u202C here."
			st.Email = "mallory@example.org"
		}),
		newStory(13, "محمد عبد الله 👩🏽‍⚕️", "tower_hamlets", lastDigest.Add(3*time.Hour), func(st *story.Story) {
			st.Practice = "Łódź & Zoë’s Surgery — 東京"
			st.Text = "Emoji 👨‍👩‍👧 family, accents: café, naïve, Ångström. Patient Mrs Smith, NHS number 943 476 5919."
			st.PatientsSpeak = "yes"
			st.Flags = safeguard.Flags(safeguard.Labels(st.Text, st.PatientsNote), false) // as the submit handler stores them
		}, consent("named")),
	}
}

// fakeFiles keeps exports in memory and makes stable links.
type fakeFiles struct {
	mu      sync.Mutex
	objects map[string][]byte
	fail    int
	// beforePut, if set, runs once, before the first Put.
	beforePut func()
}

func (f *fakeFiles) Put(_ context.Context, key, _ string, body []byte) error {
	if f.beforePut != nil {
		hook := f.beforePut
		f.beforePut = nil
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("fake S3 unavailable")
	}
	if f.objects == nil {
		f.objects = map[string][]byte{}
	}
	f.objects[key] = body
	return nil
}

func (f *fakeFiles) Link(_ context.Context, key, filename string) (string, error) {
	return "https://files.example/" + key + "?download=" + filename + "&expires=604800", nil
}

// fakeMail records what was sent; it can fail, or wait for a signal.
type fakeMail struct {
	mu    sync.Mutex
	sent  []mail.Message
	fail  int
	gate  chan struct{} // when set, Send waits for it
	began chan struct{} // when set, Send signals it has begun
}

func (m *fakeMail) Send(ctx context.Context, msg mail.Message) (string, error) {
	if m.began != nil {
		m.began <- struct{}{}
	}
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return "", errors.New("fake SES unavailable")
	}
	m.sent = append(m.sent, msg)
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

func (m *fakeMail) Sent() []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mail.Message(nil), m.sent...)
}

// fakeClips gives chosen stories clips.
type fakeClips map[string][]digest.Clip

func (c fakeClips) StoryClips(_ context.Context, st story.Story) ([]digest.Clip, error) {
	return c[st.ID], nil
}

// env is a digest handler on minidyn's in-memory DynamoDB.
type env struct {
	h     *digest.Handler
	store *store.Store
	mail  *fakeMail
	files *fakeFiles
	clock *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func testConfig() digest.Config {
	return digest.Config{
		Shared:     config.Shared{TableName: "StoriesTable", Bucket: "exports-bucket"},
		Mail:       config.Mail{CommsAddress: []string{"comms@example.org"}, Sender: "stories@example.org"},
		MaxInEmail: 200, LinkTTL: 7 * 24 * time.Hour,
		ClaimLease: 15 * time.Minute, Grace: 10 * time.Minute, FirstLookback: 30 * 24 * time.Hour,
	}
}

func newEnv(t testing.TB, cfg digest.Config, stories ...story.Story) *env {
	t.Helper()
	db := testenv.Table(t, "StoriesTable")
	s := store.New(db, "StoriesTable")
	for _, st := range stories {
		if _, _, err := s.PutStory(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{store: s, mail: &fakeMail{}, files: &fakeFiles{}, clock: &clock{t: thisDigest.Add(3 * time.Second)}}
	e.h = digest.New(cfg, s, e.files, e.mail)
	e.h.SetClock(e.clock.Now)
	return e
}

func (e *env) put(t testing.TB, stories ...story.Story) {
	t.Helper()
	for _, st := range stories {
		if _, _, err := e.store.PutStory(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
}

// setWatermark makes it look as if a digest went out at end.
func (e *env) setWatermark(t testing.TB, end time.Time, recent ...string) {
	t.Helper()
	ctx := context.Background()
	prev, err := e.store.DigestState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.store.ClaimDigest(ctx, store.DigestClaim{Watermark: prev.Watermark, End: end, Owner: "setup", Now: end, Until: end.Add(time.Second)})
	if err != nil || !ok {
		t.Fatalf("claim for setup: %v %v", ok, err)
	}
	if err := e.store.CompleteDigest(ctx, store.DigestSent{Owner: "setup", Start: end.Add(-time.Hour), End: end, Recent: recent, SentAt: end}); err != nil {
		t.Fatal(err)
	}
}

func event(at time.Time) digest.Event {
	return digest.Event{ScheduledTime: at.UTC().Format(time.RFC3339), ExecutionID: "exec-1", AttemptNumber: "1"}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
