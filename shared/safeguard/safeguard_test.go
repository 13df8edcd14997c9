package safeguard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		// Valid (check digits computed with the Modulus 11 rule).
		{"9434765919", true}, // the NHS's published test number
		{"4010232137", true},
		{"4857773457", true},
		{"4505577104", true},
		{"9990000018", true},
		{"6123456784", true},
		{"7000000015", true},
		{"4630000003", true},
		{"4010232102", true},
		// Wrong check digit.
		{"9434765918", false},
		{"9434765910", false},
		{"4010232138", false},
		// Check value 10: no last digit can make these valid.
		{"4010232030", false},
		{"4010232039", false},
		{"4010232170", false},
		// Wrong length.
		{"943476591", false},
		{"94347659190", false},
		{"", false},
		// Not bare digits: grouped forms are for Scan, not ValidNHSNumber.
		{"943 476 5919", false},
		{"943-476-5919", false},
		{"94347659I9", false},
		{"９４３４７６５９１９", false}, // full-width digits
	}
	for _, tt := range tests {
		if got := ValidNHSNumber(tt.digits); got != tt.want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", tt.digits, got, tt.want)
		}
	}
}

func TestValidNHSNumberCheckDigitZero(t *testing.T) {
	// Find a prefix whose weighted sum is a multiple of 11: its check digit
	// is 0 (11 → 0), and every other last digit must fail.
	for p := 401023200; p < 401023300; p++ {
		prefix := itoa(p)
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(prefix[i]-'0') * (10 - i)
		}
		if sum%11 != 0 {
			continue
		}
		for d := byte('0'); d <= '9'; d++ {
			want := d == '0'
			if got := ValidNHSNumber(prefix + string(d)); got != want {
				t.Errorf("ValidNHSNumber(%q) = %v, want %v", prefix+string(d), got, want)
			}
		}
		return
	}
	t.Fatal("no prefix with check digit 0 found")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// scanCase: want lists "kind:matched text" for every finding, in order.
type scanCase struct {
	text string
	want []string
}

var nhsCases = []scanCase{
	{"NHS number 9434765919.", []string{"nhs_number:9434765919"}},
	{"NHS number 943 476 5919 on the letter", []string{"nhs_number:943 476 5919"}},
	{"NHS number 943-476-5919 on the letter", []string{"nhs_number:943-476-5919"}},
	{"NHS number 943\u00a0476\u00a05919 pasted from the system", []string{"nhs_number:943\u00a0476\u00a05919"}},
	{"(4010232137)", []string{"nhs_number:4010232137"}},
	{"NHS:401 023 2137, seen today", []string{"nhs_number:401 023 2137"}},
	{"numbers 943 476 5919 and 401-023-2137", []string{"nhs_number:943 476 5919", "nhs_number:401-023-2137"}},
	// Wrong check digit / check value 10.
	{"NHS number 943 476 5918", nil},
	{"NHS number 401 023 2030", nil},
	// Not 10 digits, or part of a longer run.
	{"ref 943476591 only nine", nil},
	{"ref 94347659190 eleven", nil},
	{"ref 19434765919 eleven", nil},
	{"943 476 59190", nil},
	{"1 943 476 5919", nil},
	{"943 476 5919 2", nil},
	{"x9434765919", nil},
	{"9434765919x", nil},
	{"3.9434765919", nil},
	{"9434765919/2", nil},
	{"94 347 65919", nil},
	{"9434 765 919", nil},
	// Phone numbers.
	{"ring 020 7946 0958 today", nil},
	{"ring 0207 946 0958 today", nil},
	{"ring 02079460958 today", nil},
	{"mobile 07700 900123", nil},
	{"mobile 07700900123", nil},
	{"mobile 07700 900 123", nil},
	{"+44 20 7946 0958", nil},
	{"+44 207 946 0958", nil},
	{"0300 123 4567 or 0161 496 0000", nil},
	// Placeholders.
	{"NHS number 0000000000", nil},
	{"NHS number 1111111111", nil},
	// Money and counts.
	{"£1,234,567,890 budget", nil},
}

var postcodeCases = []scanCase{
	{"Buckingham Palace is SW1A 1AA.", []string{"postcode:SW1A 1AA"}},
	{"flat 3, N1 9GU", []string{"postcode:N1 9GU"}},
	{"E14 5AB", []string{"postcode:E14 5AB"}},
	{"EC1A 1BB", []string{"postcode:EC1A 1BB"}},
	{"W1D 3QF", []string{"postcode:W1D 3QF"}},
	{"SE15 5DQ", []string{"postcode:SE15 5DQ"}},
	{"postcode se155dq written small", []string{"postcode:se155dq"}},
	{"ec1a1bb", []string{"postcode:ec1a1bb"}},
	{"Cr0 2Ab mixed case", []string{"postcode:Cr0 2Ab"}},
	{"GIR 0AA", []string{"postcode:GIR 0AA"}},
	{"(SE1 7EH)", []string{"postcode:SE1 7EH"}},
	{"SE1 2ND in capitals", []string{"postcode:SE1 2ND"}},
	// Districts only.
	{"we work in SE15 and SE5", nil},
	{"practices across E14, N1 and SW1A", nil},
	{"in SE15 5 days a week", nil},
	// Invalid letters: Q/V/X cannot start, I/J/Z cannot be second, C/I/K/M/O/V not inward.
	{"QE1 1AA", nil},
	{"SI1 1AA", nil},
	{"SE1 1AC", nil},
	{"SE1 1AI", nil},
	{"SE1 1AM", nil},
	{"N1 9GUX", nil},
	{"XN1 9GU", nil},
	{"SE1234 5AB", nil},
	// Ordinals and units after a district.
	{"our branch in SE1 2nd floor", nil},
	{"E14 1st", nil},
	{"SE1 3rd-floor hub", nil},
	{"W2 1hr wait", nil},
	// Clinical and other codes.
	{"B12 injections", nil},
	{"B12 1st dose", nil},
	{"H1N1 2009", nil},
	{"FP10 2nd copy", nil},
	{"COVID-19 3rd wave", nil},
	{"A1 2pm", nil},
}

var dateCases = []scanCase{
	// With a birth cue: any full date, any year.
	{"born 12 March 1958", []string{"date_of_birth:12 March 1958"}},
	{"She was born on 12th Mar 1958 in Lewisham", []string{"date_of_birth:12th Mar 1958"}},
	{"date of birth March 12, 1958", []string{"date_of_birth:March 12, 1958"}},
	{"DOB 12.03.1958", []string{"date_of_birth:12.03.1958"}},
	{"D.O.B. 12/03/2019", []string{"date_of_birth:12/03/2019"}},
	{"d.o.b: 3 May 2021", []string{"date_of_birth:3 May 2021"}},
	{"dob 1958-03-12", []string{"date_of_birth:1958-03-12"}},
	{"the baby was born 2 January 2024 at King's", []string{"date_of_birth:2 January 2024"}},
	{"her birthday is 14 February 2001", []string{"date_of_birth:14 February 2001"}},
	{"birthdate: 12-Mar-1958", []string{"date_of_birth:12-Mar-1958"}},
	{"b. 4th of July 1970", []string{"date_of_birth:4th of July 1970"}},
	{"12 March 1958 (DOB)", []string{"date_of_birth:12 March 1958"}},
	{"22 November 1940, date of birth on the form", []string{"date_of_birth:22 November 1940"}},
	// Numeric with a year before 2010: a record-style birth date.
	{"12/03/1958", []string{"date_of_birth:12/03/1958"}},
	{"12-03-58", []string{"date_of_birth:12-03-58"}},
	{"12.03.1958", []string{"date_of_birth:12.03.1958"}},
	{"1958-03-12", []string{"date_of_birth:1958-03-12"}},
	{"03/25/1958", []string{"date_of_birth:03/25/1958"}},
	{"Mrs Smith, 12.03.1958, rang", []string{"patient_name:Mrs Smith", "date_of_birth:12.03.1958"}},
	// ... unless straight after an event word, with no birth word near.
	{"The practice was first registered on 01/10/1996.", nil},
	{"since 1.4.2004 the contract", nil},
	{"between 01/01/1990 and 31/12/1995", nil},
	{"seen On  12/03/1958", nil},
	{"born on 12/03/1958", []string{"date_of_birth:12/03/1958"}},
	{"aged 80, on 12/03/1944", []string{"date_of_birth:12/03/1944"}},
	// Age words count only for years before 2010.
	{"aged 66 (12 March 1958)", []string{"date_of_birth:12 March 1958"}},
	{"12 March 1958, 66 years old", []string{"date_of_birth:12 March 1958"}},
	{"a man aged 80 waited from 12 March 2024", nil},
	// Event dates: no cue, or a written-out date, or a recent numeric date.
	{"on 12 March 2024 we started the new rota", nil},
	{"The NHS began on 5 July 1948.", nil},
	{"from 01/04/2024 the contract changes", nil},
	{"clinic on 12-03-24", nil},
	{"2024-03-12 rota", nil},
	// Cue in another sentence or too far away.
	{"She was born in Lewisham. On 12 March 2024 we saw her.", nil},
	{"DOB. On 12 March 2024 we started", nil},
	{"born and bred here and has been working at the practice ever since 1 March 2019", nil},
	// Cue inside another word or after a hyphen.
	{"stubborn staff shortages since 12 March 2020", nil},
	{"newborn checks on 12 March 2024", nil},
	{"new-born checks on 12 March 2024", nil},
	{"the middle-aged group on 16 October 2023", nil},
	// Not full dates or not real dates.
	{"born in March 1958", nil},
	{"born 1958", nil},
	{"DOB 31/02/1958", nil},
	{"DOB 13/13/1958", nil},
	{"DOB 32/01/1958", nil},
	{"DOB 29/02/1958", nil},
	{"DOB 29/02/1960", []string{"date_of_birth:29/02/1960"}},
	{"DOB 12/03-1958", nil},
	{"BP 120/80", nil},
	{"version 1.2.3.2008", nil},
	{"12/03/1958/4", nil},
	{"plan b. 12 March 2024 meeting", []string{"date_of_birth:12 March 2024"}},
}

var nameCases = []scanCase{
	{"Mrs Smith came in", []string{"patient_name:Mrs Smith"}},
	{"I saw Mr John Patel today", []string{"patient_name:Mr John Patel"}},
	{"Mr. Patel", []string{"patient_name:Mr. Patel"}},
	{"Ms J. O'Brien rang", []string{"patient_name:Ms J. O'Brien"}},
	{"Miss Öztürk", []string{"patient_name:Miss Öztürk"}},
	{"Master Adebayo", []string{"patient_name:Master Adebayo"}},
	{"Mx Taylor", []string{"patient_name:Mx Taylor"}},
	{"the letter for Mr de Souza came", []string{"patient_name:Mr de Souza"}},
	{"Mrs Smith's hip", []string{"patient_name:Mrs Smith"}},
	{"Mrs Smith. Then we", []string{"patient_name:Mrs Smith"}},
	{"my patient Sarah told me", []string{"patient_name:my patient Sarah"}},
	{"Our patient Mr Jones", []string{"patient_name:Mr Jones"}},
	{"Mrs van Dijk", []string{"patient_name:Mrs van Dijk"}},
	{"a patient called Sarah Jones came in", []string{"patient_name:patient called Sarah Jones"}},
	{"an elderly lady named Joan", []string{"patient_name:lady named Joan"}},
	{"a patient of ours who was called Tom", []string{"patient_name:patient of ours who was called Tom"}},
	{"a man by the name of Ahmed", []string{"patient_name:man by the name of Ahmed"}},
	{"her name is Aisha", []string{"patient_name:her name is Aisha"}},
	{"His surname was Kowalski", []string{"patient_name:His surname was Kowalski"}},
	{"the patient's name is Aisha Khan", []string{"patient_name:the patient's name is Aisha Khan"}},
	{"Patient name: Tom Hughes", []string{"patient_name:Patient name: Tom Hughes"}},
	{"her name's Grace", []string{"patient_name:her name's Grace"}},
	// Not names.
	{"Dr Okafor ran the clinic", nil},
	{"Prof Whitty said", nil},
	{"we meet on Ms Teams", nil},
	{"MS Teams", nil},
	{"the Master Patient Index", nil},
	{"our Patient Participation Group", nil},
	{"our patient Participation Group", nil},
	{"a man called the surgery", nil},
	{"a patient called NHS 111", nil},
	{"a young mum called Reception", nil},
	{"a patient called Lewisham Hospital", nil},
	{"A patient I saw", nil},
	{"the patient said", nil},
	{"my name is Priya and I'm a receptionist", nil},
	{"her name is on the list", nil},
	{"mrs smith", nil},
	{"Mrsmith", nil},
	{"HMRs Smith", nil},
	{"Mr B12", nil},
	{"Missed appointments", nil},
	{"the Mr Men books", []string{"patient_name:Mr Men"}}, // known limitation: any capitalised word after a title
}

func runScanCases(t *testing.T, cases []scanCase) {
	t.Helper()
	for _, tt := range cases {
		var got []string
		for _, f := range Scan(tt.text) {
			got = append(got, string(f.Kind)+":"+tt.text[f.Start:f.End])
			if f.Label == "" || f.Label != f.Kind.Label() {
				t.Errorf("Scan(%q): finding %+v has wrong label", tt.text, f)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Scan(%q)\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
}

func TestScanNHSNumbers(t *testing.T) { runScanCases(t, nhsCases) }
func TestScanPostcodes(t *testing.T)  { runScanCases(t, postcodeCases) }
func TestScanDates(t *testing.T)      { runScanCases(t, dateCases) }
func TestScanNames(t *testing.T)      { runScanCases(t, nameCases) }

var mixedCases = []scanCase{
	{"Mrs Smith, DOB 12/03/1958, NHS 943 476 5919, lives at SE15 5DQ.", []string{
		"patient_name:Mrs Smith", "date_of_birth:12/03/1958", "nhs_number:943 476 5919", "postcode:SE15 5DQ"}},
	{"", nil},
	{"Ordinary text with no numbers at all.", nil},
	{"Mrs Öztürk — born 1 Şubat? no: born 1 February 1950 — NHS 401 023 2137", []string{
		"patient_name:Mrs Öztürk", "date_of_birth:1 February 1950", "nhs_number:401 023 2137"}},
	{"her name is Mrs Khan", []string{"patient_name:Mrs Khan"}},
}

func TestScanMixed(t *testing.T) { runScanCases(t, mixedCases) }

func TestScanOrderedNoDuplicates(t *testing.T) {
	for _, line := range append(readLines(t, "identifying.txt"), "Mrs Smith Mrs Smith", "a patient called Sarah, Mrs Sarah Jones") {
		fs := Scan(line)
		if !sort.SliceIsSorted(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start }) {
			t.Errorf("Scan(%q) not ordered: %+v", line, fs)
		}
		for i := range fs {
			if fs[i].Start < 0 || fs[i].End > len(line) || fs[i].Start >= fs[i].End {
				t.Errorf("Scan(%q): bad offsets %+v", line, fs[i])
			}
			for j := range i {
				if fs[i].Kind == fs[j].Kind && fs[i].Start < fs[j].End {
					t.Errorf("Scan(%q): overlapping findings %+v and %+v", line, fs[j], fs[i])
				}
			}
		}
	}
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestClinicalProseCorpus: ordinary practice prose must give no findings at
// all (false-positive rate 0 on the corpus).
func TestClinicalProseCorpus(t *testing.T) {
	lines := readLines(t, "clinical_prose.txt")
	if len(lines) < 40 {
		t.Fatalf("corpus has %d paragraphs, want at least 40", len(lines))
	}
	for i, line := range lines {
		for _, f := range Scan(line) {
			t.Errorf("clinical_prose.txt:%d: false positive %s %q", i+1, f.Kind, line[f.Start:f.End])
		}
	}
}

// TestIdentifyingCorpus: every line holds patient-identifiable information.
func TestIdentifyingCorpus(t *testing.T) {
	lines := readLines(t, "identifying.txt")
	if len(lines) < 15 {
		t.Fatalf("corpus has %d lines, want at least 15", len(lines))
	}
	kinds := map[Kind]int{}
	for i, line := range lines {
		fs := Scan(line)
		if len(fs) == 0 {
			t.Errorf("identifying.txt:%d: no finding in %q", i+1, line)
		}
		for _, f := range fs {
			kinds[f.Kind]++
		}
	}
	for _, k := range []Kind{KindNHSNumber, KindDateOfBirth, KindPostcode, KindPatientName} {
		if kinds[k] == 0 {
			t.Errorf("identifying.txt has no %s finding", k)
		}
	}
}

// ---- JavaScript parity ----

// jsHarness loads safeguard.js with a fake window. With argument "rules" it
// prints the rule table; otherwise it reads one JSON string per line from
// stdin and prints one JSON result per line: {"scan": [...], "nhs": bool}.
const jsHarness = `
const fs = require('fs'), vm = require('vm');
const ctx = { window: {} };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), ctx, { filename: process.argv[1] });
const sg = ctx.window.FrontlineSafeguard;
if (process.argv[2] === 'rules') {
  process.stdout.write(JSON.stringify(sg._rules) + '\n');
} else {
  const out = [];
  for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
    if (line === '') continue;
    const text = JSON.parse(line);
    out.push(JSON.stringify({ scan: sg.scan(text), nhs: sg.validNHSNumber(text) }));
  }
  process.stdout.write(out.join('\n') + '\n');
}
`

func nodeOrSkip(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/node"); statErr == nil {
			return "/usr/bin/node"
		}
		t.Skip("node not installed; skipping JavaScript parity test")
	}
	return node
}

func jsPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "web", "static", "safeguard.js"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJSRulesMatchGo(t *testing.T) {
	node := nodeOrSkip(t)
	out, err := exec.Command(node, "-e", jsHarness, jsPath(t), "rules").Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderrOf(err))
	}
	var js struct {
		Rules map[string]struct {
			Src  string `json:"src"`
			Fold bool   `json:"fold"`
		} `json:"rules"`
		EventWords string `json:"eventWords"`
		StopWords  string `json:"stopWords"`
		OrgWords   string `json:"orgWords"`
	}
	if err := json.Unmarshal(out, &js); err != nil {
		t.Fatalf("bad JSON from node: %v\n%s", err, out)
	}
	for name, r := range rules {
		jr, ok := js.Rules[name]
		if !ok {
			t.Errorf("safeguard.js has no rule %q", name)
			continue
		}
		// The only spelling difference allowed: \u{...} in JS is \x{...} in Go.
		jsSrc := strings.ReplaceAll(jr.Src, `\u{`, `\x{`)
		if jsSrc != r.src || jr.Fold != r.fold {
			t.Errorf("rule %q differs:\n  go: %v %s\n  js: %v %s", name, r.fold, r.src, jr.Fold, jr.Src)
		}
	}
	for name := range js.Rules {
		if _, ok := rules[name]; !ok {
			t.Errorf("safeguard.js has extra rule %q", name)
		}
	}
	if js.EventWords != eventWordsSrc {
		t.Errorf("event words differ:\n  go: %s\n  js: %s", eventWordsSrc, js.EventWords)
	}
	if js.StopWords != stopWordsSrc {
		t.Errorf("stop words differ:\n  go: %s\n  js: %s", stopWordsSrc, js.StopWords)
	}
	if js.OrgWords != orgWordsSrc {
		t.Errorf("organisation words differ:\n  go: %s\n  js: %s", orgWordsSrc, js.OrgWords)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// utf16Offset converts a byte offset in s to a JavaScript string index.
func utf16Offset(s string, byteOff int) int {
	n := 0
	for _, r := range s[:byteOff] {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

type jsFinding struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// TestJSParity runs safeguard.js under node over both corpora and every
// table-test input and checks that it finds the same things as Scan: same
// kinds, same count, same positions (converted to UTF-16) and labels, and
// the same ValidNHSNumber answer.
func TestJSParity(t *testing.T) {
	node := nodeOrSkip(t)
	var inputs []string
	inputs = append(inputs, readLines(t, "clinical_prose.txt")...)
	inputs = append(inputs, readLines(t, "identifying.txt")...)
	for _, cases := range [][]scanCase{nhsCases, postcodeCases, dateCases, nameCases, mixedCases} {
		for _, c := range cases {
			inputs = append(inputs, c.text)
		}
	}
	inputs = append(inputs,
		"9434765919", "4010232137", "4010232030", "943476591", "94347659190", "9434765918", "0000000000",
		"emoji 😀 then Mrs Smith and 😀 SE15 5DQ, DOB 😀 12/03/1958",
		"Mrs Smith\nborn 12 March 1958",
	)
	var stdin bytes.Buffer
	for _, in := range inputs {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		stdin.Write(b)
		stdin.WriteByte('\n')
	}
	cmd := exec.Command(node, "-e", jsHarness, jsPath(t))
	cmd.Stdin = &stdin
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderrOf(err))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	i := 0
	for sc.Scan() {
		if i >= len(inputs) {
			t.Fatalf("node printed more results than inputs")
		}
		in := inputs[i]
		i++
		var res struct {
			Scan []jsFinding `json:"scan"`
			NHS  bool        `json:"nhs"`
		}
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("bad JSON from node for %q: %v", in, err)
		}
		var want []jsFinding
		for _, f := range Scan(in) {
			want = append(want, jsFinding{string(f.Kind), f.Label, utf16Offset(in, f.Start), utf16Offset(in, f.End)})
		}
		if len(res.Scan) == 0 {
			res.Scan = nil
		}
		if !reflect.DeepEqual(res.Scan, want) {
			t.Errorf("JS and Go disagree on %q\n  go: %+v\n  js: %+v", in, want, res.Scan)
		}
		if res.NHS != ValidNHSNumber(in) {
			t.Errorf("validNHSNumber(%q): js %v, go %v", in, res.NHS, ValidNHSNumber(in))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(inputs) {
		t.Fatalf("node printed %d results for %d inputs", i, len(inputs))
	}
}
