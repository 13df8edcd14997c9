package stack

import (
	"testing"
	"time"
)

func TestScheduleExpressions(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	created := utc("2026-11-24T10:00:00Z")
	for _, c := range []struct {
		expr, after, want string
	}{
		// The digest's default: weekdays at 08:00 UK time, GMT in winter…
		{"cron(0 8 ? * MON-FRI *)", "2026-11-27T09:00:00Z", "2026-11-30T08:00:00Z"},
		{"cron(0 8 ? * MON-FRI *)", "2026-11-30T07:59:59Z", "2026-11-30T08:00:00Z"},
		{"cron(0 8 ? * MON-FRI *)", "2026-11-30T08:00:00Z", "2026-12-01T08:00:00Z"},
		// …BST in summer, across the change of the clocks.
		{"cron(0 8 ? * MON-FRI *)", "2026-03-27T09:00:00Z", "2026-03-30T07:00:00Z"},
		{"cron(0 8 ? * MON-FRI *)", "2026-10-23T09:00:00Z", "2026-10-26T08:00:00Z"},
		// 01:30 does not exist on the morning the clocks go forward.
		{"cron(30 1 * * ? *)", "2026-03-28T02:00:00Z", "2026-03-30T00:30:00Z"},
		// Day of week 1 is Sunday; lists, ranges, increments and names.
		{"cron(0 12 ? * 1 *)", "2026-11-24T00:00:00Z", "2026-11-29T12:00:00Z"},
		{"cron(0/15 9-10 ? * TUE,THU *)", "2026-11-24T10:50:00Z", "2026-11-26T09:00:00Z"},
		{"cron(0 9 1 JAN-MAR ? 2027)", "2026-11-24T00:00:00Z", "2027-01-01T09:00:00Z"},
		{"cron(0 9 1 * ? 2025)", "2026-11-24T00:00:00Z", ""},
		// A rate counts from when the schedule was made.
		{"rate(5 minutes)", "2026-11-24T10:07:00Z", "2026-11-24T10:10:00Z"},
		{"rate(1 day)", "2026-11-24T09:00:00Z", "2026-11-25T10:00:00Z"},
		{"at(2026-12-01T08:00:00)", "2026-11-24T00:00:00Z", "2026-12-01T08:00:00Z"},
		{"at(2026-12-01T08:00:00)", "2026-12-02T00:00:00Z", ""},
	} {
		spec, err := parseSchedule(c.expr, created)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got, ok := spec.next(utc(c.after), london)
		switch {
		case c.want == "" && ok:
			t.Errorf("%s after %s = %v, want never", c.expr, c.after, got.UTC())
		case c.want != "" && (!ok || !got.Equal(utc(c.want))):
			t.Errorf("%s after %s = %v (%v), want %s", c.expr, c.after, got.UTC(), ok, c.want)
		}
	}
	for _, bad := range []string{
		"cron(0 8 * * MON-FRI *)", "cron(0 8 ? * ? *)", "cron(0 8 ? * MON-FRI)", "cron(0 8 ? * 2#1 *)", "cron(0 8 L * ? *)",
		"cron(60 8 ? * MON *)", "cron(0 8 ? * FRI-MON *)", "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)",
		"at(2026-12-01 08:00)", "every day", "",
	} {
		if _, err := parseSchedule(bad, created); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
