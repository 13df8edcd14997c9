#!/bin/sh
# Regenerates the media fixtures. Run from anywhere:
#   sh shared/media/testdata/make-fixtures.sh
# Needs ffmpeg (Debian 12: ffmpeg 5.1 with libx264, libvpx, libopus) and Go.
# Outputs are committed; regenerating may change bytes (encoder versions) but
# not durations. After regenerating, check the ffprobe figures in README.md
# and the table in ../inspect_test.go.
set -eu
cd "$(dirname "$0")"

FF="ffmpeg -hide_banner -loglevel error -y"
# Reproducible-ish output: no timestamps, no encoder version strings.
BITEXACT="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
SRC="-f lavfi -i testsrc=size=64x48:rate=10"
TONE="-f lavfi -i sine=frequency=440:sample_rate=48000"
X264="-c:v libx264 -preset veryfast -crf 40 -pix_fmt yuv420p -threads 1"

# MP4 with moov before mdat.
$FF $SRC -t 2 $X264 $BITEXACT -movflags +faststart faststart.mp4
# MP4 as ffmpeg writes it by default: moov at the END, after mdat.
$FF $SRC -t 2 $X264 $BITEXACT moov_at_end.mp4
# QuickTime: ftyp major brand "qt  ".
$FF $SRC -t 2 $X264 $BITEXACT -f mov clip.mov
# Fragmented MP4 (like MediaRecorder/Safari mp4): empty moov, mvhd duration 0,
# the duration only exists in the moof/traf/trun boxes.
$FF $SRC -t 2 $X264 -g 10 $BITEXACT -movflags +frag_keyframe+empty_moov+default_base_moof fragmented.mp4
# WebM (VP9) with Info/Duration and known sizes.
$FF $SRC -t 2 -c:v libvpx-vp9 -b:v 50k -deadline realtime -cpu-used 8 -threads 1 $BITEXACT -write_crc32 0 duration.webm
# WebM like Chrome's MediaRecorder: VP8 + Opus, no Duration, unknown-size
# Segment and Clusters, no SeekHead/Cues. ffmpeg always writes known-size
# clusters, so write a normal file and rewrite it.
$FF $SRC $TONE -t 2 -c:v libvpx -b:v 50k -g 10 -threads 1 -c:a libopus -b:a 16k $BITEXACT \
	-write_crc32 0 -cluster_time_limit 500 mediarecorder.src.webm
go run ./mediarecorder < mediarecorder.src.webm > mediarecorder.webm
rm mediarecorder.src.webm
# Six minutes, 1 frame per second, 16x16 grey: for the length limit.
$FF -f lavfi -i color=c=gray:size=16x16:rate=1 -t 360 $X264 $BITEXACT long_6min.mp4
# Audio only (AAC in MP4 and Opus in WebM): media files with no picture.
$FF $TONE -t 2 -c:a aac -b:a 16k $BITEXACT audio_only.m4a
$FF $TONE -t 2 -c:a libopus -b:a 16k $BITEXACT -write_crc32 0 audio_only.webm
# A JPEG still, renamed .mp4.
$FF $SRC -frames:v 1 $BITEXACT -f mjpeg photo.mp4
# First half of faststart.mp4: moov present, mdat cut off.
head -c $(( $(wc -c < faststart.mp4) / 2 )) faststart.mp4 > truncated.mp4
# First half of moov_at_end.mp4: no moov at all.
head -c $(( $(wc -c < moov_at_end.mp4) / 2 )) moov_at_end.mp4 > truncated_no_moov.mp4
# Text renamed .mp4.
printf 'Frontline Voices volunteer notes\nThis is not a video, just text renamed to .mp4.\n' > notes.mp4
