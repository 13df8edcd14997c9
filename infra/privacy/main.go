// Command privacy answers requests about a volunteer's data that arrive by
// other routes than the withdrawal link (an email to the team, a letter):
//
//	go run ./infra/privacy export --email someone@example.org > export.json
//	go run ./infra/privacy erase  --email someone@example.org | --id STORY_ID
//	go run ./infra/privacy audit  --email someone@example.org | --id STORY_ID
//
// erase runs (or resumes) each erasure to the end; its two emails are sent
// by the erase function, driven by the tombstone. audit walks the whole
// table and the whole bucket (objects, exports' contents, multipart
// uploads) and prints, as JSON, every trace of the volunteer left besides
// the tombstones; it exits with status 1 when it finds any.
//
// Against AWS it uses your usual AWS credentials and needs the table and
// bucket names (the stack outputs StoriesTableName and ClipsBucketName) in
// --table and --bucket, or TABLE_NAME and CLIPS_BUCKET. Against the local
// stack, pass --local with its URL (e.g. --local http://127.0.0.1:8080).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "privacy:", err)
		os.Exit(exitCode(err))
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "erase" && args[0] != "audit") {
		return errors.New("usage: privacy export|erase|audit --email ADDRESS | --id STORY_ID [--local URL | --table NAME --bucket NAME]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	email := fs.String("email", "", "the volunteer's email address")
	id := fs.String("id", "", "a story id (erase, audit)")
	exports := fs.String("exports", bucket.ExportsPrefix, "where the digest keeps its exports in the bucket")
	local := fs.String("local", "", "URL of a running local stack (go run ./infra/local)")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "the stories table")
	clipsBucket := fs.String("bucket", os.Getenv("CLIPS_BUCKET"), "the clips bucket")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !strings.Contains(*email, "@") && (*id == "" || args[0] == "export") {
		return errors.New("--email is required (or --id, for erase and audit)")
	}
	if *local != "" {
		ep, err := stack.Connect(ctx, *local)
		if err != nil {
			return err
		}
		*table, *clipsBucket = ep.Tables["StoriesTable"], ep.Buckets["ClipsBucket"]
	}
	if *table == "" {
		return errors.New("the table is not known: pass --table (the stack output StoriesTableName) or --local")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	svc := &privacy.Service{Stories: store.New(dynamodb.NewFromConfig(awsCfg), *table), ExportPrefix: *exports}
	if *clipsBucket != "" {
		svc.Clips = bucket.FromConfig(awsCfg, *clipsBucket, *local != "")
	}
	switch args[0] {
	case "export":
		export, err := svc.ExportEmail(ctx, *email)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(export)
	case "audit":
		a, err := svc.Audit(ctx, *id, *email)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a); err != nil {
			return err
		}
		if !a.Clean() {
			return ErrTraces
		}
		return nil
	default:
		if *id != "" {
			_, err := svc.Erase(ctx, *id)
			fmt.Fprintf(out, "erased 1 stories: %s\n", *id)
			return err
		}
		ids, err := svc.EraseEmail(ctx, *email)
		fmt.Fprintf(out, "erased %d stories: %s\n", len(ids), strings.Join(ids, " "))
		return err
	}
}

// ErrTraces is audit's answer when something of the volunteer is held.
var ErrTraces = errors.New("traces of the volunteer are held (listed above)")

func exitCode(err error) int {
	if errors.Is(err, ErrTraces) {
		return 1
	}
	return 2
}
