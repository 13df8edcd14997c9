package story

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

// Option is one choice in a list the form offers: a stable id that is stored
// and a label that people read.
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// ICBArea is an integrated care board area and the local medical committee
// areas (boroughs) inside it.
type ICBArea struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Boroughs []Option `json:"boroughs"`
}

// OptionLists holds every list the form offers. It is data (options.json),
// not code, so the comms team's corrections need no code change.
type OptionLists struct {
	Roles              []Option  `json:"roles"`
	ICBAreas           []ICBArea `json:"icbAreas"`
	Topics             []Option  `json:"topics"`
	Activities         []Option  `json:"activities"`
	ContactMethods     []Option  `json:"contactMethods"`
	PatientsWouldSpeak []Option  `json:"patientsWouldSpeak"`
}

//go:embed options.json
var optionsJSON []byte

// Options are the lists the form offers, read from options.json at first
// use: not at init, since several functions never need them.
var Options = sync.OnceValue(func() OptionLists { return mustLoadOptions(optionsJSON) })

// lists are options.json's plain lists by name, for the question
// definitions (Fields) that name theirs: a question's new list is only
// data.
var lists = sync.OnceValue(func() map[string][]Option {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(optionsJSON, &raw); err != nil {
		panic(fmt.Sprintf("story: options.json: %v", err))
	}
	out := map[string][]Option{}
	for name, b := range raw {
		var l []Option
		if json.Unmarshal(b, &l) == nil {
			out[name] = l
		}
	}
	return out
})

// list is the choices of options.json's list name; it panics on a name
// options.json lacks (TestEveryFieldHasItsOptions asks every field).
func list(name string) func() []Option {
	return func() []Option {
		l := lists()[name]
		if len(l) == 0 {
			panic("story: options.json has no list " + name)
		}
		return l
	}
}

func mustLoadOptions(b []byte) OptionLists {
	var o OptionLists
	if err := json.Unmarshal(b, &o); err != nil {
		panic(fmt.Sprintf("story: options.json: %v", err))
	}
	return o
}

// Label returns the label of id in list, or id itself when it is unknown.
func Label(list []Option, id string) string {
	for _, o := range list {
		if o.ID == id {
			return o.Label
		}
	}
	return id
}

func has(list []Option, id string) bool {
	for _, o := range list {
		if o.ID == id {
			return true
		}
	}
	return false
}

// Borough is a borough with the ICB area it belongs to.
type Borough struct {
	Option
	Area Option
}

// FindBorough looks a borough up by id.
func FindBorough(id string) (Borough, bool) {
	for _, a := range Options().ICBAreas {
		for _, b := range a.Boroughs {
			if b.ID == id {
				return Borough{Option: b, Area: Option{ID: a.ID, Label: a.Label}}, true
			}
		}
	}
	return Borough{}, false
}
