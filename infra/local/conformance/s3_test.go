package conformance_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"frontlinevoices/infra/local/independent"
	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/bucket"
)

var asError = errors.As

func newBucket(t *testing.T, tg *target) string {
	t.Helper()
	name := unique("conf")
	if _, err := tg.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}

func tagsOf(t *testing.T, tg *target, b, key string) map[string]string {
	t.Helper()
	out, err := tg.s3.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tag := range out.TagSet {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

// PutObjectTagging on a key that does not exist is NoSuchKey.
func TestS3TaggingMissingKeyIsNoSuchKey(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		b := newBucket(t, tg)
		_, err := tg.s3.PutObjectTagging(context.Background(), &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("clips/none.mp4"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("fv-status"), Value: aws.String("verified")}}}})
		if errorCode(err) != "NoSuchKey" {
			t.Fatalf("PutObjectTagging of a missing key: %v, want NoSuchKey", err)
		}
	})
}

// multipart uploads the project's way (bucket.CreateUpload tags pending)
// with parts of the given sizes, and returns the completion's error.
func multipartUpload(t *testing.T, tg *target, b, key string, sizes ...int) (etag string, partETags []string, err error) {
	t.Helper()
	ctx := context.Background()
	bk := bucket.New(tg.s3, s3.NewPresignClient(tg.s3), b)
	id, err := bk.CreateUpload(ctx, key, "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, n := range sizes {
		out, err := tg.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(bytes.Repeat([]byte{byte('a' + i)}, n))})
		if err != nil {
			t.Fatal(err)
		}
		partETags = append(partETags, aws.ToString(out.ETag))
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	out, err := tg.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		_, _ = tg.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: aws.String(id)})
		return "", partETags, err
	}
	return aws.ToString(out.ETag), partETags, nil
}

// A multipart object's ETag is the MD5 of its parts' MD5s, a dash and the
// part count (at complete, on HEAD, and in ListObjects and ListObjectsV2);
// the CreateMultipartUpload's Tagging is the object's.
func TestS3MultipartETagAndTagging(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		b := newBucket(t, tg)
		key := "clips/story/multipart.mp4"
		etag, parts, err := multipartUpload(t, tg, b, key, 5<<20, 7)
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.New()
		for _, p := range parts {
			raw, _ := hex.DecodeString(strings.Trim(p, `"`))
			sum.Write(raw)
		}
		want := fmt.Sprintf(`"%s-2"`, hex.EncodeToString(sum.Sum(nil)))
		if etag != want {
			t.Errorf("complete ETag = %s, want %s", etag, want)
		}
		head, err := tg.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err != nil || aws.ToString(head.ETag) != want {
			t.Errorf("HEAD ETag = %s (%v), want %s", aws.ToString(head.ETag), err, want)
		}
		for _, v2 := range []bool{true, false} {
			var listed []types.Object
			if v2 {
				out, err := tg.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(b)})
				if err != nil {
					t.Fatal(err)
				}
				listed = out.Contents
			} else {
				out, err := tg.s3.ListObjects(context.Background(), &s3.ListObjectsInput{Bucket: aws.String(b)})
				if err != nil {
					t.Fatal(err)
				}
				listed = out.Contents
			}
			var got []string
			for _, o := range listed {
				got = append(got, fmt.Sprintf("%s %d %s", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag)))
			}
			if len(listed) != 1 || aws.ToString(listed[0].ETag) != want || aws.ToInt64(listed[0].Size) != 5<<20+7 {
				t.Errorf("listed (V2 %v) = %q, want one object with ETag %s", v2, got, want)
			}
		}
		if tags := tagsOf(t, tg, b, key); tags[bucket.StatusTag] != "pending" {
			t.Errorf("tags after complete = %v, want the upload's %s=pending", tags, bucket.StatusTag)
		}
	})
}

// A part smaller than 5 MiB that is not the last fails the completion.
func TestS3SmallPartIsEntityTooSmall(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		b := newBucket(t, tg)
		_, _, err := multipartUpload(t, tg, b, "clips/story/small.mp4", 7, 7)
		if errorCode(err) != "EntityTooSmall" {
			t.Fatalf("complete with a 7-byte first part: %v, want EntityTooSmall", err)
		}
	})
}

// A ranged GET with an If-Match that does not match is 412; one that
// matches is 206.
func TestS3RangedGetIfMatch(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		ctx := context.Background()
		b := newBucket(t, tg)
		put, err := tg.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("clips/s/x.mp4"), Body: strings.NewReader("0123456789")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tg.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("clips/s/x.mp4"), Range: aws.String("bytes=0-3"), IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`)})
		if httpStatus(err) != http.StatusPreconditionFailed {
			t.Errorf("ranged GET with a wrong If-Match: %v, want 412", err)
		}
		out, err := tg.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("clips/s/x.mp4"), Range: aws.String("bytes=0-3"), IfMatch: put.ETag})
		if err != nil {
			t.Fatalf("ranged GET with the right If-Match: %v", err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != "0123" {
			t.Errorf("ranged GET = %q", got)
		}
	})
}

// A HEAD of a missing key by the bucket's owner (who may list it) is 404.
func TestS3HeadMissingKeyIsNotFound(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		b := newBucket(t, tg)
		_, err := tg.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("clips/gone.mp4")})
		if httpStatus(err) != http.StatusNotFound {
			t.Fatalf("HEAD of a missing key: %v, want 404", err)
		}
	})
}

// S3 answers a HEAD of a missing key with 404 only to a caller that may
// list the bucket; to one granted s3:GetObject but not s3:ListBucket it is
// 403 (HeadObject, "Permissions"). The caller: on the local stack,
// DownloadFunction on a copy of template.yaml without its s3:ListBucket;
// on versitygw, a user account whose only right is the bucket policy's
// s3:GetObject. In both the caller can HEAD an object that exists.
func TestS3HeadMissingKeyWithoutListBucketIsForbidden(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		ctx := context.Background()
		var owner, caller *s3.Client
		var b string
		if tg.local {
			s := localWithoutListBucket(t, "DownloadFunction")
			owner, caller = s3Client(s.S3URL, stack.AdminKey, "local"), s3Client(s.S3URL, "DownloadFunction", "local")
			b = s.Buckets["ClipsBucket"]
		} else {
			srv, err := independent.StartVersityGWWithIAM(independent.VersityGWCommand(), stack.Region)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			if err := srv.CreateUser("reader", "reader-secret-key"); err != nil {
				t.Fatal(err)
			}
			owner, caller = s3Client(srv.URL, srv.Key, srv.Secret), s3Client(srv.URL, "reader", "reader-secret-key")
			b = newBucket(t, &target{s3: owner})
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["reader"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + b + `/exports/*"]}]}`
			if _, err := owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("exports/there.csv"), Body: strings.NewReader("a,b\r\n")}); err != nil {
			t.Fatal(err)
		}
		if _, err := caller.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("exports/there.csv")}); err != nil {
			t.Fatalf("HEAD of an object the caller may get: %v", err)
		}
		_, err := caller.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("exports/none.csv")})
		if got := httpStatus(err); got != http.StatusForbidden {
			if tg.name == "versitygw" && got == http.StatusNotFound {
				t.Skip("known difference from AWS: versitygw " + independent.VersityGWVersion + " answers 404 to a caller without s3:ListBucket, where S3 answers 403")
			}
			t.Fatalf("HEAD of a missing key without s3:ListBucket: %v, want 403", err)
		}
	})
}

// localWithoutListBucket is a local stack on a copy of template.yaml in
// which fn's statement granting s3:ListBucket grants nothing.
func localWithoutListBucket(t *testing.T, fn string) *stack.Stack {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "\n  "+fn+":\n")
	if start < 0 {
		t.Fatalf("template.yaml has no %s", fn)
	}
	end := start + 1 + regexp.MustCompile(`\n  [A-Za-z]+:\n`).FindStringIndex(text[start+1:])[0]
	block := text[start:end]
	if strings.Count(block, "Action: s3:ListBucket\n") != 1 {
		t.Fatalf("%s has no one statement with Action: s3:ListBucket", fn)
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(text[:start]+strings.Replace(block, "Action: s3:ListBucket\n", "Action: local:Nothing\n", 1)+text[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := stack.Start(context.Background(), stack.Options{Template: path, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// The browser's presigned POST (the project's bucket.PresignPost) keeps
// the form's tagging field as the object's tags, and its policy holds.
func TestS3PresignedPostTagging(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		ctx := context.Background()
		b := newBucket(t, tg)
		bk := bucket.New(tg.s3, s3.NewPresignClient(tg.s3), b)
		key := "clips/story/post.mp4"
		post, err := bk.PresignPost(ctx, key, "video/mp4", 1<<20, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		status, body := postForm(t, post, []byte("not really a video"))
		if status/100 != 2 {
			t.Fatalf("POST = %d %s", status, body)
		}
		if tags := tagsOf(t, tg, b, key); tags[bucket.StatusTag] != "pending" {
			t.Errorf("tags after the POST = %v, want %s=pending", tags, bucket.StatusTag)
		}
		// Over the policy's content-length-range: refused.
		post, _ = bk.PresignPost(ctx, "clips/story/big.mp4", "video/mp4", 4, 5*time.Minute)
		if status, body := postForm(t, post, []byte("too long")); status != http.StatusBadRequest {
			t.Errorf("POST over the size limit = %d %s, want 400", status, body)
		}
	})
}

func postForm(t *testing.T, p bucket.Post, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range p.Fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "blob")
	_, _ = fw.Write(data)
	_ = w.Close()
	resp, err := http.Post(p.URL, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// CORS is answered from the bucket's rules (the template's, put on the
// independent implementation with PutBucketCors): a preflight for an
// allowed method gets the origin and the exposed ETag; one for a method
// the rules leave out is refused.
func TestS3CORSFromTheRules(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		// The template allows the site's own origin only (the local site's
		// here), never '*'.
		b, site := local.Buckets["ClipsBucket"], local.URL
		if !tg.local {
			b = newBucket(t, tg)
			if _, err := tg.s3.PutBucketCors(context.Background(), &s3.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &types.CORSConfiguration{
				CORSRules: []types.CORSRule{{AllowedOrigins: []string{site}, AllowedMethods: []string{"POST", "PUT"}, AllowedHeaders: []string{"*"},
					ExposeHeaders: []string{"ETag", "Location"}, MaxAgeSeconds: aws.Int32(3600)}},
			}}); err != nil {
				t.Fatal(err)
			}
		}
		preflight := func(method string, origin ...string) *http.Response {
			req, _ := http.NewRequest(http.MethodOptions, tg.s3URL+"/"+b+"/clips/x/y.mp4", nil)
			req.Header.Set("Origin", site)
			if len(origin) > 0 {
				req.Header.Set("Origin", origin[0])
			}
			req.Header.Set("Access-Control-Request-Method", method)
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		ok := preflight(http.MethodPut)
		if ok.StatusCode != http.StatusOK || ok.Header.Get("Access-Control-Allow-Origin") == "" ||
			!strings.Contains(ok.Header.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Errorf("preflight PUT = %d %v", ok.StatusCode, ok.Header)
		}
		if !strings.Contains(strings.ToLower(ok.Header.Get("Access-Control-Expose-Headers")), "etag") {
			t.Errorf("preflight PUT exposes %q, want ETag", ok.Header.Get("Access-Control-Expose-Headers"))
		}
		if no := preflight(http.MethodDelete); no.StatusCode != http.StatusForbidden {
			t.Errorf("preflight DELETE = %d, want 403", no.StatusCode)
		}
		if no := preflight(http.MethodPut, "https://elsewhere.example"); no.StatusCode != http.StatusForbidden || no.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight PUT from another origin = %d %v, want 403", no.StatusCode, no.Header)
		}
	})
}

// The template's lifecycle rules, applied on the stack's clock: a clip
// still tagged pending goes a day after upload (rounded to midnight UTC, as
// S3 does), a verified one stays, exports go after 7 days, and an upload
// never completed is aborted after a day.
func TestS3LifecycleFromTheTemplate(t *testing.T) {
	each(t, s3s, func(t *testing.T, tg *target) {
		ctx := context.Background()
		b := local.Buckets["ClipsBucket"]
		put := func(key, tagging string) {
			if _, err := tg.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("x"), Tagging: aws.String(tagging)}); err != nil {
				t.Fatal(err)
			}
		}
		exists := func(key string) bool {
			_, err := tg.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil && httpStatus(err) != http.StatusNotFound {
				t.Fatal(err)
			}
			return err == nil
		}
		id := unique("lifecycle")
		pending, verified, export := "clips/"+id+"/a.mp4", "clips/"+id+"/b.mp4", "exports/"+id+".csv"
		put(pending, bucket.StatusTagging("pending"))
		put(verified, bucket.StatusTagging("verified"))
		put(export, "")
		up, err := tg.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("clips/" + id + "/c.mp4")})
		if err != nil {
			t.Fatal(err)
		}
		local.Sweep()
		if !exists(pending) || !exists(verified) || !exists(export) {
			t.Fatal("objects expired at once")
		}
		local.Clock.Advance(49 * time.Hour)
		local.Sweep()
		if exists(pending) || !exists(verified) || !exists(export) {
			t.Errorf("after 2 days: pending %v (want gone), verified %v, export %v (want kept)", exists(pending), exists(verified), exists(export))
		}
		_, err = tg.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("clips/" + id + "/c.mp4"), UploadId: up.UploadId})
		if errorCode(err) != "NoSuchUpload" {
			t.Errorf("an upload left incomplete for 2 days: %v, want NoSuchUpload (aborted)", err)
		}
		local.Clock.Advance(7 * 24 * time.Hour)
		local.Sweep()
		if exists(export) || !exists(verified) {
			t.Errorf("after 9 days: export %v (want gone), verified %v (want kept: 730 days)", exists(export), exists(verified))
		}
	})
}
