package story

import (
	"strings"
	"testing"
	"time"
)

func TestClipLimits(t *testing.T) {
	l := ClipLimits{MaxBytes: 500 << 20, MaxClips: 5, PartSize: 8 << 20, MaxDuration: 5 * time.Minute,
		Types: []string{"video/mp4", "video/quicktime", "video/webm"}}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mime, name, ext, why string }{
		{"video/mp4", "Interview.MP4", "mp4", ""},
		{"video/quicktime", "IMG_0001.MOV", "mov", ""},
		{"video/webm;codecs=vp8,opus", "webcam-1.webm", "webm", ""},
		{"video/webm", "", "webm", ""},
		{"video/mp4", "clip.webm", "", "The file name ends in .webm but the file says it is mp4"},
		{"video/x-msvideo", "clip.avi", "", "Only MP4, MOV or WEBM videos can be added."},
		{"", "clip.mp4", "", "Only MP4, MOV or WEBM"},
	} {
		ct, why := l.Accepts(tc.mime, tc.name)
		if ct.Ext != tc.ext || !strings.HasPrefix(why, tc.why) || (tc.why == "") != (why == "") {
			t.Errorf("Accepts(%q, %q) = %q %q", tc.mime, tc.name, ct.Ext, why)
		}
	}
	for _, bad := range []ClipLimits{
		{MaxBytes: 500 << 20, MaxClips: 5, PartSize: 4 << 20, Types: l.Types},         // parts under 5 MiB
		{MaxBytes: 100 << 30, MaxClips: 5, PartSize: 5 << 20, Types: l.Types},         // over 10,000 parts
		{MaxBytes: 500 << 20, MaxClips: 5, PartSize: 8 << 20, Types: []string{"x/y"}}, // unknown type
		{MaxBytes: 500 << 20, MaxClips: 0, PartSize: 8 << 20, Types: l.Types},
	} {
		if bad.Check() == nil {
			t.Errorf("Check(%+v) passed", bad)
		}
	}
	if got := HumanBytes(500 << 20); got != "500 MB" {
		t.Errorf("HumanBytes = %q", got)
	}
	if got := HumanDuration(90 * time.Second); got != "1 minute 30 seconds" {
		t.Errorf("HumanDuration = %q", got)
	}
}
