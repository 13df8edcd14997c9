package stack

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// The functions log as they do on Lambda: through slog's default logger
// (lambdafn.Start sets it to aws-lambda-go's lambdacontext logger, which
// takes the request id from the invocation's context). Here several stacks
// may run in one process (tests start them side by side), so the default
// is set once, to a handler that sends each record to the Log of the stack
// whose function made it, carried in the invocation's context. A record
// made without that context (a constructor's, or slog.Info without a
// context) goes to the Log of the stack started last.

// logKey is the context key of the invoking stack's logger.
type logKey struct{}

var (
	routeOnce sync.Once
	lastLog   atomic.Pointer[slog.Logger]
)

// routeLogs makes log the stack's: its functions' records go to it, and
// records made outside any invocation go to it until another stack starts.
// log must not be slog's own default logger (slog.Default() before any
// stack started), whose output the default logger would then take back.
func routeLogs(log *slog.Logger) {
	lastLog.Store(log)
	routeOnce.Do(func() { slog.SetDefault(slog.New(routedHandler{})) })
}

// withLog is ctx carrying the invoking stack's logger.
func withLog(ctx context.Context, log *slog.Logger) context.Context {
	if log == nil {
		return ctx
	}
	return context.WithValue(ctx, logKey{}, log)
}

// routedHandler hands each record to the logger in its context, or to the
// last stack's, with the attributes and groups added to the default
// logger (With, WithGroup) added there too.
type routedHandler struct {
	wrap []func(slog.Handler) slog.Handler
}

var _ slog.Handler = routedHandler{}

func (h routedHandler) base(ctx context.Context) slog.Handler {
	if ctx != nil {
		if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
			return l.Handler()
		}
	}
	return lastLog.Load().Handler()
}

func (h routedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base(ctx).Enabled(ctx, level)
}

func (h routedHandler) Handle(ctx context.Context, r slog.Record) error {
	to := h.base(ctx)
	for _, w := range h.wrap {
		to = w(to)
	}
	return to.Handle(ctx, r)
}

func (h routedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return routedHandler{wrap: append(slices.Clip(h.wrap), func(to slog.Handler) slog.Handler { return to.WithAttrs(attrs) })}
}

func (h routedHandler) WithGroup(name string) slog.Handler {
	return routedHandler{wrap: append(slices.Clip(h.wrap), func(to slog.Handler) slog.Handler { return to.WithGroup(name) })}
}
