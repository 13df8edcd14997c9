package stack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
)

// What the local DynamoDB checks beyond minidyn, as DynamoDB does: IAM
// (actions, table and index ARNs, dynamodb:LeadingKeys), key attributes
// against the key schema (presence, type, no empty strings), secondary
// index keys (type, no empty strings), and 1 MB pages for Query and Scan.

// maxPage is the most data one Query or Scan reads.
const maxPage = 1 << 20

func newTable(createTable []byte) *table {
	var in struct {
		AttributeDefinitions   []struct{ AttributeName, AttributeType string }
		GlobalSecondaryIndexes []struct {
			IndexName string
			KeySchema []struct{ AttributeName, KeyType string }
		}
	}
	_ = json.Unmarshal(createTable, &in)
	t := &table{keys: keyNames(createTable), types: map[string]string{}}
	for _, a := range in.AttributeDefinitions {
		t.types[a.AttributeName] = a.AttributeType
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := index{name: g.IndexName}
		for _, k := range g.KeySchema {
			if k.KeyType == "HASH" {
				ix.keys = append([]string{k.AttributeName}, ix.keys...)
			} else {
				ix.keys = append(ix.keys, k.AttributeName)
			}
		}
		t.indexes = append(t.indexes, ix)
	}
	return t
}

func (d *dynamo) tableARN(name string) string {
	return "arn:aws:dynamodb:" + d.region + ":000000000000:table/" + name
}

// leadingKey is the partition key value of an item or key, as the
// dynamodb:LeadingKeys condition key sees it.
func (d *dynamo) leadingKey(tableName string, item map[string]json.RawMessage) []string {
	d.mu.Lock()
	t := d.tables[tableName]
	d.mu.Unlock()
	if t == nil || len(t.keys) == 0 {
		return nil
	}
	v, ok := scalar(item[t.keys[0]])
	if !ok {
		return nil
	}
	return []string{v}
}

func scalar(raw json.RawMessage) (string, bool) {
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) != nil {
		return "", false
	}
	for _, typ := range []string{"S", "N", "B"} {
		if v, ok := av[typ]; ok {
			var s string
			_ = json.Unmarshal(v, &s)
			return s, true
		}
	}
	return "", false
}

// request is what the local DynamoDB reads from a request's body for its
// checks (IAM, keys) and for the keys a write touches, read once.
type request struct {
	TableName                 string
	IndexName                 string
	Key, Item                 map[string]json.RawMessage
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]json.RawMessage
	RequestItems              map[string]json.RawMessage
	TransactItems             []map[string]struct {
		TableName string
		Key, Item map[string]json.RawMessage
	}
	// valid says the body was read whole without error; otherwise each
	// field holds what could be read (as encoding/json leaves it).
	valid bool
}

// parseRequest reads a request's body once.
func parseRequest(body []byte) *request {
	var in request
	in.valid = json.Unmarshal(body, &in) == nil
	return &in
}

// authz lists what one DynamoDB request asks IAM for.
func (d *dynamo) authz(op string, in *request) []authz {
	item := func(action, tableName string, key map[string]json.RawMessage) authz {
		return authz{action: action, resource: d.tableARN(tableName), context: map[string][]string{"dynamodb:leadingkeys": d.leadingKey(tableName, key)}}
	}
	switch op {
	case "ListTables":
		return []authz{{action: "dynamodb:ListTables", resource: "*"}}
	case "GetItem", "DeleteItem", "UpdateItem":
		return []authz{item("dynamodb:"+op, in.TableName, in.Key)}
	case "PutItem":
		return []authz{item("dynamodb:PutItem", in.TableName, in.Item)}
	case "Query", "Scan":
		res := d.tableARN(in.TableName)
		ctx := map[string][]string{}
		if in.IndexName != "" {
			res += "/index/" + in.IndexName
		} else if op == "Query" {
			if v := d.queryPartition(in.TableName, in.KeyConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues); v != "" {
				ctx["dynamodb:leadingkeys"] = []string{v}
			}
		}
		return []authz{{action: "dynamodb:" + op, resource: res, context: ctx}}
	case "BatchWriteItem", "BatchGetItem":
		var out []authz
		for tn, raw := range in.RequestItems {
			var keys []string
			if op == "BatchGetItem" {
				var r struct{ Keys []map[string]json.RawMessage }
				_ = json.Unmarshal(raw, &r)
				for _, k := range r.Keys {
					keys = append(keys, d.leadingKey(tn, k)...)
				}
			} else {
				var reqs []struct {
					PutRequest    *struct{ Item map[string]json.RawMessage }
					DeleteRequest *struct{ Key map[string]json.RawMessage }
				}
				_ = json.Unmarshal(raw, &reqs)
				for _, r := range reqs {
					if r.PutRequest != nil {
						keys = append(keys, d.leadingKey(tn, r.PutRequest.Item)...)
					} else if r.DeleteRequest != nil {
						keys = append(keys, d.leadingKey(tn, r.DeleteRequest.Key)...)
					}
				}
			}
			out = append(out, authz{action: "dynamodb:" + op, resource: d.tableARN(tn), context: map[string][]string{"dynamodb:leadingkeys": keys}})
		}
		return out
	case "TransactWriteItems", "TransactGetItems":
		actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var out []authz
		for _, ti := range in.TransactItems {
			for kind, x := range ti {
				k := x.Key
				if x.Item != nil {
					k = x.Item
				}
				out = append(out, item("dynamodb:"+actions[kind], x.TableName, k))
			}
		}
		return out
	}
	return []authz{{action: "dynamodb:" + op, resource: d.tableARN(in.TableName)}}
}

var partitionCond = regexp.MustCompile(`^\s*\(?\s*(#?[A-Za-z0-9_.-]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// queryPartition reads the partition key value from a Query's key
// condition (the "pk = :v" part).
func (d *dynamo) queryPartition(tableName, expr string, names map[string]string, values map[string]json.RawMessage) string {
	d.mu.Lock()
	t := d.tables[tableName]
	d.mu.Unlock()
	if t == nil || len(t.keys) == 0 {
		return ""
	}
	for part := range strings.SplitSeq(expr, " AND ") {
		m := partitionCond.FindStringSubmatch(part)
		if m == nil {
			continue
		}
		name := m[1]
		if n, ok := names[name]; ok {
			name = n
		}
		if name == t.keys[0] {
			v, _ := scalar(values[m[2]])
			return v
		}
	}
	return ""
}

// validate checks a request's keys and items against the key schemas; it
// returns DynamoDB's message, or "" when the request may go ahead (a body
// whose keys and items cannot be read is left to minidyn). d.mu is held.
func (d *dynamo) validate(op string, body []byte, in *request) string {
	if !in.valid {
		// The checks go ahead only if the fields they read were read
		// without error: an error elsewhere in the body does not stop them
		// (encoding/json reads the rest all the same).
		var part struct {
			TableName     string
			Key, Item     map[string]json.RawMessage
			RequestItems  map[string]json.RawMessage
			TransactItems []map[string]struct {
				TableName string
				Key, Item map[string]json.RawMessage
			}
		}
		if json.Unmarshal(body, &part) != nil {
			return ""
		}
	}
	switch op {
	case "GetItem", "DeleteItem", "UpdateItem":
		return d.checkKey(in.TableName, in.Key)
	case "PutItem":
		return d.checkItem(in.TableName, in.Item)
	case "BatchWriteItem", "BatchGetItem":
		for tn, raw := range in.RequestItems {
			if op == "BatchGetItem" {
				var r struct{ Keys []map[string]json.RawMessage }
				_ = json.Unmarshal(raw, &r)
				for _, k := range r.Keys {
					if msg := d.checkKey(tn, k); msg != "" {
						return msg
					}
				}
				continue
			}
			var reqs []struct {
				PutRequest    *struct{ Item map[string]json.RawMessage }
				DeleteRequest *struct{ Key map[string]json.RawMessage }
			}
			_ = json.Unmarshal(raw, &reqs)
			for _, r := range reqs {
				msg := ""
				if r.PutRequest != nil {
					msg = d.checkItem(tn, r.PutRequest.Item)
				} else if r.DeleteRequest != nil {
					msg = d.checkKey(tn, r.DeleteRequest.Key)
				}
				if msg != "" {
					return msg
				}
			}
		}
	case "TransactWriteItems", "TransactGetItems":
		for _, ti := range in.TransactItems {
			for kind, x := range ti {
				msg := ""
				if kind == "Put" {
					msg = d.checkItem(x.TableName, x.Item)
				} else {
					msg = d.checkKey(x.TableName, x.Key)
				}
				if msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

// attrType returns an attribute value's type and its string form.
func attrType(raw json.RawMessage) (typ, val string) {
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) != nil {
		return "", ""
	}
	for k, v := range av {
		var s string
		_ = json.Unmarshal(v, &s)
		return k, s
	}
	return "", ""
}

func (d *dynamo) checkKey(tableName string, key map[string]json.RawMessage) string {
	t := d.tables[tableName]
	if t == nil {
		return ""
	}
	if len(key) != len(t.keys) {
		return "The provided key element does not match the schema"
	}
	for _, k := range t.keys {
		raw, ok := key[k]
		if !ok {
			return "The provided key element does not match the schema"
		}
		typ, val := attrType(raw)
		if typ != t.types[k] {
			return "The provided key element does not match the schema"
		}
		if val == "" && typ != "N" {
			return "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty " + typeWord(typ) + " value. Key: " + k
		}
	}
	return ""
}

func typeWord(typ string) string {
	if typ == "B" {
		return "binary"
	}
	return "string"
}

func (d *dynamo) checkItem(tableName string, item map[string]json.RawMessage) string {
	t := d.tables[tableName]
	if t == nil {
		return ""
	}
	for _, k := range t.keys {
		raw, ok := item[k]
		if !ok {
			return "One or more parameter values were invalid: Missing the key " + k + " in the item"
		}
		typ, val := attrType(raw)
		if typ != t.types[k] {
			return fmt.Sprintf("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k, t.types[k], typ)
		}
		if val == "" && typ != "N" {
			return "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty " + typeWord(typ) + " value. Key: " + k
		}
	}
	return d.checkIndexKeys(tableName, item)
}

// checkIndexKeys checks an item's secondary index key attributes (an item
// without them is simply not in the index).
func (d *dynamo) checkIndexKeys(tableName string, item map[string]json.RawMessage) string {
	t := d.tables[tableName]
	if t == nil || item == nil {
		return ""
	}
	for _, ix := range t.indexes {
		for _, k := range ix.keys {
			raw, ok := item[k]
			if !ok {
				continue
			}
			typ, val := attrType(raw)
			if typ != t.types[k] {
				return fmt.Sprintf("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k, t.types[k], typ, ix.name)
			}
			if val == "" && typ != "N" {
				return fmt.Sprintf("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", typeWord(typ), ix.name, k)
			}
		}
	}
	return ""
}

// restore puts an item back as it was before a refused write.
func (d *dynamo) restore(k itemKey, before map[string]json.RawMessage) {
	if before == nil {
		_, _ = d.call("DeleteItem", map[string]any{"TableName": k.table, "Key": k.key})
		return
	}
	_, _ = d.call("PutItem", map[string]any{"TableName": k.table, "Item": before})
}

// page cuts a Query or Scan answer at 1 MB of items read, as DynamoDB
// does: the item that reaches 1 MB is the last of the page, and its key is
// LastEvaluatedKey. d.mu is held.
func (d *dynamo) page(tableName string, body []byte, rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	var out map[string]json.RawMessage
	if json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		return rec
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(out["Items"], &items) != nil || len(items) == 0 {
		return rec
	}
	size := 0
	cut := -1
	for i, it := range items {
		size += itemSize(it)
		if size >= maxPage && i < len(items)-1 {
			cut = i
			break
		}
	}
	if cut < 0 {
		return rec
	}
	t := d.tables[tableName]
	if t == nil {
		return rec
	}
	var in struct{ IndexName string }
	_ = json.Unmarshal(body, &in)
	keyAttrs := append([]string(nil), t.keys...)
	for _, ix := range t.indexes {
		if ix.name == in.IndexName {
			keyAttrs = append(keyAttrs, ix.keys...)
		}
	}
	last := items[cut]
	lek := map[string]json.RawMessage{}
	for _, k := range keyAttrs {
		if v, ok := last[k]; ok {
			lek[k] = v
		}
	}
	items = items[:cut+1]
	out["Items"], _ = json.Marshal(items)
	out["Count"], _ = json.Marshal(len(items))
	out["ScannedCount"], _ = json.Marshal(len(items))
	out["LastEvaluatedKey"], _ = json.Marshal(lek)
	b, _ := json.Marshal(out)
	fixed := httptest.NewRecorder()
	for k, v := range rec.Header() {
		fixed.Header()[k] = v
	}
	fixed.WriteHeader(rec.Code)
	fixed.Write(b)
	return fixed
}

// itemSize is an item's size as DynamoDB counts it: attribute names plus
// values.
func itemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(raw json.RawMessage) int {
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) != nil {
		return len(raw)
	}
	for typ, v := range av {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(v, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(v, &s)
			return (len(strings.TrimLeft(s, "-0"))+1)/2 + 1
		case "B":
			var s string
			_ = json.Unmarshal(v, &s)
			b, _ := base64.StdEncoding.DecodeString(s)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(v, &l)
			n := 3
			for _, e := range l {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			var m map[string]json.RawMessage
			_ = json.Unmarshal(v, &m)
			n := 3
			for k, e := range m {
				n += 1 + len(k) + valueSize(e)
			}
			return n
		default: // SS, NS, BS
			var l []string
			_ = json.Unmarshal(v, &l)
			n := 0
			for _, e := range l {
				n += len(e)
			}
			return n
		}
	}
	return 0
}
