// Package submit handles POST /api/stories: it checks a story, keeps it
// once however often it is sent, and answers JSON clients with JSON and the
// plain form with a page.
package submit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/safeguard"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/web"
)

// Config is the submit function's configuration.
type Config struct {
	config.Shared
	MinFillTime  time.Duration `env:"MIN_FILL_TIME" default:"3s"`
	MaxBodyBytes int           `env:"MAX_BODY_BYTES" default:"65536"`
	ConnectSrc   []string      `env:"CONNECT_SRC"`
}

// Stories is what the handler needs from the store.
type Stories interface {
	PutStory(ctx context.Context, st story.Story) (story.Story, bool, error)
	Candidates(ctx context.Context, consistent bool) (story.CandidateList, error)
}

var _ Stories = (*store.Store)(nil)

// Handler handles story submissions.
type Handler struct {
	cfg     Config
	stories Stories
	signer  token.Signer
	csp     string
	now     func() time.Time
}

// New returns a submit handler.
func New(cfg Config, stories Stories) (*Handler, error) {
	signer, err := token.NewSigner(cfg.SigningSecret)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, stories: stories, signer: signer, csp: apigw.ContentSecurityPolicy(cfg.ConnectSrc...), now: time.Now}, nil
}

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (apigw.Handler, error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	stories := store.FromConfig(awsCfg, cfg.TableName).WithRetention(cfg.Retention())
	h, err := New(cfg, stories)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), apigw.WithCompression(h.Handle)), nil
}

// jsonBody is the JSON API's request: a submission plus the form's fields.
type jsonBody struct {
	story.Submission
	Started string `json:"started"`
	Website string `json:"website"`
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

// Handle handles one submission.
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
		sub              story.Submission
		started, website string
	)
	if mt == "application/json" {
		var jb jsonBody
		if err := json.Unmarshal(body, &jb); err != nil {
			return h.fail(ctx, true, http.StatusBadRequest, "Malformed JSON", "The request body is not a valid story: "+jsonProblem(err)), nil
		}
		sub, started, website = jb.Submission, jb.Started, jb.Website
	} else {
		sub, started, website, err = web.ParseForm(string(body))
		if err != nil {
			return h.fail(ctx, false, http.StatusBadRequest, "Unreadable form", "The form could not be read. Go back and send it again."), nil
		}
		if web.ShowPeople(string(body)) {
			// Without JavaScript, the list for the chosen borough comes with a reload.
			return h.form(ctx, http.StatusOK, sub.Normalize(), nil, "", started), nil
		}
	}
	sub = sub.Normalize()
	now := h.now()

	// Spam: a filled honeypot, a forged start time or a form sent faster than
	// a person could fill it gets an ordinary answer, and nothing is kept.
	shown, tokErr := links.ParseFormStart(h.signer, started, now)
	if tokErr != nil {
		// A form shown again (to correct it) needs a start time that works.
		started = links.FormStart(h.signer, now)
	}
	switch {
	case website != "", errors.Is(tokErr, token.ErrInvalid),
		tokErr == nil && now.Sub(shown) < h.cfg.MinFillTime:
		slog.InfoContext(ctx, "submission discarded as automated", "apiRequestId", req.RequestContext.RequestID)
		return h.accepted(jsonClient, Received{ID: sub.ID, Status: "received", SubmittedAt: now.UTC(), Next: "/thanks"}), nil
	case errors.Is(tokErr, token.ErrExpired):
		return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "send",
			Message: "This form was opened more than 7 days ago. Your answers are kept: check them and send again"}}, started), nil
	}

	if slices.ContainsFunc(sub.Contacts, story.Contact.Listed) {
		// Contacts with people on the list carry the list's names, never the client's.
		list, err := h.stories.Candidates(ctx, false)
		if err != nil {
			return h.unavailable(ctx, req, jsonClient, sub, started, err), nil
		}
		sub = sub.MatchContacts(list)
	}
	st, errs := sub.Validate(now)
	if errs != nil {
		return h.invalid(ctx, jsonClient, sub, errs, started), nil
	}
	found := safeguard.Labels(st.Text, st.PatientsNote)
	if len(found) > 0 && !sub.SafeguardingConfirmed {
		// The form's script warns before sending; without it, warn here.
		return h.invalid(ctx, jsonClient, sub, story.FieldErrors{{Field: "safeguardingConfirmed", Message: "Your story seems to contain " +
			strings.Join(found, ", ") + ". Please remove anything that could identify a patient, or tick the box to send it as it is"}}, started), nil
	}
	st.Flags = safeguard.Flags(found, sub.SafeguardingConfirmed)
	saved, _, err := h.stories.PutStory(ctx, st)
	switch {
	case errors.Is(err, store.ErrConflict):
		return h.fail(ctx, jsonClient, http.StatusConflict, "This form was already sent with different answers",
			"Open a new form to send another story."), nil
	case err != nil:
		return h.unavailable(ctx, req, jsonClient, sub, started, err), nil
	}
	received := Received{ID: saved.ID, Status: "received", SubmittedAt: saved.SubmittedAt, Next: "/thanks"}
	expires := now.Add(links.UploadTokenLife).Truncate(time.Second)
	received.UploadToken = h.signer.Sign(links.UploadPurpose, saved.ID, expires)
	received.UploadTokenExpires = &expires
	resp := h.accepted(jsonClient, received)
	resp.Cookies = append(resp.Cookies, UploadCookie(req, received.UploadToken, links.UploadTokenLife))
	return resp, nil
}

// unavailable answers a story that could not be saved for a fault of ours:
// nothing is lost, the volunteer sends it again.
func (h *Handler) unavailable(ctx context.Context, req apigw.Request, jsonClient bool, sub story.Submission, started string, err error) apigw.Response {
	slog.ErrorContext(ctx, "saving story failed", "apiRequestId", req.RequestContext.RequestID, "error", err.Error())
	if jsonClient {
		return apigw.Problem(http.StatusServiceUnavailable, "We could not save your story just now",
			"Nothing is lost: please send it again in a moment.")
	}
	return h.form(ctx, http.StatusServiceUnavailable, sub, nil,
		"We could not save your story just now. Your answers are below: please press Send my story again in a moment.", started)
}

// form shows the no-JS form again with the volunteer's answers, and the
// MP and candidate list for their borough.
func (h *Handler) form(ctx context.Context, status int, sub story.Submission, errs story.FieldErrors, notice, started string) apigw.Response {
	return web.FormPage(ctx, status, sub, errs, notice, started, h.csp, web.ReadList(ctx, h.stories))
}

// UploadCookie is the Set-Cookie value that carries an upload token to the
// thank-you page and the upload routes: HttpOnly, SameSite=Strict, and
// Secure except over plain HTTP on this machine (the local stack).
func UploadCookie(req apigw.Request, tok string, life time.Duration) string {
	c := links.UploadCookie + "=" + tok + "; Path=/; Max-Age=" + strconv.Itoa(int(life/time.Second)) + "; HttpOnly; SameSite=Strict"
	host := apigw.Header(req, "host")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	local := host == "localhost" || net.ParseIP(host).IsLoopback()
	if !(local && !strings.EqualFold(apigw.Header(req, "x-forwarded-proto"), "https")) {
		c += "; Secure"
	}
	return c
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
			Started        string `json:"started"`
			ConsentVersion string `json:"consentVersion"`
		}{
			ProblemDetails: apigw.ProblemDetails{
				Type:   "/problems/invalid-story",
				Title:  "Some answers need correcting",
				Status: http.StatusUnprocessableEntity,
				Errors: errs,
			},
			Started:        started,
			ConsentVersion: story.ConsentVersion(),
		})
	}
	return h.form(ctx, http.StatusUnprocessableEntity, sub, errs, "", started)
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
	if strings.Contains(err.Error(), "unexpected end") {
		return "it ends too early"
	}
	return "it is not valid JSON"
}

// SetClock replaces the handler's clock (for tests).
func (h *Handler) SetClock(now func() time.Time) { h.now = now }
