package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Durations are ffprobe's figures for the fixtures (see testdata/README.md);
// Inspect must be within ±100 ms of them.
const tolerance = 100 * time.Millisecond

type fixtureCase struct {
	file      string
	container string
	mime      string
	duration  time.Duration // ffprobe figure
	code      string        // expected rejection code; "" for an accepted clip
	reason    string        // substring of the rejection reason
}

var fixtureCases = []fixtureCase{
	{file: "faststart.mp4", container: "mp4", mime: "video/mp4", duration: 2 * time.Second},
	{file: "moov_at_end.mp4", container: "mp4", mime: "video/mp4", duration: 2 * time.Second},
	{file: "clip.mov", container: "mp4", mime: "video/quicktime", duration: 2 * time.Second},
	{file: "fragmented.mp4", container: "mp4", mime: "video/mp4", duration: 2 * time.Second},
	{file: "duration.webm", container: "webm", mime: "video/webm", duration: 2 * time.Second},
	// ffprobe: format duration N/A; last packet (Opus) ends at 1.994+0.020 s.
	{file: "mediarecorder.webm", container: "webm", mime: "video/webm", duration: 2014 * time.Millisecond},
	{file: "long_6min.mp4", container: "mp4", mime: "video/mp4", duration: 360 * time.Second},
	{file: "truncated.mp4", code: CodeTruncated, reason: "incomplete"},
	{file: "truncated_no_moov.mp4", code: CodeTruncated, reason: "incomplete"},
	{file: "notes.mp4", code: CodeNotVideo, reason: "it looks like text"},
	{file: "photo.mp4", code: CodeNotVideo, reason: "JPEG image"},
	{file: "audio_only.m4a", code: CodeNotVideo, reason: "sound but no picture"},
	{file: "audio_only.webm", code: CodeNotVideo, reason: "sound but no picture"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// countingReader records the ReadAt calls made through it.
type countingReader struct {
	r       io.ReaderAt
	calls   int
	bytes   int64
	largest int
	ranges  [][2]int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	c.largest = max(c.largest, len(p))
	c.ranges = append(c.ranges, [2]int64{off, off + int64(len(p))})
	return n, err
}

// overlap is how many of the bytes read fall inside [from, to).
func (c *countingReader) overlap(from, to int64) int64 {
	var n int64
	for _, r := range c.ranges {
		if lo, hi := max(r[0], from), min(r[1], to); hi > lo {
			n += hi - lo
		}
	}
	return n
}

func checkResult(t *testing.T, name string, info Info, err error, tc fixtureCase) {
	t.Helper()
	if tc.code != "" {
		var rej *Rejection
		if !errors.As(err, &rej) {
			t.Fatalf("%s: got (%+v, %v), want a %s rejection", name, info, err, tc.code)
		}
		if rej.Code != tc.code || !strings.Contains(rej.Reason, tc.reason) {
			t.Fatalf("%s: got rejection %q / %q, want %q containing %q", name, rej.Code, rej.Reason, tc.code, tc.reason)
		}
		if info != (Info{}) {
			t.Fatalf("%s: rejected but Info = %+v", name, info)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: unexpected error %v", name, err)
	}
	if info.Container != tc.container || info.MIME != tc.mime {
		t.Fatalf("%s: got %s %s, want %s %s", name, info.Container, info.MIME, tc.container, tc.mime)
	}
	if d := info.Duration - tc.duration; d < -tolerance || d > tolerance {
		t.Fatalf("%s: duration %v, ffprobe says %v (±%v)", name, info.Duration, tc.duration, tolerance)
	}
}

func TestInspectFixtures(t *testing.T) {
	for _, tc := range fixtureCases {
		t.Run(tc.file, func(t *testing.T) {
			data := readFixture(t, tc.file)
			info, err := Inspect(bytes.NewReader(data), int64(len(data)))
			checkResult(t, tc.file, info, err, tc)
			if err == nil {
				t.Logf("%s: %s %s %v (ffprobe %v)", tc.file, info.Container, info.MIME, info.Duration, tc.duration)
			}

			// Through an *os.File, as io.ReaderAt.
			f, ferr := os.Open(filepath.Join("testdata", tc.file))
			if ferr != nil {
				t.Fatal(ferr)
			}
			defer f.Close()
			info2, err2 := Inspect(f, int64(len(data)))
			if info2 != info || errString(err2) != errString(err) {
				t.Fatalf("os.File: got (%+v, %v), bytes.Reader gave (%+v, %v)", info2, err2, info, err)
			}

			// The result must not depend on how the reads are chunked.
			for _, c := range [][2]int{{16, 16}, {16, 64}, {100, 1000}, {4096, 1 << 20}} {
				info3, err3 := inspect(bytes.NewReader(data), int64(len(data)), c[0], c[1])
				if info3 != info || errString(err3) != errString(err) {
					t.Fatalf("chunks %v: got (%+v, %v), want (%+v, %v)", c, info3, err3, info, err)
				}
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTruncatedPrefixes cuts every accepted fixture at every length. Files
// whose structure declares their full size (MP4 boxes, known-size WebM
// Segment) must be rejected as truncated at every cut; streaming files
// (fragmented MP4, MediaRecorder WebM) may also be accepted with a shorter
// duration when the cut falls exactly on an element boundary.
func TestTruncatedPrefixes(t *testing.T) {
	streaming := map[string]bool{"fragmented.mp4": true, "mediarecorder.webm": true}
	for _, tc := range fixtureCases {
		if tc.code != "" {
			continue
		}
		data := readFixture(t, tc.file)
		accepted := 0
		for k := 1; k < len(data); k++ {
			info, err := Inspect(bytes.NewReader(data[:k]), int64(k))
			var rej *Rejection
			switch {
			case err == nil:
				if !streaming[tc.file] || k < 8 {
					t.Fatalf("%s cut at %d/%d: accepted as %+v", tc.file, k, len(data), info)
				}
				if info.Duration > tc.duration+tolerance {
					t.Fatalf("%s cut at %d: duration %v longer than the whole file", tc.file, k, info.Duration)
				}
				accepted++
			case !errors.As(err, &rej):
				t.Fatalf("%s cut at %d: plain error %v", tc.file, k, err)
			case k >= 8 && rej.Code != CodeTruncated && !(streaming[tc.file] && rej.Code == CodeNoDuration):
				t.Fatalf("%s cut at %d/%d: got %v, want truncated", tc.file, k, len(data), err)
			}
		}
		if accepted > 0 {
			t.Logf("%s: %d of %d cuts fall on an element boundary and are accepted", tc.file, accepted, len(data)-1)
		}
	}
}

// TestMoovAtEndReadsLittle shows that a moov after the mdat is found by
// jumping over the mdat, not by reading it.
func TestMoovAtEndReadsLittle(t *testing.T) {
	data := readFixture(t, "moov_at_end.mp4")
	mdatStart, mdatEnd := findBox(t, data, "mdat")
	moovStart, _ := findBox(t, data, "moov")
	if moovStart < mdatEnd {
		t.Fatal("fixture moov_at_end.mp4 has its moov before the mdat")
	}

	// Default settings: the whole (2.5 KB) fixture arrives in one read.
	cr := &countingReader{r: bytes.NewReader(data)}
	if _, err := Inspect(cr, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	t.Logf("default chunks: %d ReadAt calls, %d bytes (file %d bytes)", cr.calls, cr.bytes, len(data))
	if cr.calls != 1 {
		t.Errorf("default chunks: %d ReadAt calls for a %d-byte file, want 1", cr.calls, len(data))
	}

	// With 64-byte reads the fixture behaves like a big file: only the first
	// read (the 512-byte sniff) may spill into the mdat payload.
	const chunk = 64
	cr = &countingReader{r: bytes.NewReader(data)}
	if _, err := inspect(cr, int64(len(data)), chunk, chunk); err != nil {
		t.Fatal(err)
	}
	inMdat := cr.overlap(mdatStart+16, mdatEnd)
	t.Logf("64-byte chunks: %d ReadAt calls, %d bytes, %d of them inside the %d-byte mdat payload", cr.calls, cr.bytes, inMdat, mdatEnd-mdatStart-8)
	if inMdat > sniffLen {
		t.Errorf("read %d bytes of the mdat payload, want at most %d", inMdat, sniffLen)
	}
	if n := cr.overlap(sniffLen, mdatEnd); n != 0 {
		t.Errorf("read %d bytes of the mdat payload after the first read", n)
	}

	// A 50 MiB file with the same moov at the end.
	big := sparseMP4(t, 50<<20)
	cr = &countingReader{r: big}
	info, err := Inspect(cr, big.size)
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 2*time.Second {
		t.Errorf("duration %v, want 2s", info.Duration)
	}
	t.Logf("50 MiB moov-at-end mp4: %d ReadAt calls, %d bytes read", cr.calls, cr.bytes)
	if cr.calls > 3 || cr.bytes > 256<<10 {
		t.Errorf("50 MiB file: %d calls, %d bytes read; want <= 3 calls and <= 256 KiB", cr.calls, cr.bytes)
	}
	if n := cr.overlap(defaultMinChunk, big.moovOff); n != 0 {
		t.Errorf("read %d bytes from the middle of the mdat", n)
	}
}

// findBox returns the extent of the first top-level box of type typ.
func findBox(t testing.TB, data []byte, typ string) (start, end int64) {
	t.Helper()
	for off := int64(0); off+8 <= int64(len(data)); {
		size := int64(binary.BigEndian.Uint32(data[off:]))
		if string(data[off+4:off+8]) == typ {
			return off, off + size
		}
		if size < 8 {
			break
		}
		off += size
	}
	t.Fatalf("no %s box", typ)
	return 0, 0
}

// sparseReader is a large synthetic MP4: head bytes, then zeros (the mdat
// payload), then the moov at the end. It uses no memory for the zeros.
type sparseReader struct {
	head    []byte
	moov    []byte
	moovOff int64
	size    int64
}

func (s *sparseReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > s.size-off {
		n = int(s.size - off)
	}
	for i := 0; i < n; i++ {
		o := off + int64(i)
		switch {
		case o < int64(len(s.head)):
			p[i] = s.head[o]
		case o >= s.moovOff:
			p[i] = s.moov[o-s.moovOff]
		default:
			p[i] = 0
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sparseMP4 builds a moov-at-end MP4 of the given size from the
// moov_at_end.mp4 fixture: its ftyp and moov around a huge mdat of zeros.
func sparseMP4(t testing.TB, size int64) *sparseReader {
	data := readFixture(t, "moov_at_end.mp4")
	_, ftypEnd := findBox(t, data, "ftyp")
	moovStart, moovEnd := findBox(t, data, "moov")
	moov := data[moovStart:moovEnd]
	head := append([]byte(nil), data[:ftypEnd]...)
	mdatSize := size - int64(len(head)) - int64(len(moov))
	head = binary.BigEndian.AppendUint32(head, uint32(mdatSize))
	head = append(head, "mdat"...)
	return &sparseReader{head: head, moov: moov, moovOff: size - int64(len(moov)), size: size}
}

// TestMediaRecorderLargeFile checks that a Duration-less, unknown-size WebM
// (which must be scanned to the end) is read in few, large, bounded reads.
func TestMediaRecorderLargeFile(t *testing.T) {
	const (
		clusters  = 100
		perClust  = 10
		blockSize = 40 << 10
	)
	payload := make([]byte, blockSize)
	var f bytes.Buffer
	// The file's size, ahead: growing a 40 MB buffer by doubling costs
	// more CPU than the rest of the test.
	f.Grow(clusters * perClust * (blockSize + 64))
	f.Write(ebmlHeader("webm"))
	f.Write(unknownSizeElem(idSegment))
	f.Write(ebml(idInfo, ebml(idTimecodeScale, uintBytes(1000000))))
	f.Write(ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(1)), ebml(idTrackType, uintBytes(1)))))
	for c := 0; c < clusters; c++ {
		f.Write(unknownSizeElem(idCluster))
		f.Write(ebml(idTimestamp, uintBytes(uint64(c*1000))))
		for i := 0; i < perClust; i++ {
			f.Write(ebml(idSimpleBlock, simpleBlock(1, int16(i*100)), payload))
		}
	}
	data := f.Bytes()
	cr := &countingReader{r: bytes.NewReader(data)}
	info, err := Inspect(cr, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 100*time.Second {
		t.Errorf("duration %v, want 100s (last block at 99.9s + one frame)", info.Duration)
	}
	t.Logf("%d MiB MediaRecorder-style webm: %d ReadAt calls, %d bytes read, largest read %d bytes",
		len(data)>>20, cr.calls, cr.bytes, cr.largest)
	if cr.largest > defaultMaxChunk {
		t.Errorf("largest read %d bytes, want <= %d", cr.largest, defaultMaxChunk)
	}
	if want := len(data)/defaultMaxChunk + 8; cr.calls > want {
		t.Errorf("%d ReadAt calls, want <= %d", cr.calls, want)
	}
}

// TestMediaRecorderFixtureLayout guards the fixture itself: it must look
// like MediaRecorder output, or the test above proves nothing.
func TestMediaRecorderFixtureLayout(t *testing.T) {
	data := readFixture(t, "mediarecorder.webm")
	unknown := []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	if !bytes.Contains(data, append([]byte{0x18, 0x53, 0x80, 0x67}, unknown...)) {
		t.Error("Segment does not have the unknown size")
	}
	if n := bytes.Count(data, append([]byte{0x1F, 0x43, 0xB6, 0x75}, unknown...)); n < 2 {
		t.Errorf("%d unknown-size Clusters, want several", n)
	}
	b := newReader(bytes.NewReader(data), int64(len(data)), 4096, 4096)
	st := webmState{scale: 1000000}
	b.pos = 0
	hdr, err := readElem(b, b.size)
	if err != nil {
		t.Fatal(err)
	}
	b.pos = hdr.end
	seg, err := readElem(b, b.size)
	if err != nil {
		t.Fatal(err)
	}
	if err := parseSegment(b, seg, &st); err != nil {
		t.Fatal(err)
	}
	if st.hasDuration {
		t.Error("fixture has an Info/Duration element")
	}
	if st.blocks == 0 {
		t.Error("fixture has no blocks")
	}
}

type rejectionCase struct {
	name   string
	data   []byte
	code   string
	reason string
}

type acceptedCase struct {
	name     string
	data     []byte
	mime     string
	duration time.Duration
}

func rejectionCases() []rejectionCase {
	riff := func(kind string) []byte {
		return append([]byte("RIFF\x24\x00\x00\x00"+kind), make([]byte, 64)...)
	}
	ts := make([]byte, 400)
	ts[0], ts[188], ts[376] = 0x47, 0x47, 0x47
	noise := make([]byte, 1024)
	for i := range noise {
		noise[i] = byte(i*7919>>3) | 0x80
	}
	ftypIsom := mkbox("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	videoTrak := trak(1, 1000, 0, "vide")
	webmVideoTracks := ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(1)), ebml(idTrackType, uintBytes(1))))

	return []rejectionCase{
		{"empty", nil, CodeNotVideo, "it is empty"},
		{"tiny binary", []byte{0x01, 0x02, 0x03}, CodeNotVideo, "too short"},
		{"short text", []byte("hi"), CodeNotVideo, "text"},
		{"text", []byte("Once upon a time, a story that is not a video.\n"), CodeNotVideo, "it looks like text"},
		{"utf8 text", []byte("Свидетельство — это не видео. 証言\n"), CodeNotVideo, "text"},
		{"utf16 text", []byte("\xFF\xFEh\x00i\x00"), CodeNotVideo, "text"},
		{"html", []byte("<!DOCTYPE html><html><body>upload failed</body></html>"), CodeNotVideo, "text"},
		{"noise", noise, CodeNotVideo, "not recognised"},
		{"jpeg", append([]byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), make([]byte, 100)...), CodeNotVideo, "JPEG image"},
		{"png", append([]byte("\x89PNG\r\n\x1A\n"), make([]byte, 100)...), CodeNotVideo, "PNG image"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), CodeNotVideo, "GIF image"},
		{"webp", riff("WEBP"), CodeNotVideo, "WebP image"},
		{"heic", append(mkbox("ftyp", []byte("heic\x00\x00\x00\x00mif1heic")), mkbox("meta", make([]byte, 20))...), CodeNotVideo, "HEIC image"},
		{"pdf", []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"), CodeNotVideo, "PDF"},
		{"zip", append([]byte("PK\x03\x04"), make([]byte, 40)...), CodeNotVideo, "zip"},
		{"mp3 id3", append([]byte("ID3\x04\x00\x00"), make([]byte, 40)...), CodeNotVideo, "MP3 audio"},
		{"mp3 frame", append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 40)...), CodeNotVideo, "MP3 audio"},
		{"wav", riff("WAVE"), CodeNotVideo, "WAV audio"},
		{"avi", riff("AVI "), CodeUnsupported, "AVI"},
		{"flv", append([]byte("FLV\x01\x05\x00\x00\x00\x09"), make([]byte, 40)...), CodeUnsupported, "Flash"},
		{"ogg", append([]byte("OggS\x00\x02"), make([]byte, 40)...), CodeUnsupported, "Ogg"},
		{"mpeg-ts", ts, CodeUnsupported, "transport stream"},
		{"wmv", append([]byte("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C"), make([]byte, 40)...), CodeUnsupported, "Windows Media"},

		// MP4 structure problems.
		{"ftyp only", ftypIsom, CodeTruncated, "incomplete"},
		{"ftyp cut", ftypIsom[:12], CodeTruncated, "incomplete"},
		{"mdat past end", cat(ftypIsom, []byte("\x00\x10\x00\x00mdat"), make([]byte, 100)), CodeTruncated, "incomplete"},
		{"largesize past end", cat(ftypIsom, []byte("\x00\x00\x00\x01mdat\x00\x00\x00\x01\x00\x00\x00\x00"), make([]byte, 100)), CodeTruncated, "incomplete"},
		{"box size 4", cat(ftypIsom, []byte("\x00\x00\x00\x04free"), make([]byte, 100)), CodeUnsupported, "damaged"},
		{"largesize 8", cat(ftypIsom, []byte("\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x00\x08"), make([]byte, 100)), CodeUnsupported, "damaged"},
		{"child larger than parent", cat(ftypIsom, mkbox("moov", []byte("\x00\x00\x01\x00mvhd"), make([]byte, 100))), CodeUnsupported, "damaged"},
		{"stray trailing bytes", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 2000), videoTrak), []byte{1, 2, 3}), CodeTruncated, "incomplete"},
		{"mvhd duration 0", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 0), videoTrak)), CodeNoDuration, "no duration"},
		{"mvhd timescale 0", cat(ftypIsom, mkbox("moov", mvhd(0, 0, 1000), videoTrak)), CodeNoDuration, "no duration"},
		{"no mvhd", cat(ftypIsom, mkbox("moov", videoTrak)), CodeNoDuration, "no duration"},
		{"no video track", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 2000))), CodeNotVideo, "no video track"},
		{"audio track only", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 2000), trak(1, 48000, 96000, "soun"))), CodeNotVideo, "sound but no picture"},
		{"chunk offset past end", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 2000), trakWithChunk(1, 1000, 2000, "vide", 1<<20))), CodeTruncated, "incomplete"},
		{"bad chunk table", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 2000), badChunkTrak())), CodeUnsupported, "damaged"},
		{"fragmented, no fragments", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 0), trak(1, 1000, 0, "vide"), mkbox("mvex", trex(1, 100)))), CodeTruncated, "incomplete"},

		// WebM / Matroska structure problems.
		{"ebml magic only", []byte{0x1A, 0x45, 0xDF, 0xA3}, CodeTruncated, "incomplete"},
		{"ebml header only", ebmlHeader("webm"), CodeTruncated, "incomplete"},
		{"other doctype", cat(ebmlHeader("foo"), ebml(idSegment)), CodeUnsupported, "not Matroska or WebM"},
		{"long doctype", cat(ebml(idEBML, ebml(idDocType, bytes.Repeat([]byte("x"), 100))), ebml(idSegment)), CodeUnsupported, "not Matroska or WebM"},
		{"segment past end", cat(ebmlHeader("webm"), []byte{0x18, 0x53, 0x80, 0x67, 0x1F, 0xFF, 0xFF, 0x00}, make([]byte, 64)), CodeTruncated, "incomplete"},
		{"invalid id", cat(ebmlHeader("webm"), ebml(idSegment, []byte{0x00, 0x81, 0x00})), CodeUnsupported, "damaged"},
		{"invalid size", cat(ebmlHeader("webm"), ebml(idSegment, []byte{0xEC, 0x00, 0x00})), CodeUnsupported, "damaged"},
		{"no tracks", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(2000))))), CodeUnsupported, "no track list"},
		{"live, cut before tracks", cat(ebmlHeader("webm"), unknownSizeElem(idSegment), ebml(idInfo, ebml(idTimecodeScale, uintBytes(1000000)))), CodeTruncated, "incomplete"},
		{"audio only", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(2000))),
			ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(1)), ebml(idTrackType, uintBytes(2)))))), CodeNotVideo, "sound but no picture"},
		{"no blocks no duration", cat(ebmlHeader("webm"), ebml(idSegment, webmVideoTracks)), CodeNoDuration, "no duration"},
		{"NaN duration", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(math.NaN()))), webmVideoTracks)), CodeNoDuration, "no duration"},
		{"negative duration", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(-5))), webmVideoTracks)), CodeNoDuration, "no duration"},
		{"huge duration", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(1e300))), webmVideoTracks)), CodeNoDuration, "no duration"},
		{"3-byte float", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idDuration, []byte{1, 2, 3})), webmVideoTracks)), CodeUnsupported, "damaged"},
		{"9-byte uint", cat(ebmlHeader("webm"), ebml(idSegment, ebml(idInfo, ebml(idTimecodeScale, make([]byte, 9))), webmVideoTracks)), CodeUnsupported, "damaged"},
		{"unknown-size info", cat(ebmlHeader("webm"), unknownSizeElem(idSegment), unknownSizeElem(idInfo)), CodeUnsupported, "damaged"},
		{"short block", cat(ebmlHeader("webm"), ebml(idSegment, webmVideoTracks, ebml(idCluster, ebml(idSimpleBlock, []byte{0x81})))), CodeUnsupported, "damaged"},
		{"block past end", cat(ebmlHeader("webm"), unknownSizeElem(idSegment), webmVideoTracks, unknownSizeElem(idCluster),
			ebml(idTimestamp, uintBytes(0)), []byte{0xA3, 0x10, 0x00, 0x10, 0x00, 0x81, 0x00, 0x00, 0x80}), CodeTruncated, "incomplete"},
	}
}

func TestRejections(t *testing.T) {
	for _, tc := range rejectionCases() {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(bytes.NewReader(tc.data), int64(len(tc.data)))
			checkResult(t, tc.name, info, err, fixtureCase{code: tc.code, reason: tc.reason})
			t.Logf("%v", err)
		})
	}
}

func acceptedCases(t testing.TB) []acceptedCase {
	ftypIsom := mkbox("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	fast := readFixture(t, "faststart.mp4")
	atEnd := readFixture(t, "moov_at_end.mp4")
	mov := readFixture(t, "clip.mov")

	// moov_at_end.mp4 has "free"(8) + "mdat"(8) after the ftyp; turn them
	// into one 16-byte mdat header with a 64-bit size, as ffmpeg does for
	// big files.
	_, ftypEnd := findBox(t, atEnd, "ftyp")
	mdatStart, mdatEnd := findBox(t, atEnd, "mdat")
	if mdatStart != ftypEnd+8 {
		t.Fatal("unexpected moov_at_end.mp4 layout")
	}
	large := append([]byte(nil), atEnd...)
	binary.BigEndian.PutUint32(large[ftypEnd:], 1)
	copy(large[ftypEnd+4:], "mdat")
	binary.BigEndian.PutUint64(large[ftypEnd+8:], uint64(mdatEnd-ftypEnd))

	// faststart.mp4 with its (last) mdat of size 0: "to the end of the file".
	size0 := append([]byte(nil), fast...)
	s0, _ := findBox(t, size0, "mdat")
	binary.BigEndian.PutUint32(size0[s0:], 0)

	// clip.mov without its ftyp: a legacy QuickTime file starting with "wide".
	_, movFtypEnd := findBox(t, mov, "ftyp")
	legacy := mov[movFtypEnd:]

	// moov_at_end.mp4 with its mvhd rewritten as version 1.
	v1 := mvhdV1(t, atEnd)

	videoTrak := trak(1, 1000, 0, "vide")
	ebmlVideoTracks := ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(1)), ebml(idTrackType, uintBytes(1))))

	return []acceptedCase{
		{"64-bit mdat size", large, "video/mp4", 2 * time.Second},
		{"mdat size 0", size0, "video/mp4", 2 * time.Second},
		{"legacy quicktime", legacy, "video/quicktime", 2 * time.Second},
		{"mvhd version 1", v1, "video/mp4", 2 * time.Second},
		{"mvhd v1 synthetic", cat(ftypIsom, mkbox("moov", mvhd(1, 600, 7407), videoTrak)), "video/mp4", 12345 * time.Millisecond},
		{"mvhd unknown, mdhd known", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 0xFFFFFFFF), trak(1, 90000, 450000, "vide"))), "video/mp4", 5 * time.Second},
		{"quicktime brand", cat(mkbox("ftyp", []byte("qt  \x00\x00\x02\x00qt  ")), mkbox("moov", mvhd(0, 1000, 1500), videoTrak)), "video/quicktime", 1500 * time.Millisecond},
		{"3gp brand", cat(mkbox("ftyp", []byte("3gp4\x00\x00\x02\x00isom3gp4")), mkbox("moov", mvhd(0, 1000, 1500), videoTrak)), "video/mp4", 1500 * time.Millisecond},
		{"mehd", cat(ftypIsom, mkbox("moov", mvhd(0, 1000, 0), videoTrak, mkbox("mvex", fullbox("mehd", 0, u32(4200)), trex(1, 0)))),
			"video/mp4", 4200 * time.Millisecond},
		{"fragments with tfdt v1 and default duration", cat(ftypIsom,
			mkbox("moov", mvhd(0, 1000, 0), trak(1, 90000, 0, "vide"), mkbox("mvex", trex(1, 3000))),
			moof(1, true, 0, 0, 30, nil), mkbox("mdat", make([]byte, 10)),
			moof(1, true, 90000, 6000, 30, nil), mkbox("mdat", make([]byte, 10))),
			"video/mp4", 3 * time.Second},
		{"fragments without tfdt, per-sample durations", cat(ftypIsom,
			mkbox("moov", mvhd(0, 1000, 0), trak(1, 1000, 0, "vide"), mkbox("mvex", trex(1, 0))),
			moof(1, false, 0, 0, 0, []uint32{500, 500}), mkbox("mdat", make([]byte, 10)),
			moof(1, false, 0, 0, 0, []uint32{400, 600, 250})),
			"video/mp4", 2250 * time.Millisecond},

		// WebM variations.
		{"webm float32 duration, custom scale", cat(ebmlHeader("webm"), ebml(idSegment,
			ebml(idInfo, ebml(idTimecodeScale, uintBytes(100000)), ebml(idDuration, f32(25000))), ebmlVideoTracks,
			ebml(idCluster, ebml(idTimestamp, uintBytes(0)), ebml(idSimpleBlock, simpleBlock(1, 0))))),
			"video/webm", 2500 * time.Millisecond},
		{"matroska doctype", cat(ebmlHeader("matroska"), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(1234))), ebmlVideoTracks)),
			"video/webm", 1234 * time.Millisecond},
		{"no doctype (defaults to matroska)", cat(ebml(idEBML), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(1234))), ebmlVideoTracks)),
			"video/webm", 1234 * time.Millisecond},
		{"void before segment", cat(ebmlHeader("webm"), ebml(idVoidTest, make([]byte, 5)), ebml(idSegment, ebml(idInfo, ebml(idDuration, f64(1000))), ebmlVideoTracks)),
			"video/webm", time.Second},
		{"known sizes, no duration, BlockGroup with BlockDuration", cat(ebmlHeader("webm"), ebml(idSegment, ebmlVideoTracks,
			ebml(idCluster, ebml(idTimestamp, uintBytes(1000)), ebml(idSimpleBlock, simpleBlock(1, 0))),
			ebml(idCluster, ebml(idTimestamp, uintBytes(2000)), ebml(idBlockGroup, ebml(idBlock, simpleBlock(1, 500)), ebml(idBlockDuration, uintBytes(250)))),
			ebml(idCues, make([]byte, 10)))),
			"video/webm", 2750 * time.Millisecond},
		{"DefaultDuration", cat(ebmlHeader("webm"), unknownSizeElem(idSegment),
			ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(1)), ebml(idTrackType, uintBytes(1)), ebml(idDefaultDuration, uintBytes(40000000)))),
			unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(0)), ebml(idSimpleBlock, simpleBlock(1, 960))),
			"video/webm", time.Second},
		{"unknown clusters ended by Cues and a second segment", cat(ebmlHeader("webm"), unknownSizeElem(idSegment), ebmlVideoTracks,
			unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(0)), ebml(idSimpleBlock, simpleBlock(1, 0)), ebml(idSimpleBlock, simpleBlock(1, 100)),
			unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(200)), ebml(idSimpleBlock, simpleBlock(1, 0)),
			ebml(idCues, make([]byte, 4)),
			ebmlHeader("webm"), ebml(idSegment, make([]byte, 4))),
			"video/webm", 300 * time.Millisecond},
		{"Duration wins over blocks", cat(ebmlHeader("webm"), unknownSizeElem(idSegment), ebml(idInfo, ebml(idDuration, f64(5000))), ebmlVideoTracks,
			unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(0)), ebml(idSimpleBlock, simpleBlock(1, 0))),
			"video/webm", 5 * time.Second},
		{"two-byte track number, negative timecode", cat(ebmlHeader("webm"), unknownSizeElem(idSegment),
			ebml(idTracks, ebml(idTrackEntry, ebml(idTrackNumber, uintBytes(200)), ebml(idTrackType, uintBytes(1)))),
			unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(1000)), ebml(idSimpleBlock, []byte{0x40, 200, 0xFF, 0x38, 0x80}), // -200
			ebml(idSimpleBlock, []byte{0x40, 200, 0x00, 0x00, 0x80})),
			"video/webm", 1200 * time.Millisecond},
	}
}

func TestAccepted(t *testing.T) {
	for _, tc := range acceptedCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(bytes.NewReader(tc.data), int64(len(tc.data)))
			container := "mp4"
			if strings.HasSuffix(tc.mime, "webm") {
				container = "webm"
			}
			checkResult(t, tc.name, info, err, fixtureCase{container: container, mime: tc.mime, duration: tc.duration})
			if info.Duration != tc.duration {
				t.Errorf("duration %v, want exactly %v", info.Duration, tc.duration)
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) ReadAt([]byte, int64) (int, error) { return 0, e.err }

func TestIOErrors(t *testing.T) {
	boom := errors.New("s3: connection reset")
	_, err := Inspect(errReader{boom}, 1000)
	var rej *Rejection
	if !errors.Is(err, boom) || errors.As(err, &rej) {
		t.Errorf("failing reader: got %v, want a plain error wrapping %v", err, boom)
	}

	// The object is shorter than the size the caller declared.
	data := readFixture(t, "faststart.mp4")
	_, err = Inspect(bytes.NewReader(data[:100]), int64(len(data)))
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &rej) {
		t.Errorf("short object: got %v, want a plain error wrapping io.ErrUnexpectedEOF", err)
	}

	// An error partway: the first read works, the jump to the moov fails.
	big := sparseMP4(t, 10<<20)
	_, err = Inspect(&failAfter{r: big, n: 1, err: boom}, big.size)
	if !errors.Is(err, boom) || errors.As(err, &rej) {
		t.Errorf("failure on the second read: got %v", err)
	}

	if _, err := Inspect(nil, 10); err == nil || errors.As(err, &rej) {
		t.Errorf("nil reader: got %v", err)
	}
	if _, err := Inspect(bytes.NewReader(nil), -1); err == nil || errors.As(err, &rej) {
		t.Errorf("negative size: got %v", err)
	}
}

type failAfter struct {
	r   io.ReaderAt
	n   int
	err error
}

func (f *failAfter) ReadAt(p []byte, off int64) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	f.n--
	return f.r.ReadAt(p, off)
}

func TestRejectionError(t *testing.T) {
	var err error = rejTruncated()
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Code != CodeTruncated {
		t.Fatalf("errors.As failed for %v", err)
	}
	want := "media: truncated: the video file is incomplete (it may have been cut off during upload)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if got := (*Rejection)(nil).Error(); got != "<nil>" {
		t.Errorf("nil Error() = %q", got)
	}
}

// BenchmarkInspect inspects a 50 MiB moov-at-end MP4 (synthetic, sparse:
// the mdat is zeros generated on the fly) and reports the bytes and ReadAt
// calls it needed.
func BenchmarkInspect(b *testing.B) {
	big := sparseMP4(b, 50<<20)
	var calls, read int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cr := &countingReader{r: big}
		info, err := Inspect(cr, big.size)
		if err != nil || info.Duration != 2*time.Second {
			b.Fatalf("got (%+v, %v)", info, err)
		}
		calls += int64(cr.calls)
		read += cr.bytes
	}
	b.ReportMetric(float64(read)/float64(b.N), "bytes-read/op")
	b.ReportMetric(float64(calls)/float64(b.N), "ReadAt-calls/op")
	b.ReportMetric(float64(big.size), "file-bytes")
}

// FuzzInspect checks that Inspect never panics, that it only fails with a
// *Rejection on in-memory input, that accepted clips are well-formed, and
// that the outcome does not depend on how the reads are chunked.
func FuzzInspect(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".sh") || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		f.Add(readFixture(f, e.Name()))
	}
	for _, c := range rejectionCases() {
		f.Add(c.data)
	}
	for _, c := range acceptedCases(f) {
		f.Add(c.data)
	}
	ftyp := mkbox("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	f.Add(cat(ftyp, mkbox("moov", mvhd(0, 1000, 0), trak(1, 1000, 0, "vide"), mkbox("mvex", trex(1, 3000))), moof(1, true, 0, 0, 30, nil)))
	f.Add(cat(ebmlHeader("webm"), unknownSizeElem(idSegment), unknownSizeElem(idCluster), ebml(idTimestamp, uintBytes(0))))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("plain error on in-memory input: %v", err)
			}
			if rej.Code == "" || rej.Reason == "" || info != (Info{}) {
				t.Fatalf("bad rejection %+v with info %+v", rej, info)
			}
		} else {
			switch {
			case info.Duration <= 0:
				t.Fatalf("accepted with duration %v", info.Duration)
			case info.Container == "mp4" && (info.MIME == "video/mp4" || info.MIME == "video/quicktime"):
			case info.Container == "webm" && info.MIME == "video/webm":
			default:
				t.Fatalf("accepted with bad info %+v", info)
			}
		}
		cr := &countingReader{r: bytes.NewReader(data)}
		info2, err2 := inspect(cr, int64(len(data)), 16, 64)
		if info2 != info || errString(err2) != errString(err) {
			t.Fatalf("16/64-byte chunks gave (%+v, %v), default gave (%+v, %v)", info2, err2, info, err)
		}
		if cr.largest > max(64, sniffLen) {
			t.Fatalf("read %d bytes at once with a 64-byte limit", cr.largest)
		}
	})
}

// ---- builders for synthetic files ----

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func mkbox(typ string, payload ...[]byte) []byte {
	body := cat(payload...)
	return cat(u32(uint32(8+len(body))), []byte(typ), body)
}

func fullbox(typ string, version byte, payload ...[]byte) []byte {
	return mkbox(typ, append([]byte{version, 0, 0, 0}, cat(payload...)...))
}

func mvhd(version byte, timescale uint32, duration uint64) []byte {
	if version == 1 {
		return fullbox("mvhd", 1, u64(0), u64(0), u32(timescale), u64(duration), make([]byte, 80))
	}
	return fullbox("mvhd", 0, u32(0), u32(0), u32(timescale), u32(uint32(duration)), make([]byte, 80))
}

func trak(id, timescale uint32, duration uint32, handler string) []byte {
	return mkbox("trak",
		fullbox("tkhd", 0, u32(0), u32(0), u32(id), make([]byte, 68)),
		mkbox("mdia",
			fullbox("mdhd", 0, u32(0), u32(0), u32(timescale), u32(duration), make([]byte, 4)),
			fullbox("hdlr", 0, u32(0), []byte(handler), make([]byte, 13))))
}

func trakWithChunk(id, timescale, duration uint32, handler string, chunkOff uint32) []byte {
	return mkbox("trak",
		fullbox("tkhd", 0, u32(0), u32(0), u32(id), make([]byte, 68)),
		mkbox("mdia",
			fullbox("mdhd", 0, u32(0), u32(0), u32(timescale), u32(duration), make([]byte, 4)),
			fullbox("hdlr", 0, u32(0), []byte(handler), make([]byte, 13)),
			mkbox("minf", mkbox("stbl", fullbox("stco", 0, u32(2), u32(100), u32(chunkOff))))))
}

func badChunkTrak() []byte {
	return mkbox("trak",
		fullbox("tkhd", 0, u32(0), u32(0), u32(1), make([]byte, 68)),
		mkbox("mdia",
			fullbox("mdhd", 0, u32(0), u32(0), u32(1000), u32(1000), make([]byte, 4)),
			fullbox("hdlr", 0, u32(0), []byte("vide"), make([]byte, 13)),
			mkbox("minf", mkbox("stbl", fullbox("co64", 0, u32(1000000), u64(100))))))
}

func trex(id, defaultDuration uint32) []byte {
	return fullbox("trex", 0, u32(id), u32(1), u32(defaultDuration), u32(0), u32(0))
}

// moof builds a movie fragment for one track: tfhd (with a default sample
// duration when defDur > 0), tfdt v1 when withTfdt, and a trun with either
// count samples of the default duration or the given per-sample durations.
func moof(id uint32, withTfdt bool, base uint64, defDur uint32, count uint32, durs []uint32) []byte {
	var tfhd []byte
	if defDur > 0 {
		tfhd = mkbox("tfhd", []byte{0, 0, 0, 0x08}, u32(id), u32(defDur))
	} else {
		tfhd = mkbox("tfhd", []byte{0, 0x02, 0, 0}, u32(id)) // default-base-is-moof
	}
	var trun []byte
	if durs != nil {
		entries := [][]byte{{0, 0, 0x03, 0x01}, u32(uint32(len(durs))), u32(0)} // data offset, duration+size per sample
		for _, d := range durs {
			entries = append(entries, u32(d), u32(1))
		}
		trun = mkbox("trun", entries...)
	} else {
		trun = mkbox("trun", []byte{0, 0, 0x02, 0x01}, u32(count), u32(0), bytes.Repeat(u32(1), int(count))) // sizes only
	}
	parts := [][]byte{tfhd}
	if withTfdt {
		parts = append(parts, fullbox("tfdt", 1, u64(base)))
	}
	parts = append(parts, trun)
	return mkbox("moof", fullbox("mfhd", 0, u32(1)), mkbox("traf", parts...))
}

// mvhdV1 rewrites the mvhd of a moov-at-end file as version 1 (the moov
// grows by 12 bytes; it is the last box, so no offsets move).
func mvhdV1(t testing.TB, data []byte) []byte {
	moovStart, moovEnd := findBox(t, data, "moov")
	moov := data[moovStart:moovEnd]
	if moovEnd != int64(len(data)) || string(moov[12:16]) != "mvhd" || moov[16] != 0 {
		t.Fatal("unexpected moov layout")
	}
	mvhdSize := int(binary.BigEndian.Uint32(moov[8:]))
	old := moov[8 : 8+mvhdSize]
	// v0 payload: vf(4) creation(4) modification(4) timescale(4) duration(4) rest
	rest := old[28:]
	nv := fullbox("mvhd", 1, u64(uint64(binary.BigEndian.Uint32(old[12:]))), u64(uint64(binary.BigEndian.Uint32(old[16:]))),
		old[20:24], u64(uint64(binary.BigEndian.Uint32(old[24:]))), rest)
	newMoov := mkbox("moov", nv, moov[8+mvhdSize:])
	return cat(data[:moovStart], newMoov)
}

const idVoidTest = 0xEC

// ebml encodes an element with an 8-byte size.
func ebml(id uint32, payload ...[]byte) []byte {
	body := cat(payload...)
	return cat(idBytes(id), []byte{0x01}, u64(uint64(len(body)))[1:], body)
}

func unknownSizeElem(id uint32) []byte {
	return cat(idBytes(id), []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
}

func idBytes(id uint32) []byte {
	b := u32(id)
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func ebmlHeader(docType string) []byte {
	return ebml(idEBML, ebml(0x4286, uintBytes(1)), ebml(idDocType, []byte(docType)), ebml(0x4287, uintBytes(4)))
}

func uintBytes(v uint64) []byte {
	b := u64(v)
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func f64(v float64) []byte { return u64(math.Float64bits(v)) }
func f32(v float32) []byte { return u32(math.Float32bits(v)) }

// simpleBlock is a (Simple)Block header: 1-byte track number, timecode,
// keyframe flags.
func simpleBlock(track byte, tc int16) []byte {
	return []byte{0x80 | track, byte(uint16(tc) >> 8), byte(tc), 0x80}
}
