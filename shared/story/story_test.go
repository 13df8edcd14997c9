package story

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var now = time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)

func valid() Submission {
	return Submission{
		ID: NewID(), Name: "Amara Okafor", Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: "southwark", Email: "amara@example.org", Phone: "020 7946 0000", PreferredContact: "email",
		Topics: []string{"workload"}, Story: "Our phone lines opened at 8am and 140 people were waiting.",
		Activities: []string{"media"}, PatientsSpeak: "maybe", Naming: "role",
		Consent:        map[string]bool{"contact": true, "store": true},
		ConsentVersion: ConsentVersion(),
	}
}

func TestOptionsAreData(t *testing.T) {
	n := 0
	for _, a := range Options().ICBAreas {
		n += len(a.Boroughs)
	}
	if len(Options().ICBAreas) != 5 || n != 27 {
		t.Fatalf("%d ICB areas and %d boroughs, want 5 and 27", len(Options().ICBAreas), n)
	}
	if len(Options().Roles) != 12 || len(Options().Topics) != 10 || len(Options().Activities) != 4 {
		t.Fatalf("roles %d topics %d activities %d", len(Options().Roles), len(Options().Topics), len(Options().Activities))
	}
	b, ok := FindBorough("kensington_chelsea_westminster")
	if !ok || b.Area.ID != "nwl" {
		t.Fatalf("FindBorough = %+v %v", b, ok)
	}
}

func TestValidStory(t *testing.T) {
	sub := valid().Normalize()
	st, errs := sub.Validate(now)
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	if st.Area != "sel" || st.SubmittedAt != now || st.ContentHash == "" {
		t.Fatalf("story = %+v", st)
	}
	if !st.Consented("contact") || !st.Consented("store") || st.Consented("public") {
		t.Fatalf("consents = %+v", st.Consents)
	}
	for _, c := range st.Consents {
		def, _ := FindConsent(c.Statement)
		if c.Version != def.Version() || c.At != now || c.Channel != "form" {
			t.Fatalf("consent record %+v", c)
		}
	}
	// The same answers give the same hash; other answers another.
	again, _ := sub.Validate(now.Add(time.Hour))
	if again.ContentHash != st.ContentHash {
		t.Fatal("hash depends on the time")
	}
	sub.Story += " More."
	other, _ := sub.Validate(now)
	if other.ContentHash == st.ContentHash {
		t.Fatal("different answers, same hash")
	}
}

func TestNamingSetsTheNamingConsents(t *testing.T) {
	for _, n := range Namings {
		sub := valid()
		sub.Naming = n.ID
		sub.Consent["named"] = !n.Named // the answer wins over a stale box
		st, errs := sub.Normalize().Validate(now)
		if errs != nil {
			t.Fatal(errs)
		}
		if st.Consented("named") != n.Named || st.Consented("role") != n.Role || st.Naming().ID != n.ID {
			t.Errorf("%s: named %v role %v naming %q", n.ID, st.Consented("named"), st.Consented("role"), st.Naming().ID)
		}
	}
	// A client that sends the consents themselves needs no naming answer.
	sub := valid()
	sub.Naming, sub.Consent["named"] = "", true
	if st, errs := sub.Normalize().Validate(now); errs != nil || st.Naming().ID != "name" {
		t.Fatalf("named by consent: %v %v", st.Naming(), errs)
	}
}

func TestNoContactDropsContacts(t *testing.T) {
	sub := valid()
	sub.HadContact = "no"
	sub.Contacts = []Contact{{Name: "Jo Bloggs MP", What: "A letter"}}
	st, errs := sub.Normalize().Validate(now)
	if errs != nil || len(st.Contacts) != 0 {
		t.Fatalf("contacts %v errors %v", st.Contacts, errs)
	}
}

func TestValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		change func(*Submission)
		field  string
		msg    string
	}{
		{"name missing", func(s *Submission) { s.Name = "  " }, "name", "Enter your full name"},
		{"name too short", func(s *Submission) { s.Name = "A" }, "name", "at least 2 characters"},
		{"name too long", func(s *Submission) { s.Name = long(121) }, "name", "120 characters or fewer"},
		{"role missing", func(s *Submission) { s.Role = "" }, "role", "Choose your role"},
		{"role unknown", func(s *Submission) { s.Role = "surgeon" }, "role", "from the list"},
		{"other role without text", func(s *Submission) { s.Role = "other" }, "roleOther", "Tell us your role"},
		{"practice missing", func(s *Submission) { s.Practice = "" }, "practice", "name of your practice"},
		{"practice too long", func(s *Submission) { s.Practice = long(151) }, "practice", "150 characters"},
		{"borough missing", func(s *Submission) { s.Borough = "" }, "borough", "Choose the borough"},
		{"borough unknown", func(s *Submission) { s.Borough = "atlantis" }, "borough", "from the list"},
		{"email missing", func(s *Submission) { s.Email = "" }, "email", "Enter your email address"},
		{"email without at", func(s *Submission) { s.Email = "amara.example.org" }, "email", "like name@example.org"},
		{"email without dot", func(s *Submission) { s.Email = "amara@localhost" }, "email", "like name@example.org"},
		{"email with name", func(s *Submission) { s.Email = "Amara <amara@example.org>" }, "email", "like name@example.org"},
		{"email header injection", func(s *Submission) { s.Email = "a@example.org\r\nBcc: x@example.org" }, "email", "like name@example.org"},
		{"phone letters", func(s *Submission) { s.Phone = "call me" }, "phone", "only digits"},
		{"phone too short", func(s *Submission) { s.Phone = "12345" }, "phone", "10 to 15 digits"},
		{"phone preferred but missing", func(s *Submission) { s.Phone, s.PreferredContact = "", "phone" }, "phone", "Enter a phone number"},
		{"contact method missing", func(s *Submission) { s.PreferredContact = "" }, "preferredContact", "how you would like"},
		{"contact method unknown", func(s *Submission) { s.PreferredContact = "pigeon" }, "preferredContact", "email or phone"},
		{"no topics", func(s *Submission) { s.Topics = nil }, "topics", "at least one topic"},
		{"unknown topic", func(s *Submission) { s.Topics = []string{"weather"} }, "topics", "from the list"},
		{"other topic without text", func(s *Submission) { s.Topics = []string{"other"} }, "topicOther", "other topic"},
		{"story missing", func(s *Submission) { s.Story = "" }, "story", "Tell us your story"},
		{"story too short", func(s *Submission) { s.Story = "Too short" }, "story", "at least 20 characters"},
		{"story too long", func(s *Submission) { s.Story = long(5001) }, "story", "5000 characters or fewer: it is 5001"},
		{"unknown activity", func(s *Submission) { s.Activities = []string{"skydiving"} }, "activities", "from the list"},
		{"contact without name", func(s *Submission) { s.Contacts = []Contact{{What: "A letter"}} }, "mpContacts.0.name", "MP's or candidate's name"},
		{"contact without what", func(s *Submission) { s.Contacts = []Contact{{Name: "Jo Bloggs MP"}} }, "mpContacts.0.what", "what the contact was"},
		{"too many contacts", func(s *Submission) {
			for range 6 {
				s.Contacts = append(s.Contacts, Contact{Name: "Jo Bloggs", What: "Letter"})
			}
		}, "mpContacts", "at most 5"},
		{"patients missing", func(s *Submission) { s.PatientsSpeak = "" }, "patientsWouldSpeak", "patients might speak"},
		{"patients unknown", func(s *Submission) { s.PatientsSpeak = "perhaps" }, "patientsWouldSpeak", "one of the answers"},
		{"patients note too long", func(s *Submission) { s.PatientsNote = long(1001) }, "patientsNote", "1000 characters"},
		{"contact consent missing", func(s *Submission) { s.Consent = map[string]bool{"store": true} }, "consent.contact", "may contact you"},
		{"store consent missing", func(s *Submission) { s.Consent = map[string]bool{"contact": true} }, "consent.store", "may keep your answers"},
		{"naming unknown", func(s *Submission) { s.Naming = "nickname" }, "naming", "how you would like to be named"},
		{"had contact but none given", func(s *Submission) { s.HadContact = "yes" }, "mpContacts.0.name", "or answer no"},
		{"had contact unknown", func(s *Submission) { s.HadContact = "maybe" }, "hadContact", "yes or no"},
		{"stale consent wording", func(s *Submission) { s.ConsentVersion = "000000000000" }, "consent", "wording has changed"},
		{"bad id", func(s *Submission) { s.ID = "../../etc" }, "id", "reload the page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := valid()
			c.change(&sub)
			_, errs := sub.Normalize().Validate(now)
			msg := errs.For(c.field)
			if !strings.Contains(msg, c.msg) {
				t.Fatalf("error for %s = %q, want it to contain %q (all: %v)", c.field, msg, c.msg, errs)
			}
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %v", errs)
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, errs := Submission{}.Normalize().Validate(now)
	for _, f := range []string{"name", "role", "practice", "borough", "email", "preferredContact", "topics", "story", "patientsWouldSpeak", "consent"} {
		if errs.For(f) == "" {
			t.Errorf("no error for %s", f)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ name, in, line, text string }{
		{"trims", "  Amara  ", "Amara", "Amara"},
		{"NFC", "Zoe\u0308", "Zoë", "Zoë"},
		{"control characters", "A\x00B\x07C\x1b[31m", "A B C [31m", "ABC[31m"},
		{"line breaks in one line", "Amara\r\nOkafor", "Amara Okafor", "Amara\nOkafor"},
		{"bidi override", "abc\u202Edcba", "abc dcba", "abcdcba"},
		{"zero width space", "a\u200Bb", "a b", "ab"},
		{"emoji with ZWJ kept", "👩\u200d⚕️ nurse", "👩\u200d⚕️ nurse", "👩\u200d⚕️ nurse"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb", "a\uFFFDb"},
		{"many blank lines", "a\n\n\n\n\nb", "a b", "a\n\n\nb"},
		{"html is kept as text", "<script>alert(1)</script>", "<script>alert(1)</script>", "<script>alert(1)</script>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CleanLine(c.in); got != c.line {
				t.Errorf("CleanLine(%q) = %q, want %q", c.in, got, c.line)
			}
			if got := CleanText(c.in); got != c.text {
				t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.text)
			}
		})
	}
}

func TestHostileStringsAreKeptSafelyAsText(t *testing.T) {
	for _, hostile := range []string{
		`"><img src=x onerror=alert(1)>`, "'; DROP TABLE stories; --", "=HYPERLINK(\"http://x\")",
		"{{.Secret}}", "${jndi:ldap://x}", "\u202Egnp.exe", "Ünïcödé ñame 名前 اسم",
	} {
		sub := valid()
		sub.Name = hostile
		sub.Practice = hostile
		sub.Story = hostile + " " + strings.Repeat("story ", 5)
		st, errs := sub.Normalize().Validate(now)
		if errs != nil {
			t.Fatalf("%q rejected: %v", hostile, errs)
		}
		if !utf8.ValidString(st.Name) || strings.ContainsAny(st.Name, "\r\n\x00") {
			t.Fatalf("unsafe name kept: %q", st.Name)
		}
	}
}

func TestItemStaysFarBelowDynamoDBLimit(t *testing.T) {
	sub := valid()
	big := strings.Repeat("長", MaxStoryChars) // 3 bytes a character
	sub.Story = big
	sub.PatientsNote = strings.Repeat("é", 1000)
	sub.Name = strings.Repeat("n", 120)
	sub.Topics = []string{"other"}
	sub.TopicOther = strings.Repeat("t", 120)
	for range MaxContacts {
		sub.Contacts = append(sub.Contacts, Contact{Name: strings.Repeat("m", 120), Constituency: strings.Repeat("c", 120),
			Party: strings.Repeat("p", 60), When: strings.Repeat("w", 60), What: strings.Repeat("x", 1000)})
	}
	st, errs := sub.Normalize().Validate(now)
	if errs != nil {
		t.Fatal(errs)
	}
	b, _ := json.Marshal(st)
	if len(b) > 40*1024 {
		t.Fatalf("largest story is %d bytes; DynamoDB allows 400 KB and we want to stay far below", len(b))
	}
	t.Logf("largest possible story: %d bytes as JSON", len(b))
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestConsentVersionChangesWithWording(t *testing.T) {
	before := ConsentVersion()
	saved := ConsentStatements[2].Text
	ConsentStatements[2].Text += " (changed)"
	defer func() { ConsentStatements[2].Text = saved }()
	if ConsentVersion() == before {
		t.Fatal("changing a statement did not change the version")
	}
}

func TestEmailsSESCanDeliver(t *testing.T) {
	for _, tc := range []struct{ in, stored, err string }{
		{"user@exämple.org", "user@xn--exmple-cua.org", ""},
		{"user@EXÄMPLE.org", "user@xn--exmple-cua.org", ""},
		{"jöhn@example.org", "", "plain letters"},
		{"user@ex\u00e4\u0308mple.org", "", ""}, // combining marks: NFC then punycode, or refused
		{"user@xn--exmple-cua.org", "user@xn--exmple-cua.org", ""},
		{"user@-bad-.org", "", "like name@example.org"},
	} {
		sub := valid()
		sub.Email = tc.in
		sub = sub.Normalize()
		_, errs := sub.Validate(time.Now())
		msg := errs.For("email")
		switch {
		case tc.err == "" && tc.stored != "" && (msg != "" || sub.Email != tc.stored):
			t.Errorf("%q: stored %q, error %q; want %q", tc.in, sub.Email, msg, tc.stored)
		case tc.err != "" && !strings.Contains(msg, tc.err):
			t.Errorf("%q: error %q, want one saying %q", tc.in, msg, tc.err)
		case tc.stored == "" && tc.err == "" && msg == "" && !isASCIIString(sub.Email):
			t.Errorf("%q: accepted as %q, not ASCII", tc.in, sub.Email)
		}
	}
}

func isASCIIString(s string) bool {
	for _, r := range s {
		if r > 127 {
			return false
		}
	}
	return true
}

// FuzzCleanText checks that an answer CleanText keeps as it is would come
// out of the whole cleaning unchanged too.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "a", "a\nb", "a\n\n\nb", "a\n\n\n\nb", "a \nb", "a\t\nb", "\tx", "x\u00a0", "e\u0301", "\u00e9",
		"a\r\nb", "a\u200bb", "a\u200db", "a\u2028b", "\xff", "\ufffd", "x\u0085y", "line\n\nline\n\n\nend",
		" a ", "\n\n\n\n\na\n", "\x0ca\x0b", " \u0301x", "a\r", "\u00a0a\u3000", "\u200b a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := CleanText(v), cleanText(v); got != want {
			t.Fatalf("CleanText(%q) = %q, the whole cleaning gives %q", v, got, want)
		}
	})
}
