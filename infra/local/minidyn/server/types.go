package server

import "encoding/json"

// AttributeValue is a concrete representation of DynamoDB's AttributeValue
// that works with standard json encoding/decoding.
type AttributeValue struct {
	B    []byte                     `json:"B,omitempty"`
	BOOL *bool                      `json:"BOOL,omitempty"`
	BS   [][]byte                   `json:"BS,omitempty"`
	L    []*AttributeValue          `json:"L,omitempty"`
	M    map[string]*AttributeValue `json:"M,omitempty"`
	N    *string                    `json:"N,omitempty"`
	NS   []*string                  `json:"NS,omitempty"`
	NULL *bool                      `json:"NULL,omitempty"`
	S    *string                    `json:"S,omitempty"`
	SS   []*string                  `json:"SS,omitempty"`
}

// MarshalJSON writes an empty list as {"L":[]} and an empty map as
// {"M":{}}, as DynamoDB does (patched for the local stack: omitempty used
// to write {}, which clients read as no value at all).
func (av AttributeValue) MarshalJSON() ([]byte, error) {
	type plain AttributeValue

	switch {
	case av.L != nil && len(av.L) == 0:
		return []byte(`{"L":[]}`), nil
	case av.M != nil && len(av.M) == 0:
		return []byte(`{"M":{}}`), nil
	}

	return json.Marshal(plain(av))
}
