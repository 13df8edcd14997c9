// Package privacy carries out volunteers' rights over their data: erasing a
// story with every clip, upload, export row and record; exporting
// everything held about an email address; and auditing the table and the
// bucket for any trace of a volunteer.
package privacy

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/store"
)

// Bucket is what erasure, export and audit need of the clips bucket (which
// also holds the digest's exports).
type Bucket interface {
	List(ctx context.Context, prefix string) ([]string, error)
	DeleteAll(ctx context.Context, prefix string) (int, error)
	Delete(ctx context.Context, key string) error
	Get(ctx context.Context, key string, max int64) ([]byte, error)
	Put(ctx context.Context, key, contentType string, body []byte) error
	Uploads(ctx context.Context, prefix string) ([]bucket.Upload, error)
	AbortUpload(ctx context.Context, key, uploadID string) error
}

// Sender sends one email.
type Sender interface {
	Send(ctx context.Context, msg mail.Message) (string, error)
}

var (
	_ Bucket = (*bucket.Bucket)(nil)
	_ Sender = (*mail.Mailer)(nil)
)

// Erasure email kinds, also the names of their sent markers on the tombstone.
const (
	KindAlert        = "alert"
	KindConfirmation = "confirmation"
)

// Service erases, exports and audits volunteers' data.
type Service struct {
	Stories *store.Store
	Clips   Bucket // nil when there is no clips bucket
	// ExportPrefix is where the digest keeps its CSV exports in Clips
	// (bucket.ExportsPrefix); empty: there are none.
	ExportPrefix string
	// Mail sends the erasure emails to Comms and the volunteer; nil leaves
	// them to whichever run of the erasure has a mailer (the stream's).
	Mail  Sender
	Comms []string
	// PrivacyURL is the privacy notice the erasure emails link to
	// (mail.PrivacyURL); empty: no link.
	PrivacyURL string
	// ClaimLease is how long a claim on an erasure email holds.
	ClaimLease time.Duration
}

// Result is what one run of an erasure did.
type Result struct {
	Tombstone store.Tombstone
	Clips     int // clip objects deleted by this run
	Uploads   int // multipart uploads aborted by this run
	Exports   int // exports rewritten or deleted by this run
	Emailed   int // erasure emails sent by this run
}

// Erase erases story id, or resumes its erasure, as one ordered process
// whose every step is idempotent:
//
//  1. mark the story erasing and write its tombstone (one transaction):
//     from here nothing attaches to it and readers treat it as gone;
//  2. delete its clip objects, abort its multipart uploads, and rewrite
//     the exports that hold it without its row;
//  3. delete its items but the tombstone;
//  4. sweep its clip prefix and uploads once more (what landed meanwhile);
//  5. mark the tombstone erased;
//  6. send the team's alert and the volunteer's confirmation, each once
//     (claimed on the tombstone), then drop the notice they needed.
//
// An error leaves the tombstone in place: running Erase again (the
// tombstone's stream record does, as does the privacy command) carries on.
// A story never held is store.ErrNotFound.
func (p *Service) Erase(ctx context.Context, id string) (Result, error) {
	var res Result
	t, err := p.Stories.BeginErasure(ctx, id)
	if err != nil {
		return res, err
	}
	res.Tombstone = t
	if !t.Done() {
		if err := p.sweep(ctx, id, &res); err != nil {
			return res, err
		}
		if _, err := p.Stories.DeleteStoryItems(ctx, id); err != nil {
			return res, err
		}
		if err := p.sweep(ctx, id, &res); err != nil {
			return res, err
		}
		if err := p.Stories.FinishErasure(ctx, id); err != nil {
			return res, err
		}
		res.Tombstone.State = store.ErasureDone
	}
	if p.Mail == nil {
		return res, nil
	}
	return res, p.tell(ctx, &res)
}

// sweep deletes what the bucket holds of story id: clip objects, multipart
// uploads, and its rows in the exports.
func (p *Service) sweep(ctx context.Context, id string, res *Result) error {
	if p.Clips == nil {
		return nil
	}
	n, err := p.deleteClips(ctx, id)
	res.Clips += n
	if err != nil {
		return err
	}
	n, err = p.abortUploads(ctx, id)
	res.Uploads += n
	if err != nil {
		return err
	}
	n, err = p.scrubExports(ctx, id)
	res.Exports += n
	return err
}

// tell sends the erasure emails that have not gone out, each claimed on the
// tombstone so that however many runs there are, each goes once.
func (p *Service) tell(ctx context.Context, res *Result) error {
	t := res.Tombstone
	if t.Notice == nil {
		return nil // sent, and the notice dropped
	}
	st := t.Notice.Story(t.ID)
	lease := p.ClaimLease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	var errs []error
	for _, kind := range []string{KindAlert, KindConfirmation} {
		ok, err := p.Stories.ClaimErasureEmail(ctx, t.ID, kind, lease)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		var msg mail.Message
		if kind == KindAlert {
			msg, err = mail.ErasureAlert(st, p.Comms, p.PrivacyURL)
		} else {
			msg, err = mail.Erased(st, t.Notice.Clips, p.PrivacyURL)
		}
		var msgID string
		if err == nil {
			msgID, err = p.Mail.Send(ctx, msg)
		}
		if err != nil {
			if rerr := p.Stories.ReleaseErasureEmail(context.WithoutCancel(ctx), t.ID, kind); rerr != nil {
				err = errors.Join(err, rerr)
			}
			errs = append(errs, fmt.Errorf("%s email: %w", kind, err))
			continue
		}
		res.Emailed++
		if err := p.Stories.MarkErasureEmailSent(ctx, t.ID, kind, msgID); err != nil {
			// Sent: a retry must not send it again. The claim's lease
			// holds it back meanwhile; log so the gap can be seen.
			slog.WarnContext(ctx, "erasure email sent but not marked", "kind", kind, "error", err.Error())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := p.Stories.ForgetNotice(ctx, t.ID, KindAlert, KindConfirmation); err != nil {
		return err
	}
	// Another run may hold a claim: until both emails are out, this run
	// reports itself unfinished so that it is retried (should that run die,
	// its claim's lease ends and the retry sends).
	now, err := p.Stories.GetTombstone(ctx, t.ID)
	if err != nil {
		return err
	}
	if now.Notice != nil {
		return ErrEmailsPending
	}
	return nil
}

// ErrEmailsPending means the erasure is done but another run is sending
// one of its emails: run it again later.
var ErrEmailsPending = errors.New("privacy: an erasure email is being sent by another run")

func (p *Service) deleteClips(ctx context.Context, id string) (int, error) {
	n, err := p.Clips.DeleteAll(ctx, bucket.ClipPrefix(id))
	if err != nil {
		return n, fmt.Errorf("privacy: delete clips: %w", err)
	}
	return n, nil
}

// abortUploads aborts every multipart upload under story id's prefix: a
// part signed before the erasure can no longer be sent.
func (p *Service) abortUploads(ctx context.Context, id string) (int, error) {
	uploads, err := p.Clips.Uploads(ctx, bucket.ClipPrefix(id))
	if err != nil {
		return 0, fmt.Errorf("privacy: list uploads: %w", err)
	}
	for i, u := range uploads {
		if err := p.Clips.AbortUpload(ctx, u.Key, u.UploadID); err != nil {
			return i, fmt.Errorf("privacy: abort upload: %w", err)
		}
	}
	return len(uploads), nil
}

// maxExport is the largest export read back to be rewritten.
const maxExport = 64 << 20

// scrubExports rewrites each export that holds a row of story id without
// it (or deletes it when nothing else is left), so no export link serves
// the volunteer's data any more.
func (p *Service) scrubExports(ctx context.Context, id string) (int, error) {
	if p.ExportPrefix == "" {
		return 0, nil
	}
	keys, err := p.Clips.List(ctx, p.ExportPrefix)
	if err != nil {
		return 0, fmt.Errorf("privacy: list exports: %w", err)
	}
	n := 0
	for _, key := range keys {
		body, err := p.Clips.Get(ctx, key, maxExport)
		if errors.Is(err, bucket.ErrNotFound) {
			continue // expired meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("privacy: read export: %w", err)
		}
		if !bytes.Contains(body, []byte(id)) {
			continue
		}
		kept, rows, err := withoutStory(body, id)
		if err != nil {
			return n, fmt.Errorf("privacy: export %s: %w", key, err)
		}
		if rows == 0 {
			err = p.Clips.Delete(ctx, key)
		} else {
			err = p.Clips.Put(ctx, key, "text/csv; charset=utf-8", kept)
		}
		if err != nil {
			return n, fmt.Errorf("privacy: rewrite export: %w", err)
		}
		n++
	}
	return n, nil
}

// withoutStory is a CSV export without the rows that name story id, and
// how many data rows are left.
func withoutStory(body []byte, id string) ([]byte, int, error) {
	bom := []byte("\uFEFF")
	hadBOM := bytes.HasPrefix(body, bom)
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, bom)))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	if hadBOM {
		buf.Write(bom)
	}
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	rows := 0
	for i, rec := range records {
		if i > 0 && slices.ContainsFunc(rec, func(cell string) bool { return strings.Contains(cell, id) }) {
			continue
		}
		if err := w.Write(rec); err != nil {
			return nil, 0, err
		}
		if i > 0 {
			rows++
		}
	}
	w.Flush()
	return buf.Bytes(), rows, w.Error()
}

func (p *Service) clipKeys(ctx context.Context, id string) ([]string, error) {
	if p.Clips == nil {
		return nil, nil
	}
	keys, err := p.Clips.List(ctx, bucket.ClipPrefix(id))
	if err != nil {
		return nil, fmt.Errorf("privacy: list clips: %w", err)
	}
	return keys, nil
}

// Export is everything held about one email address.
type Export struct {
	Email       string        `json:"email"`
	GeneratedAt time.Time     `json:"generatedAt"`
	Stories     []StoryExport `json:"stories"`
}

// StoryExport is one story's items and clip objects.
type StoryExport struct {
	ID    string           `json:"id"`
	Items []map[string]any `json:"items"`
	Clips []string         `json:"clipObjects"`
}

// ExportEmail gathers every story sent from email, with every item and
// clip object held under each. Stories being erased or past their
// retention are not held any more and are left out.
func (p *Service) ExportEmail(ctx context.Context, email string) (Export, error) {
	ids, err := p.Stories.StoryIDsByEmail(ctx, email)
	if err != nil {
		return Export{}, err
	}
	out := Export{Email: email, GeneratedAt: time.Now().UTC(), Stories: []StoryExport{}}
	for _, id := range ids {
		if _, err := p.Stories.GetStory(ctx, id); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return Export{}, err
		}
		items, err := p.Stories.StoryItems(ctx, id)
		if err != nil {
			return Export{}, err
		}
		clips, err := p.clipKeys(ctx, id)
		if err != nil {
			return Export{}, err
		}
		out.Stories = append(out.Stories, StoryExport{ID: id, Items: items, Clips: clips})
	}
	return out, nil
}

// EraseEmail erases every story sent from email and returns their ids.
func (p *Service) EraseEmail(ctx context.Context, email string) ([]string, error) {
	ids, err := p.Stories.StoryIDsByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, id := range ids {
		if _, err := p.Erase(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("story %s: %w", id, err))
		}
	}
	return ids, errors.Join(errs...)
}

// ClipCount is how many clip objects are held for story id.
func (p *Service) ClipCount(ctx context.Context, id string) (int, error) {
	keys, err := p.clipKeys(ctx, id)
	return len(keys), err
}

// Transient reports whether err is a fault that passes with time: a
// throttle, a server error or a dropped connection the SDK gave up retrying,
// or a timeout. A denial (a missing IAM right), a validation error or a bug
// is not transient: retrying the same call cannot help, so it must surface.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*retry.MaxAttemptsError](err); ok {
		return true // the SDK retries only what it deems retryable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
