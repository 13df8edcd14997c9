// Command local runs the whole of Frontline Voices on this machine, with no
// AWS account: `go run ./infra/local`. PORT picks the site's port (0 for
// any free one) and LOCAL_DATA_DIR where the table, clips and outbox are
// kept between runs (default .local).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"frontlinevoices/infra/local/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run() error {
	port := envOr("PORT", "8080")
	dataDir := envOr("LOCAL_DATA_DIR", ".local")
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := stack.Start(ctx, stack.Options{Addr: net.JoinHostPort(envOr("HOST", "127.0.0.1"), port), DataDir: dataDir, Log: log})
	if err != nil {
		return err
	}
	fmt.Printf(`
Frontline Voices is running locally.

  Form:    %[1]s/
  Outbox:  %[1]s/_local/outbox   (every email SES would have sent)
  S3:      %[2]s
  Data:    %[3]s

Press Ctrl-C to stop.
`, st.URL, st.S3URL, dataDir)
	<-ctx.Done()
	fmt.Println("\nStopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return st.Close(shutdown)
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}
