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
	err := Load(env(map[string]string{"TABLE_NAME": "T", "CLIPS_BUCKET": "b", "SIGNING_SECRET": "s", "MAX_CLIP_DURATION": "90s"}), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "T" || c.Bucket != "b" || c.SigningSecret != "s" || c.Retention() != 730*24*time.Hour || c.Own != "x" ||
		c.ClipLimits().MaxDuration != 90*time.Second || c.ClipLimits().Check() != nil {
		t.Fatalf("%+v", c)
	}
	err = Load(env(nil), &c)
	for _, want := range []string{"TABLE_NAME is required", "CLIPS_BUCKET is required", "SIGNING_SECRET is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
