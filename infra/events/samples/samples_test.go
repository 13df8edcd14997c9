package samples

import (
	"os"
	"path/filepath"
	"testing"
)

// The files in events/ are what Events makes: a change to the questions,
// the token format or the consent wording that leaves them stale fails
// here until go run ./infra/events writes them again.
func TestEventsAreCurrent(t *testing.T) {
	evs, err := Events()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range evs {
		got, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("events/%s is stale: run go run ./infra/events", name)
		}
	}
}
