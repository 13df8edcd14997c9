package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/infra/local/stack"
	clipsbucket "frontlinevoices/shared/bucket"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

// The command against a running local stack: export, then erase, then walk
// the whole table and bucket for anything of the volunteer's.
func TestExportAndEraseByEmail(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	db := dynamodb.NewFromConfig(st.AWS)
	s3c := s3.NewFromConfig(st.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	stories := store.New(db, st.Tables["StoriesTable"])
	bucket := st.Buckets["ClipsBucket"]

	var ids []string
	for i, name := range []string{"Wren Adebayo-Lindqvist", "Wren Adebayo-Lindqvist", "Someone Else"} {
		email := "wren.private@example.org"
		if i == 2 {
			email = "other@example.org"
		}
		sub := story.Submission{
			Name: name, Role: "anp", Practice: "Thamesmead Practice", Borough: "greenwich", Email: []string{"Wren.Private@Example.org", email, email}[i],
			PreferredContact: "email", Topics: []string{"workforce"}, Story: "Story number " + string(rune('A'+i)) + " about the nursing workforce.",
			PatientsSpeak: "no", Consent: map[string]bool{"contact": true, "store": true}, ConsentVersion: story.ConsentVersion(),
		}
		s, errs := sub.Normalize().Validate(time.Now())
		if errs != nil {
			t.Fatal(errs)
		}
		if _, _, err := stories.PutStory(ctx, s); err != nil {
			t.Fatal(err)
		}
		if bucket != "" {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(clipsbucket.ClipPrefix(s.ID) + "clip.webm"), Body: strings.NewReader("not really a video")})
			if err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, s.ID)
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.WaitIdle(wait); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"export", "--email", "wren.private@example.org", "--local", st.URL}, &out); err != nil {
		t.Fatal(err)
	}
	var export privacy.Export
	if err := json.Unmarshal(out.Bytes(), &export); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(export.Stories) != 2 || !strings.Contains(out.String(), "Wren Adebayo-Lindqvist") || strings.Contains(out.String(), "Someone Else") {
		t.Fatalf("export:\n%s", out.String())
	}

	out.Reset()
	if err := run(ctx, []string{"audit", "--email", "wren.private@example.org", "--local", st.URL}, &out); !errors.Is(err, ErrTraces) {
		t.Fatalf("audit before erasure: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"erase", "--email", "WREN.private@example.org", "--local", st.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "erased 2 stories") {
		t.Fatalf("erase said %q", out.String())
	}
	// The erase function sends the two emails of each erasure, driven by
	// the tombstone, then drops the notice they needed.
	wait2, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	if err := st.WaitIdle(wait2); err != nil {
		t.Fatal(err)
	}
	// The audit command finds nothing of the volunteer but two tombstones.
	for _, args := range [][]string{{"--email", "wren.private@example.org"}, {"--id", ids[0]}, {"--id", ids[1]}} {
		out.Reset()
		if err := run(ctx, append([]string{"audit", "--local", st.URL}, args...), &out); err != nil {
			t.Fatalf("audit %v: %v\n%s", args, err, out.String())
		}
		var a privacy.Audit
		if err := json.Unmarshal(out.Bytes(), &a); err != nil || !a.Clean() {
			t.Fatalf("audit %v: %v\n%s", args, err, out.String())
		}
	}

	// Walk the whole table and bucket.
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(st.Tables["StoriesTable"])})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range scan.Items {
		var m map[string]any
		_ = attributevalue.UnmarshalMap(item, &m)
		b, _ := json.Marshal(m)
		if strings.Contains(strings.ToLower(string(b)), "wren") || strings.Contains(string(b), "Thamesmead") && !strings.Contains(string(b), "Someone Else") {
			t.Errorf("the table still holds the volunteer's data: %s", b)
		}
	}
	if bucket != "" {
		objs, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs.Contents {
			if strings.Contains(*o.Key, ids[0]) || strings.Contains(*o.Key, ids[1]) {
				t.Errorf("the bucket still holds %s", *o.Key)
			}
		}
		if len(objs.Contents) != 1 {
			t.Errorf("%d objects left, want only the other volunteer's", len(objs.Contents))
		}
	}
	if _, err := stories.GetStory(ctx, ids[2]); err != nil {
		t.Errorf("someone else's story was touched: %v", err)
	}
}
