package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
)

// BenchmarkClipUpload64MiB times, in one run and in the same browser tab,
// one 64 MiB clip sent by the site's uploader (Uppy on /thanks: create,
// sign and PUT each 8 MiB part, complete) against one direct PUT of the
// same file to the same local S3 with a presigned URL (fetch in the page).
// Both are timed in the page (performance.now), with the stack idle before
// each; the order alternates between iterations. Run it with
//
//	go test ./infra/local/e2e -run '^$' -bench ClipUpload64MiB -benchtime 5x
func BenchmarkClipUpload64MiB(b *testing.B) {
	out, err := stacktest.PaddedMP4(64 << 20)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "ward-round.mp4")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		b.Fatal(err)
	}
	presign := s3.NewPresignClient(s3.NewFromConfig(st.AWS, func(o *s3.Options) { o.UsePathStyle = true }))
	bucket := st.Buckets["ClipsBucket"]

	var uppyTime, putTime time.Duration
	b.SetBytes(int64(len(out)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := tab(b, true)
		if err := chromedp.Do(ctx,
			chromedp.Navigate(st.URL+"/"),
			fillStory(stacktest.Unique("bench.uploader@example.org"), nil),
			chromedp.Click(byID("send")),
			chromedp.WaitVisible(chromedp.CSS("#uploader .uppy-Dashboard")),
			chromedp.SetUploadFiles(chromedp.CSS(`#uploader input.uppy-Dashboard-input[name="files[]"]:not([webkitdirectory])`), []string{file}),
			until(`window.frontlineUppy.getFiles().length === 1`),
		); err != nil {
			b.Fatal(err)
		}
		req, err := presign.PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("bench/%d-%d.mp4", time.Now().UnixNano(), i)), ContentLength: aws.Int64(int64(len(out)))})
		if err != nil {
			b.Fatal(err)
		}
		waitIdle(b)
		b.StartTimer()
		for _, uploader := range [][2]bool{{true, false}, {false, true}}[i%2] {
			if uploader {
				uppyTime += timeInPage(b, ctx, `window.frontlineUppy.upload().then(r => r.successful.length === 1 && !r.failed.length || JSON.stringify(r.failed.map(f => f.error)))`)
			} else {
				putTime += timeInPage(b, ctx, fmt.Sprintf(`fetch(%q, {method: 'PUT', body: window.frontlineUppy.getFiles()[0].data}).then(async r => r.ok || r.status + ' ' + await r.text())`, req.URL))
			}
			b.StopTimer()
			if uploader && testing.Verbose() {
				phases, err := chromedp.Run(ctx, chromedp.Evaluate[string](uploaderPhases))
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("uploader: %s", phases)
			}
			waitIdle(b)
			b.StartTimer()
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(uppyTime.Milliseconds())/n, "uploader-ms/op")
	b.ReportMetric(float64(putTime.Milliseconds())/n, "put-ms/op")
	b.ReportMetric(float64(uppyTime)/float64(putTime), "uploader/put")
}

// uploaderPhases says, from the page's resource timing, where the
// uploader's time went: create and first signature (until the first part
// starts), the parts, and the complete call.
const uploaderPhases = `(() => {
	const rs = performance.getEntriesByType('resource')
	const parts = rs.filter(e => /[?&]partNumber=\d/.test(e.name))
	const complete = rs.find(e => /\/complete\?/.test(e.name))
	const first = Math.min(...parts.map(e => e.startTime)), last = Math.max(...parts.map(e => e.responseEnd))
	const ms = x => Math.round(x) + ' ms'
	return parts.length + ' parts; until the first part ' + ms(first - window.benchT0) + ', parts ' + ms(last - first) +
		', then complete ' + ms(complete.responseEnd - last) + ' (its request ' + ms(complete.duration) + ')'
})()`

// timeInPage runs a promise-valued expression in the page and returns how
// long it took by the page's clock; the promise must resolve to true (or
// to what went wrong).
func timeInPage(b *testing.B, ctx context.Context, expr string) time.Duration {
	b.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		MS float64
		OK any
	}](`(async () => {
		performance.clearResourceTimings()
		const t0 = window.benchT0 = performance.now()
		const ok = await (`+expr+`)
		return {MS: performance.now() - t0, OK: ok}
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatal(err)
	}
	if r.OK != true {
		b.Fatalf("%s: %v", expr, r.OK)
	}
	return time.Duration(r.MS * float64(time.Millisecond))
}
