package config

import (
	"strings"
	"testing"
	"time"
)

type sample struct {
	Table  string        `env:"TABLE_NAME,required"`
	Emails []string      `env:"EMAILS"`
	Max    int           `env:"MAX" default:"5"`
	Wait   time.Duration `env:"WAIT" default:"3s"`
	On     bool          `env:"ON"`
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	var s sample
	err := Load(env(map[string]string{"TABLE_NAME": "Stories", "EMAILS": " a@x.org, ,b@x.org ", "ON": "true"}), &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Table != "Stories" || len(s.Emails) != 2 || s.Emails[1] != "b@x.org" || s.Max != 5 || s.Wait != 3*time.Second || !s.On {
		t.Fatalf("%+v", s)
	}
}

func TestLoadSaysEverythingThatIsWrong(t *testing.T) {
	var s sample
	err := Load(env(map[string]string{"MAX": "lots", "WAIT": "soon", "ON": "maybe"}), &s)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"TABLE_NAME is required", `MAX="lots": not a whole number`, `WAIT="soon": not a duration`, `ON="maybe": not true or false`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

type withShared struct {
	Shared
	Clips
	Own string `env:"OWN" default:"x"`
}

func TestEmbeddedSettingsHaveOneName(t *testing.T) {
	var c withShared
	err := Load(env(map[string]string{"TABLE_NAME": "T", "CLIPS_BUCKET": "b", "SIGNING_KEYS_SECRET": "s", "MAX_CLIP_DURATION": "90s"}), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "T" || c.Bucket != "b" || c.SigningKeys != "s" || c.Retention() != 730*24*time.Hour || c.Own != "x" ||
		c.ClipLimits().MaxDuration != 90*time.Second || c.ClipLimits().Check() != nil {
		t.Fatalf("%+v", c)
	}
	err = Load(env(nil), &c)
	for _, want := range []string{"TABLE_NAME is required", "CLIPS_BUCKET is required", "SIGNING_KEYS_SECRET is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

type checked struct {
	Sender string        `env:"SENDER" check:"address"`
	Comms  []string      `env:"COMMS" check:"address"`
	Site   string        `env:"SITE" check:"origin"`
	Fill   time.Duration `env:"FILL" check:"positive"`
}

// The template's parameters are checked again at start-up, with a message
// that says what to write instead.
func TestChecks(t *testing.T) {
	var c checked
	if err := Load(env(map[string]string{"SENDER": "stories@example.org", "COMMS": "a@example.org,b@example.org",
		"SITE": "https://Stories.Example.org/", "FILL": "3s"}), &c); err != nil {
		t.Fatal(err)
	}
	if c.Site != "https://stories.example.org" {
		t.Fatalf("origin not normalised: %q", c.Site)
	}
	for name, tc := range map[string]struct{ k, v, want string }{
		"display name":         {"SENDER", "Frontline Voices <stories@example.org>", "not a plain email address"},
		"one bad comms":        {"COMMS", "a@example.org,team", "not a plain email address"},
		"a path":               {"SITE", "https://example.org/form", "not an origin"},
		"no scheme":            {"SITE", "example.org", "not an origin"},
		"bare number duration": {"FILL", "3", "write 3s, not 3"},
		"zero":                 {"FILL", "0s", "more than zero"},
	} {
		var c checked
		err := Load(env(map[string]string{tc.k: tc.v}), &c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
