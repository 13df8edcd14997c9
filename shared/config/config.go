// Package config fills a function's typed configuration from its
// environment, once at init, and says clearly what is missing or wrong.
package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Load fills the struct dst points to from getenv (os.Getenv on Lambda, the
// template's Environment in the local stack). Fields are tagged
// `env:"NAME"`, with `,required` for values that must be set and
// `default:"…"` for the rest. Supported kinds: string, []string (comma
// separated), int, int64, bool and time.Duration.
func Load(getenv func(string) string, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("env")
		if !ok {
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
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func set(f reflect.Value, raw string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("not a duration like 15m or 24h")
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
