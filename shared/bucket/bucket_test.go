package bucket_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/story"
)

func TestClipKeys(t *testing.T) {
	id := story.NewID()
	for _, ct := range story.ClipTypes {
		key := bucket.NewClipKey(id, ct)
		if got, ok := bucket.ParseClipKey(key); !ok || got != id || !strings.HasSuffix(key, "."+ct.Ext) || !bucket.Downloadable(key) {
			t.Errorf("ParseClipKey(%q) = %q %v", key, got, ok)
		}
	}
	for _, bad := range []string{"", "clips/" + id + "/x.mp4", "clips/" + id + "/" + story.NewID() + ".avi", "other/" + id + "/" + story.NewID() + ".mp4",
		"clips/" + id + "/../" + story.NewID() + ".mp4", "clips/" + id + "/" + story.NewID() + ".mp4/x"} {
		if _, ok := bucket.ParseClipKey(bad); ok {
			t.Errorf("ParseClipKey(%q) accepted it", bad)
		}
	}
	for key, want := range map[string]bool{
		"exports/digest.csv": true, "clips/x/y.mp4": true, "other/x": false, "clips/../other/x": false, "": false,
	} {
		if got := bucket.Downloadable(key); got != want {
			t.Errorf("Downloadable(%q) = %v", key, got)
		}
	}
}

func TestETagsAreNormalised(t *testing.T) {
	for _, in := range []string{`abc`, `"abc"`, ` "abc" `, `""abc""`} {
		if got := bucket.QuoteETag(in); got != `"abc"` {
			t.Errorf("QuoteETag(%q) = %q", in, got)
		}
	}
}

// noListBucket answers as S3 does a role without s3:ListBucket: a HEAD or
// GET of a missing key is 403 AccessDenied, not 404.
func noListBucket(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead && r.Method != http.MethodGet {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusNotFound {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			}
			return
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// newBucket is the bucket "clips" on a fresh S3 (the local stack's, or
// the independent one testenv names), seen through wrap.
func newBucket(t *testing.T, wrap func(http.Handler) http.Handler) *bucket.Bucket {
	t.Helper()
	client := testenv.S3Via(t, wrap, nil, "clips")
	client = s3.New(client.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	return bucket.New(client, s3.NewPresignClient(client), "clips")
}

func TestMissingObjects(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		wrap func(http.Handler) http.Handler
		want error
	}{
		{"with s3:ListBucket", func(h http.Handler) http.Handler { return h }, bucket.ErrNotFound},
		{"without s3:ListBucket", noListBucket, bucket.ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket(t, tc.wrap)
			_, err := b.Head(ctx, "clips/x/gone.mp4")
			if !errors.Is(err, tc.want) || (tc.want == bucket.ErrAccessDenied && errors.Is(err, bucket.ErrNotFound)) {
				t.Fatalf("Head of a missing key = %v, want %v", err, tc.want)
			}
			_, err = b.Reader(ctx, bucket.Object{Key: "clips/x/gone.mp4", Size: 10}).ReadAt(make([]byte, 4), 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadAt of a missing key = %v, want %v", err, tc.want)
			}
			if err := b.Delete(ctx, "clips/x/gone.mp4"); err != nil {
				t.Fatalf("Delete of a missing key = %v, want nil", err)
			}
		})
	}
}

func TestObjects(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t, func(h http.Handler) http.Handler { return h })
	id := story.NewID()
	var keys []string
	for i := range 3 {
		key := bucket.NewClipKey(id, story.ClipTypes[i])
		keys = append(keys, key)
		if err := b.Put(ctx, key, story.ClipTypes[i].MIME, []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Put(ctx, bucket.ClipPrefix(story.NewID())+"other.mp4", "video/mp4", []byte("x")); err != nil {
		t.Fatal(err)
	}
	obj, err := b.Head(ctx, keys[0])
	if err != nil || obj.Size != 10 || obj.ETag == "" {
		t.Fatalf("Head = %+v %v", obj, err)
	}
	r := b.Reader(ctx, obj)
	p := make([]byte, 4)
	if n, err := r.ReadAt(p, 8); n != 2 || err != io.EOF || string(p[:2]) != "89" {
		t.Fatalf("ReadAt at the end = %d %v %q", n, err, p[:n])
	}
	if calls, bytes := r.Stats(); calls != 1 || bytes != 2 {
		t.Fatalf("Stats = %d calls, %d bytes", calls, bytes)
	}
	if err := b.SetStatus(ctx, keys[0], story.ClipVerified); err != nil {
		t.Fatal(err)
	}
	got, err := b.List(ctx, bucket.ClipPrefix(id))
	slices.Sort(keys)
	if err != nil || !slices.Equal(got, keys) {
		t.Fatalf("List = %v %v, want %v", got, err, keys)
	}
	if n, err := b.DeleteAll(ctx, bucket.ClipPrefix(id)); n != 3 || err != nil {
		t.Fatalf("DeleteAll = %d %v", n, err)
	}
	if _, err := b.Head(ctx, keys[1]); !errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("Head after DeleteAll = %v", err)
	}
	if n, err := b.DeleteAll(ctx, bucket.ClipPrefix(id)); n != 0 || err != nil {
		t.Fatalf("DeleteAll again = %d %v", n, err)
	}
}

func TestUploads(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t, func(h http.Handler) http.Handler { return h })
	key := bucket.NewClipKey(story.NewID(), story.ClipTypes[0])
	id, err := b.CreateUpload(ctx, key, "video/mp4")
	if err != nil || id == "" {
		t.Fatalf("CreateUpload = %q %v", id, err)
	}
	u, err := b.PresignPart(ctx, key, id, 1, int64(len("part one")), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The signed length is the only one S3 takes.
	req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader("part one, longer"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT of more than the signed length: %v %v", resp, err)
	}
	req, _ = http.NewRequest(http.MethodPut, u, strings.NewReader("part one"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT part: %v %v", resp, err)
	}
	resp.Body.Close()
	parts, err := b.Parts(ctx, key, id)
	if err != nil || len(parts) != 1 || parts[0].Number != 1 || parts[0].ETag != resp.Header.Get("ETag") {
		t.Fatalf("Parts = %+v %v", parts, err)
	}
	if _, err := b.CompleteUpload(ctx, key, id, []bucket.Part{{Number: 1, ETag: `"nope"`}}); !errors.Is(err, bucket.ErrBadParts) {
		t.Fatalf("CompleteUpload with a wrong ETag = %v, want ErrBadParts", err)
	}
	if _, err := b.CompleteUpload(ctx, key, id, []bucket.Part{{Number: 1, ETag: strings.Trim(parts[0].ETag, `"`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Parts(ctx, key, id); !errors.Is(err, bucket.ErrNoSuchUpload) {
		t.Fatalf("Parts of a completed upload = %v, want ErrNoSuchUpload", err)
	}
	if err := b.AbortUpload(ctx, key, id); err != nil {
		t.Fatalf("AbortUpload of a completed upload = %v, want nil", err)
	}
	if obj, err := b.Head(ctx, key); err != nil || obj.Size != int64(len("part one")) {
		t.Fatalf("Head = %+v %v", obj, err)
	}
	post, err := b.PresignPost(ctx, bucket.NewClipKey(story.NewID(), story.ClipTypes[0]), "video/mp4", 100, time.Minute)
	if err != nil || !strings.HasSuffix(post.URL, "/") || post.Fields["tagging"] == "" || post.Fields["Content-Type"] != "video/mp4" {
		t.Fatalf("PresignPost = %+v %v", post, err)
	}
}

// clipKeyRegexp is what ParseClipKey checks, as a regexp.
var clipKeyRegexp = regexp.MustCompile(`^clips/([a-z2-7]{26})/[a-z2-7]{26}\.(mp4|mov|webm)$`)

func FuzzParseClipKeyIsItsRegexp(f *testing.F) {
	id := story.NewID()
	for _, k := range []string{"", "clips/", "clips/" + id + "/" + id + ".mp4", "clips/" + id + "/" + id + ".mp4.mp4", "clips/" + id + "/" + id + ".MOV",
		"clips/" + id + "/" + id + ".webm", "clips/" + id + "/x/" + id + ".mov", "exports/" + id + ".csv", "clips/" + id + "/" + id[:25] + ".mp4", "clips/" + id + id + ".mp4"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		got, ok := bucket.ParseClipKey(key)
		m := clipKeyRegexp.FindStringSubmatch(key)
		if ok != (m != nil) || ok && got != m[1] {
			t.Errorf("ParseClipKey(%q) = %q %v, the regexp says %q", key, got, ok, m)
		}
	})
}
