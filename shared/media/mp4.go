package media

import (
	"math/bits"
	"time"
)

// ISO BMFF / QuickTime parsing.
//
// The top level of the file is walked box by box, reading only each box
// header, so a moov written after a large mdat costs one extra ranged read.
// Inside moov only the small boxes that matter are read (mvhd, and per track
// tkhd, mdhd and hdlr; mvex/mehd and trex for fragmented files); the large
// sample tables are skipped. For fragmented files (MediaRecorder's and
// ffmpeg's frag_keyframe output, whose mvhd duration is often 0) the duration
// is also worked out from the movie fragments (tfdt + trun sample durations).

// box is one ISO BMFF box: [start, end) in the file, payload from body.
type box struct {
	typ   [4]byte
	start int64
	body  int64
	end   int64
}

func (x box) is(t string) bool { return string(x.typ[:]) == t }

// maxTracks bounds the per-track state kept for a movie; further tracks are
// only checked for their handler type.
const maxTracks = 32

type mp4Track struct {
	id        uint32
	timescale uint32
	trexDur   uint32 // default sample duration from mvex/trex
	mdhdDur   uint64 // mdhd duration, in timescale units
	fragEnd   uint64 // end of the last fragment sample, in timescale units
	haveFrag  bool
}

type mp4Movie struct {
	timescale uint32
	duration  uint64 // mvhd duration, in timescale units
	haveMvhd  bool
	mehd      uint64 // mvex/mehd fragment_duration, in mvhd timescale
	mvex      bool   // the movie announces fragments
	moofs     int    // movie fragments seen
	tracks    []mp4Track
	hasVideo  bool
	hasAudio  bool
	// maxChunk is the largest chunk offset in any stco/co64 table: the
	// media data it points to must lie inside the file.
	maxChunk  uint64
	haveChunk bool
}

// imageBrands are ftyp major brands of HEIF/AVIF still images and image
// sequences: ISO BMFF files that are pictures, not videos.
var imageBrands = map[string]string{
	"heic": "a HEIC", "heix": "a HEIC", "heim": "a HEIC", "heis": "a HEIC",
	"hevc": "a HEIC", "hevx": "a HEIC", "mif1": "a HEIF", "msf1": "a HEIF",
	"avif": "an AVIF", "avis": "an AVIF", "jpgs": "a JPEG",
}

// readBox reads the header of the box starting at off inside a parent that
// ends at limit (the end of the file for top-level boxes, top set). Size 0
// extends the box to limit. A top-level box running past the end of the file
// means truncation; a child box running past its parent means damage (a cut
// file shows up as an overrun at the top level first).
func readBox(b *reader, off, limit int64, top bool) (box, error) {
	var x box
	overrun := func() error {
		if top {
			return rejTruncated()
		}
		return rejDamaged("a box is larger than its parent")
	}
	if limit-off < 8 {
		return x, overrun()
	}
	p, err := b.at(off, 8)
	if err != nil {
		return x, err
	}
	size := int64(be32(p))
	copy(x.typ[:], p[4:8])
	x.start, x.body = off, off+8
	switch size {
	case 0:
		x.end = limit
		return x, nil
	case 1:
		if limit-off < 16 {
			return x, overrun()
		}
		q, err := b.at(off+8, 8)
		if err != nil {
			return x, err
		}
		large := be64(q)
		if large < 16 {
			return x, rejDamaged("invalid box size")
		}
		x.body = off + 16
		if large > uint64(limit-off) {
			return x, overrun()
		}
		size = int64(large)
	default:
		if size < 8 {
			return x, rejDamaged("invalid box size")
		}
	}
	if size > limit-off {
		return x, overrun()
	}
	x.end = off + size
	return x, nil
}

// children calls fn for each child box of [from, to). A size-0 child or fewer
// than 8 bytes left end the list (QuickTime terminates some lists with a
// 32-bit zero). fn returning a non-nil error stops the walk.
func children(b *reader, from, to int64, fn func(box) error) error {
	for off := from; to-off >= 8; {
		p, err := b.at(off, 4)
		if err != nil {
			return err
		}
		if be32(p) == 0 {
			return nil
		}
		x, err := readBox(b, off, to, false)
		if err != nil {
			return err
		}
		if err := fn(x); err != nil {
			return err
		}
		off = x.end // > off: readBox guarantees size >= 8
	}
	return nil
}

// fields returns the k bytes of x's payload at offset rel, or ok=false when
// the box is too small to hold them.
func fields(b *reader, x box, rel int64, k int) ([]byte, bool, error) {
	if x.end-x.body < rel+int64(k) {
		return nil, false, nil
	}
	p, err := b.at(x.body+rel, k)
	return p, err == nil, err
}

func inspectMP4(b *reader, head []byte) (Info, error) {
	info := Info{Container: "mp4", MIME: "video/mp4"}
	if string(head[4:8]) != "ftyp" {
		info.MIME = "video/quicktime" // legacy QuickTime without ftyp
	}
	var (
		mv       mp4Movie
		haveFtyp bool
		haveMoov bool
	)
	for off := int64(0); off < b.size; {
		if b.size-off < 8 {
			// A few stray bytes at the end: tolerate zero padding only.
			p, err := b.at(off, int(b.size-off))
			if err != nil {
				return Info{}, err
			}
			for _, c := range p {
				if c != 0 {
					return Info{}, rejTruncated()
				}
			}
			break
		}
		x, err := readBox(b, off, b.size, true)
		if err != nil {
			return Info{}, err
		}
		switch {
		case x.is("ftyp") && !haveFtyp:
			haveFtyp = true
			p, ok, err := fields(b, x, 0, 4)
			if err != nil {
				return Info{}, err
			}
			if !ok {
				return Info{}, rejDamaged("invalid ftyp box")
			}
			brand := string(p)
			if kind, isImage := imageBrands[brand]; isImage {
				return Info{}, rejNotVideo("it looks like " + kind + " image")
			}
			if brand == "qt  " {
				info.MIME = "video/quicktime"
			} else {
				info.MIME = "video/mp4"
			}
		case x.is("moov") && !haveMoov:
			haveMoov = true
			if err := parseMoov(b, x, &mv); err != nil {
				return Info{}, err
			}
		case x.is("moof") && haveMoov:
			mv.moofs++
			if err := parseMoof(b, x, &mv); err != nil {
				return Info{}, err
			}
		}
		off = x.end // > off: readBox guarantees size >= 8
	}
	if !haveMoov {
		return Info{}, rejTruncated()
	}
	if mv.haveChunk && mv.maxChunk >= uint64(b.size) {
		// The sample tables point past the end of the file: cut off at a
		// box boundary, or inside an mdat of size 0 ("to end of file").
		return Info{}, rejTruncated()
	}
	if !mv.hasVideo {
		if mv.hasAudio {
			return Info{}, rejNotVideo("it has sound but no picture")
		}
		return Info{}, rejNotVideo("it has no video track")
	}
	d := mv.totalDuration()
	if d <= 0 {
		if mv.mvex && mv.moofs == 0 {
			// Fragmented file that ends right after its (empty) moov.
			return Info{}, rejTruncated()
		}
		return Info{}, rejNoDuration()
	}
	info.Duration = d
	return info, nil
}

func parseMoov(b *reader, moov box, mv *mp4Movie) error {
	return children(b, moov.body, moov.end, func(x box) error {
		switch {
		case x.is("mvhd"):
			return parseMvhd(b, x, mv)
		case x.is("trak"):
			return parseTrak(b, x, mv)
		case x.is("mvex"):
			mv.mvex = true
			return children(b, x.body, x.end, func(y box) error {
				switch {
				case y.is("mehd"):
					v, ok, err := fields(b, y, 0, 1)
					if err != nil || !ok {
						return err
					}
					k := 4
					if v[0] == 1 {
						k = 8
					}
					p, ok, err := fields(b, y, 4, k)
					if err != nil || !ok {
						return err
					}
					if k == 8 {
						mv.mehd = be64(p)
					} else {
						mv.mehd = uint64(be32(p))
					}
				case y.is("trex"):
					// version/flags, track_ID, default_sample_description_index, default_sample_duration
					p, ok, err := fields(b, y, 4, 12)
					if err != nil || !ok {
						return err
					}
					if t := mv.track(be32(p), true); t != nil {
						t.trexDur = be32(p[8:])
					}
				}
				return nil
			})
		}
		return nil
	})
}

func parseMvhd(b *reader, x box, mv *mp4Movie) error {
	v, ok, err := fields(b, x, 0, 1)
	if err != nil || !ok {
		return err
	}
	switch v[0] {
	case 0: // creation(4) modification(4) timescale(4) duration(4)
		p, ok, err := fields(b, x, 12, 8)
		if err != nil || !ok {
			return err
		}
		mv.timescale, mv.duration = be32(p), uint64(be32(p[4:]))
		if mv.duration == 0xFFFFFFFF { // "unknown"
			mv.duration = 0
		}
	case 1: // creation(8) modification(8) timescale(4) duration(8)
		p, ok, err := fields(b, x, 20, 12)
		if err != nil || !ok {
			return err
		}
		mv.timescale, mv.duration = be32(p), be64(p[4:])
		if mv.duration == ^uint64(0) {
			mv.duration = 0
		}
	default:
		return nil
	}
	mv.haveMvhd = true
	return nil
}

func parseTrak(b *reader, trak box, mv *mp4Movie) error {
	var (
		id        uint32
		timescale uint32
		mdhdDur   uint64
		handler   string
	)
	err := children(b, trak.body, trak.end, func(x box) error {
		switch {
		case x.is("tkhd"):
			v, ok, err := fields(b, x, 0, 1)
			if err != nil || !ok {
				return err
			}
			rel := int64(12) // version/flags, creation(4), modification(4)
			if v[0] == 1 {
				rel = 20
			}
			p, ok, err := fields(b, x, rel, 4)
			if err != nil || !ok {
				return err
			}
			id = be32(p)
		case x.is("mdia"):
			return children(b, x.body, x.end, func(y box) error {
				switch {
				case y.is("mdhd"):
					v, ok, err := fields(b, y, 0, 1)
					if err != nil || !ok {
						return err
					}
					if v[0] == 1 { // creation(8) modification(8) timescale(4) duration(8)
						p, ok, err := fields(b, y, 20, 12)
						if err != nil || !ok {
							return err
						}
						timescale, mdhdDur = be32(p), be64(p[4:])
					} else { // creation(4) modification(4) timescale(4) duration(4)
						p, ok, err := fields(b, y, 12, 8)
						if err != nil || !ok {
							return err
						}
						timescale, mdhdDur = be32(p), uint64(be32(p[4:]))
						if mdhdDur == 0xFFFFFFFF {
							mdhdDur = 0
						}
					}
				case y.is("minf"):
					return children(b, y.body, y.end, func(z box) error {
						if !z.is("stbl") {
							return nil
						}
						return children(b, z.body, z.end, func(t box) error {
							if t.is("stco") || t.is("co64") {
								return lastChunk(b, t, mv)
							}
							return nil
						})
					})
				case y.is("hdlr"):
					// version/flags(4), pre_defined / QuickTime component type(4), handler_type(4)
					p, ok, err := fields(b, y, 8, 4)
					if err != nil || !ok {
						return err
					}
					handler = string(p)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch handler {
	case "vide":
		mv.hasVideo = true
	case "soun":
		mv.hasAudio = true
	}
	if t := mv.track(id, true); t != nil {
		t.timescale, t.mdhdDur = timescale, mdhdDur
	}
	return nil
}

// lastChunk records the offset of the last chunk of a stco/co64 table: only
// the last entry is read, wherever it is.
func lastChunk(b *reader, x box, mv *mp4Movie) error {
	p, ok, err := fields(b, x, 0, 8) // version/flags, entry_count
	if err != nil || !ok {
		return err
	}
	count := int64(be32(p[4:]))
	if count == 0 {
		return nil
	}
	es := int64(4)
	if x.is("co64") {
		es = 8
	}
	if count > (x.end-x.body-8)/es {
		return rejDamaged("invalid chunk offset table")
	}
	q, _, err := fields(b, x, 8+(count-1)*es, int(es))
	if err != nil {
		return err
	}
	off := uint64(be32(q))
	if es == 8 {
		off = be64(q)
	}
	if off > mv.maxChunk || !mv.haveChunk {
		mv.maxChunk, mv.haveChunk = off, true
	}
	return nil
}

// track returns the state for track id, adding it when create is set and
// there is room. Track ID 0 is invalid and never stored.
func (mv *mp4Movie) track(id uint32, create bool) *mp4Track {
	if id == 0 {
		return nil
	}
	for i := range mv.tracks {
		if mv.tracks[i].id == id {
			return &mv.tracks[i]
		}
	}
	if !create || len(mv.tracks) >= maxTracks {
		return nil
	}
	mv.tracks = append(mv.tracks, mp4Track{id: id})
	return &mv.tracks[len(mv.tracks)-1]
}

// parseMoof adds the samples of one movie fragment to the per-track ends.
func parseMoof(b *reader, moof box, mv *mp4Movie) error {
	return children(b, moof.body, moof.end, func(traf box) error {
		if !traf.is("traf") {
			return nil
		}
		// First pass: tfhd (track and default duration) and tfdt (start).
		var (
			t       *mp4Track
			defDur  uint32
			base    uint64
			hasBase bool
		)
		err := children(b, traf.body, traf.end, func(x box) error {
			switch {
			case x.is("tfhd"):
				p, ok, err := fields(b, x, 0, 8)
				if err != nil || !ok {
					return err
				}
				flags := be32(p) & 0xFFFFFF
				t = mv.track(be32(p[4:]), false)
				if t == nil {
					return nil
				}
				defDur = t.trexDur
				if flags&0x08 != 0 {
					rel := int64(8)
					if flags&0x01 != 0 { // base_data_offset
						rel += 8
					}
					if flags&0x02 != 0 { // sample_description_index
						rel += 4
					}
					q, ok, err := fields(b, x, rel, 4)
					if err != nil || !ok {
						return err
					}
					defDur = be32(q)
				}
			case x.is("tfdt"):
				v, ok, err := fields(b, x, 0, 1)
				if err != nil || !ok {
					return err
				}
				if v[0] == 1 {
					p, ok, err := fields(b, x, 4, 8)
					if err != nil || !ok {
						return err
					}
					base, hasBase = be64(p), true
				} else {
					p, ok, err := fields(b, x, 4, 4)
					if err != nil || !ok {
						return err
					}
					base, hasBase = uint64(be32(p)), true
				}
			}
			return nil
		})
		if err != nil || t == nil {
			return err
		}
		// Second pass: sum the sample durations of every trun.
		var sum uint64
		err = children(b, traf.body, traf.end, func(x box) error {
			if !x.is("trun") {
				return nil
			}
			d, err := trunDuration(b, x, defDur)
			s, carry := bits.Add64(sum, d, 0)
			if carry != 0 {
				s = ^uint64(0)
			}
			sum = s
			return err
		})
		if err != nil {
			return err
		}
		start := t.fragEnd
		if hasBase {
			start = base
		}
		end, carry := bits.Add64(start, sum, 0)
		if carry != 0 {
			end = ^uint64(0)
		}
		if end > t.fragEnd || !t.haveFrag {
			t.fragEnd = end
		}
		t.haveFrag = true
		return nil
	})
}

// trunDuration sums the sample durations of a trun box. The loop is bounded
// by the box's size, not by its (untrusted) sample_count.
func trunDuration(b *reader, x box, defDur uint32) (uint64, error) {
	p, ok, err := fields(b, x, 0, 8)
	if err != nil || !ok {
		return 0, err
	}
	flags := be32(p) & 0xFFFFFF
	count := uint64(be32(p[4:]))
	if flags&0x100 == 0 {
		hi, lo := bits.Mul64(count, uint64(defDur))
		if hi != 0 {
			return ^uint64(0), nil
		}
		return lo, nil
	}
	rel := int64(8)
	if flags&0x01 != 0 { // data_offset
		rel += 4
	}
	if flags&0x04 != 0 { // first_sample_flags
		rel += 4
	}
	entry := int64(4 * bits.OnesCount32(flags&0xF00)) // >= 4: 0x100 is set
	var sum uint64
	for i := uint64(0); i < count; i++ {
		q, ok, err := fields(b, x, rel, 4)
		if err != nil || !ok {
			return sum, err
		}
		sum += uint64(be32(q)) // at most 2^32 samples of < 2^32: no overflow
		rel += entry
	}
	return sum, nil
}

// totalDuration is the longest of the mvhd duration, the mehd fragment
// duration, the tracks' mdhd durations and the end of the last fragment of
// any track.
func (mv *mp4Movie) totalDuration() time.Duration {
	var d time.Duration
	if mv.haveMvhd {
		d = scaleDuration(mv.duration, uint64(mv.timescale))
		if e := scaleDuration(mv.mehd, uint64(mv.timescale)); e > d {
			d = e
		}
	}
	for _, t := range mv.tracks {
		if e := scaleDuration(t.mdhdDur, uint64(t.timescale)); e > d {
			d = e
		}
		if e := scaleDuration(t.fragEnd, uint64(t.timescale)); t.haveFrag && e > d {
			d = e
		}
	}
	return d
}

// scaleDuration converts ticks at timescale ticks per second to a Duration,
// exactly, returning 0 for a zero timescale and -1 on overflow.
func scaleDuration(ticks, timescale uint64) time.Duration {
	if timescale == 0 || ticks == 0 {
		return 0
	}
	secs, rem := ticks/timescale, ticks%timescale
	const maxSecs = (1<<63 - 1) / uint64(time.Second)
	if secs >= maxSecs {
		return -1
	}
	// rem < timescale: use 128-bit arithmetic for rem*1e9/timescale.
	hi, lo := bits.Mul64(rem, uint64(time.Second))
	frac, _ := bits.Div64(hi, lo, timescale)
	return time.Duration(secs)*time.Second + time.Duration(frac)
}
