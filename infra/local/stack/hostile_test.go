package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/token"
)

// hostile is one request an attacker, a broken client or a mangled link
// could send.
type hostile struct {
	name   string
	method string
	path   string // with its query, sent as written
	header map[string]string
	body   []byte
	lazy   func() []byte // the body made as the request is sent
}

// The hostile-input battery: every route of the site, sent what a broken
// client or an attacker would send (malformed, truncated, deeply nested and
// oversized bodies, invalid UTF-8, wrong and missing content types, wrong
// field types, unknown fields, path tricks, forged, expired, other
// purposes' and other stories' tokens). Every case must get a 4xx: never a
// 5xx, never a hang, never a success (2xx or 3xx) with nothing done. The
// honeypot's quiet 201 is the one deliberate exception and is not a case.
// Nothing any case sent is kept.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	signer := stackSigner(t, st)
	sign := func(s token.Signer, purpose, id string, exp time.Time) string {
		tok, err := s.Sign(ctx, purpose, id, exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	start := func(s token.Signer, id string, at time.Time) string {
		tok, err := links.Start(ctx, s, id, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	v := submitStory(t, st) // a story that was accepted, with its upload token
	other := submitStory(t, st)
	// An upload in progress, for the calls that name one.
	up, status := v.create(t, v.token, "clip.mp4", "video/mp4", 12<<20)
	if status != http.StatusOK {
		t.Fatalf("create = %d", status)
	}
	withdrawTok := sign(signer, links.WithdrawPurpose, v.id, now.Add(time.Hour))
	expiredWithdraw := sign(signer, links.WithdrawPurpose, v.id, now.Add(-time.Hour))
	expiredUpload := sign(signer, links.UploadPurpose, v.id, now.Add(-time.Hour))
	forged := "k1.abcdefghijklmnopqrstuvwxyz.mwugrs00.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	otherSigner, _ := token.StaticSigner("another-secret-another-secret-0123456789")

	// Forms for the story cases: none of them may be kept.
	hidden := openForm(t)
	spare := openForm(t)
	id := hidden["id"]
	story := func(change func(map[string]any)) []byte {
		m := jsonStory(hidden, stacktest.Unique("hostile@example.org"))
		if change != nil {
			change(m)
		}
		b, _ := json.Marshal(m)
		return b
	}
	valid := story(nil)
	form := func(change func(url.Values)) []byte {
		f := url.Values{"id": {id}, "started": {hidden["started"]}, "website": {""}, "consentVersion": {hidden["consentVersion"]},
			"name": {"Tomasz Nowak"}, "role": {"receptionist"}, "practice": {"Lea Valley Medical Centre"}, "borough": {"waltham_forest"},
			"email": {stacktest.Unique("hostile.form@example.org")}, "preferredContact": {"email"}, "topics": {"access"},
			"story":      {"Every morning I am the first voice patients hear, and last winter we answered 600 calls a day."},
			"activities": {"video"}, "patientsWouldSpeak": {"no"}, "consent.contact": {"yes"}, "consent.store": {"yes"}}
		if change != nil {
			change(f)
		}
		return []byte(f.Encode())
	}
	deep := func(open, close string, n int) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
	}
	jsonH := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	formH := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
	withH := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range h {
			out[a] = b
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	tokH := func(tok string) map[string]string { return map[string]string{"X-Upload-Token": tok} }
	tokJSON := func(tok string) map[string]string {
		return map[string]string{"X-Upload-Token": tok, "Content-Type": "application/json"}
	}

	var cases []hostile
	add := func(name, method, path string, header map[string]string, body []byte) {
		cases = append(cases, hostile{name: name, method: method, path: path, header: header, body: body})
	}

	// POST /api/stories, JSON.
	for name, body := range map[string]string{
		"empty body": "", "{}": "{}", "null": "null", "array": "[]", "string": `"story"`, "number": "42", "true": "true",
		"open brace": "{", "truncated story": string(valid[:len(valid)/2]), "cut in a string": `{"name":"Am`,
		"invalid UTF-8 in a value": "{\"name\":\"\xff\xfe\"}", "invalid UTF-8 in a valid story": strings.Replace(string(valid), "Amara", "Am\xffara", 1),
		"unknown fields only": `{"foo":1,"bar":[2]}`, "unknown field beside a story": strings.Replace(string(valid), "{", `{"isAdmin":true,`, 1),
		"two objects": string(valid) + string(valid), "trailing garbage": string(valid) + "x",
		"byte order mark": "\ufeff" + string(valid), "NUL bytes": "{\"name\":\"\x00\"}\x00",
		"deeply nested object":  string(deep(`{"a":`, "}", 20000)),
		"deeply nested array":   string(deep("[", "]", 20000)),
		"deeply nested consent": `{"consent":` + string(deep("[", "]", 5000)) + `}`,
		"oversized":             `{"story":"` + strings.Repeat("x", 80<<10) + `"}`,
		"huge number":           `{"topics":1e999999}`,
	} {
		add("stories JSON: "+name, http.MethodPost, "/api/stories", jsonH, []byte(body))
	}
	for name, change := range map[string]func(map[string]any){
		"topics a string":       func(m map[string]any) { m["topics"] = "workload" },
		"consent true":          func(m map[string]any) { m["consent"] = true },
		"story a number":        func(m map[string]any) { m["story"] = 123 },
		"mpContacts a string":   func(m map[string]any) { m["mpContacts"] = "Jane MP" },
		"id an array":           func(m map[string]any) { m["id"] = []string{id} },
		"started an object":     func(m map[string]any) { m["started"] = map[string]string{"a": "b"} },
		"email a list":          func(m map[string]any) { m["email"] = []string{"a@example.org", "b@example.org"} },
		"no start token":        func(m map[string]any) { delete(m, "started") },
		"empty start token":     func(m map[string]any) { m["started"] = "" },
		"forged start token":    func(m map[string]any) { m["started"] = forged },
		"token of another key":  func(m map[string]any) { m["started"] = start(otherSigner, id, now.Add(-time.Minute)) },
		"expired start token":   func(m map[string]any) { m["started"] = start(signer, id, now.Add(-8*24*time.Hour)) },
		"another story's token": func(m map[string]any) { m["started"] = spare["started"] },
		"upload token as start": func(m map[string]any) { m["started"] = v.token },
		"started from the future": func(m map[string]any) {
			m["started"] = start(signer, id, now.Add(time.Hour))
		},
		"token of an accepted story, other answers": func(m map[string]any) {
			m["id"], m["started"] = v.id, start(signer, v.id, now.Add(-time.Minute))
		},
		"invalid email":       func(m map[string]any) { m["email"] = "not an address" },
		"IDN local part":      func(m map[string]any) { m["email"] = "jöhn@example.org" },
		"header injection":    func(m map[string]any) { m["email"] = "a@example.org\r\nBcc: b@example.org" },
		"unknown borough":     func(m map[string]any) { m["borough"] = "atlantis" },
		"no consent":          func(m map[string]any) { m["consent"] = map[string]bool{} },
		"old consent wording": func(m map[string]any) { m["consentVersion"] = "000000000000" },
		"a thousand topics":   func(m map[string]any) { m["topics"] = make([]string, 1000) },
		"a hundred MP contacts": func(m map[string]any) {
			var cs []map[string]string
			for i := range 100 {
				cs = append(cs, map[string]string{"name": fmt.Sprint("MP ", i), "what": "A meeting at the practice"})
			}
			m["mpContacts"] = cs
		},
	} {
		add("stories JSON: "+name, http.MethodPost, "/api/stories", jsonH, story(change))
	}
	// Sent too fast: a form shown "now" by a clock a minute ahead, so no
	// delay of a busy machine makes it old enough to pass this stack's
	// 150 ms fill time (TestBotsAreAnsweredButNothingIsKept sends a form
	// the moment it was shown, on a stack whose fill time is an hour).
	cases = append(cases, hostile{name: "stories JSON: sent too fast", method: http.MethodPost, path: "/api/stories", header: jsonH,
		lazy: func() []byte {
			return story(func(m map[string]any) { m["started"] = start(signer, id, time.Now().Add(time.Minute)) })
		}})
	add("stories JSON: no content type", http.MethodPost, "/api/stories", withH(jsonH, "Content-Type", ""), valid)
	add("stories JSON: text/plain", http.MethodPost, "/api/stories", withH(jsonH, "Content-Type", "text/plain"), valid)
	add("stories JSON: application/xml", http.MethodPost, "/api/stories", withH(jsonH, "Content-Type", "application/xml"), []byte("<story/>"))
	add("stories JSON: multipart/form-data", http.MethodPost, "/api/stories", withH(jsonH, "Content-Type", "multipart/form-data; boundary=x"), []byte("--x--"))
	add("stories JSON: sent as a form", http.MethodPost, "/api/stories", withH(jsonH, "Content-Type", "application/x-www-form-urlencoded"), valid)

	// POST /api/stories, the no-JS form.
	for name, body := range map[string]string{
		"empty body": "", "bad escape": "name=%zz&story=%", "invalid UTF-8": "name=%ff%fe",
		"invalid UTF-8 field name": "%ff=1", "unknown fields only": "foo=1&bar=2",
		"truncated form": string(form(nil)[:40]), "semicolons": "id=a;started=b",
		"oversized": "story=" + strings.Repeat("x", 80<<10), "JSON body": string(valid),
	} {
		add("stories form: "+name, http.MethodPost, "/api/stories", formH, []byte(body))
	}
	for name, change := range map[string]func(url.Values){
		"no start token":        func(f url.Values) { f.Del("started") },
		"forged start token":    func(f url.Values) { f.Set("started", forged) },
		"expired start token":   func(f url.Values) { f.Set("started", start(signer, id, now.Add(-8*24*time.Hour))) },
		"another story's token": func(f url.Values) { f.Set("started", spare["started"]) },
		"withdraw token":        func(f url.Values) { f.Set("started", withdrawTok) },
		"two start tokens":      func(f url.Values) { f["started"] = []string{forged, hidden["started"]} },
		"unknown role":          func(f url.Values) { f.Set("role", "admin") },
		"unknown consent only":  func(f url.Values) { f.Del("consent.store"); f.Set("consent.everything", "yes") },
		"no story":              func(f url.Values) { f.Del("story") },
	} {
		add("stories form: "+name, http.MethodPost, "/api/stories", formH, form(change))
	}
	add("stories form: no content type", http.MethodPost, "/api/stories", withH(formH, "Content-Type", ""), form(nil))
	add("stories: GET", http.MethodGet, "/api/stories", nil, nil)
	add("stories: PUT", http.MethodPut, "/api/stories", jsonH, valid)
	add("stories: DELETE", http.MethodDelete, "/api/stories", nil, nil)

	// GET /api/s3/params (the small clips' presigned POST).
	params := func(q url.Values) string { return "/api/s3/params?" + q.Encode() }
	good := url.Values{"filename": {"clip.mp4"}, "type": {"video/mp4"}, "metadata[story]": {v.id}}
	with := func(k, val string) string {
		q := url.Values{}
		for a, b := range good {
			q[a] = b
		}
		q.Set(k, val)
		return params(q)
	}
	add("params: no token", http.MethodGet, params(good), nil, nil)
	add("params: token only in the URL", http.MethodGet, with("metadata[token]", v.token), nil, nil)
	add("params: forged token", http.MethodGet, params(good), tokH(forged), nil)
	add("params: expired token", http.MethodGet, params(good), tokH(expiredUpload), nil)
	add("params: withdraw token", http.MethodGet, params(good), tokH(withdrawTok), nil)
	add("params: another story's token", http.MethodGet, params(good), tokH(other.token), nil)
	add("params: garbage token", http.MethodGet, params(good), tokH("!!../../.."), nil)
	add("params: text/html", http.MethodGet, with("type", "text/html"), tokH(v.token), nil)
	add("params: an .exe as video/mp4", http.MethodGet, with("filename", "run.exe"), tokH(v.token), nil)
	add("params: no type", http.MethodGet, with("type", ""), tokH(v.token), nil)
	add("params: no filename or type", http.MethodGet, "/api/s3/params", tokH(v.token), nil)
	add("params: invalid UTF-8 name", http.MethodGet, "/api/s3/params?filename=%ff.mp4&type=video%2Fmp4", tokH(v.token), nil)
	add("params: bad escape", http.MethodGet, "/api/s3/params?filename=%zz&type=video%2Fmp4", tokH(v.token), nil)

	// POST /api/s3/multipart (create).
	createBody := func(meta map[string]string, typ string) []byte {
		b, _ := json.Marshal(map[string]any{"filename": "clip.mp4", "type": typ, "metadata": meta})
		return b
	}
	meta := func(size string) map[string]string { return map[string]string{"story": v.id, "size": size} }
	for name, body := range map[string][]byte{
		"empty body": nil, "null": []byte("null"), "array": []byte("[]"), "open brace": []byte("{"),
		"invalid UTF-8":       []byte("{\"filename\":\"\xff.mp4\",\"type\":\"video/mp4\",\"metadata\":{\"size\":\"100\"}}"),
		"no size":             createBody(map[string]string{"story": v.id}, "video/mp4"),
		"size zero":           createBody(meta("0"), "video/mp4"),
		"negative size":       createBody(meta("-1"), "video/mp4"),
		"size not a number":   createBody(meta("big"), "video/mp4"),
		"size overflows":      createBody(meta("99999999999999999999"), "video/mp4"),
		"size over the limit": createBody(meta("99999999999"), "video/mp4"),
		"text/html":           createBody(meta("100"), "text/html"),
		"another story":       createBody(map[string]string{"story": other.id, "size": "100"}, "video/mp4"),
		"metadata a string":   []byte(`{"filename":"a.mp4","type":"video/mp4","metadata":"x"}`),
		"unknown fields only": []byte(`{"foo":1}`),
		"deeply nested":       deep(`{"metadata":`, "}", 20000),
		"oversized":           []byte(`{"filename":"` + strings.Repeat("a", 20<<10) + `.mp4"}`),
	} {
		add("create: "+name, http.MethodPost, "/api/s3/multipart", tokJSON(v.token), body)
	}
	add("create: no token", http.MethodPost, "/api/s3/multipart", map[string]string{"Content-Type": "application/json"}, createBody(meta("100"), "video/mp4"))
	add("create: token in the metadata", http.MethodPost, "/api/s3/multipart", map[string]string{"Content-Type": "application/json"},
		createBody(map[string]string{"story": v.id, "size": "100", "token": v.token}, "video/mp4"))
	add("create: forged token", http.MethodPost, "/api/s3/multipart", tokJSON(forged), createBody(meta("100"), "video/mp4"))

	// The calls that name an upload.
	key := url.QueryEscape(up.Key)
	uid := url.PathEscape(up.UploadID)
	otherKey := url.QueryEscape("clips/" + other.id + "/x.mp4")
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		m := strings.ToLower(method)
		add(m+" upload: no key", method, "/api/s3/multipart/"+uid, tokH(v.token), nil)
		add(m+" upload: no token", method, "/api/s3/multipart/"+uid+"?key="+key, nil, nil)
		add(m+" upload: another story's token", method, "/api/s3/multipart/"+uid+"?key="+key, tokH(other.token), nil)
		add(m+" upload: another story's key", method, "/api/s3/multipart/"+uid+"?key="+otherKey, tokH(v.token), nil)
		add(m+" upload: unknown upload id", method, "/api/s3/multipart/nosuchupload?key="+key, tokH(v.token), nil)
		add(m+" upload: key with ..", method, "/api/s3/multipart/"+uid+"?key="+url.QueryEscape("clips/"+v.id+"/../../exports/x.csv"), tokH(v.token), nil)
		add(m+" upload: key outside clips/", method, "/api/s3/multipart/"+uid+"?key="+url.QueryEscape("exports/x.csv"), tokH(v.token), nil)
		add(m+" upload: invalid UTF-8 key", method, "/api/s3/multipart/"+uid+"?key=%ff", tokH(v.token), nil)
	}
	for _, n := range []string{"0", "-1", "abc", "3", "10001", "99999999999", "1.5", "1e3", "%00", "01x"} {
		add("sign part "+n, http.MethodGet, "/api/s3/multipart/"+uid+"/"+n+"?key="+key, tokH(v.token), nil)
	}
	add("sign part: no token", http.MethodGet, "/api/s3/multipart/"+uid+"/1?key="+key, nil, nil)
	for _, ns := range []string{"", "0", "3", "1,3", "1,1", "1,,2", "-1", "%2B1", "a", "1.5", "99999999999", "%ff",
		strings.Repeat("1%2C", 20000) + "1", strings.Repeat("2,", 20) + "1"} {
		add("sign parts "+ns[:min(len(ns), 12)], http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+key+"&partNumbers="+ns, tokH(v.token), nil)
	}
	add("sign parts: numbers twice", http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+key+"&partNumbers=1&partNumbers=2", tokH(v.token), nil)
	add("sign parts: no numbers", http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+key, tokH(v.token), nil)
	add("sign parts: no token", http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+key+"&partNumbers=1", nil, nil)
	add("sign parts: another story's token", http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+key+"&partNumbers=1", tokH(other.token), nil)
	add("sign parts: another story's key", http.MethodGet, "/api/s3/multipart/"+uid+"/batch?key="+otherKey+"&partNumbers=1", tokH(v.token), nil)
	add("sign part: another story's key", http.MethodGet, "/api/s3/multipart/"+uid+"/1?key="+otherKey, tokH(v.token), nil)
	for name, body := range map[string]string{
		"empty body": "", "null": "null", "open brace": "{", "parts a string": `{"parts":"x"}`, "no parts": `{"parts":[]}`,
		"parts never uploaded":      `{"parts":[{"PartNumber":1,"ETag":"\"abc\""},{"PartNumber":2,"ETag":"\"def\""}]}`,
		"part numbers out of order": `{"parts":[{"PartNumber":2,"ETag":"a"},{"PartNumber":1,"ETag":"b"}]}`,
		"invalid UTF-8":             "{\"parts\":[{\"PartNumber\":1,\"ETag\":\"\xff\"}]}",
		"deeply nested":             string(deep(`{"parts":`, "}", 20000)),
		"a million parts":           `{"parts":[` + strings.Repeat(`{"PartNumber":1,"ETag":"a"},`, 20000) + `{"PartNumber":1,"ETag":"a"}]}`,
	} {
		add("complete: "+name, http.MethodPost, "/api/s3/multipart/"+uid+"/complete?key="+key, tokJSON(v.token), []byte(body))
	}
	add("complete: no token", http.MethodPost, "/api/s3/multipart/"+uid+"/complete?key="+key, map[string]string{"Content-Type": "application/json"}, []byte(`{"parts":[]}`))
	add("uploads: path tricks", http.MethodGet, "/api/s3/multipart/..%2F..%2Fwithdraw?key="+key, tokH(v.token), nil)
	add("uploads: unknown route", http.MethodGet, "/api/s3/../../template.yaml", tokH(v.token), nil)

	// GET /api/clips.
	add("clips: no token", http.MethodGet, "/api/clips", nil, nil)
	add("clips: token only in the URL", http.MethodGet, "/api/clips?token="+url.QueryEscape(v.token), nil, nil)
	add("clips: forged token", http.MethodGet, "/api/clips", tokH(forged), nil)
	add("clips: expired token", http.MethodGet, "/api/clips", tokH(expiredUpload), nil)
	add("clips: withdraw token", http.MethodGet, "/api/clips", tokH(withdrawTok), nil)
	add("clips: forged cookie", http.MethodGet, "/api/clips", map[string]string{"Cookie": links.UploadCookie + "=" + forged}, nil)

	// /withdraw.
	wq := func(tok string) string { return "/withdraw?t=" + url.QueryEscape(tok) }
	add("withdraw: no token", http.MethodGet, "/withdraw", nil, nil)
	add("withdraw: forged token", http.MethodGet, wq(forged), nil, nil)
	add("withdraw: expired token", http.MethodGet, wq(expiredWithdraw), nil, nil)
	add("withdraw: upload token", http.MethodGet, wq(v.token), nil, nil)
	add("withdraw: another key's token", http.MethodGet, wq(sign(otherSigner, links.WithdrawPurpose, v.id, now.Add(time.Hour))), nil, nil)
	add("withdraw: path in the token", http.MethodGet, "/withdraw?t=../../etc/passwd", nil, nil)
	add("withdraw: invalid UTF-8", http.MethodGet, "/withdraw?t=%ff%fe", nil, nil)
	add("withdraw: two tokens", http.MethodGet, wq(forged)+"&t="+url.QueryEscape(withdrawTok), nil, nil)
	wf := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	wbody := func(vals url.Values) []byte { return []byte(vals.Encode()) }
	add("withdraw POST: bad escape", http.MethodPost, "/withdraw", wf, []byte("t=%zz"))
	add("withdraw POST: no token", http.MethodPost, "/withdraw", wf, []byte("action=erase&confirm=yes"))
	add("withdraw POST: forged token", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {forged}, "action": {"erase"}, "confirm": {"yes"}}))
	add("withdraw POST: expired token", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {expiredWithdraw}, "action": {"erase"}, "confirm": {"yes"}}))
	add("withdraw POST: no action", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}}))
	add("withdraw POST: unknown action", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}, "action": {"drop table"}}))
	add("withdraw POST: erase unconfirmed", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}, "action": {"erase"}}))
	add("withdraw POST: unknown statement", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}, "action": {"withdraw"}, "statement": {"nosuch"}}))
	add("withdraw POST: give unknown statement", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}, "action": {"give"}, "statement": {"../store"}}))
	add("withdraw POST: unknown naming", http.MethodPost, "/withdraw", wf, wbody(url.Values{"t": {withdrawTok}, "action": {"naming"}, "naming": {"everyone"}}))
	add("withdraw POST: JSON body", http.MethodPost, "/withdraw", map[string]string{"Content-Type": "application/json"}, []byte(`{"t":"`+withdrawTok+`","action":"erase"}`))
	add("withdraw POST: oversized", http.MethodPost, "/withdraw", wf, []byte("t="+strings.Repeat("a", 200<<10)))

	// /download.
	dq := func(tok string) string { return "/download?t=" + url.QueryEscape(tok) }
	dl := func(key string, expires time.Time) string {
		link, err := links.Download(ctx, signer, st.URL, key, "x.csv", expires)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		return u.RequestURI()
	}
	add("download: no token", http.MethodGet, "/download", nil, nil)
	add("download: forged token", http.MethodGet, dq(forged), nil, nil)
	add("download: withdraw token", http.MethodGet, dq(withdrawTok), nil, nil)
	add("download: upload token", http.MethodGet, dq(v.token), nil, nil)
	add("download: expired link", http.MethodGet, dl("exports/digest.csv", now.Add(-time.Hour)), nil, nil)
	add("download: a key with ..", http.MethodGet, dl("exports/../clips/"+v.id+"/x.mp4", now.Add(time.Hour)), nil, nil)
	add("download: a key outside the exports and clips", http.MethodGet, dl("secrets/x", now.Add(time.Hour)), nil, nil)
	add("download: a missing file", http.MethodGet, dl("exports/nosuch.csv", now.Add(time.Hour)), nil, nil)
	add("download: invalid UTF-8", http.MethodGet, "/download?t=%ff", nil, nil)

	// The form's pages.
	add("static: parent directory", http.MethodGet, "/static/../../go.mod", nil, nil)
	add("static: escaped parent", http.MethodGet, "/static/..%2F..%2Fgo.mod", nil, nil)
	add("static: dot-dot segment", http.MethodGet, "/static/%2e%2e/template.yaml", nil, nil)
	add("static: unknown file", http.MethodGet, "/static/nosuch.js", nil, nil)
	add("static: empty name", http.MethodGet, "/static/", nil, nil)
	add("static: NUL", http.MethodGet, "/static/form.js%00.png", nil, nil)
	add("static: template", http.MethodGet, "/static/form.html", nil, nil)
	add("thanks: forged link", http.MethodGet, "/thanks?t="+url.QueryEscape(forged), nil, nil)
	add("thanks: expired link", http.MethodGet, "/thanks?t="+url.QueryEscape(expiredUpload), nil, nil)
	add("thanks: withdraw token as link", http.MethodGet, "/thanks?t="+url.QueryEscape(withdrawTok), nil, nil)
	add("candidates: unknown borough", http.MethodGet, "/candidates?borough=atlantis", nil, nil)
	add("candidates: invalid UTF-8", http.MethodGet, "/candidates?borough=%ff", nil, nil)
	add("candidates: path in the borough", http.MethodGet, "/candidates?borough=../../etc", nil, nil)
	add("form: POST to the page", http.MethodPost, "/", formH, form(nil))
	add("unknown page", http.MethodGet, "/admin", nil, nil)
	add("unknown page with a dot-dot", http.MethodGet, "/thanks/../../etc/passwd", nil, nil)
	add("oversized header", http.MethodGet, "/", map[string]string{"X-Filler": strings.Repeat("a", 64<<10)}, nil)

	hc := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var n4xx, n5xx, silent int
	codes := map[int]int{}
	for _, c := range cases {
		if c.lazy != nil {
			c.body = c.lazy()
		}
		req, err := http.NewRequest(c.method, st.URL+"/", bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		// Sent as written: no cleaning or re-escaping of the path.
		req.URL.Opaque = ""
		path, query, _ := strings.Cut(c.path, "?")
		req.URL.RawPath, req.URL.RawQuery = path, query
		if p, err := url.PathUnescape(path); err == nil {
			req.URL.Path = p
		} else {
			req.URL.Path = path
		}
		for k, val := range c.header {
			req.Header.Set(k, val)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("%s: %s %s: no answer: %v", c.name, c.method, c.path, err)
			n5xx++
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		codes[resp.StatusCode]++
		switch code := resp.StatusCode; {
		case code >= 500:
			n5xx++
			t.Errorf("%s: %s %s = %d: %.300s", c.name, c.method, c.path, code, body)
		case code < 400:
			silent++
			t.Errorf("%s: %s %s = %d: a success for a bad request: %.300s", c.name, c.method, c.path, code, body)
		default:
			n4xx++
			if len(body) == 0 && c.method != http.MethodHead {
				t.Errorf("%s: %s %s = %d with no explanation", c.name, c.method, c.path, code)
			}
		}
	}

	// Nothing any case sent was kept: the forms' stories, the withdrawn or
	// erased story, the upload in progress.
	for _, fid := range []string{id, spare["id"]} {
		if _, err := stories().GetStory(ctx, fid); err != store.ErrNotFound {
			t.Errorf("story %s of a hostile request was kept (%v)", fid, err)
		}
	}
	if _, err := stories().GetStory(ctx, v.id); err != nil {
		t.Errorf("the accepted story is gone: %v", err)
	}
	if parts := v.listParts(t, up); len(parts) != 0 {
		t.Errorf("the upload in progress has parts: %v", parts)
	}
	t.Logf("hostile-input battery: %d cases, %d 4xx, %d 5xx, %d silent 2xx/3xx (by status: %v)", len(cases), n4xx, n5xx, silent, codes)
	if n4xx != len(cases) {
		t.Errorf("%d of %d cases did not get a 4xx", len(cases)-n4xx, len(cases))
	}
}
