package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedules in Europe/London on any machine
)

// schedule is an EventBridge Scheduler schedule (a SAM ScheduleV2 event)
// run in process: it invokes its function at each time of its cron(),
// rate() or at() expression, in its time zone, with the template's Input
// (Scheduler's <aws.scheduler.…> context attributes filled in). Scheduler
// invokes Lambda asynchronously, so a function error is retried as Lambda
// retries asynchronous events: with the same payload, up to the function's
// EventInvokeConfig.MaximumRetryAttempts (default 2), then dropped with a
// log line (on AWS: sent to the on-failure destination).
type schedule struct {
	stack   *Stack
	fn      *function
	event   string
	expr    string
	when    cronSpec
	loc     *time.Location
	input   string
	arn     string
	retries int
	// retryDelay is the wait before the nth retry (Lambda waits a minute,
	// then two; locally a moment, so a button press answers quickly).
	retryDelay func(n int) time.Duration
}

// wireSchedule wires a ScheduleV2 event of a function: it runs on its
// schedule while the stack runs, and POST /_local/<name> (a "Run <name>
// now" button on the outbox page) runs it at once, as if it fired now.
func (s *Stack) wireSchedule(ctx context.Context, fn *function, ev Event) error {
	res := s.res
	str := func(key, def string) (string, error) {
		v, ok := ev.Properties[key]
		if !ok || v == nil {
			return def, nil
		}
		return res.Resolve(s.Template, v)
	}
	expr, err := str("ScheduleExpression", "")
	if err != nil {
		return err
	}
	tz, err := str("ScheduleExpressionTimezone", "UTC")
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("ScheduleExpressionTimezone %q: %w", tz, err)
	}
	when, err := parseSchedule(expr, time.Now())
	if err != nil {
		return err
	}
	input, err := str("Input", "{}")
	if err != nil {
		return err
	}
	state, err := str("State", "ENABLED")
	if err != nil {
		return err
	}
	sc := &schedule{
		stack: s, fn: fn, event: ev.Name, expr: expr, when: when, loc: loc, input: input, retries: 2,
		arn:        "arn:aws:scheduler:" + Region + ":000000000000:schedule/default/" + fn.name + ev.Name,
		retryDelay: func(n int) time.Duration { return time.Duration(n) * 250 * time.Millisecond },
	}
	if cfg, ok := s.Template.Resources[fn.name].Properties["EventInvokeConfig"].(map[string]any); ok {
		if n, ok := cfg["MaximumRetryAttempts"].(int); ok {
			sc.retries = n
		}
	}
	if strings.EqualFold(state, "ENABLED") {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); sc.run(ctx) }()
	}
	name := strings.ToLower(strings.TrimSuffix(fn.name, "Function"))
	path := "/_local/" + name
	probe, _ := http.NewRequest(http.MethodPost, path, nil)
	if _, pattern := s.local.Handler(probe); pattern != path {
		s.HandleLocal(path, "Run "+name+" now", sc.runNow(ctx))
	}
	s.log.Info("schedule wired", "function", fn.name, "event", ev.Name, "expression", expr, "timezone", tz, "state", state, "runNow", path)
	return nil
}

// run fires the schedule at each of its times until the stack stops.
func (sc *schedule) run(ctx context.Context) {
	for {
		next, ok := sc.when.next(time.Now(), sc.loc)
		if !ok {
			return
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		_, _, _ = sc.fire(ctx, next.UTC())
	}
}

// fire invokes the function for the firing at scheduled, retrying a
// failed invocation with the same payload. It returns the function's last
// result and how many invocations it took.
func (sc *schedule) fire(ctx context.Context, scheduled time.Time) (json.RawMessage, int, error) {
	sc.stack.inflight.Add(1)
	defer sc.stack.inflight.Add(-1)
	var id [8]byte
	_, _ = rand.Read(id[:])
	payload := json.RawMessage(strings.NewReplacer(
		// Scheduler's times are whole minutes or seconds; a press of the
		// button is now to the nanosecond, so nothing sent before it waits.
		"<aws.scheduler.scheduled-time>", scheduled.UTC().Format(time.RFC3339Nano),
		"<aws.scheduler.execution-id>", hex.EncodeToString(id[:]),
		"<aws.scheduler.attempt-number>", "1",
		"<aws.scheduler.schedule-arn>", sc.arn,
	).Replace(sc.input))
	if !json.Valid(payload) {
		return nil, 0, fmt.Errorf("%s: the schedule's Input is not JSON: %s", sc.fn.name, payload)
	}
	log := sc.stack.log.With("function", sc.fn.name, "schedule", sc.event, "scheduledTime", scheduled.Format(time.RFC3339))
	for attempt := 1; ; attempt++ {
		var out json.RawMessage
		err := sc.fn.invoke(ctx, payload, &out)
		if err == nil {
			log.Info("scheduled invocation", "attempts", attempt)
			return out, attempt, nil
		}
		if attempt > sc.retries || ctx.Err() != nil {
			log.Error("scheduled invocation failed after retries (on AWS: sent to the on-failure destination)", "attempts", attempt, "error", err.Error())
			return nil, attempt, err
		}
		log.Warn("scheduled invocation failed; Lambda will retry it", "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
			return nil, attempt, err
		case <-time.After(sc.retryDelay(attempt)):
		}
	}
}

var ranPage = template.Must(template.New("ran").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – Frontline Voices</title><link rel="stylesheet" href="/static/site.css"></head>
<body><header class="masthead"><div class="wrap"><a class="brand" href="/">Frontline Voices</a><span class="tagline">Local stack</span></div></header>
<main class="wrap"><h1>{{.Title}}</h1><p id="ran-detail">{{.Detail}}</p>
{{if .Result}}<pre style="white-space:pre-wrap;background:#f3f2f1;padding:1rem">{{.Result}}</pre>{{end}}
<p><a href="/_local/outbox">Back to the outbox</a></p></main></body></html>`))

// runNow answers POST /_local/<name>: the schedule fires now. A JSON
// client gets the function's result; the outbox page's button is taken to
// the email it sent, or told why none was sent.
func (sc *schedule) runNow(ctx context.Context) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST to run it now", http.StatusMethodNotAllowed)
			return
		}
		// The invocation runs in the stack's context, as an asynchronous
		// invocation does: a client that goes away does not cancel it.
		out, attempts, err := sc.fire(ctx, time.Now().UTC())
		var result struct {
			Status    string `json:"status"`
			MessageID string `json:"messageId"`
		}
		_ = json.Unmarshal(out, &result)
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			body := map[string]any{"function": sc.fn.name, "attempts": attempts, "result": out}
			status := http.StatusOK
			if err != nil {
				body["error"], status = err.Error(), http.StatusBadGateway
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(body)
			return
		}
		if err == nil && result.MessageID != "" {
			http.Redirect(w, r, "/_local/outbox/"+result.MessageID, http.StatusSeeOther)
			return
		}
		page := map[string]any{"Title": sc.fn.name + " ran", "Result": string(out)}
		switch {
		case err != nil:
			w.WriteHeader(http.StatusBadGateway)
			page["Title"], page["Detail"] = sc.fn.name+" failed", fmt.Sprintf("It failed %d times (the last error is below); on AWS the event would now go to the dead-letter queue.", attempts)
			page["Result"] = err.Error()
		case result.Status == "empty" || result.Status == "done":
			page["Detail"] = "Nothing new since the last run: no email was sent."
		case result.Status == "busy":
			page["Detail"] = "Another run is sending right now: this one sent nothing."
		default:
			page["Detail"] = "It finished without sending an email."
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = ranPage.Execute(w, page)
	}
}

// cronSpec is when a schedule fires.
type cronSpec interface {
	// next is the first firing time after t, if there is one.
	next(t time.Time, loc *time.Location) (time.Time, bool)
}

// parseSchedule parses an EventBridge Scheduler expression: cron(…),
// rate(…) or at(…). A rate counts from now, as a new schedule's does.
func parseSchedule(expr string, now time.Time) (cronSpec, error) {
	expr = strings.TrimSpace(expr)
	open, close := strings.IndexByte(expr, '('), strings.LastIndexByte(expr, ')')
	if open < 0 || close != len(expr)-1 {
		return nil, fmt.Errorf("schedule expression %q: want cron(…), rate(…) or at(…)", expr)
	}
	kind, body := expr[:open], strings.TrimSpace(expr[open+1:close])
	switch kind {
	case "cron":
		return parseCron(body)
	case "rate":
		f := strings.Fields(body)
		if len(f) != 2 {
			return nil, fmt.Errorf("rate(%s): want rate(value unit)", body)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("rate(%s): the value must be a positive whole number", body)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return nil, fmt.Errorf("rate(%s): the unit must be minutes, hours or days", body)
		}
		if singular := !strings.HasSuffix(f[1], "s"); singular != (n == 1) {
			// Scheduler refuses "1 minutes" and "5 minute" too.
			return nil, fmt.Errorf("rate(%s): use the singular unit for 1 and the plural for more", body)
		}
		return rateSpec{from: now, every: time.Duration(n) * unit}, nil
	case "at":
		t, err := time.Parse("2006-01-02T15:04:05", body)
		if err != nil {
			return nil, fmt.Errorf("at(%s): want at(yyyy-mm-ddThh:mm:ss)", body)
		}
		return atSpec{t}, nil
	}
	return nil, fmt.Errorf("schedule expression %q: want cron(…), rate(…) or at(…)", expr)
}

type rateSpec struct {
	from  time.Time
	every time.Duration
}

func (r rateSpec) next(t time.Time, _ *time.Location) (time.Time, bool) {
	if t.Before(r.from) {
		return r.from.Add(r.every), true
	}
	n := t.Sub(r.from)/r.every + 1
	return r.from.Add(n * r.every), true
}

// atSpec is a one-time schedule, in the schedule's time zone.
type atSpec struct{ wall time.Time }

func (a atSpec) next(t time.Time, loc *time.Location) (time.Time, bool) {
	w := a.wall
	at := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
	return at, at.After(t)
}

// cron is an EventBridge cron expression: minutes, hours, day of month,
// month, day of week (1-7 = SUN-SAT) and year, each a set of allowed values.
type cron struct {
	minutes, hours, dom, months, dow, years map[int]bool
	anyDOM, anyDOW                          bool
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(body string) (cron, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return cron{}, fmt.Errorf("cron(%s): want six fields (minutes hours day-of-month month day-of-week year)", body)
	}
	var c cron
	var err error
	fields := []struct {
		dst      *map[int]bool
		lo, hi   int
		names    map[string]int
		wildcard *bool
	}{
		{&c.minutes, 0, 59, nil, nil},
		{&c.hours, 0, 23, nil, nil},
		{&c.dom, 1, 31, nil, &c.anyDOM},
		{&c.months, 1, 12, monthNames, nil},
		{&c.dow, 1, 7, dayNames, &c.anyDOW},
		{&c.years, 1970, 2199, nil, nil},
	}
	for i, spec := range fields {
		if f[i] == "?" {
			if spec.wildcard == nil {
				return cron{}, fmt.Errorf("cron(%s): ? is only for the day of month or the day of week", body)
			}
			*spec.wildcard = true
			*spec.dst = nil
			continue
		}
		if *spec.dst, err = cronField(f[i], spec.lo, spec.hi, spec.names); err != nil {
			return cron{}, fmt.Errorf("cron(%s): field %d: %w", body, i+1, err)
		}
	}
	if c.anyDOM == c.anyDOW {
		return cron{}, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", body)
	}
	return c, nil
}

func cronField(s string, lo, hi int, names map[string]int) (map[int]bool, error) {
	if strings.Contains(s, "#") || s == "L" || (names == nil && strings.ContainsAny(s, "LW")) {
		return nil, fmt.Errorf("%q: L, W and # are not supported locally", s)
	}
	value := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a value from %d to %d", v, lo, hi)
		}
		return n, nil
	}
	out := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%q: bad increment", part)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a); err != nil {
				return nil, err
			}
			if to, err = value(b); err != nil {
				return nil, err
			}
		default:
			v, err := value(rng)
			if err != nil {
				return nil, err
			}
			from, to = v, v
			if hasStep {
				to = hi
			}
		}
		if from > to {
			return nil, fmt.Errorf("%q: the range runs backwards", part)
		}
		for v := from; v <= to; v += step {
			out[v] = true
		}
	}
	return out, nil
}

func (c cron) next(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for range 366 * 5 {
		y, m, d := day.Date()
		if c.years[y] && c.months[int(m)] && (c.anyDOM || c.dom[d]) && (c.anyDOW || c.dow[int(day.Weekday())+1]) {
			for h := range 24 {
				if !c.hours[h] {
					continue
				}
				for min := range 60 {
					if !c.minutes[min] {
						continue
					}
					at := time.Date(y, m, d, h, min, 0, 0, loc)
					// Skip wall times a clock change jumps over.
					if at.Hour() != h || at.Minute() != min || at.Day() != d {
						continue
					}
					if at.After(t) {
						return at, true
					}
				}
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, false
}
