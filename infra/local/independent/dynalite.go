package independent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DynaliteFront is dynalite 4.0.0 with the one DynamoDB operation the store
// needs that it lacks: TransactWriteItems. Every other call is passed
// through untouched.
//
// A transaction is carried out as DynamoDB documents it, all or nothing,
// on top of dynalite's single-item calls: each action runs with its own
// condition and ReturnValues ALL_OLD, a ConditionCheck as an UpdateItem
// that changes nothing (the key-only item it may create is deleted at
// once); if any condition fails, the actions already done are undone from
// their old images in reverse order and the answer is DynamoDB's
// TransactionCanceledException, with one CancellationReason per action in
// request order ("ConditionalCheckFailed" or "None"). Transactions hold a
// lock that every other call shares, so no call sees one half done.
// Requests of more than 100 actions, or two actions on one item, are a
// ValidationException, as on DynamoDB. ClientRequestToken (idempotent
// retries within ten minutes) is not emulated.
type DynaliteFront struct {
	upstream string
	client   *http.Client
	prefix   string // see WithPrefix

	mu sync.RWMutex // held by a transaction, shared by every other call

	keysMu sync.Mutex
	keys   map[string][]string // table → its key attribute names
}

// NewDynaliteFront fronts the dynalite server at upstream (a base URL).
func NewDynaliteFront(upstream string) *DynaliteFront {
	return &DynaliteFront{upstream: strings.TrimSuffix(upstream, "/"), client: &http.Client{}, keys: map[string][]string{}}
}

const (
	targetPrefix = "DynamoDB_20120810."
	errPrefix    = "com.amazonaws.dynamodb.v20120810#"
)

func (f *DynaliteFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if f.prefix != "" {
		if body, err = f.prefixTables(body); err != nil {
			resp := errorReply(http.StatusBadRequest, "SerializationException", err.Error(), nil)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(resp.status)
			_, _ = w.Write(resp.body)
			return
		}
	}
	var resp reply
	if op == "TransactWriteItems" {
		f.mu.Lock()
		resp = f.transact(r.Header, body)
		f.mu.Unlock()
	} else {
		f.mu.RLock()
		if op == "DeleteTable" {
			f.forget(body)
		}
		resp = f.call(r.Header, op, body)
		f.mu.RUnlock()
	}
	if f.prefix != "" {
		resp.body = f.unprefixTables(op, resp.body)
	}
	for k, v := range resp.header {
		if k == "Content-Length" || k == "X-Amz-Crc32" {
			continue
		}
		w.Header()[k] = v
	}
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(resp.body)), 10))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// WithPrefix gives this front's caller tables of its own on a shared
// dynalite: every table name it sends is prefixed with prefix, and taken
// off again in the answers (ListTables lists only its own tables).
func (f *DynaliteFront) WithPrefix(prefix string) *DynaliteFront {
	f.prefix = prefix
	return f
}

// prefixTables prefixes the table names of a request: TableName at the
// top or in a transaction's action, and RequestItems' keys.
func (f *DynaliteFront) prefixTables(body []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	rename := func(raw json.RawMessage) json.RawMessage {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return raw
		}
		b, _ := json.Marshal(f.prefix + name)
		return b
	}
	for _, k := range []string{"TableName", "ExclusiveStartTableName"} {
		if v, ok := doc[k]; ok {
			doc[k] = rename(v)
		}
	}
	if v, ok := doc["RequestItems"]; ok {
		var items map[string]json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		renamed := map[string]json.RawMessage{}
		for name, it := range items {
			renamed[f.prefix+name] = it
		}
		doc["RequestItems"], _ = json.Marshal(renamed)
	}
	if v, ok := doc["TransactItems"]; ok {
		var items []map[string]map[string]json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			for _, a := range it {
				if t, ok := a["TableName"]; ok {
					a["TableName"] = rename(t)
				}
			}
		}
		doc["TransactItems"], _ = json.Marshal(items)
	}
	return json.Marshal(doc)
}

// unprefixTables takes the prefix off the table names (in names, ARNs and
// messages) of an answer. The prefix is unique, so it is taken out
// wherever it appears.
func (f *DynaliteFront) unprefixTables(op string, body []byte) []byte {
	if op == "ListTables" {
		var out struct {
			TableNames             []string
			LastEvaluatedTableName string `json:",omitempty"`
		}
		if json.Unmarshal(body, &out) == nil {
			var own []string
			for _, n := range out.TableNames {
				if strings.HasPrefix(n, f.prefix) {
					own = append(own, n)
				}
			}
			out.TableNames = own
			if own == nil {
				out.TableNames = []string{}
			}
			body, _ = json.Marshal(out)
		}
	}
	return bytes.ReplaceAll(body, []byte(f.prefix), nil)
}

// reply is an answer of dynalite's, or one made here.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorType is the short name of the error a reply carries ("" for none).
func (r reply) errorType() string {
	if r.status == http.StatusOK {
		return ""
	}
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(r.body, &e)
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

func errorReply(status int, typ, message string, extra map[string]any) reply {
	// DynamoDB spells the message's member "Message" in this one error.
	member := "message"
	if typ == "TransactionCanceledException" {
		member = "Message"
	}
	doc := map[string]any{"__type": errPrefix + typ, member: message}
	for k, v := range extra {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	return reply{status: status, header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, body: b}
}

// call sends op with body to dynalite, with the caller's signature headers
// (dynalite checks their form, not the signature).
func (f *DynaliteFront) call(h http.Header, op string, body []byte) reply {
	req, err := http.NewRequest(http.MethodPost, f.upstream+"/", bytes.NewReader(body))
	if err != nil {
		return errorReply(http.StatusInternalServerError, "InternalServerError", err.Error(), nil)
	}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := h.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	resp, err := f.client.Do(req)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "InternalServerError", "dynalite: "+err.Error(), nil)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "InternalServerError", "dynalite: "+err.Error(), nil)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// callJSON is call with a document built here.
func (f *DynaliteFront) callJSON(h http.Header, op string, doc map[string]any) reply {
	b, err := json.Marshal(doc)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "InternalServerError", err.Error(), nil)
	}
	return f.call(h, op, b)
}

func (f *DynaliteFront) forget(body []byte) {
	var in struct{ TableName string }
	_ = json.Unmarshal(body, &in)
	f.keysMu.Lock()
	delete(f.keys, in.TableName)
	f.keysMu.Unlock()
}

// keyNames is table's key attribute names, from DescribeTable.
func (f *DynaliteFront) keyNames(h http.Header, table string) ([]string, *reply) {
	f.keysMu.Lock()
	names, ok := f.keys[table]
	f.keysMu.Unlock()
	if ok {
		return names, nil
	}
	r := f.callJSON(h, "DescribeTable", map[string]any{"TableName": table})
	if r.status != http.StatusOK {
		return nil, &r
	}
	var out struct {
		Table struct {
			KeySchema []struct{ AttributeName string }
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		e := errorReply(http.StatusInternalServerError, "InternalServerError", "DescribeTable: "+err.Error(), nil)
		return nil, &e
	}
	for _, k := range out.Table.KeySchema {
		names = append(names, k.AttributeName)
	}
	f.keysMu.Lock()
	f.keys[table] = names
	f.keysMu.Unlock()
	return names, nil
}

// action is one of a transaction's items, as sent.
type action struct {
	kind  string                     // Put, Update, Delete or ConditionCheck
	table string                     //
	doc   map[string]json.RawMessage // the action's own fields
	key   map[string]json.RawMessage // the item's key
	old   json.RawMessage            // the item before this action (nil: absent)
	done  bool                       // carried out, so to undo on cancellation
}

const conditionFailed = "The conditional request failed"

func (f *DynaliteFront) transact(h http.Header, body []byte) reply {
	var in struct {
		TransactItems []map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", err.Error(), nil)
	}
	if n := len(in.TransactItems); n == 0 || n > 100 {
		return errorReply(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1 (%d given)", n), nil)
	}
	actions := make([]*action, len(in.TransactItems))
	seen := map[string]bool{}
	for i, ti := range in.TransactItems {
		if len(ti) != 1 {
			return errorReply(http.StatusBadRequest, "ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete", nil)
		}
		a := &action{}
		for kind, doc := range ti {
			a.kind, a.doc = kind, doc
		}
		switch a.kind {
		case "Put", "Update", "Delete", "ConditionCheck":
		default:
			return errorReply(http.StatusBadRequest, "ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete", nil)
		}
		_ = json.Unmarshal(a.doc["TableName"], &a.table)
		names, bad := f.keyNames(h, a.table)
		if bad != nil {
			return *bad
		}
		from := a.doc["Key"]
		if a.kind == "Put" {
			from = a.doc["Item"]
		}
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal(from, &attrs); err != nil || attrs == nil {
			return errorReply(http.StatusBadRequest, "ValidationException", "The provided key element does not match the schema", nil)
		}
		a.key = map[string]json.RawMessage{}
		id := a.table
		for _, n := range names {
			v, ok := attrs[n]
			if !ok {
				return errorReply(http.StatusBadRequest, "ValidationException", "The provided key element does not match the schema", nil)
			}
			a.key[n] = v
			id += "\x00" + string(v)
		}
		if seen[id] {
			return errorReply(http.StatusBadRequest, "ValidationException", "Transaction request cannot include multiple operations on one item", nil)
		}
		seen[id] = true
		actions[i] = a
	}

	// Every action is tried, so every failing condition is reported (the
	// actions are on distinct items, and a condition reads only its own
	// item, so the order does not change any outcome).
	reasons := make([]map[string]any, len(actions))
	cancelled := false
	for i, a := range actions {
		r, failed := f.apply(h, a)
		if r != nil {
			f.undo(h, actions)
			return *r
		}
		reasons[i] = map[string]any{"Code": "None"}
		if failed {
			cancelled = true
			reasons[i] = map[string]any{"Code": "ConditionalCheckFailed", "Message": conditionFailed}
			var rv string
			_ = json.Unmarshal(a.doc["ReturnValuesOnConditionCheckFailure"], &rv)
			if rv == "ALL_OLD" {
				if item := f.current(h, a); item != nil {
					reasons[i]["Item"] = item
				}
			}
		}
	}
	if !cancelled {
		return reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, body: []byte("{}")}
	}
	f.undo(h, actions)
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r["Code"].(string)
	}
	return errorReply(http.StatusBadRequest, "TransactionCanceledException",
		"Transaction cancelled, please refer cancellation reasons for specific reasons ["+strings.Join(codes, ", ")+"]",
		map[string]any{"CancellationReasons": reasons})
}

// apply carries out a on dynalite. failed is a's condition not holding; a
// reply is an error that cancels the whole request as it stands.
func (f *DynaliteFront) apply(h http.Header, a *action) (r *reply, failed bool) {
	doc := map[string]any{}
	for k, v := range a.doc {
		if k != "ReturnValuesOnConditionCheckFailure" {
			doc[k] = v
		}
	}
	doc["ReturnValues"] = "ALL_OLD"
	op := a.kind + "Item"
	if a.kind == "ConditionCheck" {
		// An update that changes nothing, under the check's condition.
		op = "UpdateItem"
		names := map[string]json.RawMessage{}
		_ = json.Unmarshal(a.doc["ExpressionAttributeNames"], &names)
		names["#dynalitefrontcheck"] = json.RawMessage(`"dynalite-front: no such attribute"`)
		doc["ExpressionAttributeNames"] = names
		doc["UpdateExpression"] = "REMOVE #dynalitefrontcheck"
	}
	resp := f.callJSON(h, op, doc)
	switch resp.errorType() {
	case "":
	case "ConditionalCheckFailedException":
		return nil, true
	default:
		return &resp, false
	}
	var out struct{ Attributes json.RawMessage }
	_ = json.Unmarshal(resp.body, &out)
	if len(out.Attributes) > 0 && string(out.Attributes) != "null" && string(out.Attributes) != "{}" {
		a.old = out.Attributes
	}
	a.done = true
	if a.kind == "ConditionCheck" {
		a.done = false
		if a.old == nil { // the check's update made a key-only item
			f.callJSON(h, "DeleteItem", map[string]any{"TableName": a.table, "Key": a.key})
		}
	}
	return nil, false
}

// current is the item a names, as it is now (nil: absent).
func (f *DynaliteFront) current(h http.Header, a *action) json.RawMessage {
	r := f.callJSON(h, "GetItem", map[string]any{"TableName": a.table, "Key": a.key, "ConsistentRead": true})
	var out struct{ Item json.RawMessage }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || len(out.Item) == 0 || string(out.Item) == "null" {
		return nil
	}
	return out.Item
}

// undo puts back, last first, the items the actions done changed.
func (f *DynaliteFront) undo(h http.Header, actions []*action) {
	for i := len(actions) - 1; i >= 0; i-- {
		a := actions[i]
		if a == nil || !a.done {
			continue
		}
		if a.old != nil {
			f.callJSON(h, "PutItem", map[string]any{"TableName": a.table, "Item": a.old})
		} else {
			f.callJSON(h, "DeleteItem", map[string]any{"TableName": a.table, "Key": a.key})
		}
		a.done = false
	}
}
