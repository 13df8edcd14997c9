package stack

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// checkPresigned checks a presigned request (query-string SigV4) as S3
// does: the signature over the method, path, query and every signed header
// (with content-length the body's real length), and the expiry. gofakes3
// checks none of it, so a part PUT of more bytes than its URL was signed
// for would be kept. The secret is the credential's in iam (the local
// secret when iam is nil, as for handler tests). It returns a zero status when the request may go on.
func checkPresigned(r *http.Request, iam *IAM, now time.Time) (int, string, string) {
	q := r.URL.Query()
	given := q.Get("X-Amz-Signature")
	denied := func(code, msg string) (int, string, string) { return http.StatusForbidden, code, msg }
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return denied("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	expires, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
	if len(cred) != 5 || err != nil || err2 != nil || expires < 1 || expires > 7*24*3600 {
		return denied("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential, X-Amz-Date or X-Amz-Expires parameter")
	}
	if now.After(signedAt.Add(time.Duration(expires) * time.Second)) {
		return denied("AccessDenied", "Request has expired")
	}
	// Sign the request again as it arrived: the signed headers with the
	// values it carries, the body's real length, the query without the
	// signature. A different length gives a different signature.
	// The SDK's signer signs content-length whenever the request has one, so
	// the length goes in only when the URL signed it: S3 accepts a URL
	// signed without it (SignedHeaders=host) for a body of any length.
	again := &http.Request{Method: r.Method, Host: r.Host, Header: http.Header{}}
	u := *r.URL
	q.Del("X-Amz-Signature")
	u.RawQuery = q.Encode()
	u.Host, u.Scheme = r.Host, "http"
	again.URL = &u
	for h := range strings.SplitSeq(q.Get("X-Amz-SignedHeaders"), ";") {
		switch h {
		case "host":
		case "content-length":
			if r.ContentLength < 0 {
				return http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header."
			}
			again.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(h) {
				again.Header.Add(h, v)
			}
		}
	}
	secret := iam.secretOf(cred[0])
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	signed, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: cred[0], SecretAccessKey: secret},
		again, "UNSIGNED-PAYLOAD", cred[3], cred[2], signedAt)
	if err != nil {
		return denied("SignatureDoesNotMatch", err.Error())
	}
	su, err := url.Parse(signed)
	if err != nil || su.Query().Get("X-Amz-Signature") != given || su.Query().Get("X-Amz-SignedHeaders") != q.Get("X-Amz-SignedHeaders") {
		return denied("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return 0, "", ""
}
