package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// bigMP4 writes the 2-second faststart.mp4 grown to size bytes (its mdat,
// the last box, padded with the marker) and returns its path.
func bigMP4(t *testing.T, size int) string {
	t.Helper()
	out, err := stacktest.PaddedMP4(size)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ward-round.mp4")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// until waits (without a time limit of its own: the tab has one) until
// the JavaScript expression is true. The page asks every pollEvery, not on
// every animation frame (chromedp's default): asking for frames keeps the
// page drawing sixty times a second while it waits, about 0.06 s of the
// browser's CPU per second, three times what the timer costs.
func until(expr string, opts ...chromedp.PollOption) chromedp.Action[chromedp.Void] {
	opts = append([]chromedp.PollOption{chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(pollEvery)}, opts...)
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, opts...)(ctx, tg)
		return err
	})
}

// press waits until the element is visible and enabled, then clicks it as
// a person would (a DOM click: Uppy's panels slide, so a click at the
// element's coordinates could land on the panel it is leaving).
func press(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		until(`(() => { const b = document.querySelector(`+"`"+css+"`"+`); return !!b && b.offsetParent !== null && !b.disabled })()`),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector(`+"`"+css+"`"+`).click(), true`)(ctx, tg)
			return err
		}),
	)
}

// chooseFiles picks files in the uploader's file input, as a person does
// from the device. Uppy may draw its Dashboard again (a new input) between
// finding the input and handing it the files: the browser then answers
// "Could not find node with given id" (seen under load), and the input is
// found again.
func chooseFiles(files ...string) chromedp.Action[chromedp.Void] {
	input := chromedp.CSS(`#uploader input.uppy-Dashboard-input[name="files[]"]:not([webkitdirectory])`)
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for try := 1; ; try++ {
			_, err := chromedp.SetUploadFiles(input, files, chromedp.RetryInterval(pollEvery))(ctx, tg)
			if err == nil || try == 10 || !strings.Contains(err.Error(), "Could not find node with given id") {
				return err
			}
		}
	})
}

// TestClipsFromTheThankYouPage is the volunteer's way: send a story, then on
// the thank-you page choose two videos (a small one goes by presigned POST,
// a 12 MiB one by multipart) and record a few seconds with the camera, press
// Upload, and see every clip checked and received.
func TestClipsFromTheThankYouPage(t *testing.T) {
	t.Parallel()
	ctx := tab(t, true)
	// A stack of its own, whose payloads counts what every function
	// invocation carried, to show that no video passes through a function
	// when the browser uploads: the tests beside this one call the shared
	// stack's functions, not these.
	payloads := &stacktest.Traffic{}
	st, _, err := startStack(ctx, payloads.Add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	email := stacktest.Unique("clips.uploader@example.org")
	small, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "media", "testdata", "faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	big := bigMP4(t, 12<<20)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/"),
		fillStory(email, nil),
		click(byID("send")),
		waitVisible(chromedp.CSS("#uploader .uppy-Dashboard")),
	); err != nil {
		t.Fatalf("sending the story: %v\n%s", err, whereIs(ctx))
	}
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('uploader').dataset.story`))
	if err != nil || !story.ValidID(id) {
		t.Fatalf("uploader story = %q (%v)", id, err)
	}
	payloads.Reset()

	// Two files from the device.
	if err := chromedp.Do(ctx,
		chooseFiles(small, big),
		until(`window.frontlineUppy.getFiles().length === 2`),
	); err != nil {
		t.Fatal(err)
	}
	// A recording with the fake camera: start, wait until it has run for
	// three seconds, stop, keep it.
	for i, step := range []chromedp.Action[chromedp.Void]{
		press(`.uppy-DashboardContent-addMore`),
		press(`[data-uppy-acquirer-id="Webcam"] button`),
		press(`button[aria-label="Begin video recording"]`),
		until(`(document.querySelector('.uppy-Webcam-recordingLength') || {}).textContent >= '0:03'`),
		press(`button[aria-label="Stop video recording"]`),
		press(`button[aria-label="Submit recorded file"]`),
		until(`window.frontlineUppy.getFiles().length === 3`),
	} {
		if err := chromedp.Do(ctx, step); err != nil {
			screenshot(t, ctx, "clips-recording-failed")
			t.Fatalf("recording step %d: %v", i+1, err)
		}
	}
	screenshot(t, ctx, "clips-ready")
	if err := chromedp.Do(ctx,
		press(`.uppy-StatusBar-actionBtn--upload`),
		waitReady(chromedp.CSS(`body[data-uploads-complete]`)),
	); err != nil {
		screenshot(t, ctx, "clips-upload-failed")
		t.Fatal(err)
	}
	done, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.uploadsComplete + ' ' + document.getElementById('uploader-status').textContent`))
	if !strings.HasPrefix(done, "3 ") {
		screenshot(t, ctx, "clips-upload-failed")
		// Each file as the uploader holds it, to tell a file never sent from
		// one that failed.
		files, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.frontlineUppy.getFiles().map(f =>
			[f.name, f.type, f.size, f.progress.uploadStarted ? 'started' : 'not started', f.progress.uploadComplete ? 'complete' : 'not complete', String(f.error || '')]))`))
		t.Fatalf("uploads complete: %q; the uploader's files: %s", done, files)
	}
	// The 12 MiB clip's two 8 MiB parts were on the wire at the same time
	// (the uploader sends a file's parts in parallel, not one after another).
	if n := partsAtOnce(t, ctx); n < 2 {
		t.Errorf("at most %d part PUT in flight at once, want the two parts together", n)
	}
	// Both parts' URLs came in create's answer: no signing call.
	if calls := signingCalls(t, ctx, 0); len(calls) != 0 {
		t.Errorf("signing calls %q, want none", calls)
	}
	waitStackIdle(t, st)

	// The page lists the three clips as received, once ingest has checked them.
	if err := chromedp.Do(ctx, until(`document.body.dataset.clipsVerified === '3'`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		list, _ := chromedp.Run(ctx, chromedp.Text(byID("clip-list")))
		t.Fatalf("clip list never showed three received clips: %v\n%s", err, list)
	}
	screenshot(t, ctx, "clips-received")
	list, _ := chromedp.Run(ctx, chromedp.Text(byID("clip-list")))
	for _, want := range []string{"ward-round.mp4: received (0:02, 12 MB)", "faststart.mp4: received (0:02, 2 KB)", ".webm: received (0:0"} {
		if !strings.Contains(list, want) {
			t.Errorf("clip list lacks %q:\n%s", want, list)
		}
	}

	clips, err := store.New(dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"]).ListClips(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range clips {
		if c.Status != story.ClipVerified {
			t.Errorf("clip %s: %s %s", c.Key, c.Status, c.Reason)
		}
		kinds = append(kinds, c.MIME)
		if c.MIME == "video/webm" && (c.Duration < 2*time.Second || c.Duration > 30*time.Second) {
			t.Errorf("the recording lasts %s, want about three seconds", c.Duration)
		}
	}
	sort.Strings(kinds)
	if strings.Join(kinds, ",") != "video/mp4,video/mp4,video/webm" {
		t.Fatalf("clips = %+v", clips)
	}

	calls, total, largest, marked := payloads.Total()
	t.Logf("browser upload of 3 clips (12 MiB + 2.5 KB + the recording): %d function invocations carried %d bytes (largest %d), %d held video bytes",
		calls, total, largest, marked)
	if marked != 0 || largest > 16<<10 {
		t.Errorf("video passed through a function: %d payloads with video bytes, largest %d bytes", marked, largest)
	}
}

// TestThankYouPageWithoutATokenHasNoUploader: the uploader is loaded only
// where it can work, and the form page never loads it.
func TestThankYouPageWithoutATokenHasNoUploader(t *testing.T) {
	t.Parallel()
	// A browser context of its own: no upload cookie from another tab (and
	// no clearing of the cookies other tests' tabs are using).
	ctx := tab(t, true)
	for _, path := range []string{"/", "/thanks"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(st.URL+path)); err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('script[src*="uploader"], link[href*="uploader"], #uploader').length`))
		if err != nil || n != 0 {
			t.Errorf("%s: %d uploader elements (%v)", path, n, err)
		}
	}
}

// partsAtOnce is the largest number of multipart part PUTs the page had in
// flight at the same time, from its resource timing (a part's URL names
// its partNumber).
func partsAtOnce(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		const edges = []
		for (const e of performance.getEntriesByType('resource')) {
			if (!/[?&]partNumber=\d/.test(e.name)) continue
			edges.push([e.startTime, 1], [e.responseEnd, -1])
		}
		edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
		let now = 0, most = 0
		for (const [, d] of edges) { now += d; most = Math.max(most, now) }
		return most
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// signingCalls lists the part-signing calls the page made after its
// clock read since (ms): "batch" for the batch route, the part number for
// the one-part route.
func signingCalls(t *testing.T, ctx context.Context, since float64) []string {
	t.Helper()
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`performance.getEntriesByType('resource')
		.filter(e => e.startTime > %f).map(e => new URL(e.name).pathname)
		.filter(p => /^\/api\/s3\/multipart\/[^/]+\/[^/]+$/.test(p) && !p.endsWith('/complete'))
		.map(p => p.replace(/^.*\//, ''))`, since)))
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// bigClipChosen is a tab on the thank-you page of a story sent from Go
// with a 17 MiB clip (three parts: two of 8 MiB, the last of 1 MiB)
// chosen, not yet sent.
func bigClipChosen(t *testing.T, email string) context.Context {
	t.Helper()
	ctx := tab(t, true)
	big := bigMP4(t, 17<<20)
	postStory(t, ctx, st, stacktest.Unique(email))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/thanks"),
		waitVisible(chromedp.CSS("#uploader .uppy-Dashboard")),
		chooseFiles(big),
		until(`window.frontlineUppy.getFiles().length === 1`),
	); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestClipUploadPausesAndResumes: a multipart clip paused once its first
// part is in S3 resumes where it stopped (it lists the parts S3 holds and
// sends the rest) and arrives whole.
func TestClipUploadPausesAndResumes(t *testing.T) {
	t.Parallel()
	ctx := bigClipChosen(t, "clips.pause@example.org")
	// Pause as soon as the first part is in S3, resume half a second later.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const uppy = window.frontlineUppy, id = uppy.getFiles()[0].id
		let parts = 0
		uppy.on('s3-multipart:part-uploaded', () => {
			if (++parts !== 1) return
			uppy.pauseResume(id)
			window.pausedAt = performance.now()
			setTimeout(() => uppy.pauseResume(id), 500)
		})
		uppy.upload()
		return true
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, waitReady(chromedp.CSS(`body[data-uploads-complete]`))); err != nil {
		t.Fatal(err)
	}
	// After the pause the uploader asked which parts S3 holds (GET
	// …/multipart/{uploadId}?key=, no part number) before going on.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[Number(document.body.dataset.uploadsComplete), window.pausedAt > 0 ? 1 : 0,
		performance.getEntriesByType('resource').filter(e => /\/api\/s3\/multipart\/[^/?]+\?key=/.test(e.name) && e.startTime > window.pausedAt).length]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 1 || got[1] != 1 || got[2] != 1 {
		t.Fatalf("complete %d, paused %d, parts listed after the pause %d times (want 1, 1, 1)", got[0], got[1], got[2])
	}
	// The parts left, if S3 did not have them all by the pause, were
	// signed again by one batch call.
	after, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.pausedAt,
		performance.getEntriesByType('resource').filter(e => /[?&]partNumber=\d/.test(e.name) && e.startTime > window.pausedAt).length]`))
	if err != nil {
		t.Fatal(err)
	}
	if calls := signingCalls(t, ctx, after[0]); (after[1] > 0) != (len(calls) == 1 && calls[0] == "batch") || len(calls) > 1 {
		t.Errorf("%v parts sent after the pause; signing calls %q, want one batch if any part was sent", after[1], calls)
	}
	waitIdle(t)
	if err := chromedp.Do(ctx, until(`document.body.dataset.clipsVerified === '1'`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		list, _ := chromedp.Run(ctx, chromedp.Text(byID("clip-list")))
		t.Fatalf("the resumed clip was never received: %v\n%s", err, list)
	}
	if list, _ := chromedp.Run(ctx, chromedp.Text(byID("clip-list"))); !strings.Contains(list, "ward-round.mp4: received (0:02, 17 MB)") {
		t.Errorf("clip list after the resumed upload:\n%s", list)
	}
}

// TestClipUploadResumesAfterAReload: a multipart clip paused once its
// first part is in S3, then the page reloaded, is restored by Golden
// Retriever (the file from IndexedDB, the upload's id and key) and, once
// the volunteer confirms, resumes: it lists the parts S3 holds, signs the
// rest by one batch call, completes, and arrives whole.
func TestClipUploadResumesAfterAReload(t *testing.T) {
	t.Parallel()
	ctx := bigClipChosen(t, "clips.reload@example.org")
	blobStored(t, ctx, true)
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise(resolve => {
		const uppy = window.frontlineUppy, id = uppy.getFiles()[0].id
		uppy.on('s3-multipart:part-uploaded', () => {
			if (uppy.getFile(id).isPaused) return
			uppy.pauseResume(id)
			resolve(uppy.getFile(id).s3Multipart.uploadId)
		})
		uppy.upload()
	})`, chromedp.EvalAwaitPromise))
	if err != nil || before == "" {
		t.Fatalf("paused upload %q: %v", before, err)
	}
	// Golden Retriever saves Uppy's state at most every 500 ms: a reload
	// before it saved the upload's id starts the upload again (nothing is
	// lost). The volunteer here reloads once it has.
	saved, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(async () => {
		const saved = () => new Promise((resolve, reject) => {
			const open = indexedDB.open('uppy-blobs')
			open.onerror = () => reject(open.error)
			open.onsuccess = () => {
				const db = open.result
				if (!db.objectStoreNames.contains('metadata')) { db.close(); resolve(''); return }
				const get = db.transaction('metadata').objectStore('metadata').get(window.frontlineUppy.getID())
				get.onsuccess = () => { db.close(); resolve(get.result ? get.result.metadata : '') }
				get.onerror = () => { db.close(); reject(get.error) }
			}
		})
		const until = performance.now() + 10000
		while (!(await saved()).includes(%q)) {
			if (performance.now() > until) return false
			await new Promise(r => setTimeout(r, 25))
		}
		return true
	})()`, before), chromedp.EvalAwaitPromise))
	if err != nil || !saved {
		t.Fatalf("Golden Retriever never saved the paused upload's id (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), waitVisible(chromedp.CSS("#uploader .uppy-Dashboard")),
		until(`window.frontlineUppy.getFiles().length === 1 && window.frontlineUppy.getFiles()[0].data instanceof Blob`)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`new Promise(resolve => {
		const uppy = window.frontlineUppy
		uppy.on('complete', r => {
			const rs = performance.getEntriesByType('resource')
			resolve([r.successful.length + ' sent, ' + r.failed.length + ' failed',
				String(rs.filter(e => /[?&]partNumber=\d/.test(e.name)).length),
				rs.map(e => new URL(e.name).pathname).filter(p => p.startsWith('/api/s3/')).join(' ')])
		})
		uppy.emit('restore-confirmed')
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// The parts left (none if S3 had them all by the pause) signed by one
	// batch call.
	id := "/api/s3/multipart/" + before
	want := id + " " + id + "/batch " + id + "/complete"
	if got[1] == "0" {
		want = id + " " + id + "/complete"
	}
	if got[0] != "1 sent, 0 failed" || got[2] != want {
		t.Fatalf("after the reload: %s, %s parts sent, calls %q, want %q", got[0], got[1], got[2], want)
	}
	waitIdle(t)
	if err := chromedp.Do(ctx, until(`document.body.dataset.clipsVerified === '1'`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		list, _ := chromedp.Run(ctx, chromedp.Text(byID("clip-list")))
		t.Fatalf("the resumed clip was never received: %v\n%s", err, list)
	}
}
