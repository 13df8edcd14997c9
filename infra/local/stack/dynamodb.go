package stack

import "net/http"

// NewDynamoDB is the local stack's DynamoDB on its own, for tests that need
// a table but not a running stack: the same patched minidyn and the same
// checks (key and index key types, 1 MB pages, transactions), without IAM
// and streams. It fails as faults say.
func NewDynamoDB(faults *Faults) http.Handler {
	d := newDynamo(Region, faults)
	d.clock, d.ttlLag = &Clock{}, DefaultTTLLag
	return d
}
