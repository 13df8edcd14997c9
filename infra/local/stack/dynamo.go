package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	miniserver "github.com/truora/minidyn/server"
)

// dynamo wraps minidyn's DynamoDB server (the copy in infra/local/minidyn,
// patched where it differed from DynamoDB: REMOVE, empty lists and maps,
// a start key whose item is gone) with what it lacks: streams (a
// record for every item a write changes), UpdateTimeToLive and
// DescribeTimeToLive, ListTables and an ACTIVE TableStatus. It also injects
// faults for tests and saves tables to disk.
type dynamo struct {
	mini   *miniserver.Server // served over HTTP, and read in process
	faults *Faults
	region string
	iam    *IAM
	clock  *Clock
	// ttlLag is how long after its TTL an expired item is deleted (on
	// DynamoDB: usually within a few days, so readers must skip expired
	// items themselves).
	ttlLag time.Duration

	mu     sync.Mutex // serialises writes so old and new images are exact
	tables map[string]*table
	seq    int64
	dirty  bool
	// onRecord receives every stream record, in order.
	onRecord func(tableName string, rec events.DynamoDBEventRecord)
}

type table struct {
	keys    []string // hash key, then range key
	ttlAttr string
	// expiries holds the TTL (epoch seconds) of every item that has one,
	// by its canonical key, kept as writes pass so that a sweep reads only
	// expired items. nil until a sweep has read the table once.
	expiries map[string]expiry
	types    map[string]string // key attribute → S, N or B
	view     string            // the stream's view type: what its records carry
	indexes  []index
}

// expiry is an item's key and TTL.
type expiry struct {
	key map[string]json.RawMessage
	at  float64
}

// index is a global secondary index's name and key attributes.
type index struct {
	name string
	keys []string // hash key, then range key
}

func newDynamo(region string, faults *Faults) *dynamo {
	mini := miniserver.NewServer()
	return &dynamo{mini: mini, faults: faults, region: region, tables: map[string]*table{}}
}

func (d *dynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	if f, ok := d.faults.take("dynamodb", op); ok {
		writeAWSJSONError(w, f.Status, f.Code, f.Message)
		return
	}
	in := parseRequest(body)
	tableName := in.TableName
	if err := d.iam.check(accessKeyOf(r), d.authz(op, in)...); err != nil {
		code := "AccessDeniedException"
		if err.unknownKey {
			code = "UnrecognizedClientException"
		}
		writeAWSJSONError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	if op != "CreateTable" {
		d.mu.Lock()
		msg := d.validate(op, body, in)
		d.mu.Unlock()
		if msg != "" {
			writeAWSJSONError(w, http.StatusBadRequest, "ValidationException", msg)
			return
		}
	}

	switch op {
	case "ListTables":
		d.mu.Lock()
		names := make([]string, 0, len(d.tables))
		for n := range d.tables {
			names = append(names, n)
		}
		d.mu.Unlock()
		writeJSON(w, map[string]any{"TableNames": names})
		return
	case "UpdateTimeToLive":
		var in struct {
			TimeToLiveSpecification struct {
				AttributeName string
				Enabled       bool
			}
		}
		_ = json.Unmarshal(body, &in)
		d.mu.Lock()
		if t, ok := d.tables[tableName]; ok && in.TimeToLiveSpecification.Enabled {
			t.ttlAttr = in.TimeToLiveSpecification.AttributeName
			t.expiries = nil // read again by the next sweep
		}
		d.mu.Unlock()
		writeJSON(w, map[string]any{"TimeToLiveSpecification": in.TimeToLiveSpecification})
		return
	case "DescribeTimeToLive":
		d.mu.Lock()
		t := d.tables[tableName]
		d.mu.Unlock()
		desc := map[string]any{"TimeToLiveStatus": "DISABLED"}
		if t != nil && t.ttlAttr != "" {
			desc = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.ttlAttr}
		}
		writeJSON(w, map[string]any{"TimeToLiveDescription": desc})
		return
	case "CreateTable", "DescribeTable":
		rec := d.forward(r, body)
		if rec.Code == http.StatusOK {
			d.mu.Lock()
			if op == "CreateTable" {
				t := newTable(body)
				t.view = streamView(body)
				d.tables[tableName] = t
			}
			d.mu.Unlock()
			rec = withActiveStatus(rec, tableName, d.region)
		}
		copyResponse(w, rec)
		return
	case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
		d.mu.Lock()
		defer d.mu.Unlock()
		keys := d.writtenKeys(op, body, in)
		before := make([]map[string]json.RawMessage, len(keys))
		for i, k := range keys {
			before[i] = d.getItem(k.table, k.key)
		}
		rec := d.forward(r, body)
		if rec.Code == http.StatusOK {
			after := make([]map[string]json.RawMessage, len(keys))
			for i, k := range keys {
				after[i] = d.getItem(k.table, k.key)
			}
			// An update that gives an item an invalid index key is refused
			// whole, as DynamoDB refuses it before writing.
			for i, k := range keys {
				if msg := d.checkIndexKeys(k.table, after[i]); msg != "" {
					for j, k := range keys {
						d.restore(k, before[j])
					}
					writeAWSJSONError(w, http.StatusBadRequest, "ValidationException", msg)
					return
				}
			}
			d.dirty = true
			for i, k := range keys {
				d.emit(k.table, k.key, before[i], after[i])
				d.track(k.table, k.key, after[i])
			}
		}
		copyResponse(w, rec)
		return
	case "Query", "Scan":
		rec := d.forward(r, body)
		if rec.Code == http.StatusOK {
			d.mu.Lock()
			rec = d.page(tableName, body, rec)
			d.mu.Unlock()
		}
		copyResponse(w, rec)
		return
	}
	copyResponse(w, d.forward(r, body))
}

func (d *dynamo) forward(r *http.Request, body []byte) *httptest.ResponseRecorder {
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	d.mini.ServeHTTP(rec, req)
	return rec
}

// call sends one DynamoDB JSON API request to minidyn directly (no faults,
// no stream records): for images, loading and saving.
func (d *dynamo) call(op string, in any) (map[string]json.RawMessage, error) {
	b, _ := json.Marshal(in)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	d.mini.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", op, rec.Body.String())
	}
	var out map[string]json.RawMessage
	err := json.Unmarshal(rec.Body.Bytes(), &out)
	return out, err
}

type itemKey struct {
	table string
	key   map[string]json.RawMessage
}

// writtenKeys lists the keys of the items a write request touches.
func (d *dynamo) writtenKeys(op string, body []byte, in *request) []itemKey {
	var out []itemKey
	add := func(tableName string, item map[string]json.RawMessage) {
		t := d.tables[tableName]
		if t == nil {
			return
		}
		k := map[string]json.RawMessage{}
		for _, name := range t.keys {
			if v, ok := item[name]; ok {
				k[name] = v
			}
		}
		out = append(out, itemKey{table: tableName, key: k})
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		if in.Item != nil {
			add(in.TableName, in.Item)
		} else {
			add(in.TableName, in.Key)
		}
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item map[string]json.RawMessage }
				DeleteRequest *struct{ Key map[string]json.RawMessage }
			}
		}
		_ = json.Unmarshal(body, &in)
		for tn, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					add(tn, r.PutRequest.Item)
				} else if r.DeleteRequest != nil {
					add(tn, r.DeleteRequest.Key)
				}
			}
		}
	case "TransactWriteItems":
		for _, ti := range in.TransactItems {
			for kind, x := range ti {
				if kind == "ConditionCheck" {
					continue
				}
				if x.Item != nil {
					add(x.TableName, x.Item)
				} else {
					add(x.TableName, x.Key)
				}
			}
		}
	}
	return out
}

// getItem reads an item's image in process (no HTTP, no JSON response to
// parse): each write reads the old and the new image of every item it
// touches.
func (d *dynamo) getItem(tableName string, key map[string]json.RawMessage) map[string]json.RawMessage {
	k := make(map[string]*miniserver.AttributeValue, len(key))
	for name, raw := range key {
		var av miniserver.AttributeValue
		if json.Unmarshal(raw, &av) != nil {
			return nil
		}
		k[name] = &av
	}
	consistent := true
	out, err := d.mini.GetItem(context.Background(), &miniserver.GetItemInput{TableName: &tableName, Key: k, ConsistentRead: &consistent})
	if err != nil || len(out.Item) == 0 {
		return nil
	}
	item := make(map[string]json.RawMessage, len(out.Item))
	for name, av := range out.Item {
		b, err := json.Marshal(av)
		if err != nil {
			return nil
		}
		item[name] = b
	}
	return item
}

// emit makes the stream record for one changed item, as DynamoDB Streams
// does with the table's StreamViewType.
func (d *dynamo) emit(tableName string, key, before, after map[string]json.RawMessage) {
	if d.onRecord == nil || sameItem(before, after) {
		return
	}
	name := "MODIFY"
	switch {
	case before == nil:
		name = "INSERT"
	case after == nil:
		name = "REMOVE"
	}
	d.seq++
	seq := fmt.Sprintf("%021d", d.seq)
	// Records carry what the table's view type says, as DynamoDB Streams does.
	view := "NEW_AND_OLD_IMAGES"
	if t := d.tables[tableName]; t != nil && t.view != "" {
		view = t.view
	}
	size := len(canonical(key))
	var newImage, oldImage map[string]events.DynamoDBAttributeValue
	if view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES" {
		newImage = toAttrs(after)
	}
	if view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES" {
		oldImage = toAttrs(before)
	}
	if newImage != nil {
		size += len(canonical(after))
	}
	if oldImage != nil {
		size += len(canonical(before))
	}
	rec := events.DynamoDBEventRecord{
		AWSRegion:      d.region,
		EventID:        strconv.FormatInt(d.seq, 16),
		EventName:      name,
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s/stream/local", d.region, tableName),
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now()},
			Keys:                        toAttrs(key),
			NewImage:                    newImage,
			OldImage:                    oldImage,
			SequenceNumber:              seq,
			SizeBytes:                   int64(size),
			StreamViewType:              view,
		},
	}
	d.onRecord(tableName, rec)
}

// sameItem reports whether a write left an item as it was (DynamoDB Streams
// write no record then). Both images are read by getItem, which writes an
// attribute value the same way each time (encoding/json: struct fields in
// order, map keys sorted), so values written alike are equal, and only
// values written differently are decoded to be compared.
func sameItem(a, b map[string]json.RawMessage) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) && !sameValue(v, w) {
			return false
		}
	}
	return true
}

// sameValue compares two attribute values written differently: a set (SS,
// NS, BS) has no order on DynamoDB, and minidyn may hand one back in
// another order after an update that left it as it was.
func sameValue(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return equalValue(x, y)
}

func equalValue(x, y any) bool {
	xm, ok := x.(map[string]any)
	ym, ok2 := y.(map[string]any)
	if !ok || !ok2 || len(xm) != len(ym) {
		return reflect.DeepEqual(x, y)
	}
	for typ, xv := range xm {
		yv, ok := ym[typ]
		if !ok {
			return false
		}
		switch typ {
		case "SS", "NS", "BS":
			xs, _ := xv.([]any)
			ys, _ := yv.([]any)
			if len(xs) != len(ys) {
				return false
			}
			sorted := func(l []any) []string {
				out := make([]string, len(l))
				for i, e := range l {
					out[i], _ = e.(string)
				}
				slices.Sort(out)
				return out
			}
			if !slices.Equal(sorted(xs), sorted(ys)) {
				return false
			}
		case "L":
			xl, _ := xv.([]any)
			yl, _ := yv.([]any)
			if len(xl) != len(yl) {
				return false
			}
			for i := range xl {
				if !equalValue(xl[i], yl[i]) {
					return false
				}
			}
		case "M":
			xs, _ := xv.(map[string]any)
			ys, _ := yv.(map[string]any)
			if len(xs) != len(ys) {
				return false
			}
			for k, e := range xs {
				f, ok := ys[k]
				if !ok || !equalValue(e, f) {
					return false
				}
			}
		default:
			if !reflect.DeepEqual(xv, yv) {
				return false
			}
		}
	}
	return true
}

func canonical(item map[string]json.RawMessage) string {
	if item == nil {
		return ""
	}
	b, _ := json.Marshal(item) // map keys are sorted
	var v any
	_ = json.Unmarshal(b, &v)
	b, _ = json.Marshal(v)
	return string(b)
}

func toAttrs(item map[string]json.RawMessage) map[string]events.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	b, _ := json.Marshal(item)
	var out map[string]events.DynamoDBAttributeValue
	_ = json.Unmarshal(b, &out)
	return out
}

// expire deletes items whose TTL attribute is more than the TTL lag in the
// past, as DynamoDB's TTL does (there within a few days, so an expired
// item is still read until then), with REMOVE stream records. It runs every
// two seconds, holding the table: it reads the TTLs the writes have kept
// (the whole table only on its first sweep, or after UpdateTimeToLive), and
// then only the expired items.
func (d *dynamo) expire(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// An item expires once int64(ttl) + lag <= now, so once ttl < cutoff.
	cutoff := float64(now.Add(-d.ttlLag).Unix() + 1)
	for name, t := range d.tables {
		if t.ttlAttr == "" {
			continue
		}
		if t.expiries == nil {
			d.readExpiries(name, t)
		}
		var due []string
		for k, e := range t.expiries {
			if e.at < cutoff {
				due = append(due, k)
			}
		}
		slices.Sort(due)
		for _, k := range due {
			key := t.expiries[k].key
			item := d.getItem(name, key)
			if at, ok := ttlOf(item, t.ttlAttr); !ok || at >= cutoff {
				d.track(name, key, item) // not the item the TTL was kept for
				continue
			}
			if _, err := d.call("DeleteItem", map[string]any{"TableName": name, "Key": key}); err == nil {
				d.dirty = true
				d.emit(name, key, item, nil)
				delete(t.expiries, k)
			}
		}
	}
}

// readExpiries reads the key and TTL of every item of a table.
func (d *dynamo) readExpiries(name string, t *table) {
	names := map[string]string{"#ttl": t.ttlAttr}
	projection := []string{"#ttl"}
	for i, k := range t.keys {
		p := "#k" + strconv.Itoa(i)
		projection = append(projection, p)
		names[p] = k
	}
	t.expiries = map[string]expiry{}
	for _, item := range d.scan(name, map[string]any{
		"ProjectionExpression":     strings.Join(projection, ", "),
		"ExpressionAttributeNames": names,
	}) {
		key := map[string]json.RawMessage{}
		for _, k := range t.keys {
			key[k] = item[k]
		}
		d.track(name, key, item)
	}
}

// track keeps the TTL of the item at key, now item (nil: gone), for the
// sweep, once the table's TTLs have been read.
func (d *dynamo) track(tableName string, key, item map[string]json.RawMessage) {
	t := d.tables[tableName]
	if t == nil || t.expiries == nil {
		return
	}
	k := canonical(key)
	if at, ok := ttlOf(item, t.ttlAttr); ok {
		t.expiries[k] = expiry{key: key, at: at}
	} else {
		delete(t.expiries, k)
	}
}

// ttlOf is the item's TTL: its attribute attr, if it is a number (DynamoDB's
// TTL ignores an item whose attribute is of another type).
func ttlOf(item map[string]json.RawMessage, attr string) (float64, bool) {
	raw, ok := item[attr]
	if !ok {
		return 0, false
	}
	var av struct{ N *string }
	if json.Unmarshal(raw, &av) != nil || av.N == nil {
		return 0, false
	}
	at, err := strconv.ParseFloat(*av.N, 64)
	return at, err == nil
}

// scan reads every item of a table, with the Scan parameters in params
// (a filter, a projection) if given.
func (d *dynamo) scan(tableName string, params ...map[string]any) []map[string]json.RawMessage {
	var items []map[string]json.RawMessage
	var start json.RawMessage
	for {
		in := map[string]any{"TableName": tableName}
		for _, p := range params {
			for k, v := range p {
				in[k] = v
			}
		}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		out, err := d.call("Scan", in)
		if err != nil {
			return items
		}
		var page []map[string]json.RawMessage
		_ = json.Unmarshal(out["Items"], &page)
		items = append(items, page...)
		start = out["LastEvaluatedKey"]
		if len(start) == 0 || string(start) == "null" || string(start) == "{}" {
			return items
		}
	}
}

// save writes every table's items to dir/<table>.json.
func (d *dynamo) save(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.dirty {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name := range d.tables {
		b, err := json.Marshal(d.scan(name))
		if err != nil {
			return err
		}
		tmp := filepath.Join(dir, name+".json.tmp")
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name+".json")); err != nil {
			return err
		}
	}
	d.dirty = false
	return nil
}

// load puts saved items back, without stream records (they were delivered
// in the run that wrote them).
func (d *dynamo) load(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.tables {
		t.expiries = nil // read again by the next sweep
	}
	for name := range d.tables {
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, item := range items {
			if _, err := d.call("PutItem", map[string]any{"TableName": name, "Item": item}); err != nil {
				return err
			}
		}
	}
	return nil
}

// streamView is the StreamViewType of a CreateTable request.
func streamView(createTable []byte) string {
	var in struct {
		StreamSpecification struct{ StreamViewType string }
	}
	_ = json.Unmarshal(createTable, &in)
	return in.StreamSpecification.StreamViewType
}

func keyNames(createTable []byte) []string {
	var in struct {
		KeySchema []struct{ AttributeName, KeyType string }
	}
	_ = json.Unmarshal(createTable, &in)
	var keys []string
	for _, k := range in.KeySchema {
		if k.KeyType == "HASH" {
			keys = append([]string{k.AttributeName}, keys...)
		} else {
			keys = append(keys, k.AttributeName)
		}
	}
	return keys
}

// withActiveStatus fills in what minidyn leaves out of a table description.
func withActiveStatus(rec *httptest.ResponseRecorder, tableName, region string) *httptest.ResponseRecorder {
	var out map[string]map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		return rec
	}
	for _, k := range []string{"Table", "TableDescription"} {
		if desc, ok := out[k]; ok {
			desc["TableStatus"] = "ACTIVE"
			desc["LatestStreamArn"] = fmt.Sprintf("arn:aws:dynamodb:%s:000000000000:table/%s/stream/local", region, tableName)
			if gsis, ok := desc["GlobalSecondaryIndexes"].([]any); ok {
				for _, g := range gsis {
					if m, ok := g.(map[string]any); ok {
						m["IndexStatus"] = "ACTIVE"
					}
				}
			}
		}
	}
	b, _ := json.Marshal(out)
	fixed := httptest.NewRecorder()
	for k, v := range rec.Header() {
		fixed.Header()[k] = v
	}
	fixed.Header().Del("Content-Length")
	fixed.WriteHeader(rec.Code)
	fixed.Write(b)
	return fixed
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	// The SDK checks DynamoDB responses against this CRC32, as AWS sends it.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(rec.Body.Bytes())), 10))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func writeJSON(w http.ResponseWriter, v any) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(rec).Encode(v)
	copyResponse(w, rec)
}

func writeAWSJSONError(w http.ResponseWriter, status int, code, msg string) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/x-amz-json-1.0")
	rec.Header().Set("X-Amzn-ErrorType", code)
	rec.WriteHeader(status)
	_ = json.NewEncoder(rec).Encode(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg})
	copyResponse(w, rec)
}
