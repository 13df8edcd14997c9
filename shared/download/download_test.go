package download_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/download"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func TestDownloadLinks(t *testing.T) {
	ctx := context.Background()
	client := testenv.S3(t, "files")
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("files"), Key: aws.String("exports/2026-11-24.csv"), Body: strings.NewReader("a,b\r\n")}); err != nil {
		t.Fatal(err)
	}
	// A clip of a story still held, and one of a story erased (its object
	// left behind on purpose: the link must refuse it all the same).
	stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	var clipKeys []string
	for range 2 {
		id := story.NewID()
		if _, _, err := stories.PutStory(ctx, story.Story{ID: id, Name: "A", Email: "a@example.org", SubmittedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		key := bucket.NewClipKey(id, story.ClipTypes[0])
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("files"), Key: aws.String(key), Body: strings.NewReader("a,b\r\n")}); err != nil {
			t.Fatal(err)
		}
		clipKeys = append(clipKeys, key)
	}
	erasedID, _ := bucket.ParseClipKey(clipKeys[1])
	if _, err := stories.EraseStory(ctx, erasedID); err != nil {
		t.Fatal(err)
	}
	h, err := download.New(download.Config{Shared: config.Shared{Bucket: "files"}, URLExpiry: time.Minute}, bucket.New(client, s3.NewPresignClient(client), "files"), stories, testenv.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	signer := testenv.Signer(t)
	link := func(key string, expires time.Time) string {
		l, err := links.Download(ctx, signer, "https://site.example", key, "export.csv", expires)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	week := time.Now().Add(7 * 24 * time.Hour)
	good := link("exports/2026-11-24.csv", week)
	cases := []struct {
		name   string
		url    string
		status int
	}{
		{"good", good, http.StatusFound},
		{"expired", link("exports/2026-11-24.csv", time.Now().Add(-time.Second)), http.StatusGone},
		{"forged", good[:len(good)-2] + "xx", http.StatusBadRequest},
		{"outside the allowed prefixes", link("secrets/key.pem", week), http.StatusBadRequest},
		{"climbing out", link("clips/../secrets/key.pem", week), http.StatusBadRequest},
		{"deleted (withdrawn) object", link("clips/abc/gone.mp4", week), http.StatusGone},
		{"a clip of a story held", link(clipKeys[0], week), http.StatusFound},
		{"a clip of an erased story", link(clipKeys[1], week), http.StatusGone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, _ := url.Parse(c.url)
			resp, err := h.Handle(ctx, apigw.Request{RawQueryString: u.RawQuery, RequestContext: events.APIGatewayV2HTTPRequestContext{}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status != http.StatusFound {
				return
			}
			got, err := http.Get(resp.Headers["location"])
			if err != nil {
				t.Fatal(err)
			}
			defer got.Body.Close()
			b, _ := io.ReadAll(got.Body)
			if got.StatusCode != 200 || string(b) != "a,b\r\n" || got.Header.Get("Content-Disposition") != `attachment; filename="export.csv"` {
				t.Fatalf("download: %d %q %q", got.StatusCode, b, got.Header.Get("Content-Disposition"))
			}
		})
	}
}
