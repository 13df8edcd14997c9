// Package media verifies uploaded video clips without trusting their declared
// MIME type: it sniffs the container from magic bytes and reads the duration
// from the container structure, using only a few ranged reads.
//
// Supported containers are ISO BMFF / MP4 / QuickTime (.mp4, .m4v, .mov) and
// Matroska / WebM (including the unknown-size, Duration-less files written by
// browsers' MediaRecorder). Everything else is rejected with a *Rejection that
// carries a reason a person can understand.
//
// The parsers never allocate based on sizes read from the file, every step of
// every loop advances through the file, and memory use is bounded by the read
// buffer (at most maxChunk bytes) whatever the size of the object.
package media

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Info is what inspection learned about a clip.
type Info struct {
	Container string        // "mp4" (also covers QuickTime .mov, ISO BMFF 'ftyp') or "webm" (EBML, DocType webm or matroska)
	MIME      string        // "video/mp4", "video/quicktime" (ftyp major brand "qt  "), "video/webm"
	Duration  time.Duration // always > 0 when Inspect returns a nil error
}

// Rejection codes. They are short, stable machine words; Reason carries the
// human-readable explanation.
const (
	// CodeNotVideo: the bytes are not a video at all (text, image, audio, PDF,
	// empty or unrecognised file, or a media file without a picture track).
	CodeNotVideo = "not_video"
	// CodeTruncated: a recognised video whose structure runs past the end of
	// the file, or that lacks the index (moov) written at the end.
	CodeTruncated = "truncated"
	// CodeNoDuration: a recognised, complete video whose duration is zero or
	// cannot be determined.
	CodeNoDuration = "no_duration"
	// CodeUnsupported: a video in a container we do not accept (AVI, FLV,
	// MPEG-TS, WMV, ...) or a damaged file whose structure we cannot follow.
	CodeUnsupported = "unsupported"
)

// Rejection is a reason a person can understand, e.g. "the file is not a video
// (it looks like text)", "the video file is incomplete (it may have been cut
// off during upload)", "the video has no duration".
type Rejection struct{ Code, Reason string }

func (r *Rejection) Error() string {
	if r == nil {
		return "<nil>"
	}
	return "media: " + r.Code + ": " + r.Reason
}

// Canned rejections. They are constructed fresh each time so callers may
// keep or modify the returned values freely.
func rejNotVideo(what string) *Rejection {
	return &Rejection{Code: CodeNotVideo, Reason: "the file is not a video (" + what + ")"}
}

func rejTruncated() *Rejection {
	return &Rejection{Code: CodeTruncated, Reason: "the video file is incomplete (it may have been cut off during upload)"}
}

func rejNoDuration() *Rejection {
	return &Rejection{Code: CodeNoDuration, Reason: "the video has no duration"}
}

func rejDamaged(detail string) *Rejection {
	return &Rejection{Code: CodeUnsupported, Reason: "the video file is damaged or uses a layout we cannot read (" + detail + ")"}
}

func rejUnsupported(format string) *Rejection {
	return &Rejection{Code: CodeUnsupported, Reason: "the video format is not supported (" + format + "); please upload MP4, MOV or WebM"}
}

// Read sizes. The first read at a new position fetches minChunk bytes; reads
// that continue sequentially double the previous read up to maxChunk. With
// S3 ranged GETs behind the ReaderAt this keeps the number of requests low for
// sequential WebM scans while jumps in MP4 files stay cheap.
const (
	defaultMinChunk = 64 << 10
	defaultMaxChunk = 4 << 20
	sniffLen        = 512
)

// Inspect reads only the parts of the clip it needs through r (size is the object size in bytes).
// It returns a *Rejection (use errors.As) when the bytes are not an acceptable video, and a plain error for I/O faults.
func Inspect(r io.ReaderAt, size int64) (Info, error) {
	return inspect(r, size, defaultMinChunk, defaultMaxChunk)
}

func inspect(r io.ReaderAt, size int64, minChunk, maxChunk int) (Info, error) {
	if r == nil {
		return Info{}, errors.New("media: nil reader")
	}
	if size < 0 {
		return Info{}, fmt.Errorf("media: negative size %d", size)
	}
	if size == 0 {
		return Info{}, rejNotVideo("it is empty")
	}
	b := newReader(r, size, minChunk, maxChunk)
	n := int64(sniffLen)
	if n > size {
		n = size
	}
	head, err := b.at(0, int(n))
	if err != nil {
		return Info{}, err
	}
	// The parsers below read through b and may overwrite its buffer, so keep a
	// private copy of the first bytes.
	head = append([]byte(nil), head...)
	switch {
	case looksLikeMP4(head, size):
		return inspectMP4(b, head)
	case looksLikeEBML(head):
		return inspectWebM(b)
	}
	return Info{}, describe(head, size)
}

// reader is a small read-through cache over an io.SectionReader. It serves
// short reads (box and element headers, a few fields) from a buffer that is
// refilled with one large ReadAt whenever a read falls outside it.
type reader struct {
	sr       *io.SectionReader
	size     int64
	buf      []byte // buf[:n] holds the bytes at file offset off
	off      int64
	n        int
	last     int // length of the previous ReadAt, for sequential growth
	minChunk int
	maxChunk int
	pos      int64 // cursor for the sequential helpers (next, skipTo)
}

func newReader(r io.ReaderAt, size int64, minChunk, maxChunk int) *reader {
	if minChunk < 16 {
		minChunk = 16
	}
	if maxChunk < minChunk {
		maxChunk = minChunk
	}
	return &reader{sr: io.NewSectionReader(r, 0, size), size: size, minChunk: minChunk, maxChunk: maxChunk}
}

// at returns the k bytes at file offset off. k must be small (it is never
// derived from file contents without a bound). The slice is valid until the
// next call. Asking for bytes beyond the end of the file yields a truncated
// rejection: callers only ask for bytes that the structure says must exist.
func (b *reader) at(off int64, k int) ([]byte, error) {
	if k < 0 || off < 0 || off > b.size || int64(k) > b.size-off {
		return nil, rejTruncated()
	}
	if off >= b.off && off+int64(k) <= b.off+int64(b.n) {
		s := int(off - b.off)
		return b.buf[s : s+k], nil
	}
	c := b.minChunk
	if b.n > 0 && off >= b.off && off-(b.off+int64(b.n)) <= int64(b.last) {
		// Continuing (roughly) where the last read ended: read more this time.
		c = b.last * 2
		if c > b.maxChunk {
			c = b.maxChunk
		}
	}
	if rem := b.size - off; int64(c) > rem {
		c = int(rem)
	}
	if c < k {
		c = k
	}
	if cap(b.buf) < c {
		b.buf = make([]byte, c)
	}
	buf := b.buf[:c]
	m, err := b.sr.ReadAt(buf, off)
	if m < c {
		b.n = 0
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("media: object is shorter than its declared size %d (read %d bytes at offset %d): %w", b.size, m, off, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("media: read %d bytes at offset %d: %w", c, off, err)
	}
	b.off, b.n, b.last = off, c, c
	return buf[:k], nil
}

// next returns the k bytes at the cursor and advances it.
func (b *reader) next(k int) ([]byte, error) {
	p, err := b.at(b.pos, k)
	if err != nil {
		return nil, err
	}
	b.pos += int64(k)
	return p, nil
}

func be16(p []byte) uint16 { return uint16(p[0])<<8 | uint16(p[1]) }
func be32(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}
func be64(p []byte) uint64 { return uint64(be32(p))<<32 | uint64(be32(p[4:])) }
