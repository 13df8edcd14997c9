// Command candidates keeps the list of MPs and candidates the form shows
// volunteers (the README's "MPs and candidates" section has the CSV format):
//
//	go run ./infra/candidates import --dry-run list.csv   # what would change
//	go run ./infra/candidates import list.csv             # replace the list
//	go run ./infra/candidates export > list.csv           # the list kept now
//
// By default it works on the local stack at http://127.0.0.1:8080 (start it
// with `go run ./infra/local`; --local names another address). Against AWS
// pass --table with the stack output StoriesTableName (or set TABLE_NAME);
// it uses your usual AWS credentials. An import checks every row first and
// refuses the whole file, changing nothing, if any row is wrong.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// DefaultLocal is where `go run ./infra/local` serves by default.
const DefaultLocal = "http://127.0.0.1:8080"

const usage = `usage:
  candidates import [--dry-run] [--local URL | --table NAME] list.csv
  candidates export [--local URL | --table NAME] > list.csv`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "candidates:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "export") {
		return errors.New(usage)
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "show what the import would change, and change nothing")
	local := fs.String("local", "", "URL of a running local stack (default "+DefaultLocal+" when no table is given)")
	table := fs.String("table", os.Getenv("TABLE_NAME"), "the deployed stack's table (the stack output StoriesTableName)")
	// Flags may come before or after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		files = append(files, rest[0])
		rest = rest[1:]
	}
	switch {
	case cmd == "import" && len(files) != 1:
		return errors.New("import needs one file: " + usage)
	case cmd == "export" && len(files) != 0:
		return errors.New("export writes to standard output: " + usage)
	case *dry && cmd != "import":
		return errors.New("--dry-run is for import")
	}

	var people []story.Person
	if cmd == "import" {
		// Check the file before touching any table.
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		people, err = story.ParseCandidatesCSV(f)
		f.Close()
		if rows, ok := errors.AsType[story.RowErrors](err); ok {
			fmt.Fprintf(stderr, "%s is refused and nothing was changed: %d %s to correct:\n", files[0], len(rows), plural(len(rows), "problem", "problems"))
			for _, r := range rows {
				fmt.Fprintln(stderr, "  "+r.String())
			}
			return errors.New("the list was not imported")
		}
		if err != nil {
			return err
		}
	}

	if *table == "" || *local != "" {
		if *local == "" {
			*local = DefaultLocal
		}
		ep, err := stack.Connect(ctx, *local)
		if err != nil {
			return err
		}
		*table = ep.Tables["StoriesTable"]
		fmt.Fprintf(stderr, "Using the local stack at %s.\n", *local)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	s := store.New(dynamodb.NewFromConfig(awsCfg), *table)
	kept, err := s.Candidates(ctx, true)
	if err != nil {
		return err
	}
	if cmd == "export" {
		if len(kept.People) == 0 {
			return errors.New("no list has been imported yet")
		}
		return story.WriteCandidatesCSV(stdout, kept.People)
	}

	fmt.Fprintf(stdout, "%s: %s\n", files[0], summary(people))
	if kept.Version == 0 {
		fmt.Fprintln(stdout, "No list is kept yet: every person is new.")
	} else {
		fmt.Fprintf(stdout, "Changes against the list kept now (%s, updated %s):\n", summary(kept.People), kept.UpdatedAt.UTC().Format("2 January 2006 15:04 UTC"))
		writeDiff(stdout, story.DiffCandidates(kept.People, people))
	}
	if *dry {
		fmt.Fprintln(stdout, "Dry run: nothing was changed.")
		return nil
	}
	saved, err := s.ReplaceCandidates(ctx, people, kept.Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Imported: the list now has %d people (updated %s).\n", len(saved.People), saved.UpdatedAt.Format(time.RFC3339))
	return nil
}

func summary(people []story.Person) string {
	n := map[string]int{}
	seats := map[string]bool{}
	for _, p := range people {
		n[p.Status]++
		seats[p.Constituency] = true
	}
	return fmt.Sprintf("%d people (%d %s, %d %s, %d former %s) in %d %s", len(people),
		n[story.StatusMP], plural(n[story.StatusMP], "MP", "MPs"),
		n[story.StatusCandidate], plural(n[story.StatusCandidate], "candidate", "candidates"),
		n[story.StatusFormer], plural(n[story.StatusFormer], "MP", "MPs"),
		len(seats), plural(len(seats), "constituency", "constituencies"))
}

func writeDiff(w io.Writer, d story.CandidateDiff) {
	line := func(p story.Person) string {
		return fmt.Sprintf("%s (%s), %s, %s [%s]", p.Name, p.Party, p.StatusLabel(), p.ConstituencyName(), p.ID)
	}
	for _, p := range d.Added {
		fmt.Fprintln(w, "  + "+line(p))
	}
	for _, p := range d.Removed {
		fmt.Fprintln(w, "  - "+line(p))
	}
	for _, c := range d.Changed {
		fmt.Fprintf(w, "  ~ %s [%s]: %s\n", c.New.Name, c.New.ID, c.Describe())
	}
	if d.Empty() {
		fmt.Fprintf(w, "  no changes (%d unchanged)\n", d.Unchanged)
		return
	}
	fmt.Fprintf(w, "  %d added, %d removed, %d changed, %d unchanged\n", len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
