package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gopkg.in/yaml.v3"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
)

// withoutAction writes a copy of template.yaml in which function fn's
// policies no longer grant action, and returns its path.
func withoutAction(t *testing.T, fn, action string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	policies := get(get(get(get(doc.Content[0], "Resources"), fn), "Properties"), "Policies")
	if policies == nil {
		t.Fatalf("%s has no Policies", fn)
	}
	removed := 0
	for _, p := range policies.Content {
		for _, st := range get(p, "Statement").Content {
			acts := get(st, "Action")
			switch {
			case acts == nil:
			case acts.Kind == yaml.ScalarNode && acts.Value == action:
				acts.Value = "local:Nothing" // the statement now allows nothing
				removed++
			case acts.Kind == yaml.SequenceNode:
				var keep []*yaml.Node
				for _, a := range acts.Content {
					if a.Value == action {
						removed++
						continue
					}
					keep = append(keep, a)
				}
				acts.Content = keep
				if len(keep) == 0 {
					acts.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Value: "local:Nothing"}}
				}
			}
		}
	}
	if removed == 0 {
		t.Fatalf("%s's policies do not grant %s", fn, action)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// iamCase is one function, one action its work needs, and that work done
// through the stack; it returns what the user saw.
type iamCase struct {
	function, action string
	run              func(t *testing.T, s *stack.Stack) string
}

var iamCases = []iamCase{
	{"SubmitFunction", "dynamodb:PutItem", func(t *testing.T, s *stack.Stack) string {
		resp := postStory(t, s, "iam.submit")
		resp.Body.Close()
		if resp.StatusCode < 500 {
			t.Errorf("POST /api/stories = %d, want a 5xx: the story could not be kept", resp.StatusCode)
		}
		return fmt.Sprintf("POST /api/stories → %d", resp.StatusCode)
	}},
	{"SubmitFunction", "dynamodb:UpdateItem", func(t *testing.T, s *stack.Stack) string {
		// The rate limits' counters cannot be kept: the story is not either.
		resp := postStory(t, s, "iam.limits")
		resp.Body.Close()
		if resp.StatusCode < 500 {
			t.Errorf("POST /api/stories = %d, want a 5xx: the story could not be counted", resp.StatusCode)
		}
		return fmt.Sprintf("POST /api/stories → %d", resp.StatusCode)
	}},
	{"NotifyFunction", "ses:SendEmail", func(t *testing.T, s *stack.Stack) string {
		v := submitStory(t, s)
		waitFor(t, s)
		for _, e := range s.Outbox.Emails() {
			if strings.Contains(strings.Join(e.To, ","), v.id) {
				t.Errorf("an email went to the volunteer without ses:SendEmail")
			}
		}
		return "story kept, no email sent (the stream batch fails and is retried)"
	}},
	{"UploadsFunction", "s3:PutObject", func(t *testing.T, s *stack.Stack) string {
		v := submitStory(t, s)
		_, status := v.create(t, v.token, "clip.mp4", "video/mp4", 12<<20)
		if status < 500 {
			t.Errorf("create multipart = %d, want a 5xx", status)
		}
		return fmt.Sprintf("POST /api/s3/multipart → %d", status)
	}},
	{"UploadsFunction", "s3:PutObjectTagging", func(t *testing.T, s *stack.Stack) string {
		// The presigned POST acts with the function's rights: S3 refuses
		// the browser's upload, whose form sets the pending tag.
		v := submitStory(t, s)
		p, status := v.params(t, v.token, "clip.mp4", "video/mp4")
		if status != http.StatusOK {
			t.Fatalf("params = %d", status)
		}
		code, body := postPolicyForm(t, p, fixture(t, "faststart.mp4"))
		if code != http.StatusForbidden || !strings.Contains(body, "AccessDenied") {
			t.Errorf("browser POST = %d %s, want 403 AccessDenied", code, body)
		}
		return fmt.Sprintf("browser's presigned POST → %d AccessDenied", code)
	}},
	{"IngestFunction", "s3:GetObject", func(t *testing.T, s *stack.Stack) string {
		v := submitStory(t, s)
		p, status := v.params(t, v.token, "clip.mp4", "video/mp4")
		if status != http.StatusOK {
			t.Fatalf("params = %d", status)
		}
		if code, body := postPolicyForm(t, p, fixture(t, "faststart.mp4")); code/100 != 2 {
			t.Fatalf("browser POST = %d %s", code, body)
		}
		if clips := v.clips(t); len(clips) != 0 {
			t.Errorf("clips = %+v, want none attached", clips)
		}
		return "clip never attached (the event fails, is retried, then dropped)"
	}},
	{"DownloadFunction", "s3:GetObject", func(t *testing.T, s *stack.Stack) string {
		bucket := s.Buckets["ClipsBucket"]
		key := "exports/iam-check.csv"
		if _, err := s3client(s).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("a,b\n")}); err != nil {
			t.Fatal(err)
		}
		link, err := links.Download(context.Background(), stackSigner(t, s), s.URL, key, "iam-check.csv", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 500 {
			t.Errorf("GET /download = %d, want a 5xx", resp.StatusCode)
		}
		return fmt.Sprintf("GET /download → %d", resp.StatusCode)
	}},
	// Without PutItem the erasure cannot begin (its tombstone is put in the
	// transaction that marks the story): the page answers 5xx, a denial is
	// never hidden, and nothing is erased. (Without s3:DeleteObject the
	// erase function, with its own rights, would finish from the tombstone.)
	{"WithdrawFunction", "dynamodb:PutItem", func(t *testing.T, s *stack.Stack) string {
		v := submitStory(t, s)
		v.uploadSmall(t, "clip.mp4", "video/mp4", fixture(t, "faststart.mp4"))
		waitFor(t, s)
		tok, err := stackSigner(t, s).Sign(context.Background(), links.WithdrawPurpose, v.id, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.PostForm(s.URL+"/withdraw", url.Values{"t": {tok}, "action": {"erase"}, "confirm": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 500 {
			t.Errorf("POST /withdraw erase = %d, want a 5xx", resp.StatusCode)
		}
		waitFor(t, s)
		if _, err := v.store().GetStory(context.Background(), v.id); err != nil {
			t.Errorf("the story: %v, want it still held", err)
		}
		if objs, _ := objects(t, v); objs == 0 {
			t.Errorf("the clip was deleted though the erasure could not begin")
		}
		return fmt.Sprintf("POST /withdraw (erase) → %d, the story and clip kept", resp.StatusCode)
	}},
	// The erase function finishes what the request could not (here the
	// first two DeleteObjects fail): without s3:DeleteObject it cannot
	// delete the clip, which is kept, and the tombstone's stream record
	// fails and is retried. Two, because the erase function, started by the
	// tombstone, may call before the request does: one failure only would
	// then leave the request free to delete the clip.
	{"EraseFunction", "s3:DeleteObject", func(t *testing.T, s *stack.Stack) string {
		v := submitStory(t, s)
		v.uploadSmall(t, "clip.mp4", "video/mp4", fixture(t, "faststart.mp4"))
		waitFor(t, s)
		if objs, _ := objects(t, v); objs != 1 {
			t.Fatalf("the story has %d clips, want 1", objs)
		}
		s.Faults.Inject("s3", "DeleteObjects", 2, stack.Denied)
		tok, err := stackSigner(t, s).Sign(context.Background(), links.WithdrawPurpose, v.id, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.PostForm(s.URL+"/withdraw", url.Values{"t": {tok}, "action": {"erase"}, "confirm": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		waitFor(t, s)
		if s.Faults.Pending("s3", "DeleteObjects") != 0 {
			t.Fatal("DeleteObjects was not called twice")
		}
		if objs, _ := objects(t, v); objs == 0 {
			t.Errorf("the clip was deleted without the erase function's s3:DeleteObject")
		}
		return fmt.Sprintf("POST /withdraw (erase) → %d, the first two DeleteObjects failing; the erase function cannot finish: the clip kept, the stream record retried", resp.StatusCode)
	}},
	// A permanent bounce is recorded by a PutItem of the address's mark.
	{"BounceFunction", "dynamodb:PutItem", func(t *testing.T, s *stack.Stack) string {
		resp := postStoryFrom(t, s, stack.SimulatorBounce)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/stories = %d", resp.StatusCode)
		}
		waitFor(t, s)
		st := store.New(dynamodb.NewFromConfig(s.AWS), s.Tables["StoriesTable"])
		if marked, err := st.Undeliverable(context.Background(), stack.SimulatorBounce); err != nil || marked {
			t.Errorf("the bounced address: marked %v (%v), want it unmarked", marked, err)
		}
		return "the bounce event fails; the address is not marked, so later emails to it are still tried"
	}},
	{"DigestFunction", "dynamodb:Query", func(t *testing.T, s *stack.Stack) string {
		submitStory(t, s)
		waitFor(t, s)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/_local/digest", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(body, []byte("AccessDenied")) {
			t.Errorf("digest run = %d %s, want it to fail with AccessDenied", resp.StatusCode, body)
		}
		return "digest fails (AccessDenied), retried, no email"
	}},
}

// postStoryFrom sends a story whose volunteer's email is email.
func postStoryFrom(t *testing.T, s *stack.Stack, email string) *http.Response {
	t.Helper()
	b, _ := json.Marshal(jsonStory(openFormOn(t, s), email))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Each function is held to its policies in template.yaml: with one action
// it needs removed from a copy of the template, its work fails with
// AccessDenied for that action.
func TestIAMRemovedPermissionIsDenied(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a stack per case")
	}
	for _, c := range iamCases {
		t.Run(c.function+" without "+c.action, func(t *testing.T) {
			t.Parallel()
			s := startClipStack(t, func(o *stack.Options) { o.Template = withoutAction(t, c.function, c.action) })
			seen := c.run(t, s)
			waitFor(t, s)
			found := false
			for _, d := range s.Denials() {
				if d.Function == c.function && d.Action == c.action {
					found = true
				} else if d.Function == c.function {
					t.Errorf("also denied: %+v", d)
				}
			}
			if !found {
				t.Fatalf("no AccessDenied for %s %s; denials: %+v", c.function, c.action, s.Denials())
			}
			t.Logf("| %s | %s | AccessDenied; %s |", c.function, c.action, seen)
		})
	}
}

// S3 answers a HEAD of a missing key with 404 only to a caller that may
// list the bucket; to others it is 403, as on AWS.
func TestHeadOfMissingKeyNeedsListBucket(t *testing.T) {
	t.Parallel()
	head := func(s *stack.Stack) error {
		c := s3.New(s3.Options{Region: stack.Region, BaseEndpoint: aws.String(s.S3URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("DownloadFunction", "local", "")})
		_, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Buckets["ClipsBucket"]), Key: aws.String("exports/none.csv")})
		return err
	}
	var re interface{ HTTPStatusCode() int }
	if err := head(st); !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Errorf("HEAD of a missing key by DownloadFunction (s3:ListBucket granted): %v, want 404", err)
	}
	s := startClipStack(t, func(o *stack.Options) { o.Template = withoutAction(t, "DownloadFunction", "s3:ListBucket") })
	if err := head(s); !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("HEAD of a missing key by DownloadFunction without s3:ListBucket: %v, want 403", err)
	}
}
