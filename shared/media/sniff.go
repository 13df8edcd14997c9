package media

import (
	"bytes"
	"unicode/utf8"
)

// legacyQTStart lists box types that may open a QuickTime file written
// without an 'ftyp' box (pre-2001 QuickTime and some cameras).
var legacyQTStart = [...]string{"moov", "mdat", "wide", "free", "skip", "pnot"}

// looksLikeMP4 reports whether head starts with an ISO BMFF 'ftyp' box, or
// with a plausible QuickTime top-level box of a size that fits in the file.
func looksLikeMP4(head []byte, size int64) bool {
	if len(head) < 8 {
		return false
	}
	typ := string(head[4:8])
	if typ == "ftyp" {
		return true
	}
	for _, t := range legacyQTStart {
		if typ != t {
			continue
		}
		s := int64(be32(head))
		switch {
		case s == 1: // 64-bit size follows; checked by the box walker
			return len(head) >= 16
		case s >= 8 && s <= size:
			return true
		}
		return false
	}
	return false
}

func looksLikeEBML(head []byte) bool {
	return len(head) >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3
}

type magic struct {
	off    int
	prefix string
	rej    func() *Rejection
}

// image and audio take the article too: image("a JPEG") says "it looks
// like a JPEG image".
func image(kind string) func() *Rejection {
	return func() *Rejection { return rejNotVideo("it looks like " + kind + " image") }
}

func audio(kind string) func() *Rejection {
	return func() *Rejection { return rejNotVideo("it looks like " + kind + " audio file") }
}

func other(what string) func() *Rejection {
	return func() *Rejection { return rejNotVideo("it looks like " + what) }
}

func unsupported(format string) func() *Rejection {
	return func() *Rejection { return rejUnsupported(format) }
}

// magics is checked in order; the first match wins.
var magics = []magic{
	{0, "\xFF\xD8\xFF", image("a JPEG")},
	{0, "\x89PNG\r\n\x1A\n", image("a PNG")},
	{0, "GIF87a", image("a GIF")},
	{0, "GIF89a", image("a GIF")},
	{0, "II*\x00", image("a TIFF")},
	{0, "MM\x00*", image("a TIFF")},
	{0, "8BPS", image("a Photoshop")},
	{0, "\x00\x00\x01\x00", image("an icon")},
	{0, "%PDF-", other("a PDF document")},
	{0, "PK\x03\x04", other("a zip archive or office document")},
	{0, "\x1F\x8B", other("a compressed (gzip) archive")},
	{0, "Rar!\x1A\x07", other("a RAR archive")},
	{0, "7z\xBC\xAF\x27\x1C", other("a 7-Zip archive")},
	{0, "ID3", audio("an MP3")},
	{0, "fLaC", audio("a FLAC")},
	{0, "#!AMR", audio("an AMR")},
	{0, "MThd", audio("a MIDI")},
	{0, "caff", audio("a CAF")},
	{0, "OggS", unsupported("Ogg")},
	{0, "FLV\x01", unsupported("Flash video")},
	{0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11", unsupported("Windows Media / ASF")},
	{0, ".RMF", unsupported("RealMedia")},
	{0, "\x00\x00\x01\xBA", unsupported("MPEG program stream")},
	{0, "\x00\x00\x01\xB3", unsupported("MPEG-1/2 video")},
	{0, "\x00\x00\x00\x01\x67", unsupported("raw H.264 stream")},
	{0, "DKIF", unsupported("raw VP8/VP9 stream (IVF)")},
}

// describe explains, roughly, what a file that is neither MP4 nor WebM is.
func describe(head []byte, size int64) *Rejection {
	if len(head) >= 12 && string(head[:4]) == "RIFF" {
		switch string(head[8:12]) {
		case "WEBP":
			return rejNotVideo("it looks like a WebP image")
		case "WAVE":
			return rejNotVideo("it looks like a WAV audio file")
		case "AVI ":
			return rejUnsupported("AVI")
		}
	}
	if len(head) >= 12 && string(head[:4]) == "FORM" && (string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC") {
		return rejNotVideo("it looks like an AIFF audio file")
	}
	for _, m := range magics {
		if len(head) >= m.off+len(m.prefix) && string(head[m.off:m.off+len(m.prefix)]) == m.prefix {
			return m.rej()
		}
	}
	if bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) {
		return rejNotVideo("it looks like text") // UTF-16 byte-order mark
	}
	// MPEG transport stream: sync byte every 188 bytes.
	if len(head) > 188 && head[0] == 0x47 && head[188] == 0x47 {
		return rejUnsupported("MPEG transport stream")
	}
	// MPEG audio (MP3 without ID3 tag) or AAC ADTS frame sync.
	if len(head) >= 4 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0 && head[2]&0xF0 != 0xF0 {
		return rejNotVideo("it looks like an MP3 audio file")
	}
	if len(head) >= 4 && head[0] == 0xFF && head[1]&0xF6 == 0xF0 {
		return rejNotVideo("it looks like an AAC audio file")
	}
	if looksLikeText(head) {
		return rejNotVideo("it looks like text")
	}
	if size < 16 {
		return rejNotVideo("it is too short to be a video")
	}
	return rejNotVideo("its format was not recognised")
}

// looksLikeText reports whether p is plausibly the start of a UTF-8 text
// file: valid UTF-8 (the last rune may be cut off) without control
// characters other than common whitespace.
func looksLikeText(p []byte) bool {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && n <= 1 {
			// A multi-byte rune cut off by the end of the sniff window is fine.
			return len(p)-i < utf8.UTFMax && !utf8.FullRune(p[i:])
		}
		i += n
	}
	return len(p) > 0
}
