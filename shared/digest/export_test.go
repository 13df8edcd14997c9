package digest

import (
	"context"
	"time"

	"frontlinevoices/shared/store"
)

// Internals the tests (package digest_test) use.
var (
	UKTime       = ukTime
	Period       = period
	UnknownArea  = unknownArea
	CSVHeader    = csvHeader
	BOM          = bom
	SafeFilename = safeFilename
)

// Entries prepares stories for display as a digest does.
func (h *Handler) Entries(ctx context.Context, stories []store.PeriodStory) ([]Entry, error) {
	return h.entries(ctx, stories)
}

// EndOf is the end of the period an event asks for.
func (h *Handler) EndOf(ev Event) time.Time { return h.end(ev) }
