// Package independent runs the implementations of DynamoDB and S3 that
// nobody here wrote — dynalite (npm) and versitygw (Go modules, posix
// backend) — for the conformance lane, which checks the local stack and
// the packages' own tests against them. Where one differs from AWS in a
// way the project's code depends on, it is wrapped here (never the
// production code bent around it): DynaliteFront adds TransactWriteItems.
package independent

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// The environment variables that point the packages' tests (through
// shared/internal/testenv) at a running dynalite, or at a versitygw with
// its root keys (http://key:secret@host:port).
const (
	EnvDynalite  = "TESTENV_DYNALITE"
	EnvVersityGW = "TESTENV_VERSITYGW"
)

// Versions the lane is pinned to (.ci/run installs these).
const (
	DynaliteVersion  = "4.0.0"
	VersityGWVersion = "v1.8.0"
)

// The root account versitygw is started with.
const (
	VersityGWKey    = "conformance"
	VersityGWSecret = "conformance-secret-key"
)

// Server is a running independent implementation.
type Server struct {
	Name        string
	URL         string // http://127.0.0.1:port
	Key, Secret string // the credentials it accepts (dynalite accepts any)
	cmd         *exec.Cmd
	dir         string
	bin, region string
	exited      chan struct{}
	once        sync.Once
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if s.dir != "" {
			_ = os.RemoveAll(s.dir)
		}
	})
}

// Find is the path of an implementation's command: $env when set, else
// name on PATH, else "" (not installed).
func Find(env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, _ := exec.LookPath(name)
	return p
}

// DynaliteCommand and VersityGWCommand find the installed commands
// ($DYNALITE, $VERSITYGW, or PATH; versitygw also in $GOPATH/bin).
func DynaliteCommand() string { return Find("DYNALITE", "dynalite") }

func VersityGWCommand() string {
	if p := Find("VERSITYGW", "versitygw"); p != "" {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Missing says how to install what is not installed ("" when both are).
func Missing(dynalite, versitygw bool) string {
	switch {
	case dynalite && DynaliteCommand() == "":
		return "dynalite is not installed (npm install -g dynalite@" + DynaliteVersion + ", or set DYNALITE)"
	case versitygw && VersityGWCommand() == "":
		return "versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@" + VersityGWVersion + ", or set VERSITYGW)"
	}
	return ""
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs a server and waits until it answers HTTP on addr.
func start(s *Server, addr, bin string, args ...string) error {
	var stderr bytes.Buffer
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = &limited{b: &stderr, n: 8 << 10}
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	var waitErr error
	go func() { waitErr = s.cmd.Wait(); close(s.exited) }()
	s.URL = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited: %v: %s", filepath.Base(bin), waitErr, stderr.String())
		default:
		}
		if resp, err := http.Get(s.URL + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Close()
	return fmt.Errorf("%s did not answer on %s within a minute", filepath.Base(bin), addr)
}

// limited keeps the first n bytes written to it.
type limited struct {
	mu sync.Mutex
	b  *bytes.Buffer
	n  int
}

func (l *limited) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// StartDynalite starts dynalite (in memory) on a loopback port. Tables are
// created and deleted at once (DynamoDB takes a moment; the tests wait for
// ACTIVE either way).
func StartDynalite(bin string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	s := &Server{Name: "dynalite", Key: "conformance", Secret: "conformance"}
	if err := start(s, addr, bin, "--host", host, "--port", port, "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"); err != nil {
		return nil, err
	}
	return s, nil
}

// StartVersityGW starts versitygw on a loopback port, its posix backend
// and metadata sidecar in a temporary directory of its own, with one root
// account (VersityGWKey, VersityGWSecret) in region.
func StartVersityGW(bin, region string) (*Server, error) {
	return startVersityGW(bin, region, false)
}

// StartVersityGWWithIAM is StartVersityGW with versitygw's internal IAM
// service (accounts kept in its directory), so CreateUser can add users
// whose rights on a bucket come from its bucket policy.
func StartVersityGWWithIAM(bin, region string) (*Server, error) {
	return startVersityGW(bin, region, true)
}

func startVersityGW(bin, region string, iam bool) (*Server, error) {
	dir, err := os.MkdirTemp("", "versitygw-*")
	if err != nil {
		return nil, err
	}
	root, side, iamDir := filepath.Join(dir, "root"), filepath.Join(dir, "meta"), filepath.Join(dir, "iam")
	for _, d := range []string{root, side, iamDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: "versitygw", Key: VersityGWKey, Secret: VersityGWSecret, dir: dir, bin: bin, region: region}
	args := []string{"--access", VersityGWKey, "--secret", VersityGWSecret, "--region", region, "--port", addr, "--quiet"}
	if iam {
		args = append(args, "--iam-dir", iamDir)
	}
	if err := start(s, addr, bin, append(args, "posix", "--sidecar", side, root)...); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// CreateUser adds a versitygw user account (role "user": it may act only
// where a bucket policy lets it) through versitygw's admin API.
func (s *Server) CreateUser(access, secret string) error {
	out, err := exec.Command(s.bin, "admin", "--access", s.Key, "--secret", s.Secret, "--region", s.region, "--endpoint-url", s.URL,
		"create-user", "--access", access, "--secret", secret, "--role", "user").CombinedOutput()
	if err != nil {
		return fmt.Errorf("versitygw admin create-user: %v: %s", err, out)
	}
	return nil
}

// HostProxy passes every request to upstream unchanged, Host header
// included, so an S3 request signed (or presigned) for the proxy's address
// still verifies upstream. Tests put it between the SDK and versitygw to
// inject faults or stand in for a caller's missing rights.
func HostProxy(upstream string) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}, nil
}
