// Package testenv gives handler tests the real table layout on minidyn's
// in-memory DynamoDB client, the sample events in events/, and a fixed clock.
package testenv

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	minidyn "github.com/truora/minidyn/aws-v2/client"

	"frontlinevoices/infra/local/stack"
)

// Secret is the signing secret the sample events were made with.
const Secret = "frontline-voices-sample-events-secret-0000"

// SampleTime is when the sample events' forms were shown.
var SampleTime = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// Root is the repository root.
func Root(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("template.yaml not found")
		}
		dir = parent
	}
}

// Event decodes events/<name> into v.
func Event(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// Table returns minidyn's in-memory client holding template.yaml's table.
func Table(t testing.TB, logicalID string) *minidyn.Client {
	t.Helper()
	tmpl, err := stack.LoadTemplate(filepath.Join(Root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.CreateTableInput(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	db := minidyn.NewClient()
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return db
}
