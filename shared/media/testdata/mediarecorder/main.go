// Command mediarecorder rewrites a WebM file (stdin) the way a browser's
// MediaRecorder writes it (stdout), for test fixtures:
//
//   - the Segment and every Cluster get the "unknown" size (8 bytes, all ones);
//   - Info loses its Duration element;
//   - SeekHead, Void, Cues, Tags and CRC-32 elements are dropped (MediaRecorder
//     cannot seek back to write them).
//
// EBML header, Info (other fields), Tracks and the Cluster contents are copied
// byte for byte. It lives under testdata so it is not part of the package;
// run it with `go run ./testdata/mediarecorder < in.webm > out.webm`.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	idSegment  = 0x18538067
	idInfo     = 0x1549A966
	idTracks   = 0x1654AE6B
	idCluster  = 0x1F43B675
	idDuration = 0x4489
	idCRC32    = 0xBF
)

var unknownSize = []byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

type elem struct {
	id      uint32
	idBytes []byte
	header  []byte // ID and size as written
	data    []byte
	unknown bool
}

// next parses the element at the start of p and returns it and the rest.
// For an unknown-size element, data runs to the end of p.
func next(p []byte) (elem, []byte, error) {
	var e elem
	if len(p) < 2 {
		return e, nil, errors.New("short element")
	}
	idLen := 0
	for m := byte(0x80); m >= 0x10; m >>= 1 {
		idLen++
		if p[0]&m != 0 {
			break
		}
	}
	if p[0] < 0x10 || len(p) < idLen+1 {
		return e, nil, errors.New("bad ID")
	}
	for _, c := range p[:idLen] {
		e.id = e.id<<8 | uint32(c)
	}
	e.idBytes = p[:idLen]
	s := p[idLen:]
	sizeLen := 0
	for m := byte(0x80); m != 0; m >>= 1 {
		sizeLen++
		if s[0]&m != 0 {
			break
		}
	}
	if s[0] == 0 || len(s) < sizeLen {
		return e, nil, errors.New("bad size")
	}
	size := uint64(s[0] & (0xFF >> sizeLen))
	for _, c := range s[1:sizeLen] {
		size = size<<8 | uint64(c)
	}
	hlen := idLen + sizeLen
	e.header = p[:hlen]
	body := p[hlen:]
	if size == 1<<(7*sizeLen)-1 {
		e.unknown = true
		e.data = body
		return e, nil, nil
	}
	if size > uint64(len(body)) {
		return e, nil, fmt.Errorf("element %x overruns its parent", e.id)
	}
	e.data = body[:size]
	return e, body[size:], nil
}

// vsize encodes n as an 8-byte EBML size.
func vsize(n int) []byte {
	b := []byte{0x01, 0, 0, 0, 0, 0, 0, 0}
	for i := 7; i >= 1; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b
}

func run() error {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	hdr, rest, err := next(in) // EBML header
	if err != nil {
		return err
	}
	out.Write(hdr.header)
	out.Write(hdr.data)
	seg, _, err := next(rest)
	if err != nil || seg.id != idSegment {
		return fmt.Errorf("no Segment: %v", err)
	}
	out.Write(seg.idBytes)
	out.Write(unknownSize)
	p := seg.data
	for len(p) > 0 {
		e, rest, err := next(p)
		if err != nil {
			return err
		}
		if e.unknown {
			return fmt.Errorf("unknown-size element %x inside the Segment: input must come from a seekable muxer", e.id)
		}
		switch e.id {
		case idInfo:
			var body bytes.Buffer
			q := e.data
			for len(q) > 0 {
				c, r, err := next(q)
				if err != nil {
					return err
				}
				if c.id != idDuration && c.id != idCRC32 {
					body.Write(c.header)
					body.Write(c.data)
				}
				q = r
			}
			out.Write(e.idBytes)
			out.Write(vsize(body.Len()))
			out.Write(body.Bytes())
		case idTracks:
			out.Write(e.header)
			out.Write(e.data)
		case idCluster:
			out.Write(e.idBytes)
			out.Write(unknownSize)
			out.Write(e.data)
		}
		p = rest
	}
	_, err = os.Stdout.Write(out.Bytes())
	return err
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mediarecorder:", err)
		os.Exit(1)
	}
}
