// Command coldstart measures each function's cold start the way Lambda
// runs it: `go run ./infra/bench/coldstart` (-n runs of each binary,
// default 15).
//
// Every function of template.yaml is built as SAM builds it (the Makefile's
// flags, for this machine's architecture) and executed as a new process
// under a fake Lambda Runtime API, with its template environment pointed at
// a local stack, so its first event is served for real. Beside each
// function run, interleaved, the bench runs two baselines built the same
// way: hello (aws-lambda-go answering "ok") and the SDK floor (hello plus
// lambdafn.EnvConfig and the same SDK clients the function links, made at
// init). It prints the medians of
//
//   - init: process start to the runtime's first request for an event;
//   - init CPU: the CPU time the process used by then (Linux; it moves far
//     less than init with the machine's load);
//   - first response: process start to the answer to that first event;
//
// and each function's ratios to hello and to its SDK floor. Ratios taken in
// one run are what to compare: the machine's load moves every figure.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"frontlinevoices/infra/local/stack"
)

func main() {
	n := flag.Int("n", 15, "runs of each binary")
	only := flag.String("functions", "", "comma-separated logical ids of the functions to measure (default: all)")
	flag.Parse()
	if err := run(*n, strings.FieldsFunc(*only, func(r rune) bool { return r == ',' })); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// A binary is one program to start: a function, or a baseline.
type binary struct {
	name, path string
	env        []string
	event      []byte
	init       []time.Duration
	initCPU    []time.Duration // CPU time the process used by then, on Linux
	first      []time.Duration
	size       int64
}

func run(n int, only []string) error {
	ctx := context.Background()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := stack.Start(ctx, stack.Options{Addr: "127.0.0.1:0", Template: filepath.Join(root, "template.yaml"), Log: quiet})
	if err != nil {
		return err
	}
	defer st.Close(ctx)

	fmt.Fprintln(os.Stderr, "coldstart: building the functions and the baselines")
	hello := &binary{name: "hello", event: []byte(`{}`)}
	if hello.path, err = build(root, dir, "hello", "./infra/bench/coldstart/hello"); err != nil {
		return err
	}
	floors := map[string]*binary{} // by the SDK clients they make
	type trio struct{ fn, floor *binary }
	var trios []trio
	for _, f := range st.Template.Functions() {
		if len(only) > 0 && !slices.Contains(only, f.Name) {
			continue
		}
		pkg := "./functions/" + strings.ToLower(strings.TrimSuffix(f.Name, "Function"))
		fn := &binary{name: f.Name, env: st.Environment(f.Name)}
		if fn.path, err = build(root, dir, f.Name, pkg); err != nil {
			return err
		}
		if fn.event, err = firstEvent(root, f); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		tags, err := clientsOf(root, pkg)
		if err != nil {
			return err
		}
		floor, ok := floors[tags]
		if !ok {
			floor = &binary{name: "floor(" + tags + ")", event: []byte(`{}`), env: fn.env}
			if floor.path, err = build(root, dir, "floor-"+strings.ReplaceAll(tags, ",", "-"), "./infra/bench/coldstart/floor", "-tags=lambda.norpc,"+tags); err != nil {
				return err
			}
			floors[tags] = floor
		}
		trios = append(trios, trio{fn, floor})
	}

	fmt.Fprintf(os.Stderr, "coldstart: %d runs of %d functions, each beside hello and its SDK floor\n", n, len(trios))
	for i := range n {
		for j := range trios {
			t := trios[(i+j)%len(trios)] // a different function first each round
			for _, b := range []*binary{hello, t.floor, t.fn} {
				if err := b.measure(ctx); err != nil {
					return fmt.Errorf("%s: %w", b.name, err)
				}
			}
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "function\tMB\tinit ms\t÷ hello\t÷ floor\tinit CPU ms\t÷ hello\t÷ floor\tfirst response ms\t÷ hello\t÷ floor\t")
	ms := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(d)/1e6)
	}
	ratio := func(a, b time.Duration) string {
		if a == 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	hi, hc, hf := median(hello.init), median(hello.initCPU), median(hello.first)
	fmt.Fprintf(w, "hello\t%.1f\t%s\t\t\t%s\t\t\t%s\t\t\t\n", float64(hello.size)/1e6, ms(hi), ms(hc), ms(hf))
	for _, tags := range slices.Sorted(maps.Keys(floors)) { // in a stable order
		fl := floors[tags]
		fmt.Fprintf(w, "%s\t%.1f\t%s\t%s\t\t%s\t%s\t\t%s\t%s\t\t\n", fl.name, float64(fl.size)/1e6,
			ms(median(fl.init)), ratio(median(fl.init), hi), ms(median(fl.initCPU)), ratio(median(fl.initCPU), hc), ms(median(fl.first)), ratio(median(fl.first), hf))
	}
	for _, t := range trios {
		fi, fc, ff := median(t.fn.init), median(t.fn.initCPU), median(t.fn.first)
		fmt.Fprintf(w, "%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t.fn.name, float64(t.fn.size)/1e6,
			ms(fi), ratio(fi, hi), ratio(fi, median(t.floor.init)), ms(fc), ratio(fc, hc), ratio(fc, median(t.floor.initCPU)),
			ms(ff), ratio(ff, hf), ratio(ff, median(t.floor.first)))
	}
	return w.Flush()
}

// build builds pkg as the Makefile does (for this machine) into dir/name.
func build(root, dir, name, pkg string, tags ...string) (string, error) {
	if len(tags) == 0 {
		tags = []string{"-tags=lambda.norpc"}
	}
	out := filepath.Join(dir, name)
	args := append([]string{"build"}, tags...)
	args = append(args, "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// clientsOf names, as floor build tags, the SDK clients pkg links.
func clientsOf(root, pkg string) (string, error) {
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	var tags []string
	for _, c := range []string{"dynamodb", "s3", "secretsmanager", "sesv2"} {
		if slices.Contains(strings.Fields(string(b)), "github.com/aws/aws-sdk-go-v2/service/"+c) {
			tags = append(tags, c)
		}
	}
	if len(tags) == 0 {
		return "none", nil
	}
	return strings.Join(tags, ","), nil
}

// firstEvent is the event the function gets first: a request on its first
// route, or the sample event of its first event source's kind.
func firstEvent(root string, f stack.Function) ([]byte, error) {
	names := make([]string, 0, len(f.Events))
	for name := range f.Events {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return []byte(`{}`), nil
	}
	ev := f.Events[names[0]]
	sample := map[string]string{
		"DynamoDB":   "notify-insert.json",
		"S3":         "s3-object-created.json",
		"ScheduleV2": "digest-schedule.json",
		"Schedule":   "digest-schedule.json",
		"HttpApi":    "form-get.json",
		"Api":        "form-get.json",
	}[ev.Type]
	if sample == "" {
		return []byte(`{"Records":[]}`), nil
	}
	b, err := os.ReadFile(filepath.Join(root, "events", sample))
	if err != nil || !strings.HasSuffix(ev.Type, "Api") {
		return b, err
	}
	// The function's own route, on the sample request.
	var req map[string]any
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	method, _ := ev.Properties["Method"].(string)
	path, _ := ev.Properties["Path"].(string)
	method = strings.ToUpper(method)
	if method == "" || method == "ANY" {
		method = "GET"
	}
	path = strings.NewReplacer("{", "", "}", "", "+", "").Replace(path)
	req["routeKey"] = method + " " + path
	req["rawPath"] = path
	rc := req["requestContext"].(map[string]any)
	rc["routeKey"] = req["routeKey"]
	h := rc["http"].(map[string]any)
	h["method"], h["path"] = method, path
	return json.Marshal(req)
}

// measure starts b once under a fake Runtime API and records its init and
// first-response times.
func (b *binary) measure(ctx context.Context) error {
	if b.size == 0 {
		fi, err := os.Stat(b.path)
		if err != nil {
			return err
		}
		b.size = fi.Size()
	}
	ready := make(chan time.Time, 1)
	answered := make(chan error, 1)
	var at atomic.Int64 // when the first answer came
	var served atomic.Bool
	var pid atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			if served.Swap(true) {
				<-r.Context().Done() // the process is stopped while it waits
				return
			}
			now := time.Now()
			if cpu, ok := cpuTime(int(pid.Load())); ok {
				b.initCPU = append(b.initCPU, cpu)
			}
			ready <- now
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "coldstart")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+stack.Region+":000000000000:function:"+b.name)
			w.Write(b.event)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/response"):
			at.Store(time.Now().UnixNano())
			w.WriteHeader(http.StatusAccepted)
			answered <- nil
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/error"):
			at.Store(time.Now().UnixNano())
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			answered <- fmt.Errorf("%s: %s", r.URL.Path, body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()

	cmd := exec.CommandContext(ctx, b.path)
	cmd.Env = append(slices.Clone(b.env),
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME="+b.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "_HANDLER=bootstrap", "TZ=:UTC")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid.Store(int64(cmd.Process.Pid))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() { cmd.Process.Kill(); <-exited }
	timeout := time.After(30 * time.Second)
	select {
	case t := <-ready:
		b.init = append(b.init, t.Sub(start))
	case err := <-exited:
		return fmt.Errorf("exited before asking for an event: %v\n%s", err, stderr.String())
	case <-timeout:
		stop()
		return errors.New("no request for an event within 30 s")
	}
	select {
	case err := <-answered:
		stop()
		if err != nil {
			return fmt.Errorf("first event failed: %v\n%s", err, stderr.String())
		}
		b.first = append(b.first, time.Unix(0, at.Load()).Sub(start))
		return nil
	case err := <-exited:
		return fmt.Errorf("exited before answering: %v\n%s", err, stderr.String())
	case <-timeout:
		stop()
		return errors.New("no answer within 30 s")
	}
}

// cpuTime is the CPU time process pid has used so far, the sum of its
// threads' time on a CPU (/proc/<pid>/task/*/schedstat, in nanoseconds).
// Unlike the time since it started, it barely moves with the machine's
// load, so its ratios can be compared on a busy machine.
func cpuTime(pid int) (time.Duration, bool) {
	if pid == 0 {
		return 0, false
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(ns)
	}
	return sum, true
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// repoRoot is the module's folder.
func repoRoot() (string, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
