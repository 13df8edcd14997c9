package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
)

// BenchmarkClipUpload64MiB times, in one run and in the same browser tab,
// one 64 MiB clip sent by the site's uploader (Uppy on /thanks: create,
// sign and PUT each 8 MiB part, complete) against one direct PUT of the
// same file to the same local S3 with a presigned URL (fetch in the page).
// Both are timed in the page (performance.now), with the stack idle before
// each; the order alternates between iterations. It reports the ratio of
// the totals (uploader/put) and the median of each iteration's ratio
// (uploader/put-median). Run it with
//
//	go test ./infra/local/e2e -run '^$' -bench ClipUpload64MiB -benchtime 10x
//
// With UPLOAD_PEER set to a directory holding @uppy/companion's server
// (server.mjs) and a bundle of stock Uppy and @uppy/aws-s3 6.3.1
// (peer.bundle.js), each iteration also sends the same file with stock Uppy
// through Companion signing for the same local S3: the peer.
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

	peer := startPeer(b)
	// With UPLOAD_RAW_PARTS set, each iteration also sends the file's 8 MiB
	// parts to a multipart upload made and presigned from Go, four at a
	// time, no uploader and no complete: with fetch (rawparts), and with
	// XMLHttpRequest and a progress listener (xhrparts): what the local
	// S3's part path and the browser's request cost beside the single PUT.
	rawParts := os.Getenv("UPLOAD_RAW_PARTS") != ""
	var uppyTime, putTime, peerTime, partsTime, xhrTime time.Duration
	var uppyEach, putEach []time.Duration // each iteration's, in turn
	b.SetBytes(int64(len(out)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := tab(b, true)
		if peer.url != "" {
			// The site's CSP lets the page connect to itself and S3 only;
			// the peer's Companion is a third origin.
			if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
				return err
			})); err != nil {
				b.Fatal(err)
			}
		}
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
		// Golden Retriever copies the chosen file into IndexedDB (to resume
		// after a reload); that is neither transfer's work, so wait for it.
		blobStored(b, ctx, true)
		waitIdle(b)
		b.StartTimer()
		order := []string{"uploader", "put"}
		if peer.url != "" {
			order = append(order, "peer")
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](peer.bundle+`;true`)); err != nil {
				b.Fatal(err)
			}
		}
		var parts []string
		var xhrParts []string
		if rawParts {
			order = append(order, "parts", "xhrparts")
			b.StopTimer()
			parts = presignParts(b, bucket, fmt.Sprintf("bench/%d-%d-parts.mp4", time.Now().UnixNano(), i), len(out))
			xhrParts = presignParts(b, bucket, fmt.Sprintf("bench/%d-%d-xhrparts.mp4", time.Now().UnixNano(), i), len(out))
			b.StartTimer()
		}
		for j := range order {
			switch what := order[(i+j)%len(order)]; what {
			case "uploader":
				before := mainThread(b, ctx)
				d := timeInPage(b, ctx, `(() => {
					const u = window.frontlineUppy, count = () => window.benchStates++
					window.benchStates = 0
					u.on('state-update', count)
					return u.upload().then(r => r.successful.length === 1 && !r.failed.length || JSON.stringify(r.failed.map(f => f.error))).finally(() => u.off('state-update', count))
				})()`)
				uppyTime += d
				uppyEach = append(uppyEach, d)
				if testing.Verbose() {
					busy := mainThread(b, ctx) - before
					states, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.benchStates`))
					b.Logf("uploader: %d ms; the page's main thread used %d ms of CPU, %d state updates", d.Milliseconds(), busy.Milliseconds(), states)
				}
			case "put":
				before := mainThread(b, ctx)
				d := timeInPage(b, ctx, fmt.Sprintf(`fetch(%q, {method: 'PUT', body: window.frontlineUppy.getFiles()[0].data}).then(async r => r.ok || r.status + ' ' + await r.text())`, req.URL))
				putTime += d
				putEach = append(putEach, d)
				if testing.Verbose() {
					b.Logf("put: %d ms; the page's main thread used %d ms of CPU", d.Milliseconds(), (mainThread(b, ctx) - before).Milliseconds())
				}
			case "parts", "xhrparts":
				// The same parts with fetch, or with XMLHttpRequest and an
				// upload progress listener (as the uploader sends them).
				send := `fetch(url, {method: 'PUT', body}).then(r => r.ok && r.headers.get('ETag'))`
				urls, _ := json.Marshal(parts)
				if what == "xhrparts" {
					urls, _ = json.Marshal(xhrParts)
					send = `new Promise((resolve, reject) => {
						const x = new XMLHttpRequest()
						x.open('PUT', url)
						x.upload.onprogress = () => {}
						x.onload = () => resolve(x.status === 200 && x.getResponseHeader('ETag'))
						x.onerror = reject
						x.send(body)
					})`
				}
				before := mainThread(b, ctx)
				d := timeInPage(b, ctx, fmt.Sprintf(`(async () => {
					const f = window.frontlineUppy.getFiles()[0].data, urls = %s, size = %d
					let next = 0
					const worker = async () => {
						while (next < urls.length) {
							const i = next++, url = urls[i], body = f.slice(i * size, Math.min(f.size, (i + 1) * size))
							if (!await %s) throw new Error('part ' + (i + 1) + ' failed')
						}
					}
					await Promise.all([worker(), worker(), worker(), worker()])
					return true
				})()`, urls, rawPartSize, send))
				if what == "parts" {
					partsTime += d
				} else {
					xhrTime += d
				}
				if testing.Verbose() {
					b.Logf("raw %s: %d ms; the page's main thread used %d ms of CPU", what, d.Milliseconds(), (mainThread(b, ctx) - before).Milliseconds())
				}
			case "peer":
				peerTime += timeInPage(b, ctx, fmt.Sprintf(`(() => {
					const u = new PeerUppy.Uppy({id: 'peer-%d'})
					u.use(PeerUppy.AwsS3, {companionEndpoint: %q, shouldUseMultipart: true, getChunkSize: () => 8 * 1024 * 1024})
					u.addFile({name: 'ward-round.mp4', type: 'video/mp4', data: window.frontlineUppy.getFiles()[0].data})
					return u.upload().then(r => r.successful.length === 1 && !r.failed.length || JSON.stringify(r.failed.map(f => String(f.error))))
				})()`, i, peer.url))
			}
			b.StopTimer()
			if order[(i+j)%len(order)] == "uploader" && testing.Verbose() {
				phases, err := chromedp.Run(ctx, chromedp.Evaluate[string](uploaderPhases))
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("uploader: %s", phases)
			}
			if order[(i+j)%len(order)] == "uploader" {
				// and drops that copy once the upload is complete.
				blobStored(b, ctx, false)
			}
			waitIdle(b)
			b.StartTimer()
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(uppyTime.Milliseconds())/n, "uploader-ms/op")
	b.ReportMetric(float64(putTime.Milliseconds())/n, "put-ms/op")
	b.ReportMetric(float64(uppyTime)/float64(putTime), "uploader/put")
	// Each iteration's pair, sent back to back in the same tab, is one
	// ratio; their median is what a moment of other work on a shared
	// machine (one slow transfer) does not move.
	ratios := make([]float64, len(uppyEach))
	for i := range ratios {
		ratios[i] = float64(uppyEach[i]) / float64(putEach[i])
	}
	slices.Sort(ratios)
	b.ReportMetric((ratios[(len(ratios)-1)/2]+ratios[len(ratios)/2])/2, "uploader/put-median")
	if rawParts {
		b.ReportMetric(float64(partsTime)/float64(putTime), "rawparts/put")
		b.ReportMetric(float64(xhrTime)/float64(putTime), "xhrparts/put")
	}
	if peer.url != "" {
		b.ReportMetric(float64(peerTime.Milliseconds())/n, "peer-ms/op")
		b.ReportMetric(float64(peerTime)/float64(putTime), "peer/put")
	}
}

// peerServer is @uppy/companion for the local S3 (see BenchmarkClipUpload64MiB).
type peerServer struct {
	url    string // its origin, "" without UPLOAD_PEER
	bundle string // stock Uppy and @uppy/aws-s3, as a script
}

// startPeer starts Companion from $UPLOAD_PEER with the stack's S3 and
// credentials, for this benchmark's life.
func startPeer(b *testing.B) peerServer {
	dir := os.Getenv("UPLOAD_PEER")
	if dir == "" {
		return peerServer{}
	}
	bundle, err := os.ReadFile(filepath.Join(dir, "peer.bundle.js"))
	if err != nil {
		b.Fatal(err)
	}
	creds, err := st.AWS.Credentials.Retrieve(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PEER_S3_KEY="+creds.AccessKeyID, "PEER_S3_SECRET="+creds.SecretAccessKey,
		"PEER_S3_BUCKET="+st.Buckets["ClipsBucket"], "PEER_S3_REGION="+st.AWS.Region,
		"PEER_S3_ENDPOINT="+st.S3URL, "PEER_SITE_ORIGIN="+st.URL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "listening "); ok {
			go func() {
				for lines.Scan() {
				}
			}()
			return peerServer{url: u, bundle: string(bundle)}
		}
	}
	b.Fatalf("companion did not start: %v", lines.Err())
	return peerServer{}
}

// uploaderPhases says, from the page's resource timing, where the
// uploader's time went: create and first signature (until the first part
// starts; with the create call's and the signing calls' durations), the parts
// (with the shortest and longest part request), and the complete call.
const uploaderPhases = `(() => {
	const rs = performance.getEntriesByType('resource')
	const parts = rs.filter(e => /[?&]partNumber=\d/.test(e.name))
	const complete = rs.find(e => /\/complete\?/.test(e.name))
	const create = rs.find(e => /\/api\/s3\/multipart(\?|$)/.test(e.name))
	const signs = rs.filter(e => /\/api\/s3\/multipart\/[^/?]+\/(\d+|batch)(\?|$)/.test(e.name)).map(e => e.duration)
	const first = Math.min(...parts.map(e => e.startTime)), last = Math.max(...parts.map(e => e.responseEnd))
	const ms = x => Math.round(x) + ' ms'
	return parts.length + ' parts; until the first part ' + ms(first - window.benchT0) +
		' (create sent at ' + (create ? ms(create.startTime - window.benchT0) + ', took ' + ms(create.duration) : '?') + ', ' + (signs.length ? signs.length + ' signing calls ' + ms(Math.min(...signs)) + '–' + ms(Math.max(...signs)) : 'no signing call') + ')' +
		', parts ' + ms(last - first) + ' (each ' + ms(Math.min(...parts.map(e => e.duration))) + '–' + ms(Math.max(...parts.map(e => e.duration))) + ')' +
		', then complete ' + ms(complete.responseEnd - last) + ' (its request ' + ms(complete.duration) + ')'
})()`

const rawPartSize = 8 << 20

// presignParts begins a multipart upload of key and presigns a PUT for each
// of its rawPartSize parts (size bytes in all).
func presignParts(b *testing.B, bucket, key string, size int) []string {
	b.Helper()
	ctx := context.Background()
	client := s3.NewFromConfig(st.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	up, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		b.Fatal(err)
	}
	presign := s3.NewPresignClient(client)
	var urls []string
	for n, off := int32(1), 0; off < size; n, off = n+1, off+rawPartSize {
		req, err := presign.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), ContentLength: aws.Int64(int64(min(rawPartSize, size-off)))})
		if err != nil {
			b.Fatal(err)
		}
		urls = append(urls, req.URL)
	}
	return urls
}

// blobStored waits until Golden Retriever's copy of the uploader's file is
// in the page's IndexedDB (stored true) or gone from it (false).
func blobStored(b testing.TB, ctx context.Context, stored bool) {
	b.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(async () => {
		const key = window.frontlineUppy.getID() + '!' + window.frontlineUppy.getFiles()[0].id
		const has = () => new Promise((resolve, reject) => {
			const open = indexedDB.open('uppy-blobs')
			open.onerror = () => reject(open.error)
			open.onsuccess = () => {
				const db = open.result
				if (!db.objectStoreNames.contains('files')) { db.close(); resolve(false); return }
				const get = db.transaction('files').objectStore('files').getKey(key)
				get.onsuccess = () => { db.close(); resolve(get.result !== undefined) }
				get.onerror = () => { db.close(); reject(get.error) }
			}
		})
		const until = performance.now() + 60000
		while (await has() !== %t) {
			if (performance.now() > until) return false
			await new Promise(r => setTimeout(r, 20))
		}
		return true
	})()`, stored), chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatal(err)
	}
	if !r {
		b.Fatalf("Golden Retriever's copy of the file: stored %t not reached in 60 s", stored)
	}
}

// mainThread is the CPU time the tab's main thread has used so far
// (Chromium's ThreadTime: not stretched by a busy machine as the wall time
// of its tasks is), or 0 unless -v.
func mainThread(b *testing.B, ctx context.Context) time.Duration {
	b.Helper()
	if !testing.Verbose() {
		return 0
	}
	var busy float64
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, performance.Enable, performance.EnableParams{}); err != nil {
			return err
		}
		m, err := cdp.Call(ctx, tg, performance.GetMetrics, cdp.Empty{})
		for _, x := range m.Metrics {
			if x.Name == "ThreadTime" {
				busy = x.Value
			}
		}
		return err
	})); err != nil {
		b.Fatal(err)
	}
	return time.Duration(busy * float64(time.Second))
}

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
