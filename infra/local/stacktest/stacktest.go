// Package stacktest holds what the local stack's tests and browser tests
// share to show that no video passes through a function: a padded video
// fixture carrying a marker, and a count of function payloads that looks
// for it.
package stacktest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Marker fills the padding of the big fixtures. It is printable, so it reads
// the same raw and in JSON.
var Marker = []byte("FRONTLINE-VOICES-VIDEO-BYTES-4f1c9e27a0b3")

// markerB64 is Marker base64-encoded at each of its 3 alignments, without
// the characters that depend on the bytes around it.
var markerB64 = func() [][]byte {
	var out [][]byte
	for shift := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{0}, shift), Marker...))
		out = append(out, []byte(enc[4:len(enc)-4]))
	}
	return out
}()

// ContainsMarker reports whether p carries video bytes of the fixtures,
// raw or base64-encoded.
func ContainsMarker(p []byte) bool {
	if bytes.Contains(p, Marker) {
		return true
	}
	for _, m := range markerB64 {
		if bytes.Contains(p, m) {
			return true
		}
	}
	return false
}

// Fixture reads a clip from shared/media/testdata.
func Fixture(name string) ([]byte, error) {
	_, here, _, _ := runtime.Caller(0)
	return os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "media", "testdata", name))
}

// PaddedMP4 is the 2-second faststart.mp4 grown to size bytes by padding its
// mdat (the last box) with Marker: a real, playable MP4.
func PaddedMP4(size int) ([]byte, error) {
	src, err := Fixture("faststart.mp4")
	if err != nil {
		return nil, err
	}
	off := 0
	for off+8 <= len(src) {
		n := int(binary.BigEndian.Uint32(src[off:]))
		if string(src[off+4:off+8]) == "mdat" {
			if off+n != len(src) {
				return nil, fmt.Errorf("faststart.mp4: mdat is not the last box")
			}
			break
		}
		off += n
	}
	if size < len(src) {
		return nil, fmt.Errorf("PaddedMP4: %d bytes is smaller than the fixture", size)
	}
	out := append(make([]byte, 0, size), src...)
	for len(out) < size {
		out = append(out, Marker[:min(len(Marker), size-len(out))]...)
	}
	binary.BigEndian.PutUint32(out[off:], uint32(size-off))
	return out, nil
}

// Traffic counts function invocations and their payloads. Pass its Add as
// stack.Options.OnInvoke.
type Traffic struct {
	mu      sync.Mutex
	calls   map[string]int
	bytes   map[string]int64
	largest int
	marked  int // payloads holding the fixtures' marker
}

// Add records one invocation of function with payload.
func (f *Traffic) Add(function string, payload []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls, f.bytes = map[string]int{}, map[string]int64{}
	}
	f.calls[function]++
	f.bytes[function] += int64(len(payload))
	f.largest = max(f.largest, len(payload))
	if ContainsMarker(payload) {
		f.marked++
	}
}

// Reset forgets everything counted so far.
func (f *Traffic) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.bytes, f.largest, f.marked = nil, nil, 0, 0
}

// Total is what was counted: invocations, payload bytes, the largest
// payload and how many payloads carried video bytes.
func (f *Traffic) Total() (calls int, bytes int64, largest, marked int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, c := range f.calls {
		calls += c
		bytes += f.bytes[n]
	}
	return calls, bytes, f.largest, f.marked
}

var uniqueN atomic.Int64

// Unique makes email an address no earlier test used: a test package shares
// one stack, and -count=N runs its tests again on it.
func Unique(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	return fmt.Sprintf("%s+%d-%d@%s", local, time.Now().UnixNano()%1e9, uniqueN.Add(1), domain)
}
