// Package erasure carries erasures through to the end from the stories
// table's stream: the INSERT of a tombstone (written before anything is
// deleted) starts this function, which runs privacy.Service.Erase for its
// story. That resumes whatever the request that began the erasure did not
// finish (it died, a call failed), and sends the team's alert and the
// volunteer's confirmation exactly once: they are claimed on the tombstone,
// so this and the request never both send one. A record that fails is
// reported and delivered again, until the erasure is done.
package erasure

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
)

// Config is the erase function's configuration.
type Config struct {
	config.Shared
	config.Mail
	// SiteURL makes the emails' link to the privacy notice.
	SiteURL string `env:"SITE_URL"`
	// ClaimLease is how long a claim on an erasure email holds.
	ClaimLease time.Duration `env:"CLAIM_LEASE" default:"1m"`
}

// Eraser runs (or resumes) one erasure.
type Eraser interface {
	Erase(ctx context.Context, id string) (privacy.Result, error)
}

var _ Eraser = (*privacy.Service)(nil)

// Handler handles stream batches.
type Handler struct {
	eraser Eraser
}

// New returns a handler that resumes erasures with eraser.
func New(eraser Eraser) *Handler { return &Handler{eraser: eraser} }

// FromEnv builds the handler from the function's environment and AWS config.
func FromEnv(getenv func(string) string, awsCfg aws.Config) (func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), error) {
	var cfg Config
	if err := config.Load(getenv, &cfg); err != nil {
		return nil, err
	}
	st := store.FromConfig(awsCfg, cfg.TableName)
	p := &privacy.Service{
		Stories: st, ExportPrefix: bucket.ExportsPrefix,
		Clips:      bucket.FromConfig(awsCfg, cfg.Bucket, cfg.S3PathStyle),
		Mail:       mail.SkipUndeliverable(mail.FromConfig(awsCfg, cfg.Sender).WithConfigurationSet(cfg.ConfigurationSet), st),
		Comms:      cfg.CommsAddress,
		ClaimLease: cfg.ClaimLease,
		PrivacyURL: mail.PrivacyURL(cfg.SiteURL),
	}
	return New(p).Handle, nil
}

// Handle resumes the erasure of each new tombstone in the batch, side by
// side, and reports the records to deliver again. Records are keys only
// (the stream's view is KEYS_ONLY): everything is read again from the table.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, rec := range ev.Records {
		id, ok := tombstoneID(rec)
		if !ok || rec.EventName != string(events.DynamoDBOperationTypeInsert) {
			continue
		}
		wg.Go(func() { failed[i] = !h.erase(ctx, rec, id) })
	}
	wg.Wait()
	for i, rec := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	return resp, nil
}

// erase runs one erasure to the end and reports whether it is done.
func (h *Handler) erase(ctx context.Context, rec events.DynamoDBEventRecord, id string) bool {
	start := time.Now()
	res, err := h.eraser.Erase(ctx, id)
	attrs := []any{"eventId", rec.EventID, "sequence", rec.Change.SequenceNumber, "clips", res.Clips, "uploads", res.Uploads,
		"exports", res.Exports, "emailed", res.Emailed, "latencyMs", time.Since(start).Milliseconds()}
	if errors.Is(err, store.ErrNotFound) {
		return true // the tombstone went (retention): nothing left to do
	}
	if err != nil {
		slog.ErrorContext(ctx, "erasure unfinished; the record will be retried", append(attrs, "error", err.Error())...)
		return false
	}
	slog.InfoContext(ctx, "erasure done", attrs...)
	return true
}

func tombstoneID(rec events.DynamoDBEventRecord) (string, bool) {
	pk, sk := rec.Change.Keys[store.AttrPK], rec.Change.Keys[store.AttrSK]
	if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString {
		return "", false
	}
	return store.TombstoneIDFromKey(pk.String(), sk.String())
}
