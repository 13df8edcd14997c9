package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A presigned PUT that signs only the host (SignedHeaders=host) takes a
// body of any length, as S3 does; one that signs its Content-Length takes
// only that length; a changed signature is refused either way.
func TestPresignedPutSignsWhatItNames(t *testing.T) {
	presign := s3.NewPresignClient(s3client(st))
	bucket := st.Buckets["ClipsBucket"]
	put := func(u string, n int) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(make([]byte, n)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	sign := func(length *int64) string {
		t.Helper()
		req, err := presign.PresignPutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("presign-test/%d", time.Now().UnixNano())), ContentLength: length,
		})
		if err != nil {
			t.Fatal(err)
		}
		return req.URL
	}

	hostOnly := sign(nil)
	if !strings.Contains(hostOnly, "X-Amz-SignedHeaders=host&") {
		t.Fatalf("URL signs more than the host: %s", hostOnly)
	}
	for _, n := range []int{1, 1 << 20} {
		if status, body := put(hostOnly, n); status != http.StatusOK {
			t.Errorf("PUT of %d bytes to a URL signed for the host only = %d %s", n, status, body)
		}
	}
	if status, body := put(strings.Replace(hostOnly, "X-Amz-Signature=", "X-Amz-Signature=0", 1), 10); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("changed signature = %d %s", status, body)
	}

	sized := sign(aws.Int64(1000))
	if status, body := put(sized, 1000); status != http.StatusOK {
		t.Errorf("PUT of the signed length = %d %s", status, body)
	}
	if status, body := put(sized, 1001); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("PUT of one byte more than signed = %d %s", status, body)
	}
}
