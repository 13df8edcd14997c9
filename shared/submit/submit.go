// Package submit handles POST /api/stories: it checks a story, keeps it
// once however often it is sent, and answers JSON clients with JSON and the
// plain form with a page.
package submit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/safeguard"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/turnstile"
	"frontlinevoices/shared/uktime"
	"frontlinevoices/shared/web"
)

// Config is the submit function's configuration.
type Config struct {
	config.Shared
	MinFillTime  time.Duration `env:"MIN_FILL_TIME" default:"3s" check:"positive"`
	MaxBodyBytes int           `env:"MAX_BODY_BYTES" default:"65536"`
	ConnectSrc   []string      `env:"CONNECT_SRC"`
	// PerIPPerHour is how many stories one source IP can send in a clock
	// hour (a practice's staff may share one address).
	PerIPPerHour int `env:"SUBMISSIONS_PER_IP_PER_HOUR" default:"20"`
	// PerAddressPerDay is how many stories, and so confirmations, one
	// email address can be sent in a UTC day.
	PerAddressPerDay int `env:"CONFIRMATIONS_PER_ADDRESS_PER_DAY" default:"3"`
	// The optional bot check: a site key turns it on. Its secret key is
	// read from the Secrets Manager secret TurnstileSecretARN names at
	// first use (FromEnv), or given as TurnstileKey.
	TurnstileSiteKey   string `env:"TURNSTILE_SITE_KEY"`
	TurnstileSecretARN string `env:"TURNSTILE_SECRET_ARN"`
	TurnstileKey       turnstile.Key
	// TurnstileVerifyURL is siteverify (a local fake in the local stack).
	TurnstileVerifyURL string `env:"TURNSTILE_VERIFY_URL"`
}

// Stories is what the handler needs from the store.
type Stories interface {
	PutStory(ctx context.Context, st story.Story, limits ...store.Limit) (story.Story, bool, error)
	Candidates(ctx context.Context, consistent bool) (story.CandidateList, error)
}

// BotCheck verifies the answer of the form's bot check.
type BotCheck interface {
	Verify(ctx context.Context, response, remoteIP string) error
}

var (
	_ Stories  = (*store.Store)(nil)
	_ BotCheck = turnstile.Verifier{}
)

// Handler handles story submissions.
type Handler struct {
	cfg     Config
	stories Stories
	signer  token.Signer
	bots    BotCheck // nil: no bot check
	csp     string
	now     func() time.Time
}

// New returns a submit handler.
func New(cfg Config, stories Stories, signer token.Signer) (*Handler, error) {
	if cfg.PerIPPerHour < 1 || cfg.PerAddressPerDay < 1 {
		return nil, errors.New("config: SUBMISSIONS_PER_IP_PER_HOUR and CONFIRMATIONS_PER_ADDRESS_PER_DAY must be at least 1")
	}
	if cfg.TurnstileSiteKey != "" && cfg.TurnstileKey == nil {
		return nil, errors.New("config: the bot check (TURNSTILE_SITE_KEY) needs its secret key's secret, TURNSTILE_SECRET_ARN")
	}
	h := &Handler{cfg: cfg, stories: stories, signer: signer, csp: apigw.ContentSecurityPolicy(cfg.ConnectSrc...), now: time.Now}
	if cfg.TurnstileSiteKey != "" {
		h.bots = turnstile.Verifier{Key: cfg.TurnstileKey, URL: cfg.TurnstileVerifyURL}
		h.csp = web.TurnstileCSP(h.csp)
	}
	return h, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	stories := store.FromConfig(awsCfg, cfg.TableName).WithRetention(cfg.Retention())
	signer, err := signing.New(cfg.SigningKeys, awsCfg)
	if err != nil {
		return nil, err
	}
	if cfg.TurnstileSiteKey != "" && cfg.TurnstileSecretARN != "" {
		cfg.TurnstileKey = turnstile.NewStoredKey(secretsmanager.NewFromConfig(awsCfg).GetSecretValue, cfg.TurnstileSecretARN)
	}
	h, err := New(cfg, stories, signer)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), apigw.WithCompression(h.Handle)), nil
}

// jsonBody is the JSON API's request: a submission plus the form's fields.
type jsonBody struct {
	story.Submission
	Started   string `json:"started"`
	Website   string `json:"website"`
	Turnstile string `json:"turnstile"`
}

// Received is the JSON answer to an accepted story.
type Received struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	SubmittedAt time.Time `json:"submittedAt"`
	Next        string    `json:"next"`
	// UploadToken lets this client attach video clips to the story (the
	// uploads routes take it in the X-Upload-Token header). The browser
	// also gets it in an HttpOnly cookie, so it never appears in a URL.
	UploadToken        string     `json:"uploadToken,omitempty"`
	UploadTokenExpires *time.Time `json:"uploadTokenExpires,omitempty"`
}

// ParseJSON reads the JSON API's body: one object of known fields with
// values of the right types, in UTF-8. Anything else is an error worded
// for the client, echoing none of the input.
func ParseJSON(body []byte) (story.Submission, web.Posted, error) {
	if !utf8.Valid(body) {
		return story.Submission{}, web.Posted{}, errors.New("it is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var jb jsonBody
	err := dec.Decode(&jb)
	if err == nil && dec.More() {
		err = errors.New("there is more after the story's object")
	}
	if err == nil && bytes.TrimSpace(body)[0] != '{' {
		err = errors.New("it is not a JSON object")
	}
	if err != nil {
		return story.Submission{}, web.Posted{}, errors.New(jsonProblem(err))
	}
	return jb.Submission, web.Posted{Started: jb.Started, Website: jb.Website, Turnstile: jb.Turnstile}, nil
}

// Handle handles one submission. Every request the client got wrong has a
// 4xx answer naming what to fix, with the no-JS form shown again and every
// answer kept; only a filled honeypot gets a quiet fake success.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	jsonClient := apigw.WantsJSON(req)
	mt := apigw.MediaType(req)
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		return h.fail(ctx, jsonClient, http.StatusUnsupportedMediaType, "Unsupported content type",
			"Send the story as application/json or application/x-www-form-urlencoded."), nil
	}
	body, err := apigw.Body(req)
	if err != nil {
		return h.fail(ctx, jsonClient, http.StatusBadRequest, "Unreadable request", "The request body could not be decoded."), nil
	}
	if len(body) > h.cfg.MaxBodyBytes {
		return h.fail(ctx, jsonClient, http.StatusRequestEntityTooLarge, "Your story is too long to send",
			fmt.Sprintf("A submission can be at most %d KB. Shorten your story and send it again.", h.cfg.MaxBodyBytes/1024)), nil
	}
	var (
		sub    story.Submission
		posted web.Posted
	)
	if mt == "application/json" {
		if sub, posted, err = ParseJSON(body); err != nil {
			return h.fail(ctx, true, http.StatusBadRequest, "Malformed JSON", "The request body is not a valid story: "+err.Error()+"."), nil
		}
	} else {
		if sub, posted, err = web.ParseForm(string(body)); err != nil {
			return h.fail(ctx, jsonClient, http.StatusBadRequest, "Unreadable form", "The form could not be read. Go back and send it again."), nil
		}
		if web.ShowPeople(string(body)) {
			// A form from before the steps asking for its borough's list:
			// the story step shows it; the form keeps its start token if it
			// has a good one.
			sub = sub.Normalize()
			started := posted.Started
			id, _, err := links.ParseStart(ctx, h.signer, started, h.now())
			switch {
			case keysFault(err):
				return h.unavailable(ctx, req, jsonClient, sub, started, err), nil
			case err != nil || (sub.ID != "" && sub.ID != id):
				sub.ID = story.NewID()
				if started, err = links.Start(ctx, h.signer, sub.ID, h.now()); err != nil {
					return h.unavailable(ctx, req, jsonClient, sub, posted.Started, err), nil
				}
			default:
				sub.ID = id
			}
			return h.form(ctx, http.StatusOK, web.StepStory, sub, nil, "", started), nil
		}
	}
	sub = sub.Normalize()
	now := h.now()
	if mt != "application/json" {
		// The form's first steps only check their answers and show the
		// next step; nothing is kept until the last step sends.
		step, jump := web.FormStep(string(body))
		if jump != "" {
			return h.form(ctx, http.StatusOK, jump, sub, nil, "", posted.Started), nil
		}
		if step == web.StepAbout || step == web.StepStory {
			return h.step(ctx, step, sub, posted.Started, now), nil
		}
	}

	// A filled honeypot is a bot: an ordinary answer, and nothing kept.
	if posted.Website != "" {
		slog.InfoContext(ctx, "submission discarded as automated", "apiRequestId", req.RequestContext.RequestID)
		return h.accepted(jsonClient, Received{ID: cmp.Or(sub.ID, story.NewID()), Status: "received", SubmittedAt: now.UTC(), Next: "/thanks"}), nil
	}

	// The start token binds the form to one story id: a missing, forged or
	// another story's token, or an expired one, gets a fresh token (for a
	// new story id, unless the expired token named this one).
	tokID, shown, tokErr := links.ParseStart(ctx, h.signer, posted.Started, now)
	again := func(msg string) apigw.Response {
		fresh, err := links.Start(ctx, h.signer, sub.ID, now)
		if err != nil {
			return h.unavailable(ctx, req, jsonClient, sub, posted.Started, err)
		}
		return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "send", Message: msg}}, fresh)
	}
	switch {
	case keysFault(tokErr):
		return h.unavailable(ctx, req, jsonClient, sub, posted.Started, tokErr), nil
	case errors.Is(tokErr, token.ErrExpired) && (sub.ID == "" || sub.ID == tokID):
		sub.ID = tokID
		return again("This form was opened more than 7 days ago. Your answers are kept: check them and send again"), nil
	case tokErr != nil || (sub.ID != "" && sub.ID != tokID):
		sub.ID = story.NewID()
		msg := "This form could not be checked: it may be from another page or incomplete. Your answers are kept: check them and send again"
		if posted.Started == "" {
			msg = "This form is missing its check code. Your answers are kept: check them and send again"
		}
		return again(msg), nil
	}
	sub.ID = tokID
	if now.Sub(shown) < h.cfg.MinFillTime {
		return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "send",
			Message: "This form was sent a moment after it was opened. Check your answers and send again"}}, posted.Started), nil
	}

	if slices.ContainsFunc(sub.Contacts, story.Contact.Listed) {
		// Contacts with people on the list carry the list's names, never the client's.
		list, err := h.stories.Candidates(ctx, false)
		if err != nil {
			return h.unavailable(ctx, req, jsonClient, sub, posted.Started, fmt.Errorf("reading the candidates list: %w", err)), nil
		}
		sub = sub.MatchContacts(list)
	}
	st, errs := sub.Validate(now)
	if !jsonClient && sub.Naming == "" {
		// The form asks the naming question; API clients may send the consents.
		errs = append(errs, story.FieldError{Field: "naming", Message: story.NamingMissing})
	}
	if errs != nil {
		return h.invalid(ctx, jsonClient, sub, errs, posted.Started), nil
	}
	found := safeguard.Labels(st.Text, st.PatientsNote)
	if len(found) > 0 && !sub.SafeguardingConfirmed {
		// The form's script warns before sending; without it, warn here.
		return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "safeguardingConfirmed", Message: safeguardMessage(found)}}, posted.Started), nil
	}
	if h.bots != nil {
		err := h.bots.Verify(ctx, posted.Turnstile, req.RequestContext.HTTP.SourceIP)
		if errors.Is(err, turnstile.ErrRefused) {
			return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "turnstile",
				Message: "Please complete the check that you are a person, then send again"}}, posted.Started), nil
		}
		if err != nil {
			return h.unavailable(ctx, req, jsonClient, sub, posted.Started, fmt.Errorf("bot check: %w", err)), nil
		}
	}
	limits, err := h.limits(ctx, req, sub)
	if err != nil {
		return h.unavailable(ctx, req, jsonClient, sub, posted.Started, err), nil
	}
	st.Flags = safeguard.Flags(found, sub.SafeguardingConfirmed)
	saved, _, err := h.stories.PutStory(ctx, st, limits...)
	if over, ok := errors.AsType[*store.OverLimitError](err); ok {
		return h.tooMany(ctx, req, jsonClient, sub, posted.Started, over, now), nil
	}
	switch {
	case errors.Is(err, store.ErrErased):
		// A replay of an erased story: it never comes back, and no email goes.
		slog.InfoContext(ctx, "submission of an erased story refused", "requestId", req.RequestContext.RequestID)
		return h.fail(ctx, jsonClient, http.StatusGone, "This story was erased",
			"The story sent with this form was erased at the volunteer's request and cannot be sent again. Open a new form to send another story."), nil
	case errors.Is(err, store.ErrConflict):
		return h.fail(ctx, jsonClient, http.StatusConflict, "This form was already sent with different answers",
			"Each form sends one story. Open a new form to send another story."), nil
	case err != nil:
		return h.unavailable(ctx, req, jsonClient, sub, posted.Started, err), nil
	}
	received := Received{ID: saved.ID, Status: "received", SubmittedAt: saved.SubmittedAt, Next: "/thanks"}
	expires := now.Add(links.UploadTokenLife).Truncate(time.Second)
	tok, err := h.signer.Sign(ctx, links.UploadPurpose, saved.ID, expires)
	if err != nil {
		// The story is kept; the confirmation email carries an upload link.
		slog.ErrorContext(ctx, "signing the upload token failed", "requestId", req.RequestContext.RequestID, "error", err.Error())
		return h.accepted(jsonClient, received), nil
	}
	received.UploadToken = tok
	received.UploadTokenExpires = &expires
	resp := h.accepted(jsonClient, received)
	resp.Cookies = append(resp.Cookies, web.UploadCookie(req, received.UploadToken, links.UploadTokenLife))
	return resp, nil
}

// limits are the sender's limits the story is counted against, in the
// same write as the story: stories per source IP per hour, and stories (so
// confirmation emails) per address per day. Counters are named by keyed
// digests, so the table holds neither.
func (h *Handler) limits(ctx context.Context, req apigw.Request, sub story.Submission) ([]store.Limit, error) {
	ip, err := h.signer.Digest(ctx, "ip", req.RequestContext.HTTP.SourceIP)
	if err != nil {
		return nil, fmt.Errorf("naming a counter: %w", err)
	}
	email, err := h.signer.Digest(ctx, "email", strings.ToLower(sub.Email))
	if err != nil {
		return nil, fmt.Errorf("naming a counter: %w", err)
	}
	return []store.Limit{
		{Counter: "ip#" + ip, Window: time.Hour, Max: h.cfg.PerIPPerHour},
		{Counter: "email#" + email, Window: 24 * time.Hour, Max: h.cfg.PerAddressPerDay},
	}, nil
}

// tooMany answers a story refused by one of its limits (and so not kept)
// with a 429 saying when to send it again, the form with every answer kept.
func (h *Handler) tooMany(ctx context.Context, req apigw.Request, jsonClient bool, sub story.Submission, started string, over *store.OverLimitError, now time.Time) apigw.Response {
	kind, _, _ := strings.Cut(over.Limit.Counter, "#")
	slog.InfoContext(ctx, "submission over a rate limit", "apiRequestId", req.RequestContext.RequestID, "limit", kind)
	detail := fmt.Sprintf("At most %d stories can be sent from one internet connection in an hour.", over.Limit.Max)
	if kind == "email" {
		detail = fmt.Sprintf("At most %d stories can be sent for one email address in a day.", over.Limit.Max)
	}
	until := over.RetryAfter
	wait := max(until.Sub(now), time.Second)
	detail += " Your answers are kept: please send your story again after " + until.In(uktime.London()).Format("15:04") + " (London time)."
	var resp apigw.Response
	if jsonClient {
		resp = apigw.ProblemWith(apigw.ProblemDetails{Type: "/problems/too-many-stories", Title: "Too many stories just now",
			Status: http.StatusTooManyRequests, Detail: detail})
	} else {
		resp = h.form(ctx, http.StatusTooManyRequests, web.StepCheck, sub, nil, "Too many stories just now. "+detail, started)
	}
	resp.Headers["retry-after"] = strconv.Itoa(int(wait.Round(time.Second) / time.Second))
	return resp
}

// unavailable answers a fault of ours (the table, the signing keys) with a
// 503 that keeps every answer, so nothing the volunteer typed is lost.
func (h *Handler) unavailable(ctx context.Context, req apigw.Request, jsonClient bool, sub story.Submission, started string, err error) apigw.Response {
	slog.ErrorContext(ctx, "saving story failed", "apiRequestId", req.RequestContext.RequestID, "error", err.Error())
	if jsonClient {
		return apigw.Problem(http.StatusServiceUnavailable, "We could not save your story just now",
			"Nothing is lost: please send it again in a moment.")
	}
	return h.form(ctx, http.StatusServiceUnavailable, web.StepCheck, sub, nil,
		"We could not save your story just now. Your answers are below: please press Send my story again in a moment.", started)
}

// keysFault reports whether a token check failed for a fault of ours (the
// signing keys could not be read) rather than for the token.
func keysFault(err error) bool {
	return err != nil && !errors.Is(err, token.ErrInvalid) && !errors.Is(err, token.ErrExpired)
}

// form shows a step of the no-JS form again with the volunteer's answers
// (the story step with the MP and candidate list for their borough).
func (h *Handler) form(ctx context.Context, status int, step string, sub story.Submission, errs story.FieldErrors, notice, started string) apigw.Response {
	f := web.Form{Step: step, Values: sub, Errors: errs, Notice: notice, Started: started, Turnstile: h.cfg.TurnstileSiteKey}
	if step == web.StepStory {
		f.List = web.ReadList(ctx, h.stories)
	}
	return web.FormPage(ctx, status, f, h.csp)
}

func (h *Handler) accepted(jsonClient bool, r Received) apigw.Response {
	if jsonClient {
		return apigw.JSON(http.StatusCreated, r)
	}
	return apigw.Redirect(http.StatusSeeOther, r.Next)
}

// invalid answers a submission that needs correcting: problem+json with
// every field's error, or the form again with every answer kept.
func (h *Handler) invalid(ctx context.Context, jsonClient bool, sub story.Submission, errs story.FieldErrors, started string) apigw.Response {
	if jsonClient {
		// The enhanced form needs a working start token and the consent
		// version to send again after an expired form or changed wording.
		return apigw.ProblemBody(http.StatusUnprocessableEntity, struct {
			apigw.ProblemDetails
			ID             string `json:"id"`
			Started        string `json:"started"`
			ConsentVersion string `json:"consentVersion"`
		}{
			ProblemDetails: apigw.ProblemDetails{
				Type:   "/problems/invalid-story",
				Title:  "Some answers need correcting",
				Status: http.StatusUnprocessableEntity,
				Errors: errs,
			},
			ID:             sub.ID,
			Started:        started,
			ConsentVersion: story.ConsentVersion(),
		})
	}
	return h.form(ctx, http.StatusUnprocessableEntity, web.FirstStepWithError(errs), sub, errs, "", started)
}

// step checks the answers of one of the form's first steps (and those
// before it): the next step when they are fine, else the first step with
// a problem, with every answer kept.
func (h *Handler) step(ctx context.Context, step string, sub story.Submission, started string, now time.Time) apigw.Response {
	if slices.ContainsFunc(sub.Contacts, story.Contact.Listed) {
		// People ticked on the list are checked against it, and named by it
		// on the check step.
		list, err := h.stories.Candidates(ctx, false)
		if err != nil {
			slog.ErrorContext(ctx, "reading the list of MPs and candidates failed", "error", err.Error())
			return h.form(ctx, http.StatusServiceUnavailable, step, sub, nil,
				"We could not check your answers just now. Nothing is lost: please press Continue again in a moment.", started)
		}
		sub = sub.MatchContacts(list)
	}
	_, errs := sub.Validate(now)
	errs = web.ErrorsUpTo(errs, step)
	if step == web.StepStory && len(errs) == 0 && !sub.SafeguardingConfirmed {
		if found := safeguard.Labels(sub.Story, sub.PatientsNote); len(found) > 0 {
			errs = story.FieldErrors{{Field: "safeguardingConfirmed", Message: safeguardMessage(found)}}
		}
	}
	if len(errs) > 0 {
		return h.form(ctx, http.StatusUnprocessableEntity, web.FirstStepWithError(errs), sub, errs, "", started)
	}
	return h.form(ctx, http.StatusOK, web.NextStep(step), sub, nil, "", started)
}

func safeguardMessage(found []string) string {
	return "Your story seems to contain " + strings.Join(found, ", ") + ". Please remove anything that could identify a patient, or tick the box to send it as it is"
}

func (h *Handler) fail(ctx context.Context, jsonClient bool, status int, title, detail string) apigw.Response {
	if jsonClient {
		return apigw.Problem(status, title, detail)
	}
	return web.Message(ctx, status, title, detail, "/", h.csp)
}

// jsonProblem describes a JSON decoding error without echoing the input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("the field %q has the wrong type (expected %s)", te.Field, te.Type)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unexpected end"), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too early"
	case strings.HasPrefix(msg, "json: unknown field "):
		return "it has a field no story has"
	case strings.Contains(msg, "exceeded max depth"):
		return "it is nested too deeply"
	case !strings.HasPrefix(msg, "json:") && !strings.Contains(msg, "invalid character"):
		return msg
	}
	return "it is not valid JSON"
}

// SetClock replaces the handler's clock (for tests).
func (h *Handler) SetClock(now func() time.Time) { h.now = now }
