package safeguard

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// matchesOf records the matches a walk reports, accepting some and rejecting
// others by their position, so that both of eachMatch's ways on (after a
// match, and one character after a rejected one's start) are taken.
func matchesOf(run func(accept func(m []int) bool)) [][]int {
	var got [][]int
	run(func(m []int) bool {
		got = append(got, slices.Clone(m))
		return (m[0]*7+m[1])%3 != 0
	})
	return got
}

// gatesAgree checks that every gated rule finds, through its gate, exactly the
// matches the whole walk over text finds.
func gatesAgree(t *testing.T, text string) {
	t.Helper()
	d := newDoc(text)
	for re := range gates {
		gated := matchesOf(func(accept func([]int) bool) { d.each(re, accept) })
		whole := matchesOf(func(accept func([]int) bool) { walk(re, text, 0, len(text), accept) })
		if !slices.EqualFunc(gated, whole, slices.Equal) {
			t.Fatalf("rule %s on %q:\n gated %v\n whole %v", ruleName(re), text, gated, whole)
		}
	}
}

func ruleName(re *lazyRule) string {
	for name := range rules {
		if compile(name).String() == re.String() {
			return name
		}
	}
	return re.String()
}

// corpus is every test text: the corpora files and the scan cases.
func corpus(t testing.TB) []string {
	var texts []string
	for _, name := range []string{"clinical_prose.txt", "identifying.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		texts = append(texts, strings.Split(string(b), "\n")...)
	}
	for _, cases := range [][]scanCase{nhsCases, postcodeCases, dateCases, nameCases, mixedCases} {
		for _, c := range cases {
			texts = append(texts, c.text)
		}
	}
	return texts
}

// pieces are what random texts are made of: the gates' triggers, the words,
// phrases and punctuation the rules are built from, and characters that end
// or join words.
var pieces = strings.Split(`born|Birth|DOB|d.o.b.|D/O/B|b.|aged|Age|y/o|years|yrs|old|-|-old|years old|yrs-old|date of birth|`+
	`Jan|january|Mar.|March|May|sept|Sep|December|of|12th|1st|3rd|,|.|/|:|;|!|?|'|’|'s|12th of March, 1958|March 12th, 1958|12-Mar-1958|`+
	`1|2|12|03|1958|58|2024|0|943|476|5919|4010|943 476 5919|943-476-5919|12/03/1958|1958-03-12|12.03.58|`+
	`SE1|2AA|2aa|SE1 2AA|GIR|0AA|GIR 0AA|N1|5ft|W2|1hr|sw1a|1aa|`+
	`patient|Patient|pt|my|My|our|the|The|her|his|whose|their|name|named|Name|called|by|is|was|name:|name :|`+
	`lady|man|who|that|ours|mine|first|sur|the patient's first name is|the pt’s sur name was|their full name:|`+
	`a lady of ours who was called|a man by the name of|a gent of mine that is by the name of|patients, called|my patient|our pt|`+
	`Mr|Mrs|Ms|Master|Dr|de|van|Sarah|O'Brien|J.|Smith|Hospital|NHS`, "|")

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for range 2 + r.IntN(30) {
		b.WriteString(pieces[r.IntN(len(pieces))])
		switch r.IntN(10) {
		case 0:
			// joined to the next piece
		case 1:
			b.WriteString("  ")
		case 2:
			b.WriteString("\u00a0")
		case 3:
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
	}
	return b.String()
}

func TestGatesFindWhatTheWholeWalkFinds(t *testing.T) {
	for _, text := range corpus(t) {
		gatesAgree(t, text)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		gatesAgree(t, randomText(r))
	}
}

func FuzzGates(f *testing.F) {
	for _, text := range corpus(f) {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) { gatesAgree(t, text) })
}

// BenchmarkScan5000 compares, in one run, Scan of a 5,000-character story
// with its gates and with every rule walked over the whole text.
func BenchmarkScan5000(b *testing.B) {
	prose, err := os.ReadFile(filepath.Join("testdata", "clinical_prose.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := []rune(strings.Join(strings.Fields(string(prose)), " "))
	for len(text) < 5000 {
		text = append(text, text...)
	}
	story := string(text[:5000])
	b.Run("gated", func(b *testing.B) {
		for b.Loop() {
			scan(newDoc(story))
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			scan(&doc{text: story})
		}
	})
}
