package uploads_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"frontlinevoices/shared/uploads"
)

// FuzzParseCreate: any create body gives a positive size and no panic, or
// an error.
func FuzzParseCreate(f *testing.F) {
	for _, s := range []string{`{"filename":"a.mp4","type":"video/mp4","metadata":{"size":"12582912","story":"x"}}`,
		`{"size":5}`, `{"metadata":{"size":"-1"}}`, `{"metadata":{"size":1}}`, `null`, `{"metadata":{"size":"99999999999999999999"}}`, "{\"filename\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, size, _, err := uploads.ParseCreate(body)
		if err == nil && size < 1 {
			t.Fatalf("%q: size %d accepted", body, size)
		}
	})
}

// FuzzPartLength: the parts of a file cover it exactly, none larger than
// the part size, none past the last.
func FuzzPartLength(f *testing.F) {
	f.Add(int64(12<<20), int64(8<<20), int64(2))
	f.Add(int64(1), int64(5<<20), int64(1))
	f.Add(int64(16<<20), int64(8<<20), int64(3))
	f.Fuzz(func(t *testing.T, size, partSize, n int64) {
		if size < 1 || size > 1<<40 || partSize < 1 || partSize > 1<<33 {
			return
		}
		got, ok := uploads.PartLength(size, partSize, n)
		count := (size + partSize - 1) / partSize
		if ok != (n >= 1 && n <= count) || (ok && (got < 1 || got > partSize)) {
			t.Fatalf("PartLength(%d, %d, %d) = %d %v", size, partSize, n, got, ok)
		}
		if ok && n == count && (count-1)*partSize+got != size {
			t.Fatalf("the parts of %d do not add up", size)
		}
	})
}

// FuzzParseQuery: a query string is read whole, as UTF-8 text, or refused.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"filename=clip.mp4&type=video%2Fmp4&metadata%5Bstory%5D=abc", "filename=%ff", "a=%zz", "", "&&=", "a;b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := uploads.ParseQuery(raw)
		if err != nil {
			return
		}
		for k, vs := range q {
			if !utf8.ValidString(k) {
				t.Fatalf("%q: name %q is not UTF-8", raw, k)
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					t.Fatalf("%q: value %q is not UTF-8", raw, v)
				}
			}
		}
	})
}

// FuzzParsePartNumbers: an accepted list is 1 to MaxBatch distinct part
// numbers, each from 1 to the last part, in the order asked.
func FuzzParsePartNumbers(f *testing.F) {
	for _, s := range []string{"1,2,3", "3,1", "1,1", "0", "9", "", ",", "1,,2", "+1", "-1", "1e3", "01", "99999999999"} {
		f.Add(s, int64(8))
	}
	f.Fuzz(func(t *testing.T, raw string, last int64) {
		ns, err := uploads.ParsePartNumbers([]string{raw}, last)
		if err != nil {
			return
		}
		if len(ns) < 1 || len(ns) > uploads.MaxBatch || len(ns) != strings.Count(raw, ",")+1 {
			t.Fatalf("%q: %d numbers accepted", raw, len(ns))
		}
		seen := map[int32]bool{}
		for _, n := range ns {
			if n < 1 || int64(n) > last || seen[n] {
				t.Fatalf("%q (last %d): %v accepted", raw, last, ns)
			}
			seen[n] = true
		}
	})
}
