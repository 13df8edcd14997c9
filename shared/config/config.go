// Package config fills a function's typed configuration from its
// environment, once at init, and says clearly what is missing or wrong.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"frontlinevoices/shared/story"
)

// Load fills the struct dst points to from getenv (os.Getenv on Lambda, the
// template's Environment in the local stack). Fields are tagged
// `env:"NAME"`, with `,required` for values that must be set and
// `default:"…"` for the rest. Supported kinds: string, []string (comma
// separated), int, int64, bool and time.Duration. Embedded structs (Shared,
// Clips, Mail) are filled the same way, so a setting has one name everywhere.
// A `check:"…"` tag adds a rule: "address" (a plain email address, no
// display name: SES's ses:FromAddress condition and the mail headers compare
// bare addresses), "origin" (http(s)://host[:port]; a trailing slash is
// dropped), or "positive" (a duration or number above zero).
func Load(getenv func(string) string, dst any) error {
	if err := errors.Join(load(getenv, reflect.ValueOf(dst).Elem())...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// load fills v's tagged fields, and those of the structs it embeds.
func load(getenv func(string) string, v reflect.Value) []error {
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				errs = append(errs, load(getenv, v.Field(i))...)
			}
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		raw := strings.TrimSpace(getenv(name))
		if raw == "" {
			raw = f.Tag.Get("default")
		}
		if raw == "" {
			if opt == "required" {
				errs = append(errs, fmt.Errorf("%s is required but not set", name))
			}
			continue
		}
		if err := set(v.Field(i), raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, raw, err))
			continue
		}
		if err := check(v.Field(i), f.Tag.Get("check")); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, raw, err))
		}
	}
	return errs
}

func set(f reflect.Value, raw string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("not a duration like 15m or 24h (a bare number has no unit: write 3s, not 3)")
		}
		f.SetInt(int64(d))
		return nil
	case []string:
		var out []string
		for p := range strings.SplitSeq(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		f.Set(reflect.ValueOf(out))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("not a whole number")
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("not true or false")
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}

// Shared is the settings every function reads, embedded in each function's
// Config. template.yaml sets them once, in Globals, for every function.
// (The AWS endpoints are the SDK's own AWS_ENDPOINT_URL_<SERVICE>.)
type Shared struct {
	// TableName is the stories table.
	TableName string `env:"TABLE_NAME,required"`
	// Bucket holds the clips (under clips/) and the digest's exports
	// (under exports/).
	Bucket string `env:"CLIPS_BUCKET,required"`
	// SigningKeys is the ARN of the Secrets Manager secret holding the keys
	// that sign every token the site hands out (see links and signing); it
	// is read at first use, never at init.
	SigningKeys string `env:"SIGNING_KEYS_SECRET,required"`
	// RetentionDays is how long stories and clips are kept.
	RetentionDays int `env:"RETENTION_DAYS" default:"730" check:"positive"`
	// S3PathStyle addresses the bucket by path (the local S3 needs it).
	S3PathStyle bool `env:"S3_PATH_STYLE"`
}

// Retention is how long stories and clips are kept.
func (s Shared) Retention() time.Duration { return time.Duration(s.RetentionDays) * 24 * time.Hour }

// Clips is the clip limits, read by the pages that show them, the uploads
// that enforce them before a byte is sent and ingest that checks the bytes.
type Clips struct {
	MaxClipBytes    int64         `env:"MAX_CLIP_BYTES" default:"524288000"`
	MaxClips        int           `env:"MAX_CLIPS" default:"5"`
	ClipPartSize    int64         `env:"CLIP_PART_SIZE" default:"8388608"`
	ClipTypes       []string      `env:"CLIP_TYPES" default:"video/mp4,video/quicktime,video/webm"`
	MaxClipDuration time.Duration `env:"MAX_CLIP_DURATION" default:"5m"`
}

// ClipLimits are the limits as the story's rules take them; Check them
// before use.
func (c Clips) ClipLimits() story.ClipLimits {
	return story.ClipLimits{MaxBytes: c.MaxClipBytes, MaxClips: c.MaxClips, PartSize: c.ClipPartSize,
		Types: c.ClipTypes, MaxDuration: c.MaxClipDuration}
}

// Mail is the settings of the functions that send email.
type Mail struct {
	// CommsAddress is the communications team's addresses.
	CommsAddress []string `env:"COMMS_ADDRESSES,required" check:"address"`
	// Sender is the From address of every email (a verified SES identity).
	Sender string `env:"SENDER_ADDRESS,required" check:"address"`
	// ConfigurationSet is the SES configuration set every email is sent
	// through (bounce and complaint events; empty sends without one).
	ConfigurationSet string `env:"SES_CONFIGURATION_SET"`
}

// plainAddress is compiled at first use: only functions that send email
// have an address to check.
var plainAddress = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[^@\s,<>"()]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
})

func check(f reflect.Value, rule string) error {
	switch rule {
	case "":
		return nil
	case "address":
		var list []string
		if f.Kind() == reflect.String {
			list = []string{f.String()}
		} else {
			list = f.Interface().([]string)
		}
		for _, a := range list {
			if !plainAddress().MatchString(a) {
				return fmt.Errorf("%q is not a plain email address such as stories@example.org (no display name, no angle brackets)", a)
			}
		}
	case "origin":
		u, err := url.Parse(strings.TrimRight(f.String(), "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return errors.New("not an origin such as https://stories.example.org (scheme and host only, no path)")
		}
		f.SetString(u.Scheme + "://" + strings.ToLower(u.Host))
	case "positive":
		if f.Int() <= 0 {
			return errors.New("must be more than zero")
		}
	default:
		return fmt.Errorf("unknown check %q", rule)
	}
	return nil
}
