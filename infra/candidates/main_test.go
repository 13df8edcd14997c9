package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The command against a running local stack, as the README tells a
// newcomer to use it: a refused file, a dry run, an import, an export that
// reads back as the import, and a second import's changes.
func TestImportAndExportAgainstTheLocalStack(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	t.Setenv("TABLE_NAME", "")
	s := store.New(dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"])
	cli := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--local", st.URL), &out, &errOut)
		return out.String(), errOut.String(), err
	}

	// A file with bad rows is refused whole, with line numbers, and nothing is kept.
	bad := write(t, "bad.csv", "name,party,constituency,status\nAda Brook,Labour,Tooting,MP\n,Green,Tooting,candidate\nBo Lee,Green,Atlantis,candidate\n")
	_, stderr, err := cli("import", bad)
	if err == nil || !strings.Contains(stderr, "line 3, name: the name is missing") || !strings.Contains(stderr, `line 4, constituency: "Atlantis" is not a London constituency`) {
		t.Fatalf("bad file: %v\n%s", err, stderr)
	}
	if l, _ := s.Candidates(ctx, true); l.Version != 0 {
		t.Fatal("a refused file changed the list")
	}

	// A dry run shows what would change and changes nothing.
	example := filepath.Join("example.csv")
	stdout, _, err := cli("import", "--dry-run", example)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "239 people (75 MPs") || !strings.Contains(stdout, "Dry run: nothing was changed.") {
		t.Errorf("dry run said:\n%s", stdout)
	}
	if l, _ := s.Candidates(ctx, true); l.Version != 0 {
		t.Fatal("a dry run changed the list")
	}

	if stdout, _, err = cli("import", example); err != nil || !strings.Contains(stdout, "Imported: the list now has 239 people") {
		t.Fatalf("import: %v\n%s", err, stdout)
	}
	kept, err := s.Candidates(ctx, true)
	if err != nil || len(kept.People) != 239 {
		t.Fatalf("kept %d people, %v", len(kept.People), err)
	}

	// The export reads back as exactly what was imported.
	exported, _, err := cli("export")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(example)
	imported, err := story.ParseCandidatesCSV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	again, err := story.ParseCandidatesCSV(strings.NewReader(exported))
	if err != nil || !slices.Equal(again, imported) || !slices.Equal(again, kept.People) {
		t.Fatalf("the export differs from the import: %v", err)
	}

	// An edited export: one changed, one removed, one added.
	lines := strings.Split(exported, "\r\n")
	edited := []string{lines[0]}
	for i, l := range lines[1:] {
		switch {
		case i == 0:
			continue // removed
		case i == 1:
			l = strings.Replace(l, ",candidate,", ",former,", 1)
		}
		edited = append(edited, l)
	}
	edited = append(edited, ",Zed Newcomer,Green,Tottenham,candidate,")
	stdout, _, err = cli("import", write(t, "edited.csv", strings.Join(edited, "\n")), "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  + Zed Newcomer (Green), Candidate, Tottenham [zed-newcomer-tottenham]", "  - ", `status "Candidate" → "Former MP"`, "1 added, 1 removed, 1 changed, 237 unchanged"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the dry run of an edited export lacks %q:\n%s", want, stdout)
		}
	}
}

func TestNoLocalStack(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	err := run(context.Background(), []string{"export", "--local", "http://127.0.0.1:1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go run ./infra/local") {
		t.Fatalf("got %v, want advice to start the local stack", err)
	}
}
