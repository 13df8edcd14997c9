// Package digest sends the comms team a regular summary of the stories
// that came in since the last one: counts at the top, then the stories
// grouped by ICB area and borough, and a link to a CSV export of them all.
//
// It runs on an EventBridge Scheduler schedule. Scheduler invokes Lambda
// asynchronously, so a failed digest is retried by Lambda with the same
// event, and an event can arrive twice; each digest is sent exactly once
// all the same:
//
//   - The period is (watermark, end]: the watermark is the end of the last
//     digest that went out, and end is the schedule's scheduled time (the
//     same on every retry and duplicate of one firing).
//   - Before anything is built, the period is claimed with a conditional
//     write (store.ClaimDigest). A second invocation, or one started by hand
//     at the same time, finds the claim and does nothing. A claim whose
//     lease ran out (its invocation died) can be taken over.
//   - A failed export or send releases the claim and returns the error, so
//     the retry can claim the period again.
//   - Only after SES accepted the email does the watermark move to end.
//
// Stories come from the table's byMonth index, one Query a month from the
// watermark's month to this one, never a Scan, so a digest reads the new stories
// and not the table. Stories that become visible in the index late (a slow
// write, index lag) are not lost: each digest looks back a grace period
// before its watermark and skips the stories the last digest already sent.
package digest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/uktime"
)

// Config is the digest function's configuration.
type Config struct {
	// Bucket holds the clips, and the exports under exports/; SigningKeys
	// makes the links, /download?t=<signed token>.
	config.Shared
	config.Mail
	// SendWhenEmpty sends a short "nothing new" note for a period without
	// stories; by default such a period sends nothing.
	SendWhenEmpty bool `env:"SEND_WHEN_EMPTY" default:"false"`
	// MaxInEmail stories are shown in full; the rest are only in the export.
	MaxInEmail int `env:"MAX_IN_EMAIL" default:"50"`
	// LinkTTL is how long the export and clip links work. Exports are
	// deleted after 7 days whatever it says.
	LinkTTL time.Duration `env:"LINK_TTL" default:"168h"`
	// SiteURL is where the links lead.
	SiteURL string `env:"SITE_URL,required" check:"origin"`
	// ClaimLease must be longer than the function's timeout, so a live
	// digest's claim is never taken over.
	ClaimLease time.Duration `env:"CLAIM_LEASE" default:"15m"`
	// Grace is how far before the watermark each digest looks again for
	// stories that reached the index late.
	Grace time.Duration `env:"GRACE" default:"10m"`
	// FirstLookback is how far back the very first digest reaches.
	FirstLookback time.Duration `env:"FIRST_LOOKBACK" default:"720h"`
}

// State is what the digest needs from the store.
type State interface {
	DigestState(ctx context.Context) (store.DigestState, error)
	ReadPeriod(ctx context.Context, after, until time.Time) (store.Period, store.ReadStats, error)
	ClaimDigest(ctx context.Context, c store.DigestClaim) (bool, error)
	ReleaseDigest(ctx context.Context, owner string) error
	CompleteDigest(ctx context.Context, d store.DigestSent) error
	AdvanceDigest(ctx context.Context, prev, end, now time.Time, recent []string) (bool, error)
	// StoryHeld reads again whether a story is held (erasure, expiry).
	StoryHeld(ctx context.Context, id string) (bool, error)
	// Candidates is the list of MPs and candidates, for its staleness.
	Candidates(ctx context.Context, consistent bool) (story.CandidateList, error)
}

// Sender sends one email.
type Sender interface {
	Send(ctx context.Context, msg mail.Message) (string, error)
}

// Files keeps the export and makes download links (S3 in production).
type Files interface {
	// Put writes an object to the export bucket.
	Put(ctx context.Context, key, contentType string, body []byte) error
	// Link is a download link to key, offered as filename. Exports and
	// clips live in the one bucket the download function reads.
	Link(ctx context.Context, key, filename string) (string, error)
}

// Clips lists a story's video clips (StoreClips in production). It is
// asked only about stories that hold clip slots.
type Clips interface {
	StoryClips(ctx context.Context, st story.Story) ([]Clip, error)
}

// NoClips is the Clips of a system without clips.
type NoClips struct{}

// StoryClips returns no clips.
func (NoClips) StoryClips(context.Context, story.Story) ([]Clip, error) { return nil, nil }

// StoreClips lists a story's verified clips from the store.
type StoreClips struct {
	Store interface {
		ListClips(ctx context.Context, id string) ([]story.Clip, error)
	}
}

// StoryClips lists st's verified clips, named for download after the story.
func (c StoreClips) StoryClips(ctx context.Context, st story.Story) ([]Clip, error) {
	clips, err := c.Store.ListClips(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	var out []Clip
	for _, cl := range clips {
		if cl.Status != story.ClipVerified {
			continue
		}
		name := fmt.Sprintf("frontline-voices-%s-clip-%d%s", st.ID, len(out)+1, path.Ext(cl.Key))
		out = append(out, Clip{Key: cl.Key, Name: name, Duration: cl.Duration})
	}
	return out, nil
}

var (
	_ State  = (*store.Store)(nil)
	_ Sender = (*mail.Mailer)(nil)
	_ Files  = (*S3Files)(nil)
	_ Clips  = StoreClips{Store: (*store.Store)(nil)}
)

// Event is what the schedule sends: the template's Input fills it from
// EventBridge Scheduler's context attributes. Time is read too, so the
// EventBridge "Scheduled Event" shape works as well.
type Event struct {
	ScheduledTime string `json:"scheduledTime,omitempty"`
	ExecutionID   string `json:"executionId,omitempty"`
	AttemptNumber string `json:"attemptNumber,omitempty"`
	ScheduleARN   string `json:"scheduleArn,omitempty"`
	Time          string `json:"time,omitempty"`
}

// Result says what an invocation did (Lambda drops it for asynchronous
// invocations; the local stack shows it).
type Result struct {
	Status    string `json:"status"` // sent, empty, busy, done
	Start     string `json:"start,omitempty"`
	End       string `json:"end"`
	Stories   int    `json:"stories"`
	Withdrawn int    `json:"withdrawn"`
	ItemsRead int    `json:"itemsRead"`
	Queries   int    `json:"queries"`
	MessageID string `json:"messageId,omitempty"`
	ExportKey string `json:"exportKey,omitempty"`
}

// Statuses of a Result.
const (
	StatusSent  = "sent"  // the digest went out
	StatusEmpty = "empty" // nothing new, nothing sent
	StatusBusy  = "busy"  // another invocation holds the period
	StatusDone  = "done"  // this period was already sent
)

// ukTime is the comms team's clock (every digest shows it, so it is
// loaded at init).
var ukTime = uktime.London()

// Handler runs digests.
type Handler struct {
	cfg   Config
	state State
	files Files
	mail  Sender
	// Clips lists each story's clips.
	Clips Clips

	now      func() time.Time
	newOwner func() string
}

// New returns a digest handler.
func New(cfg Config, state State, files Files, sender Sender) *Handler {
	if cfg.MaxInEmail <= 0 {
		cfg.MaxInEmail = 50
	}
	return &Handler{cfg: cfg, state: state, files: files, mail: sender,
		Clips: NoClips{}, now: time.Now, newOwner: randomOwner}
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, Event) (Result, error), error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	st := store.FromConfig(awsCfg, cfg.TableName)
	files := NewS3Files(bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle), cfg.SiteURL, signer, cfg.LinkTTL)
	h := New(cfg, st, files, mail.FromConfig(awsCfg, cfg.Sender).WithConfigurationSet(cfg.ConfigurationSet))
	h.Clips = StoreClips{Store: st}
	return h.Handle, nil
}

// SetClock replaces the handler's clock (for tests).
func (h *Handler) SetClock(now func() time.Time) { h.now = now }

func randomOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// end is the period's end: the scheduled time, which every retry and
// duplicate of one firing shares, but never later than now.
func (h *Handler) end(ev Event) time.Time {
	now := h.now().UTC()
	for _, v := range []string{ev.ScheduledTime, ev.Time} {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			slog.Warn("digest event time is not RFC 3339; using now", "value", v)
			return now
		}
		if t.After(now) {
			return now
		}
		return t.UTC()
	}
	return now
}

// Handle runs one digest. It returns an error only when the digest should
// be retried (nothing went out).
func (h *Handler) Handle(ctx context.Context, ev Event) (Result, error) {
	begin := time.Now()
	res, err := h.run(ctx, ev)
	attrs := []any{"status", res.Status, "start", res.Start, "end", res.End, "stories", res.Stories,
		"withdrawn", res.Withdrawn, "itemsRead", res.ItemsRead, "queries", res.Queries, "attempt", ev.AttemptNumber,
		"latencyMs", time.Since(begin).Milliseconds()}
	if err != nil {
		slog.ErrorContext(ctx, "digest failed; it will be retried", append(attrs, "error", err.Error())...)
		return res, err
	}
	slog.InfoContext(ctx, "digest", attrs...)
	return res, nil
}

func (h *Handler) run(ctx context.Context, ev Event) (Result, error) {
	end := h.end(ev)
	res := Result{End: end.Format(time.RFC3339Nano)}
	state, err := h.state.DigestState(ctx)
	if err != nil {
		return res, err
	}
	start := state.Watermark
	if start.IsZero() {
		start = end.Add(-h.cfg.FirstLookback)
	}
	res.Start = start.Format(time.RFC3339Nano)
	if !end.After(start) {
		res.Status = StatusDone
		return res, nil
	}
	if state.Claimed(h.now()) {
		res.Status = StatusBusy
		return res, nil
	}

	// Read (start - grace, end]. What the index shows from before start
	// was reported by the last digest unless it is not in state.Recent: it
	// reached the index late.
	period, stats, err := h.state.ReadPeriod(ctx, start.Add(-h.cfg.Grace), end)
	res.ItemsRead, res.Queries = stats.Items, stats.Queries
	if err != nil {
		return res, err
	}
	reported := map[string]bool{}
	for _, k := range state.Recent {
		reported[k] = true
	}
	fresh := func(key string, at time.Time) bool { return at.After(start) || !reported[key] }
	graceStart := end.Add(-h.cfg.Grace)
	var stories []store.PeriodStory
	var withdrawn []string
	var recent []string
	for _, st := range period.Stories {
		if fresh(st.ID, st.SubmittedAt) {
			stories = append(stories, st)
		}
		if st.SubmittedAt.After(graceStart) {
			recent = append(recent, st.ID)
		}
	}
	for _, t := range period.Withdrawn {
		key := "erased:" + t.ID
		if fresh(key, t.WithdrawnAt) {
			withdrawn = append(withdrawn, t.ID)
		}
		if t.WithdrawnAt.After(graceStart) {
			recent = append(recent, key)
		}
	}
	res.Stories, res.Withdrawn = len(stories), len(withdrawn)
	if len(stories) == 0 && len(withdrawn) == 0 && !h.cfg.SendWhenEmpty {
		// Nothing to send: move the watermark anyway, so the next run
		// reads from here and not again from start (a first run's whole
		// look-back, or every quiet day since the last email).
		if _, err := h.state.AdvanceDigest(ctx, state.Watermark, end, h.now(), recent); err != nil {
			return res, err
		}
		res.Status = StatusEmpty
		return res, nil
	}

	owner := h.newOwner()
	now := h.now()
	ok, err := h.state.ClaimDigest(ctx, store.DigestClaim{
		Watermark: state.Watermark, End: end, Owner: owner, Now: now, Until: now.Add(h.cfg.ClaimLease),
	})
	if err != nil {
		return res, err
	}
	if !ok {
		res.Status = StatusBusy
		return res, nil
	}
	msgID, exportKey, err := h.send(ctx, start, end, stories, withdrawn)
	if err != nil {
		if rerr := h.state.ReleaseDigest(context.WithoutCancel(ctx), owner); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return res, err
	}
	res.Status, res.MessageID, res.ExportKey = StatusSent, msgID, exportKey
	h.complete(ctx, store.DigestSent{
		Owner: owner, Start: start, End: end, Recent: recent, MessageID: msgID,
		Stories: len(stories), ExportKey: exportKey, SentAt: h.now(),
	})
	return res, nil
}

// complete moves the watermark. The email went out, so a failure here must
// not make Lambda retry (that would send it again): it is retried a few
// times, then logged. Until the claim's lease ends nothing else is sent;
// after it, the next digest repeats these stories rather than lose them.
func (h *Handler) complete(ctx context.Context, d store.DigestSent) {
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := range 4 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*attempt) * 250 * time.Millisecond)
		}
		if err = h.state.CompleteDigest(ctx, d); err == nil || errors.Is(err, store.ErrDigestClaimLost) {
			break
		}
	}
	if err != nil {
		slog.ErrorContext(ctx, "digest sent but the watermark did not move: the next digest may repeat its stories",
			"end", d.End.Format(time.RFC3339Nano), "messageId", d.MessageID, "error", err.Error())
	}
}

// stillHeld is entries without the stories no longer held.
func (h *Handler) stillHeld(ctx context.Context, entries []Entry) ([]Entry, error) {
	var out []Entry
	for _, e := range entries {
		ok, err := h.state.StoryHeld(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// send builds the export and the email and sends it.
func (h *Handler) send(ctx context.Context, start, end time.Time, stories []store.PeriodStory, withdrawn []string) (msgID, exportKey string, err error) {
	entries, err := h.entries(ctx, stories)
	if err != nil {
		return "", "", err
	}
	r := Build(entries, h.cfg.MaxInEmail, withdrawn)
	r.Start, r.End = start.In(ukTime), end.In(ukTime)
	r.Period = period(r.Start, r.End)
	r.Empty = len(entries) == 0 && len(withdrawn) == 0
	if list, err := h.state.Candidates(ctx, false); err != nil {
		// The digest matters more than the warning: send it without.
		slog.WarnContext(ctx, "digest: reading the list of MPs and candidates failed", "error", err.Error())
	} else {
		r.ListWarning = ListWarning(list, h.now())
	}
	r.PrivacyURL = mail.PrivacyURL(h.cfg.SiteURL)
	rebuilt := r
	if len(entries) > 0 {
		body, err := CSV(entries)
		if err != nil {
			return "", "", fmt.Errorf("digest: export: %w", err)
		}
		// One key a period, so a retry overwrites rather than adds.
		exportKey = bucket.ExportsPrefix + "digest-" + start.UTC().Format("20060102T150405Z") + "-" + end.UTC().Format("20060102T150405Z") + ".csv"
		if err := h.files.Put(ctx, exportKey, "text/csv; charset=utf-8", body); err != nil {
			return "", "", fmt.Errorf("digest: export: %w", err)
		}
		// An erasure that began after the period was read swept the
		// exports before this one existed: read each story again and, if
		// one went, write the export again without it (and leave it out of
		// the email). An erasure that begins after this check finds the
		// export and takes its row out itself.
		held, err := h.stillHeld(ctx, entries)
		if err != nil {
			return "", "", fmt.Errorf("digest: export: %w", err)
		}
		if len(held) < len(entries) {
			entries = held
			r = Build(entries, h.cfg.MaxInEmail, withdrawn)
			r.Start, r.End, r.Period, r.ListWarning = rebuilt.Start, rebuilt.End, rebuilt.Period, rebuilt.ListWarning
			r.PrivacyURL = rebuilt.PrivacyURL
			r.Empty = len(entries) == 0 && len(withdrawn) == 0
			if body, err = CSV(entries); err != nil {
				return "", "", fmt.Errorf("digest: export: %w", err)
			}
			if err := h.files.Put(ctx, exportKey, "text/csv; charset=utf-8", body); err != nil {
				return "", "", fmt.Errorf("digest: export: %w", err)
			}
		}
		name := "frontline-voices-digest-" + r.End.Format("2006-01-02") + ".csv"
		url, err := h.files.Link(ctx, exportKey, name)
		if err != nil {
			return "", "", fmt.Errorf("digest: export link: %w", err)
		}
		r.Export = Link{URL: url, Name: name, Expires: h.now().Add(h.cfg.LinkTTL).In(ukTime).Format("Mon 2 Jan 2006, 15:04")}
	}
	msg, err := Fit(r, entries, h.cfg.CommsAddress)
	if err != nil {
		return "", "", err
	}
	msgID, err = h.mail.Send(ctx, msg)
	if err != nil {
		return "", "", err
	}
	return msgID, exportKey, nil
}

// entries prepares every story for display, with its clips' links (looked
// up a few at a time).
func (h *Handler) entries(ctx context.Context, stories []store.PeriodStory) ([]Entry, error) {
	entries := make([]Entry, len(stories))
	errs := make([]error, len(stories))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, st := range stories {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var links []ClipLink
			// No clip links once the volunteer withdrew consent to their clips.
			if st.ClipSlots > 0 && !withdrew(st.Story, "clips") {
				var err error
				if links, err = h.clipLinks(ctx, st.Story); err != nil {
					errs[i] = err
					return
				}
			}
			entries[i] = newEntry(st.Story, ukTime, append(slices.Clip(st.Flags), EmailFailures(st.Story)...), links)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return entries, nil
}

func (h *Handler) clipLinks(ctx context.Context, st story.Story) ([]ClipLink, error) {
	clips, err := h.Clips.StoryClips(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("digest: clips: %w", err)
	}
	var out []ClipLink
	for i, c := range clips {
		name := safeFilename(c.Name)
		if name == "" {
			name = fmt.Sprintf("clip-%d", i+1)
		}
		url, err := h.files.Link(ctx, c.Key, name)
		if err != nil {
			return nil, fmt.Errorf("digest: clip link: %w", err)
		}
		out = append(out, ClipLink{Name: name, URL: url, Duration: formatDuration(c.Duration)})
	}
	return out, nil
}

// withdrew reports whether st's volunteer agreed to consent statement id and
// then withdrew it.
func withdrew(st story.Story, id string) bool {
	if st.Consented(id) {
		return false
	}
	for _, r := range st.Consents {
		if r.Statement == id && r.Agreed {
			return true
		}
	}
	return false
}

// period is the period in words: "Mon 23 Nov 2026, 08:00 to Tue 24 Nov
// 2026, 08:00 (UK time)".
func period(start, end time.Time) string {
	const layout = "Mon 2 Jan 2006, 15:04"
	return start.Format(layout) + " to " + end.Format(layout) + " (UK time)"
}

// MaxHTMLBytes is the most HTML a digest email holds. Gmail clips a
// message over about 102 KB and hides the rest behind a link, so the
// email stays below that and the export holds everything.
const MaxHTMLBytes = 100_000

// Fit is the digest email of r with as many of its stories in full as fit
// in MaxHTMLBytes of HTML; the others are counted and only in the export.
// entries are every story of the period, as r was built from.
func Fit(r Report, entries []Entry, to []string) (mail.Message, error) {
	for {
		msg, err := Message(r, to)
		if err != nil || len(msg.HTML) <= MaxHTMLBytes || r.Shown == 0 {
			return msg, err
		}
		// Shrink in proportion, by at least one story.
		n := r.Shown * MaxHTMLBytes / len(msg.HTML)
		n = min(n, r.Shown-1)
		shrunk := Build(entries[:n], -1, r.Withdrawn)
		r.Areas, r.Shown = shrunk.Areas, n
	}
}

// safeFilename keeps a download's name to letters, digits, dot, dash and
// underscore, so it is safe inside a Content-Disposition header.
func safeFilename(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "._")
	if len(out) > 100 {
		out = out[len(out)-100:]
	}
	return out
}

// EmailFailures are the warnings for the team about a story's emails that
// SES refused for good (notify records them and does not retry).
func EmailFailures(st story.Story) []string {
	var out []string
	if st.ConfirmationFailed != "" {
		out = append(out, "the confirmation email could not be delivered (SES "+st.ConfirmationFailed+"): the volunteer has no withdrawal link; contact them another way")
	}
	if st.AlertFailed != "" {
		out = append(out, "the alert about this story could not be delivered (SES "+st.AlertFailed+")")
	}
	return out
}
