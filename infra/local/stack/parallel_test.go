package stack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/infra/local/stacktest"
)

// 200 requests at once across the form, submit and uploads routes: each
// function instance takes one request at a time (as Lambda does), so no
// answer is another's, none is corrupted, nothing panics. On a stack of
// its own, as the shared stack's (template limits, the rate limits out of
// the way): its burst and the events it leaves do not hold up other tests.
func TestParallelRequestsAcrossRoutes(t *testing.T) {
	t.Parallel()
	const n = 200
	s := startClipStack(t, func(o *stack.Options) {
		o.Params = map[string]string{"MinFillTime": fillTime.String(),
			"SubmissionsPerIPPerHour": "100000", "ConfirmationsPerAddressPerDay": "100000"}
	})
	before := s.Instances()
	v := submitStory(t, s) // a story whose token the uploads calls use

	// The submit requests need forms shown at least the minimum fill time
	// ago: show them first.
	var forms []map[string]string
	for i := 0; i < n/3+1; i++ {
		forms = append(forms, formFields(t, s))
	}
	time.Sleep(fillTime + 50*time.Millisecond)

	fast := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	errs := make(chan error, n)
	var granted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	// At most the HTTP API's burst (ThrottlingBurstLimit: 50) in flight:
	// API Gateway would answer more with 429.
	burst := make(chan struct{}, 50)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			burst <- struct{}{}
			defer func() { <-burst }()
			var err error
			switch i % 3 {
			case 0:
				err = checkForm(fast, s)
			case 1:
				err = checkSubmit(fast, s, forms[i/3])
			case 2:
				var ok bool
				if ok, err = checkParams(fast, v, i); ok {
					granted.Add(1)
				}
			}
			if err != nil {
				errs <- fmt.Errorf("request %d: %w", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each presigned POST takes one of the story's clip slots: under
	// contention, exactly as many are granted as there are slots.
	if g := granted.Load(); g != 5 {
		t.Errorf("%d uploads signed for one story, want exactly MaxClipsPerStory (5)", g)
	}
	after := s.Instances()
	for _, f := range []string{"FormFunction", "SubmitFunction", "UploadsFunction"} {
		t.Logf("%s: %d execution environments (%d before the burst)", f, after[f], before[f])
	}
	waitFor(t, s)
	if d := s.Denials(); len(d) > 0 {
		t.Errorf("the template's policies refused calls the code makes: %+v", d)
	}
}

func formFields(t *testing.T, s *stack.Stack) map[string]string {
	t.Helper()
	resp, err := client.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fields := map[string]string{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(b), -1) {
		fields[m[1]] = m[2]
	}
	if fields["id"] == "" {
		t.Fatalf("GET / = %d without a form id", resp.StatusCode)
	}
	return fields
}

func checkForm(c *http.Client, s *stack.Stack) error {
	resp, err := c.Get(s.URL + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		return fmt.Errorf("GET / = %d, %d bytes, not a whole page", resp.StatusCode, len(b))
	}
	if m := hiddenInput.FindAllStringSubmatch(string(b), -1); len(m) == 0 {
		return fmt.Errorf("GET / has no hidden fields")
	}
	return nil
}

func checkSubmit(c *http.Client, s *stack.Stack, hidden map[string]string) error {
	email := stacktest.Unique("parallel@example.org")
	b, _ := json.Marshal(jsonStory(hidden, email))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/stories", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("POST /api/stories = %d, not JSON: %q", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusCreated || out.ID != hidden["id"] {
		return fmt.Errorf("POST /api/stories = %d with id %q, want 201 with the form's id %q", resp.StatusCode, out.ID, hidden["id"])
	}
	return nil
}

// checkParams asks for a presigned POST: the answer is one under the
// story's clips, or a problem saying the story has all its clips.
func checkParams(c *http.Client, v volunteer, i int) (bool, error) {
	name := fmt.Sprintf("clip-%d.mp4", i)
	q := url.Values{"filename": {name}, "type": {"video/mp4"}, "metadata[token]": {v.token}, "metadata[story]": {v.id},
		"metadata[name]": {name}, "metadata[type]": {"video/mp4"}}
	req, _ := http.NewRequest(http.MethodGet, v.s.URL+"/api/s3/params?"+q.Encode(), nil)
	req.Header.Set("X-Upload-Token", v.token)
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusConflict {
		var p struct{ Title, Detail string }
		if json.Unmarshal(body, &p) != nil || resp.Header.Get("Content-Type") != "application/problem+json" || p.Title == "" {
			return false, fmt.Errorf("GET /api/s3/params = 409 %q, want a problem+json", body)
		}
		return false, nil
	}
	var p presignedPost
	if err := json.Unmarshal(body, &p); err != nil {
		return false, fmt.Errorf("GET /api/s3/params = %d, not JSON: %q", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(p.Fields["key"], "clips/"+v.id+"/") || p.Fields["policy"] == "" {
		return false, fmt.Errorf("GET /api/s3/params = %d %s, want a presigned POST under the story's clips", resp.StatusCode, body)
	}
	return true, nil
}
