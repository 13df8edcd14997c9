package media

import (
	"math"
	"math/bits"
	"time"
)

// Matroska / WebM parsing.
//
// The file is read front to back through the buffered reader (large,
// growing reads; payloads that are not needed are jumped over without being
// read when they exceed the buffer). When the Segment has a known size and
// Info carries a Duration, parsing stops at the first Cluster. Otherwise (the
// MediaRecorder case: unknown-size Segment and Clusters, no Duration) every
// Cluster is walked and the duration is the end of the last block: Cluster
// Timestamp + the block's relative timecode + its duration (BlockDuration,
// the track's DefaultDuration, or the interval since the track's previous
// block, capped at one second).

const (
	idEBML            = 0x1A45DFA3
	idDocType         = 0x4282
	idSegment         = 0x18538067
	idSeekHead        = 0x114D9B74
	idInfo            = 0x1549A966
	idTracks          = 0x1654AE6B
	idCluster         = 0x1F43B675
	idCues            = 0x1C53BB6B
	idChapters        = 0x1043A770
	idTags            = 0x1254C367
	idAttachments     = 0x1941A469
	idTimecodeScale   = 0x2AD7B1
	idDuration        = 0x4489
	idTrackEntry      = 0xAE
	idTrackNumber     = 0xD7
	idTrackType       = 0x83
	idDefaultDuration = 0x23E383
	idTimestamp       = 0xE7
	idSimpleBlock     = 0xA3
	idBlockGroup      = 0xA0
	idBlock           = 0xA1
	idBlockDuration   = 0x9B
)

// isLevel1 reports whether id is a top-level element (a child of Segment) or
// an EBML header: such an element ends an unknown-size Cluster.
func isLevel1(id uint32) bool {
	switch id {
	case idSeekHead, idInfo, idTracks, idCluster, idCues, idChapters, idTags, idAttachments, idEBML, idSegment:
		return true
	}
	return false
}

// elem is one EBML element: header at start, payload [data, end).
// For an unknown-size element end is the end of its parent.
type elem struct {
	id      uint32
	start   int64
	data    int64
	end     int64
	unknown bool
}

// readElem reads the element header at the cursor, inside a parent that ends
// at limit, and leaves the cursor at the element's payload.
func readElem(b *reader, limit int64) (elem, error) {
	e := elem{start: b.pos}
	overrun := func() error {
		if limit == b.size {
			return rejTruncated()
		}
		return rejDamaged("an element is larger than its parent")
	}
	if limit-b.pos < 2 {
		return e, overrun()
	}
	p, err := b.at(b.pos, 1)
	if err != nil {
		return e, err
	}
	idLen := 0
	switch {
	case p[0]&0x80 != 0:
		idLen = 1
	case p[0]&0x40 != 0:
		idLen = 2
	case p[0]&0x20 != 0:
		idLen = 3
	case p[0]&0x10 != 0:
		idLen = 4
	default:
		return e, rejDamaged("invalid element ID")
	}
	if limit-b.pos < int64(idLen)+1 {
		return e, overrun()
	}
	p, err = b.next(idLen)
	if err != nil {
		return e, err
	}
	for _, c := range p {
		e.id = e.id<<8 | uint32(c)
	}
	p, err = b.at(b.pos, 1)
	if err != nil {
		return e, err
	}
	sizeLen := 0
	for m := byte(0x80); m != 0; m >>= 1 {
		sizeLen++
		if p[0]&m != 0 {
			break
		}
	}
	if p[0] == 0 {
		return e, rejDamaged("invalid element size")
	}
	if limit-b.pos < int64(sizeLen) {
		return e, overrun()
	}
	p, err = b.next(sizeLen)
	if err != nil {
		return e, err
	}
	size := uint64(p[0] & (0xFF >> sizeLen))
	for _, c := range p[1:] {
		size = size<<8 | uint64(c)
	}
	e.data = b.pos
	if size == 1<<(7*sizeLen)-1 {
		e.unknown = true
		e.end = limit
		return e, nil
	}
	if size > uint64(limit-e.data) {
		return e, overrun()
	}
	e.end = e.data + int64(size)
	return e, nil
}

// readUint reads an unsigned-integer element (0 to 8 bytes).
func readUint(b *reader, e elem) (uint64, error) {
	n := e.end - e.data
	if e.unknown || n > 8 {
		return 0, rejDamaged("invalid integer element")
	}
	p, err := b.at(e.data, int(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// readFloat reads a float element (0, 4 or 8 bytes).
func readFloat(b *reader, e elem) (float64, error) {
	n := e.end - e.data
	if e.unknown || (n != 0 && n != 4 && n != 8) {
		return 0, rejDamaged("invalid float element")
	}
	p, err := b.at(e.data, int(n))
	if err != nil {
		return 0, err
	}
	switch n {
	case 4:
		return float64(math.Float32frombits(be32(p))), nil
	case 8:
		return math.Float64frombits(be64(p)), nil
	}
	return 0, nil
}

type mkvTrack struct {
	number    uint64
	typ       uint64
	defDur    uint64 // DefaultDuration, ns
	maxTs     int64  // latest block timestamp, ticks
	lastDelta int64  // interval between the two latest blocks, ticks
	seen      bool
}

type webmState struct {
	scale       uint64 // TimecodeScale, ns per tick
	duration    float64
	hasDuration bool
	tracksSeen  bool
	hasVideo    bool
	hasAudio    bool
	tracks      []mkvTrack
	blocks      int
	maxEnd      int64 // ticks
}

// maxTicks keeps tick arithmetic far from int64 overflow.
const maxTicks = 1 << 61

func inspectWebM(b *reader) (Info, error) {
	// EBML header.
	b.pos = 0
	hdr, err := readElem(b, b.size)
	if err != nil {
		return Info{}, err
	}
	if hdr.id != idEBML || hdr.unknown {
		return Info{}, rejDamaged("invalid EBML header")
	}
	docType := "matroska" // the EBML default
	for b.pos < hdr.end {
		e, err := readElem(b, hdr.end)
		if err != nil {
			return Info{}, err
		}
		if e.id == idDocType {
			n := e.end - e.data
			if n > 32 {
				return Info{}, rejUnsupported("EBML document that is not Matroska or WebM")
			}
			p, err := b.at(e.data, int(n))
			if err != nil {
				return Info{}, err
			}
			for len(p) > 0 && p[len(p)-1] == 0 {
				p = p[:len(p)-1]
			}
			docType = string(p)
		}
		b.pos = e.end
	}
	if docType != "webm" && docType != "matroska" {
		return Info{}, rejUnsupported("EBML document that is not Matroska or WebM")
	}
	info := Info{Container: "webm", MIME: "video/webm"}

	// Find the Segment, skipping Void and other elements before it.
	var seg elem
	for {
		if b.pos >= b.size {
			return Info{}, rejTruncated()
		}
		e, err := readElem(b, b.size)
		if err != nil {
			return Info{}, err
		}
		if e.id == idSegment {
			seg = e
			break
		}
		if e.unknown {
			return Info{}, rejDamaged("unexpected element before the Segment")
		}
		b.pos = e.end
	}

	st := webmState{scale: 1000000}
	if err := parseSegment(b, seg, &st); err != nil {
		return Info{}, err
	}
	if !st.tracksSeen {
		if seg.unknown {
			// A live-written file that ends before its track list.
			return Info{}, rejTruncated()
		}
		return Info{}, rejDamaged("no track list")
	}
	if !st.hasVideo {
		if st.hasAudio {
			return Info{}, rejNotVideo("it has sound but no picture")
		}
		return Info{}, rejNotVideo("it has no video track")
	}
	d, ok := st.durationFromElement()
	if !ok {
		d = ticksToDuration(st.maxEnd, st.scale)
	}
	if d <= 0 {
		return Info{}, rejNoDuration()
	}
	info.Duration = d
	return info, nil
}

// durationFromElement converts Info/Duration, if present and sane.
func (st *webmState) durationFromElement() (time.Duration, bool) {
	if !st.hasDuration {
		return 0, false
	}
	ns := st.duration * float64(st.scale)
	if !(ns >= 1) || ns >= math.MaxInt64/2 { // also rejects NaN
		return 0, false
	}
	return time.Duration(ns), true
}

func ticksToDuration(ticks int64, scale uint64) time.Duration {
	if ticks <= 0 || scale == 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(ticks), scale)
	if hi != 0 || lo > math.MaxInt64 {
		return 0
	}
	return time.Duration(lo)
}

func parseSegment(b *reader, seg elem, st *webmState) error {
	b.pos = seg.data
	for b.pos < seg.end {
		e, err := readElem(b, seg.end)
		if err != nil {
			return err
		}
		switch e.id {
		case idInfo:
			if e.unknown {
				return rejDamaged("unknown-size Info")
			}
			if err := parseInfo(b, e, st); err != nil {
				return err
			}
		case idTracks:
			if e.unknown {
				return rejDamaged("unknown-size Tracks")
			}
			if err := parseTracks(b, e, st); err != nil {
				return err
			}
		case idCluster:
			if _, ok := st.durationFromElement(); ok && !seg.unknown && st.tracksSeen {
				// Complete file (the Segment fits) with a declared duration:
				// no need to read the media data.
				return nil
			}
			if err := parseCluster(b, e, st); err != nil {
				return err
			}
			continue // parseCluster leaves the cursor at the next element
		case idEBML, idSegment:
			// A second (chained) segment: the first one is what we inspect.
			return nil
		default:
			if e.unknown {
				return rejDamaged("unknown-size element")
			}
		}
		b.pos = e.end
	}
	return nil
}

func parseInfo(b *reader, info elem, st *webmState) error {
	for b.pos < info.end {
		e, err := readElem(b, info.end)
		if err != nil {
			return err
		}
		switch e.id {
		case idTimecodeScale:
			v, err := readUint(b, e)
			if err != nil {
				return err
			}
			if v > 0 && v <= 1e12 {
				st.scale = v
			}
		case idDuration:
			f, err := readFloat(b, e)
			if err != nil {
				return err
			}
			st.duration, st.hasDuration = f, true
		}
		b.pos = e.end
	}
	return nil
}

func parseTracks(b *reader, tracks elem, st *webmState) error {
	st.tracksSeen = true
	for b.pos < tracks.end {
		e, err := readElem(b, tracks.end)
		if err != nil {
			return err
		}
		if e.id == idTrackEntry {
			var t mkvTrack
			for b.pos < e.end {
				c, err := readElem(b, e.end)
				if err != nil {
					return err
				}
				switch c.id {
				case idTrackNumber:
					t.number, err = readUint(b, c)
				case idTrackType:
					t.typ, err = readUint(b, c)
				case idDefaultDuration:
					t.defDur, err = readUint(b, c)
				}
				if err != nil {
					return err
				}
				b.pos = c.end
			}
			switch t.typ {
			case 1:
				st.hasVideo = true
			case 2:
				st.hasAudio = true
			}
			if len(st.tracks) < maxTracks {
				st.tracks = append(st.tracks, t)
			}
		}
		b.pos = e.end
	}
	return nil
}

// parseCluster walks one Cluster. For an unknown-size cluster it stops at
// the first top-level element and leaves the cursor on it.
func parseCluster(b *reader, cl elem, st *webmState) error {
	var ts int64
	for b.pos < cl.end {
		start := b.pos
		e, err := readElem(b, cl.end)
		if err != nil {
			return err
		}
		if cl.unknown && isLevel1(e.id) {
			b.pos = start
			return nil
		}
		switch e.id {
		case idTimestamp:
			v, err := readUint(b, e)
			if err != nil {
				return err
			}
			ts = int64(min(v, maxTicks))
		case idSimpleBlock:
			track, rel, err := blockHeader(b, e)
			if err != nil {
				return err
			}
			st.addBlock(track, ts+rel, 0, false)
		case idBlockGroup:
			if e.unknown {
				return rejDamaged("unknown-size BlockGroup")
			}
			var (
				track, dur uint64
				rel        int64
				haveBlock  bool
				haveDur    bool
			)
			for b.pos < e.end {
				c, err := readElem(b, e.end)
				if err != nil {
					return err
				}
				switch c.id {
				case idBlock:
					track, rel, err = blockHeader(b, c)
					haveBlock = true
				case idBlockDuration:
					dur, err = readUint(b, c)
					haveDur = true
				}
				if err != nil {
					return err
				}
				b.pos = c.end
			}
			if haveBlock {
				st.addBlock(track, ts+rel, int64(min(dur, maxTicks)), haveDur)
			}
		default:
			if e.unknown {
				return rejDamaged("unknown-size element in a Cluster")
			}
		}
		b.pos = e.end
	}
	b.pos = cl.end
	return nil
}

// blockHeader reads the track number and relative timecode of a
// (Simple)Block: track number vint, signed 16-bit timecode, flags.
func blockHeader(b *reader, e elem) (track uint64, rel int64, err error) {
	n := e.end - e.data
	if e.unknown || n < 4 {
		return 0, 0, rejDamaged("invalid block")
	}
	if n > 12 {
		n = 12
	}
	p, err := b.at(e.data, int(n))
	if err != nil {
		return 0, 0, err
	}
	l := 0
	for m := byte(0x80); m != 0; m >>= 1 {
		l++
		if p[0]&m != 0 {
			break
		}
	}
	if p[0] == 0 || int64(l)+3 > n {
		return 0, 0, rejDamaged("invalid block")
	}
	track = uint64(p[0] & (0xFF >> l))
	for _, c := range p[1:l] {
		track = track<<8 | uint64(c)
	}
	return track, int64(int16(be16(p[l:]))), nil
}

// addBlock records a block at ts ticks; dur is used when hasDur is set.
func (st *webmState) addBlock(track uint64, ts, dur int64, hasDur bool) {
	st.blocks++
	if ts < 0 {
		ts = 0
	}
	var t *mkvTrack
	for i := range st.tracks {
		if st.tracks[i].number == track {
			t = &st.tracks[i]
			break
		}
	}
	end := ts
	switch {
	case hasDur:
		end = ts + dur
	case t != nil && t.defDur > 0:
		end = ts + int64(min(t.defDur/st.scale, maxTicks))
	case t != nil:
		if t.seen && ts > t.maxTs {
			t.lastDelta = min(ts-t.maxTs, int64(uint64(time.Second)/st.scale))
		}
		if !t.seen || ts >= t.maxTs {
			end = ts + t.lastDelta
		}
	}
	if t != nil {
		if !t.seen || ts > t.maxTs {
			t.maxTs = ts
		}
		t.seen = true
	}
	if end > st.maxEnd {
		st.maxEnd = end
	}
}
