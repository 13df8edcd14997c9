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
