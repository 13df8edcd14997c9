package stack

import (
	"net/http"
	"sync"
)

// Fault is an error an emulator answers instead of doing the work.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Common faults.
var (
	// Throttled is DynamoDB's throttling error, which the SDK retries.
	Throttled = Fault{Status: http.StatusBadRequest, Code: "ProvisionedThroughputExceededException", Message: "local fault: throttled"}
	// Denied is a failure the SDK does not retry (as a missing IAM right
	// is): the caller sees the call fail once.
	Denied = Fault{Status: http.StatusForbidden, Code: "AccessDenied", Message: "local fault: access denied"}
	// SESUnavailable is a server-side SES failure.
	SESUnavailable = Fault{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "local fault: SES unavailable"}
	// SESRejected is SES refusing one message for good (a suppressed or
	// illegal address); its message names the address, as SES's does.
	SESRejected = Fault{Status: http.StatusBadRequest, Code: "MessageRejected", Message: "local fault: Email address is not verified or is suppressed: amara@example.org"}
)

// Faults makes the emulators fail on purpose: the next n calls of one
// operation of one service answer with a fault. Tests use it to prove that
// throttling and failed emails are survived.
type Faults struct {
	mu      sync.Mutex
	pending map[string][]Fault
}

// Inject makes the next n calls of service's op ("dynamodb" "PutItem",
// "ses" "SendEmail", "s3" "PutObject") fail with f.
func (f *Faults) Inject(service, op string, n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending == nil {
		f.pending = map[string][]Fault{}
	}
	for range n {
		f.pending[service+"/"+op] = append(f.pending[service+"/"+op], fault)
	}
}

// Clear drops the faults of service's op that have not fired yet.
func (f *Faults) Clear(service, op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.pending, service+"/"+op)
}

// Pending is how many injected faults have not fired yet.
func (f *Faults) Pending(service, op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending[service+"/"+op])
}

func (f *Faults) take(service, op string) (Fault, bool) {
	if f == nil {
		return Fault{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.pending[service+"/"+op]
	if len(q) == 0 {
		return Fault{}, false
	}
	f.pending[service+"/"+op] = q[1:]
	return q[0], true
}

// s3 answers r with its pending fault, if one is pending: faults named by
// the method ("PUT", "POST") fail as a broken connection would (plain
// text), faults named by S3Operation as S3 errors. It reports whether it
// answered.
func (f *Faults) s3(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if fault, ok := f.take("s3", r.Method); ok {
			http.Error(w, fault.Message, fault.Status)
			return true
		}
	}
	if fault, ok := f.take("s3", S3Operation(r)); ok {
		writeS3Error(w, r, fault.Status, fault.Code, fault.Message)
		return true
	}
	return false
}

// WithS3Faults is next (any S3 endpoint) failing as faults say, exactly as
// the local S3 fails: tests put it in front of an independent S3.
func WithS3Faults(faults *Faults, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !faults.s3(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}
