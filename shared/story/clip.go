package story

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Clip is a video clip attached to a story, as ingest recorded it: verified
// (its bytes are a video of an accepted type and length) or rejected, with
// the reason a volunteer is told.
type Clip struct {
	Key      string        `json:"key" dynamodbav:"key"`
	MIME     string        `json:"mime" dynamodbav:"mime"`
	Size     int64         `json:"size" dynamodbav:"size"`
	Duration time.Duration `json:"duration" dynamodbav:"duration"`
	Status   string        `json:"status" dynamodbav:"status"`
	Reason   string        `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	At       time.Time     `json:"at" dynamodbav:"clipAt"`
}

// Clip statuses. A clip is pending from the moment its upload is signed
// until ingest has looked at it; only verified and rejected clips are listed.
const (
	ClipPending  = "pending"
	ClipVerified = "verified"
	ClipRejected = "rejected"
	ClipAborted  = "aborted"
)

// ClipType is one accepted kind of video: its MIME type, the extension its
// stored key gets and the file name extensions it may have.
type ClipType struct {
	MIME string
	Ext  string   // of the stored key, without the dot
	Exts []string // accepted file name extensions, with the dot
}

// ClipTypes are the types a clip may be declared as.
var ClipTypes = []ClipType{
	{MIME: "video/mp4", Ext: "mp4", Exts: []string{".mp4", ".m4v"}},
	{MIME: "video/quicktime", Ext: "mov", Exts: []string{".mov"}},
	{MIME: "video/webm", Ext: "webm", Exts: []string{".webm"}},
}

// FindClipType returns the accepted type for a declared MIME type (its
// parameters, such as MediaRecorder's ";codecs=vp8,opus", are ignored).
func FindClipType(mime string) (ClipType, bool) {
	mime, _, _ = strings.Cut(mime, ";")
	mime = strings.ToLower(strings.TrimSpace(mime))
	for _, t := range ClipTypes {
		if t.MIME == mime {
			return t, true
		}
	}
	return ClipType{}, false
}

// ClipLimits are the rules every clip must meet.
type ClipLimits struct {
	MaxBytes    int64
	MaxClips    int
	MaxDuration time.Duration
	PartSize    int64
	Types       []string // accepted MIME types, a subset of ClipTypes
}

// MinPartSize is S3's smallest multipart part (all but the last).
const MinPartSize = 5 << 20

// MaxParts is S3's largest part number.
const MaxParts = 10000

// Check reports limits that cannot work: a part size S3 refuses, a clip
// that would need more than S3's 10,000 parts, an unknown type.
func (l ClipLimits) Check() error {
	switch {
	case l.MaxBytes <= 0:
		return fmt.Errorf("the clip size limit must be positive")
	case l.MaxClips <= 0:
		return fmt.Errorf("the number of clips a story may have must be positive")
	case l.PartSize < MinPartSize:
		return fmt.Errorf("the part size %d is under S3's minimum of 5 MiB", l.PartSize)
	case (l.MaxBytes+l.PartSize-1)/l.PartSize > MaxParts:
		return fmt.Errorf("a %d-byte clip would need more than %d parts of %d bytes", l.MaxBytes, MaxParts, l.PartSize)
	case len(l.Types) == 0:
		return fmt.Errorf("no clip types are accepted")
	}
	for _, m := range l.Types {
		if _, ok := FindClipType(m); !ok {
			return fmt.Errorf("the clip type %q is not one this site can check", m)
		}
	}
	return nil
}

// Accepts returns the type of a clip declared as mime with the file name
// name, or a reason a volunteer can act on. The extension must match the
// type; a name without one is accepted (recordings from some browsers).
func (l ClipLimits) Accepts(mime, name string) (ClipType, string) {
	t, ok := FindClipType(mime)
	if !ok || !slices.Contains(l.Types, t.MIME) {
		return ClipType{}, "Only " + l.TypeNames() + " videos can be added."
	}
	if ext := strings.ToLower(path.Ext(name)); ext != "" && !slices.Contains(t.Exts, ext) {
		return ClipType{}, fmt.Sprintf("The file name ends in %s but the file says it is %s: rename it or choose another file.", ext, t.Ext)
	}
	return t, ""
}

// TypeNames lists the accepted types as people know them: "MP4, MOV or WEBM".
func (l ClipLimits) TypeNames() string {
	var names []string
	for _, m := range l.Types {
		if t, ok := FindClipType(m); ok {
			names = append(names, strings.ToUpper(t.Ext))
		}
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Extensions lists every accepted file name extension, e.g. ".mp4,.mov".
func (l ClipLimits) Extensions() []string {
	var out []string
	for _, m := range l.Types {
		if t, ok := FindClipType(m); ok {
			out = append(out, t.Exts...)
		}
	}
	return out
}

// HumanBytes writes a size as people read it: "500 MB", "12.5 MB".
func HumanBytes(n int64) string {
	const mib = 1 << 20
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<30))) + " GB"
	case n >= mib:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/mib)) + " MB"
	}
	return fmt.Sprintf("%d KB", max(1, (n+512)/1024))
}

// HumanDuration writes a clip length as people read it: "5 minutes", "1 minute 30 seconds".
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	m, s := int(d/time.Minute), int((d%time.Minute)/time.Second)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case m == 0:
		return plural(s, "second")
	case s == 0:
		return plural(m, "minute")
	}
	return plural(m, "minute") + " " + plural(s, "second")
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
