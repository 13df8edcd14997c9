// Package uploads signs direct browser-to-S3 uploads of video clips. It
// speaks the S3 routes of Uppy's companion server (what @uppy/aws-s3 calls
// in companion mode), so the browser's Uppy works against it unchanged:
//
//	GET    /api/s3/params?filename=&type=&metadata[size]=…    presigned POST (small clips)
//	POST   /api/s3/multipart                                  create a multipart upload (metadata.size: the file's size), with its first parts' URLs
//	GET    /api/s3/multipart/{uploadId}?key=                  list the uploaded parts (resume)
//	GET    /api/s3/multipart/{uploadId}/{partNumber}?key=     presigned UploadPart, its Content-Length signed
//	GET    /api/s3/multipart/{uploadId}/batch?key=&partNumbers=1,2,3   the same for up to MaxBatch parts at once
//	POST   /api/s3/multipart/{uploadId}/complete?key=         complete
//	DELETE /api/s3/multipart/{uploadId}?key=                  abort
//	GET    /api/clips                                         the story's clips and their checks
//
// Video bytes never pass through here: the browser sends them to S3 with
// the signed URLs, each signed for at most the bytes it may carry (the POST
// policy's content-length-range, each part's Content-Length), so S3 refuses
// more. Every call needs the story's upload token, in the X-Upload-Token
// header or the HttpOnly cookie the submit response set: never in a URL
// or a page. A key is made here, under clips/<storyId>/, and the
// calls that name a key (parts, list, complete, abort) are accepted only for
// an upload this handler issued for the token's story.
package uploads

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/signing"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
)

// MaxURLExpiry is the longest a signed upload URL may last.
const MaxURLExpiry = 15 * time.Minute

// TokenHeader carries the upload token on every call.
const TokenHeader = "X-Upload-Token"

// Config is the uploads function's configuration.
type Config struct {
	config.Shared
	config.Clips
	URLExpiry time.Duration `env:"UPLOAD_URL_EXPIRY" default:"15m"`
}

// Objects is what the handler needs from the clips bucket.
type Objects interface {
	Name() string
	PresignPost(ctx context.Context, key, mime string, maxBytes int64, expiry time.Duration) (bucket.Post, error)
	CreateUpload(ctx context.Context, key, mime string) (string, error)
	PresignPart(ctx context.Context, key, uploadID string, n int32, length int64, expiry time.Duration) (string, error)
	Parts(ctx context.Context, key, uploadID string) ([]bucket.Part, error)
	CompleteUpload(ctx context.Context, key, uploadID string, parts []bucket.Part) (string, error)
	AbortUpload(ctx context.Context, key, uploadID string) error
}

// Clips is what the handler needs from the store.
type Clips interface {
	ReserveClip(ctx context.Context, r store.ClipRecord, max int) error
	GetClip(ctx context.Context, id, key string) (store.ClipRecord, error)
	AbortClip(ctx context.Context, id, key string) (bool, error)
	ClipRecords(ctx context.Context, id string) ([]store.ClipRecord, error)
}

var (
	_ Objects = (*bucket.Bucket)(nil)
	_ Clips   = (*store.Store)(nil)
)

// Handler handles the upload routes.
type Handler struct {
	cfg      Config
	limits   story.ClipLimits
	objects  Objects
	clips    Clips
	signer   token.Signer
	maxParts int32
	now      func() time.Time
}

// New returns an uploads handler.
func New(cfg Config, objects Objects, clips Clips, signer token.Signer) (*Handler, error) {
	limits := cfg.ClipLimits()
	if err := limits.Check(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.URLExpiry <= 0 || cfg.URLExpiry > MaxURLExpiry {
		return nil, fmt.Errorf("config: UPLOAD_URL_EXPIRY=%s: signed upload URLs must expire within %s", cfg.URLExpiry, MaxURLExpiry)
	}
	// The browser's parts are cfg.ClipPartSize (Uppy raises it only for files
	// over 10,000 parts); allow parts as small as S3's minimum all the same.
	maxParts := min(bucket.MaxParts, (cfg.MaxClipBytes+bucket.MinPartSize-1)/bucket.MinPartSize)
	return &Handler{cfg: cfg, limits: limits, objects: objects, clips: clips, signer: signer,
		maxParts: int32(maxParts), now: time.Now}, nil
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
	h, err := New(cfg, bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle), stories, signer)
	if err != nil {
		return nil, err
	}
	return apigw.WithLogging(slog.Default(), h.Handle), nil
}

// Handle routes one request.
func (h *Handler) Handle(ctx context.Context, req apigw.Request) (apigw.Response, error) {
	route := req.RouteKey
	if route == "" || route == "$default" {
		route = req.RequestContext.HTTP.Method + " " + req.RawPath
	}
	switch route {
	case "GET /api/s3/params":
		return h.params(ctx, req), nil
	case "POST /api/s3/multipart":
		return h.create(ctx, req), nil
	case "GET /api/s3/multipart/{uploadId}":
		return h.listParts(ctx, req), nil
	case "DELETE /api/s3/multipart/{uploadId}":
		return h.abort(ctx, req), nil
	case "GET /api/s3/multipart/{uploadId}/{partNumber}":
		return h.signPart(ctx, req), nil
	case "GET /api/s3/multipart/{uploadId}/batch":
		return h.signParts(ctx, req), nil
	case "POST /api/s3/multipart/{uploadId}/complete":
		return h.complete(ctx, req), nil
	case "GET /api/clips":
		return h.list(ctx, req), nil
	}
	return apigw.Problem(http.StatusNotFound, "Not found", "There is no such upload route."), nil
}

// refusal is a problem response a route returns instead of going on.
type refusal = *apigw.Response

func problem(status int, title, detail string) refusal {
	r := apigw.Problem(status, title, detail)
	return &r
}

// authorise returns the story the request's upload token is for. The token
// comes from the X-Upload-Token header, else the cookie; a token anywhere
// else (a URL's query) is not looked at. metaStory, when the client sent
// one, must be that story.
func (h *Handler) authorise(ctx context.Context, req apigw.Request, metaStory string) (string, refusal) {
	tok := cmp.Or(apigw.Header(req, TokenHeader), apigw.Cookie(req, links.UploadCookie))
	if tok == "" {
		return "", problem(http.StatusUnauthorized, "No upload permission",
			"Open the thank-you page after sending your story, or the link in your confirmation email, to add clips.")
	}
	id, err := h.signer.Verify(ctx, links.UploadPurpose, tok, h.now())
	switch {
	case err != nil && !errors.Is(err, token.ErrExpired) && !errors.Is(err, token.ErrInvalid):
		slog.ErrorContext(ctx, "checking an upload token failed", "error", err.Error())
		return "", problem(http.StatusServiceUnavailable, "Uploads are unavailable just now", "Nothing is lost: try again in a moment.")
	case errors.Is(err, token.ErrExpired):
		return "", problem(http.StatusUnauthorized, "Your upload link has expired",
			"Open the link in your confirmation email to add clips.")
	case err != nil || !story.ValidID(id):
		return "", problem(http.StatusForbidden, "Not allowed", "This upload permission is not valid.")
	case metaStory != "" && metaStory != id:
		return "", problem(http.StatusForbidden, "Not allowed", "This upload permission is for another story.")
	}
	return id, nil
}

type paramsResponse struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Fields  map[string]string `json:"fields"`
	Expires int               `json:"expires"`
}

// params signs a form POST of one small clip straight to the bucket.
func (h *Handler) params(ctx context.Context, req apigw.Request) apigw.Response {
	q, err := ParseQuery(req.RawQueryString)
	if err != nil {
		return apigw.Problem(http.StatusBadRequest, "Malformed request", sentence(err.Error()))
	}
	id, fail := h.authorise(ctx, req, q.Get("metadata[story]"))
	if fail != nil {
		return *fail
	}
	t, why := h.limits.Accepts(cmp.Or(q.Get("type"), q.Get("metadata[type]")), cmp.Or(q.Get("filename"), q.Get("metadata[name]")))
	if why != "" {
		return apigw.Problem(http.StatusUnsupportedMediaType, "This file cannot be added", why)
	}
	// A form POST can start until its policy expires; give it an hour more
	// to arrive before its slot may go to another clip.
	key, fail := h.reserve(ctx, id, t, q.Get("type"), h.now().Add(h.cfg.URLExpiry+time.Hour))
	if fail != nil {
		return *fail
	}
	post, err := h.objects.PresignPost(ctx, key, t.MIME, h.limits.MaxBytes, h.cfg.URLExpiry)
	if err != nil {
		slog.ErrorContext(ctx, "presign post failed", "error", err.Error())
		h.unreserve(ctx, id, key)
		return unavailable()
	}
	return apigw.JSON(http.StatusOK, paramsResponse{Method: "POST", URL: post.URL, Fields: post.Fields, Expires: int(h.cfg.URLExpiry / time.Second)})
}

// ParseQuery reads a query string strictly: every escape valid and every
// name and value UTF-8 text. Anything else is an error worded for the
// client, echoing none of the input.
func ParseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("the address's parameters are not correctly encoded")
	}
	for k, vs := range q {
		if !utf8.ValidString(k) || slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) }) {
			return nil, errors.New("the address's parameters are not UTF-8 text")
		}
	}
	return q, nil
}

type createRequest struct {
	Filename string            `json:"filename"`
	Type     string            `json:"type"`
	Size     int64             `json:"size"`
	Metadata map[string]string `json:"metadata"`
}

// ParseCreate reads a create request: {filename, type, metadata} as Uppy
// sends it, the file's size in metadata.size (or size). Anything else is
// an error worded for the client.
func ParseCreate(body []byte) (filename, mime string, size int64, metaStory string, err error) {
	var in createRequest
	if len(body) > 16<<10 {
		return "", "", 0, "", errors.New("the request is too long")
	}
	if err := json.Unmarshal(body, &in); err != nil || !utf8.Valid(body) {
		return "", "", 0, "", errors.New("send {filename, type, metadata} as JSON")
	}
	size = in.Size
	if v, ok := in.Metadata["size"]; ok && size == 0 {
		if size, err = strconv.ParseInt(v, 10, 64); err != nil {
			return "", "", 0, "", errors.New("metadata.size must be the file's size in bytes")
		}
	}
	if size < 1 {
		return "", "", 0, "", errors.New("send the file's size in bytes as metadata.size")
	}
	return cmp.Or(in.Filename, in.Metadata["name"]), cmp.Or(in.Type, in.Metadata["type"]), size, in.Metadata["story"], nil
}

type createResponse struct {
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Bucket   string `json:"bucket"`
	// The first FirstParts parts' URLs, as the batch route signs them, so
	// the first parts can go without another call.
	PresignedURLs map[string]string `json:"presignedUrls,omitempty"`
	Expires       int               `json:"expires,omitempty"`
}

// FirstParts is how many parts' URLs create's answer carries: as many as
// the uploader signs ahead in one batch call.
const FirstParts = 8

// create starts a multipart upload of one large clip.
func (h *Handler) create(ctx context.Context, req apigw.Request) apigw.Response {
	body, err := apigw.Body(req)
	var (
		filename, mime, metaStory string
		size                      int64
	)
	if err == nil {
		filename, mime, size, metaStory, err = ParseCreate(body)
	}
	if err != nil {
		return apigw.Problem(http.StatusBadRequest, "Malformed request", sentence(err.Error()))
	}
	id, fail := h.authorise(ctx, req, metaStory)
	if fail != nil {
		return *fail
	}
	t, why := h.limits.Accepts(mime, filename)
	if why != "" {
		return apigw.Problem(http.StatusUnsupportedMediaType, "This file cannot be added", why)
	}
	if size > h.limits.MaxBytes {
		return apigw.Problem(http.StatusRequestEntityTooLarge, "This clip is too large",
			fmt.Sprintf("The clip is %s; a clip can be at most %s.", story.HumanBytes(size), story.HumanBytes(h.limits.MaxBytes)))
	}
	key := bucket.NewClipKey(id, t)
	uploadID, err := h.objects.CreateUpload(ctx, key, t.MIME)
	if err != nil {
		slog.ErrorContext(ctx, "create multipart upload failed", "error", err.Error())
		return unavailable()
	}
	// The slot and the pending record are written together once the upload
	// exists (its id is in the record). A multipart upload can be resumed
	// until the bucket's lifecycle rule aborts it, a day after it started.
	rec := store.ClipRecord{StoryID: id, Clip: story.Clip{Key: key, MIME: t.MIME}, Declared: mime,
		UploadID: uploadID, DeclaredSize: size, Until: h.now().Add(25 * time.Hour).UnixMilli()}
	if err := h.clips.ReserveClip(ctx, rec, h.limits.MaxClips); err != nil {
		// No slot, the story went (erased meanwhile) or the write failed:
		// the upload must not outlive this answer.
		if err := h.objects.AbortUpload(ctx, key, uploadID); err != nil {
			// The bucket's lifecycle aborts it after a day.
			slog.WarnContext(ctx, "aborting an unrecorded upload failed", "error", err.Error())
		}
		return *h.slotRefusal(ctx, err)
	}
	out := createResponse{Key: key, UploadID: uploadID, Bucket: h.objects.Name()}
	count := min((size+h.limits.PartSize-1)/h.limits.PartSize, FirstParts, int64(h.maxParts))
	ns := make([]int32, count)
	for i := range ns {
		ns[i] = int32(i + 1)
	}
	// Without them the uploader asks the batch route: the upload stands.
	if signed, fail := h.presignParts(ctx, rec, ns); fail == nil {
		out.PresignedURLs, out.Expires = make(map[string]string, len(ns)), int(h.cfg.URLExpiry/time.Second)
		for i, n := range ns {
			out.PresignedURLs[strconv.Itoa(int(n))] = signed[i]
		}
	}
	return apigw.JSON(http.StatusOK, out)
}

// reserve records a pending upload at a new key, with the clip slot it takes.
func (h *Handler) reserve(ctx context.Context, id string, t story.ClipType, declared string, until time.Time) (string, refusal) {
	key := bucket.NewClipKey(id, t)
	rec := store.ClipRecord{StoryID: id, Clip: story.Clip{Key: key, MIME: t.MIME}, Declared: declared, Until: until.UnixMilli()}
	if err := h.clips.ReserveClip(ctx, rec, h.limits.MaxClips); err != nil {
		return "", h.slotRefusal(ctx, err)
	}
	return key, nil
}

func (h *Handler) unreserve(ctx context.Context, id, key string) {
	if _, err := h.clips.AbortClip(ctx, id, key); err != nil {
		slog.WarnContext(ctx, "giving back a clip slot failed", "error", err.Error())
	}
}

func (h *Handler) slotRefusal(ctx context.Context, err error) refusal {
	switch {
	case errors.Is(err, store.ErrTooManyClips):
		return problem(http.StatusConflict, "You have added as many clips as you can",
			fmt.Sprintf("A story can have at most %d clips.", h.limits.MaxClips))
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "Story not found", "This story is no longer kept (it was erased or its time is up), so clips cannot be added to it.")
	}
	slog.ErrorContext(ctx, "taking a clip slot failed", "error", err.Error())
	r := unavailable()
	return &r
}

func unavailable() apigw.Response {
	return apigw.Problem(http.StatusServiceUnavailable, "Please try again", "The upload could not be prepared just now.")
}

// upload checks a call that names an upload: the token's story issued it,
// and it is still in progress.
func (h *Handler) upload(ctx context.Context, req apigw.Request) (store.ClipRecord, refusal) {
	id, fail := h.authorise(ctx, req, "")
	if fail != nil {
		return store.ClipRecord{}, fail
	}
	key := apigw.Query(req).Get("key")
	if owner, ok := bucket.ParseClipKey(key); !ok || owner != id {
		return store.ClipRecord{}, problem(http.StatusForbidden, "Not allowed", "This clip is not part of your story.")
	}
	uploadID := req.PathParameters["uploadId"]
	if u, err := url.PathUnescape(uploadID); err == nil {
		uploadID = u
	}
	rec, err := h.clips.GetClip(ctx, id, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (rec.UploadID == "" || rec.UploadID != uploadID)) {
		return store.ClipRecord{}, problem(http.StatusNotFound, "No such upload", "This upload was not started here.")
	}
	if err != nil {
		slog.ErrorContext(ctx, "reading a clip upload failed", "error", err.Error())
		r := unavailable()
		return store.ClipRecord{}, &r
	}
	return rec, nil
}

func inProgress(rec store.ClipRecord) refusal {
	if rec.Status == story.ClipPending {
		return nil
	}
	return problem(http.StatusConflict, "This upload is over", "It was finished or cancelled; add the file again to send it.")
}

type partURL struct {
	URL     string `json:"url"`
	Expires int    `json:"expires"`
}

// PartLength is the length of part n (from 1) of a file of size bytes cut
// in parts of partSize, or false when the file has no part n.
func PartLength(size, partSize int64, n int64) (int64, bool) {
	if size < 1 || partSize < 1 || n < 1 {
		return 0, false
	}
	count := (size + partSize - 1) / partSize
	switch {
	case n > count:
		return 0, false
	case n == count:
		return size - (count-1)*partSize, true
	}
	return partSize, true
}

// signPart signs the PUT of one part, for exactly its share of the
// declared size: its Content-Length is signed, so S3 refuses a part of
// any other length, and there is no part past the last.
func (h *Handler) signPart(ctx context.Context, req apigw.Request) apigw.Response {
	rec, fail := h.signable(ctx, req)
	if fail != nil {
		return *fail
	}
	n, err := strconv.ParseInt(req.PathParameters["partNumber"], 10, 32)
	if _, ok := PartLength(rec.DeclaredSize, h.limits.PartSize, n); err != nil || !ok || n > int64(h.maxParts) {
		return h.badPartNumber(rec)
	}
	signed, fail := h.presignParts(ctx, rec, []int32{int32(n)})
	if fail != nil {
		return *fail
	}
	return apigw.JSON(http.StatusOK, partURL{URL: signed[0], Expires: int(h.cfg.URLExpiry / time.Second)})
}

// MaxBatch is the most parts one batch call signs: more than the
// uploader keeps signed ahead of its transfers, and few enough that every
// URL is used well within its expiry.
const MaxBatch = 20

type partURLs struct {
	PresignedURLs map[string]string `json:"presignedUrls"`
	Expires       int               `json:"expires"`
}

// signParts signs the PUTs of several parts in one call, as Companion's
// batch route does ({presignedUrls: {"1": url, …}}), each exactly as
// signPart signs it alone: so the uploader can have a part's URL ready
// before the part's turn comes, at the cost of one call per batch.
func (h *Handler) signParts(ctx context.Context, req apigw.Request) apigw.Response {
	rec, fail := h.signable(ctx, req)
	if fail != nil {
		return *fail
	}
	q := apigw.Query(req)
	count := (rec.DeclaredSize + h.limits.PartSize - 1) / h.limits.PartSize
	ns, err := ParsePartNumbers(q["partNumbers"], min(count, int64(h.maxParts)))
	if errors.Is(err, ErrPartRange) {
		return h.badPartNumber(rec)
	}
	if err != nil {
		return apigw.Problem(http.StatusBadRequest, "Bad part numbers", sentence(err.Error()))
	}
	signed, fail := h.presignParts(ctx, rec, ns)
	if fail != nil {
		return *fail
	}
	out := partURLs{PresignedURLs: make(map[string]string, len(ns)), Expires: int(h.cfg.URLExpiry / time.Second)}
	for i, n := range ns {
		out.PresignedURLs[strconv.Itoa(int(n))] = signed[i]
	}
	return apigw.JSON(http.StatusOK, out)
}

// ErrPartRange is a part number under 1 or past the file's last part.
var ErrPartRange = errors.New("a part number is outside the file")

// ParsePartNumbers reads the batch route's partNumbers: one parameter, a
// comma-separated list of 1 to MaxBatch distinct part numbers, each from 1
// to last. A number under 1 or past last is ErrPartRange; anything else
// wrong is an error worded for the client, echoing none of the input.
func ParsePartNumbers(values []string, last int64) ([]int32, error) {
	if len(values) != 1 || values[0] == "" {
		return nil, errors.New("send the parts to sign once, as partNumbers=1,2,3")
	}
	fields := strings.Split(values[0], ",")
	if len(fields) > MaxBatch {
		return nil, fmt.Errorf("ask for at most %d parts at a time", MaxBatch)
	}
	out := make([]int32, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil || f[0] < '0' || f[0] > '9' {
			return nil, errors.New("partNumbers must be whole numbers separated by commas")
		}
		if n < 1 || n > last {
			return nil, ErrPartRange
		}
		if slices.Contains(out, int32(n)) {
			return nil, fmt.Errorf("part %d is asked for twice", n)
		}
		out = append(out, int32(n))
	}
	return out, nil
}

// signable checks a call that signs parts: the upload is the token's
// story's, in progress, and of a known size.
func (h *Handler) signable(ctx context.Context, req apigw.Request) (store.ClipRecord, refusal) {
	rec, fail := h.upload(ctx, req)
	if fail == nil {
		fail = inProgress(rec)
	}
	if fail == nil && rec.DeclaredSize < 1 {
		fail = problem(http.StatusConflict, "This upload has no size", "Add the file again to send it.")
	}
	return rec, fail
}

func (h *Handler) badPartNumber(rec store.ClipRecord) apigw.Response {
	return apigw.Problem(http.StatusBadRequest, "Bad part number",
		fmt.Sprintf("This file of %s is sent in parts numbered 1 to %d.", story.HumanBytes(rec.DeclaredSize),
			(rec.DeclaredSize+h.limits.PartSize-1)/h.limits.PartSize))
}

// presignParts signs part ns of the upload, each for exactly its length.
func (h *Handler) presignParts(ctx context.Context, rec store.ClipRecord, ns []int32) ([]string, refusal) {
	out := make([]string, len(ns))
	for i, n := range ns {
		length, _ := PartLength(rec.DeclaredSize, h.limits.PartSize, int64(n))
		signed, err := h.objects.PresignPart(ctx, rec.Key, rec.UploadID, n, length, h.cfg.URLExpiry)
		if err != nil {
			slog.ErrorContext(ctx, "presign part failed", "error", err.Error())
			r := unavailable()
			return nil, &r
		}
		out[i] = signed
	}
	return out, nil
}

// Part is one uploaded part, as Uppy reads it.
type Part struct {
	PartNumber int32  `json:"PartNumber"`
	ETag       string `json:"ETag"`
	Size       int64  `json:"Size,omitempty"`
}

// parts lists every uploaded part of an upload.
func (h *Handler) parts(ctx context.Context, rec store.ClipRecord) ([]Part, error) {
	parts, err := h.objects.Parts(ctx, rec.Key, rec.UploadID)
	out := make([]Part, len(parts))
	for i, p := range parts {
		out[i] = Part{PartNumber: p.Number, ETag: p.ETag, Size: p.Size}
	}
	return out, err
}

// listParts answers which parts S3 already has, so Uppy can resume.
func (h *Handler) listParts(ctx context.Context, req apigw.Request) apigw.Response {
	rec, fail := h.upload(ctx, req)
	if fail == nil {
		fail = inProgress(rec)
	}
	if fail != nil {
		return *fail
	}
	parts, err := h.parts(ctx, rec)
	if errors.Is(err, bucket.ErrNoSuchUpload) {
		return apigw.Problem(http.StatusNotFound, "No such upload", "This upload has expired; add the file again.")
	}
	if err != nil {
		slog.ErrorContext(ctx, "list parts failed", "error", err.Error())
		return unavailable()
	}
	return apigw.JSON(http.StatusOK, parts)
}

type completeRequest struct {
	Parts []Part `json:"parts"`
}

type completeResponse struct {
	Location string `json:"location"`
	Key      string `json:"key"`
	Bucket   string `json:"bucket"`
}

// complete assembles the parts into the clip; ingest checks it on arrival.
func (h *Handler) complete(ctx context.Context, req apigw.Request) apigw.Response {
	rec, fail := h.upload(ctx, req)
	if fail == nil {
		fail = inProgress(rec)
	}
	if fail != nil {
		return *fail
	}
	var in completeRequest
	body, err := apigw.Body(req)
	if err == nil && len(body) > 2<<20 {
		err = errors.New("too long")
	}
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil || len(in.Parts) == 0 || len(in.Parts) > int(h.maxParts) {
		return apigw.Problem(http.StatusBadRequest, "Malformed request", "Send {parts: [{PartNumber, ETag}]} as JSON.")
	}
	slices.SortFunc(in.Parts, func(a, b Part) int { return cmp.Compare(a.PartNumber, b.PartNumber) })
	uploaded, err := h.parts(ctx, rec)
	if errors.Is(err, bucket.ErrNoSuchUpload) {
		return apigw.Problem(http.StatusNotFound, "No such upload", "This upload has expired; add the file again.")
	}
	if err != nil {
		slog.ErrorContext(ctx, "list parts failed", "error", err.Error())
		return unavailable()
	}
	sizes := map[int32]int64{}
	for _, p := range uploaded {
		sizes[p.PartNumber] = p.Size
	}
	var total int64
	completed := make([]bucket.Part, 0, len(in.Parts))
	for i, p := range in.Parts {
		size, ok := sizes[p.PartNumber]
		if !ok || (i > 0 && in.Parts[i-1].PartNumber == p.PartNumber) {
			return apigw.Problem(http.StatusBadRequest, "Missing part", fmt.Sprintf("Part %d was not uploaded.", p.PartNumber))
		}
		total += size
		completed = append(completed, bucket.Part{Number: p.PartNumber, ETag: p.ETag})
	}
	if total > h.limits.MaxBytes {
		h.abortUpload(ctx, rec)
		return apigw.Problem(http.StatusRequestEntityTooLarge, "This clip is too large",
			fmt.Sprintf("The clip is %s; a clip can be at most %s.", story.HumanBytes(total), story.HumanBytes(h.limits.MaxBytes)))
	}
	location, err := h.objects.CompleteUpload(ctx, rec.Key, rec.UploadID, completed)
	switch {
	case errors.Is(err, bucket.ErrBadParts):
		return apigw.Problem(http.StatusBadRequest, "The parts do not fit together", "Upload the file again.")
	case errors.Is(err, bucket.ErrNoSuchUpload):
		return apigw.Problem(http.StatusNotFound, "No such upload", "This upload has expired; add the file again.")
	case err != nil:
		slog.ErrorContext(ctx, "complete multipart upload failed", "error", err.Error())
		return unavailable()
	}
	return apigw.JSON(http.StatusOK, completeResponse{Location: location, Key: rec.Key, Bucket: h.objects.Name()})
}

// abort cancels an upload and gives its slot back. Aborting twice is fine.
func (h *Handler) abort(ctx context.Context, req apigw.Request) apigw.Response {
	rec, fail := h.upload(ctx, req)
	if fail != nil {
		return *fail
	}
	switch rec.Status {
	case story.ClipAborted:
		return apigw.JSON(http.StatusOK, struct{}{})
	case story.ClipPending:
		if !h.abortUpload(ctx, rec) {
			return unavailable()
		}
		return apigw.JSON(http.StatusOK, struct{}{})
	}
	return *inProgress(rec)
}

func (h *Handler) abortUpload(ctx context.Context, rec store.ClipRecord) bool {
	if err := h.objects.AbortUpload(ctx, rec.Key, rec.UploadID); err != nil {
		slog.ErrorContext(ctx, "abort multipart upload failed", "error", err.Error())
		return false
	}
	if _, err := h.clips.AbortClip(ctx, rec.StoryID, rec.Key); err != nil {
		slog.ErrorContext(ctx, "marking a clip upload aborted failed", "error", err.Error())
		return false
	}
	return true
}

// ClipStatus is one of the story's clips as the thank-you page shows it.
type ClipStatus struct {
	Key     string    `json:"key"`
	Status  string    `json:"status"`
	MIME    string    `json:"mime,omitempty"`
	Size    int64     `json:"size,omitempty"`
	Seconds float64   `json:"seconds,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

type clipList struct {
	Clips    []ClipStatus `json:"clips"`
	MaxClips int          `json:"maxClips"`
}

// list answers the story's clips: pending (being checked), verified or
// rejected with the reason.
func (h *Handler) list(ctx context.Context, req apigw.Request) apigw.Response {
	id, fail := h.authorise(ctx, req, "")
	if fail != nil {
		return *fail
	}
	recs, err := h.clips.ClipRecords(ctx, id)
	if err != nil {
		slog.ErrorContext(ctx, "listing clips failed", "error", err.Error())
		return unavailable()
	}
	out := clipList{Clips: []ClipStatus{}, MaxClips: h.limits.MaxClips}
	for _, r := range recs {
		if r.Status == story.ClipAborted {
			continue
		}
		out.Clips = append(out.Clips, ClipStatus{Key: r.Key, Status: r.Status, MIME: r.MIME, Size: r.Size,
			Seconds: r.Duration.Seconds(), Reason: r.Reason, At: r.At})
	}
	return apigw.JSON(http.StatusOK, out)
}

// sentence makes a message start with a capital and end with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
