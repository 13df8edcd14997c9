// Command events writes the sample events that carry something signed or
// derived (the HTTP API requests: start tokens, the consent wording's
// version, every question's answer) into events/. Run it from the
// repository root after a change to the questions, the token format or
// the consent wording: go run ./infra/events
package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"frontlinevoices/infra/events/samples"
)

func main() {
	evs, err := samples.Events()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range slices.Sorted(maps.Keys(evs)) {
		if err := os.WriteFile(filepath.Join("events", name), evs[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("events/" + name)
	}
}
