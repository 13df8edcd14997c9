// Package stack runs the whole of Frontline Voices in one process, on
// in-process emulators: minidyn for DynamoDB (with streams added), gofakes3
// for S3 and a local SES v2 that keeps an outbox. Routes, functions,
// tables, buckets and event wiring all come from template.yaml, and each
// function is built by the same constructor its main.go calls on Lambda.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"

	"frontlinevoices/shared/lambdafn"
)

// Region is the region the local stack pretends to be in.
const Region = "eu-west-2"

// Options configure a local stack.
type Options struct {
	// Addr is the site's listen address; port 0 picks a free port.
	Addr string
	// DataDir keeps the table, the bucket and the outbox between runs.
	// Empty means keep everything in memory and a temporary folder.
	DataDir string
	// Template is the path of template.yaml; empty finds it above the
	// working directory.
	Template string
	// Params override the template's parameters.
	Params map[string]string
	// Log receives the stack's and the functions' log lines.
	Log *slog.Logger
	// OnInvoke, when set, sees every function invocation's payload (tests
	// use it to show that no video passes through a function).
	OnInvoke func(function string, payload []byte)
	// TTLLag is how long after its TTL time an expired item is deleted.
	// DynamoDB deletes within a few days, not at once, so readers must
	// skip expired items themselves; zero means DefaultTTLLag. Tests move
	// Stack.Clock past it and call Sweep.
	TTLLag time.Duration
	// RetryWait is the longest wait between retries of a failed stream
	// batch, S3 event or SNS event (they wait 50 ms, then twice as long
	// each time, up to this); zero means DefaultRetryWait. Tests that let
	// retries run out (MaximumRetryAttempts) shorten it.
	RetryWait time.Duration
}

// DefaultTTLLag is the local table's TTL lag unless Options say otherwise.
const DefaultTTLLag = 48 * time.Hour

// DefaultRetryWait is the longest wait between retries of a failed event
// unless Options say otherwise.
const DefaultRetryWait = time.Second

// retryWait is the longest wait between retries of a failed event.
func (s *Stack) retryWait() time.Duration {
	if s.opts.RetryWait > 0 {
		return s.opts.RetryWait
	}
	return DefaultRetryWait
}

// Endpoints tells commands (infra/privacy) where a running local stack's
// emulators and resources are: GET /_local/endpoints.
type Endpoints struct {
	DynamoDB string            `json:"dynamodb"`
	S3       string            `json:"s3"`
	SES      string            `json:"ses"`
	Secrets  string            `json:"secretsmanager"`
	Region   string            `json:"region"`
	Tables   map[string]string `json:"tables"`
	Buckets  map[string]string `json:"buckets"`
	// SecretARNs maps each secret's logical id to its ARN.
	SecretARNs map[string]string `json:"secrets"`
}

// Pseudo are the local values of CloudFormation's pseudo parameters. The
// stack id is fixed, so names made from it (the clips bucket) stay the same
// between runs.
var Pseudo = map[string]string{
	"AWS::Region": Region, "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
	"AWS::URLSuffix": "localhost", "AWS::StackName": "frontline-voices-local",
	"AWS::StackId": "arn:aws:cloudformation:" + Region + ":000000000000:stack/frontline-voices-local/10ca1000-0000-4000-8000-000000000000",
}

// localParams are the parameters without a default, given local values.
var localParams = map[string]string{
	"CommsAddresses": "comms-team@frontline-voices.localhost",
	"SenderAddress":  "stories@frontline-voices.localhost",
	"AlarmEmail":     "alarms@frontline-voices.localhost",
}

// Stack is a running local system.
type Stack struct {
	URL      string // the site, e.g. http://127.0.0.1:8080
	S3URL    string
	AWS      aws.Config
	Outbox   *Outbox
	Faults   *Faults
	Template *Template
	Tables   map[string]string // logical id → table name
	Buckets  map[string]string // logical id → bucket name
	// IAM holds each function's policies from the template; the
	// emulators refuse what they do not allow.
	IAM *IAM
	// Clock is the emulators' clock (object times, lifecycle, TTL): tests
	// move it forward, then call Sweep.
	Clock *Clock
	// Secrets is the local Secrets Manager; SecretARNs maps each secret's
	// logical id to its ARN.
	Secrets    *Secrets
	SecretARNs map[string]string

	opts      Options
	log       *slog.Logger
	dynamo    *dynamo
	servers   []*http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	pending   atomic.Int64
	inflight  atomic.Int64
	streams   map[string][]*streamMapping // table name → mappings
	s3events  []s3Mapping
	sesDests  []sesDestination
	snsSubs   []snsSubscription
	actions   []localAction
	local     *http.ServeMux
	tmpDir    string
	res       Resolver
	s3        *localS3
	functions map[string]*function
	envs      map[string]map[string]string // each function's environment, as Lambda would set it
	// awsEnv is the stack's AWS environment: the emulators' endpoints
	// (AWS_ENDPOINT_URL_<SERVICE>), the region and the admin credentials.
	awsEnv map[string]string
}

// Start starts a stack. Close it when done.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.Template == "" {
		p, err := findTemplate()
		if err != nil {
			return nil, err
		}
		opts.Template = p
	}
	// The functions log through slog's default logger, as on Lambda; each
	// invocation's records go to its own stack's Log (see routeLogs).
	routeLogs(opts.Log)
	tmpl, err := LoadTemplate(opts.Template)
	if err != nil {
		return nil, err
	}
	s := &Stack{
		opts: opts, log: opts.Log, Template: tmpl, Faults: &Faults{},
		Tables: map[string]string{}, Buckets: map[string]string{}, SecretARNs: map[string]string{},
		streams: map[string][]*streamMapping{}, local: http.NewServeMux(),
		IAM: NewIAM(opts.Log), Clock: &Clock{}, functions: map[string]*function{}, envs: map[string]map[string]string{},
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.start(ctx, runCtx); err != nil {
		s.Close(context.Background())
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx, runCtx context.Context) error {
	dataDir := s.opts.DataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "frontline-voices-*")
		if err != nil {
			return err
		}
		dataDir = tmp
		s.tmpDir = tmp
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}

	if err := s.resolve(dataDir); err != nil {
		return err
	}

	// Emulators, each on its own loopback port.
	s.dynamo = newDynamo(Region, s.Faults)
	s.dynamo.iam, s.dynamo.clock, s.dynamo.ttlLag = s.IAM, s.Clock, s.opts.TTLLag
	if s.dynamo.ttlLag == 0 {
		s.dynamo.ttlLag = DefaultTTLLag
	}
	s.dynamo.onRecord = s.onStreamRecord
	ddbURL, err := s.listen(runCtx, "127.0.0.1:0", s.dynamo)
	if err != nil {
		return err
	}
	backend := NewMemoryBackend(s.Clock)
	if s.opts.DataDir != "" {
		fs, err := s3afero.FsPath(filepath.Join(dataDir, "s3"), s3afero.FsPathCreateAll)
		if err != nil {
			return err
		}
		if backend, err = s3afero.MultiBucket(fs); err != nil {
			return err
		}
	}
	s.s3 = newLocalS3(&s3Backend{Backend: backend, onCreated: s.onObjectCreated}, s.Faults, s.IAM, s.Clock)
	if s.S3URL, err = s.listen(runCtx, "127.0.0.1:0", s.s3); err != nil {
		return err
	}
	smURL, err := s.listen(runCtx, "127.0.0.1:0", s.Secrets)
	if err != nil {
		return err
	}
	if s.Outbox, err = NewOutbox(filepath.Join(dataDir, "outbox"), s.Faults); err != nil {
		return err
	}
	s.Outbox.iam = s.IAM
	sesURL, err := s.listen(runCtx, "127.0.0.1:0", s.Outbox)
	if err != nil {
		return err
	}

	// The SDK finds the emulators through its own endpoint settings
	// (AWS_ENDPOINT_URL_<SERVICE>), as a function would find AWS, but read
	// from this stack's own environment, not the process's: the clients
	// made from s.AWS (and every function's, copied from it, at each cold
	// start) go to this stack's emulators, so stacks in one process (tests
	// side by side) do not redirect each other's clients. The config is
	// the one Lambda gives a function (lambdafn.EnvConfig), with the
	// stack's admin credentials.
	s.awsEnv = map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": ddbURL,
		"AWS_ENDPOINT_URL_S3":       s.S3URL,
		"AWS_ENDPOINT_URL_SESV2":    sesURL,
		// The SDK's environment name for Secrets Manager's endpoint.
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": smURL,
		"AWS_REGION":                       Region,
		"AWS_ACCESS_KEY_ID":                AdminKey,
		"AWS_SECRET_ACCESS_KEY":            localSecretKey,
	}
	if s.AWS, err = lambdafn.EnvConfig(func(k string) string { return s.awsEnv[k] }); err != nil {
		return err
	}

	// The site listener first, so functions can be told its URL.
	addr := s.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	siteListener, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.URL = "http://" + displayAddr(siteListener.Addr().String())

	// The bucket's CORS rule allows the site's own origin unless SiteOrigin
	// says otherwise: on AWS the API's address, here the local site's.
	if _, ok := s.opts.Params["SiteOrigin"]; !ok {
		s.res.Params["SiteOrigin"] = s.URL
	}
	if err := s.createResources(ctx, dataDir); err != nil {
		siteListener.Close()
		return err
	}
	router, err := s.buildFunctions(runCtx)
	if err == nil {
		err = s.wireSESEvents()
	}
	if err != nil {
		siteListener.Close()
		return err
	}
	s.local.HandleFunc("/_local/endpoints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Endpoints{DynamoDB: ddbURL, S3: s.S3URL, SES: sesURL, Secrets: smURL, Region: Region, Tables: s.Tables, Buckets: s.Buckets, SecretARNs: s.SecretARNs})
	})
	s.local.Handle("/_local/turnstile/siteverify", Siteverify())
	s.local.HandleFunc("/_local/outbox", s.outboxPage)
	s.local.HandleFunc("/_local/outbox/", s.outboxPage)
	// No ServeMux in front of the API: it would clean paths and redirect
	// (/api/../withdraw → 307), where API Gateway matches routes as sent.
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_local/") && !strings.Contains(r.URL.Path, "/.") {
			s.local.ServeHTTP(w, r)
			return
		}
		router.ServeHTTP(w, r)
	})
	s.servers = append(s.servers, serve(runCtx, siteListener, site))

	// Background work: save the table now and then, expire TTL'd items.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				s.Sweep()
				if s.opts.DataDir != "" {
					if err := s.dynamo.save(filepath.Join(dataDir, "dynamodb")); err != nil {
						s.log.Error("saving tables", "error", err.Error())
					}
				}
			}
		}
	}()
	return nil
}

func (s *Stack) outboxPage(w http.ResponseWriter, r *http.Request) {
	s.Outbox.page(w, r, s.actions)
}

// HandleLocal adds a local-only endpoint under /_local/ (e.g. run the
// digest now), and a button for it on the outbox page when label is set.
func (s *Stack) HandleLocal(path, label string, h http.HandlerFunc) {
	s.local.HandleFunc(path, h)
	if label != "" {
		s.actions = append(s.actions, localAction{ID: strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"), Label: label, Path: path})
	}
}

func (s *Stack) listen(ctx context.Context, addr string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.servers = append(s.servers, serve(ctx, l, h))
	return "http://" + l.Addr().String(), nil
}

func displayAddr(a string) string {
	host, port, _ := net.SplitHostPort(a)
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// createResources creates the template's tables and buckets in the
// emulators, and loads saved table contents.
func (s *Stack) createResources(ctx context.Context, dataDir string) error {
	db := dynamodb.NewFromConfig(s.AWS)
	s3c := s3.NewFromConfig(s.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	for name, r := range s.Template.Resources {
		switch r.Type {
		case "AWS::DynamoDB::Table":
			in, ttl, err := createTableInput(name, r.Properties)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := db.CreateTable(ctx, in); err != nil {
				return fmt.Errorf("create table %s: %w", name, err)
			}
			if ttl != "" {
				if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
					TableName:               in.TableName,
					TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(ttl), Enabled: aws.Bool(true)},
				}); err != nil {
					return err
				}
			}
			s.Tables[name] = name
		case "AWS::S3::Bucket":
			bucket := s.res.Resources[name]
			if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				var owned interface{ ErrorCode() string }
				if !errors.As(err, &owned) || (owned.ErrorCode() != "BucketAlreadyOwnedByYou" && owned.ErrorCode() != "BucketAlreadyExists") {
					return fmt.Errorf("create bucket %s: %w", bucket, err)
				}
			}
			if err := s.s3.configure(s.Template, s.res, bucket, r.Properties); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if s.opts.DataDir != "" {
		return s.dynamo.load(filepath.Join(dataDir, "dynamodb"))
	}
	return nil
}

// CreateTableInput is the CreateTable request for the template's table
// logicalID, named logicalID: tests use it to make the real table layout.
func (t *Template) CreateTableInput(logicalID string) (*dynamodb.CreateTableInput, error) {
	r, ok := t.Resources[logicalID]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("no table %s in the template", logicalID)
	}
	in, _, err := createTableInput(logicalID, r.Properties)
	return in, err
}

func createTableInput(name string, p map[string]any) (*dynamodb.CreateTableInput, string, error) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for _, a := range asSlice(p["AttributeDefinitions"]) {
		m := asMap(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(asString(m["AttributeName"])), AttributeType: types.ScalarAttributeType(asString(m["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	for _, g := range asSlice(p["GlobalSecondaryIndexes"]) {
		m := asMap(g)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(asString(m["IndexName"])),
			KeySchema:  keySchema(m["KeySchema"]),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(asString(asMap(m["Projection"])["ProjectionType"]))},
		})
	}
	if view := asString(asMap(p["StreamSpecification"])["StreamViewType"]); view != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(view)}
	}
	if len(in.KeySchema) == 0 {
		return nil, "", errors.New("no KeySchema")
	}
	ttl := ""
	if spec := asMap(p["TimeToLiveSpecification"]); spec["Enabled"] == true {
		ttl = asString(spec["AttributeName"])
	}
	return in, ttl, nil
}

func keySchema(v any) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range asSlice(v) {
		m := asMap(k)
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(asString(m["AttributeName"])), KeyType: types.KeyType(asString(m["KeyType"]))})
	}
	return out
}

// resolve works out the template's local values: parameters, resource
// names (a bucket keeps its BucketName, so policies naming it match), and
// each function's policies, which IAM will enforce.
func (s *Stack) resolve(dataDir string) error {
	params := map[string]string{}
	for _, m := range []map[string]string{localParams, s.opts.Params} {
		for k, v := range m {
			params[k] = v
		}
	}
	s.res = Resolver{Params: params, Resources: map[string]string{}, Pseudo: Pseudo}
	for name := range s.Template.Resources {
		s.res.Resources[name] = name
	}
	var err error
	for name, r := range s.Template.Resources {
		if r.Type != "AWS::S3::Bucket" {
			continue
		}
		bucket := strings.ToLower(name)
		if bn, ok := r.Properties["BucketName"]; ok {
			if bucket, err = s.res.Resolve(s.Template, bn); err != nil {
				return fmt.Errorf("%s BucketName: %w", name, err)
			}
		}
		s.res.Resources[name] = bucket
		s.Buckets[name] = bucket
	}
	// Secrets are made (as CloudFormation makes them) before the functions'
	// policies are resolved: a Ref of a secret is its ARN.
	secretsFile := ""
	if s.opts.DataDir != "" {
		secretsFile = filepath.Join(dataDir, "secrets.json")
	}
	if s.Secrets, err = NewSecrets(secretsFile, s.Faults, s.IAM); err != nil {
		return err
	}
	for name, r := range s.Template.Resources {
		if r.Type != "AWS::SecretsManager::Secret" {
			continue
		}
		props := r.Properties
		if v, ok := props["SecretString"]; ok {
			value, err := s.res.Resolve(s.Template, v)
			if err != nil {
				return fmt.Errorf("%s: SecretString: %w", name, err)
			}
			props = maps.Clone(props)
			props["SecretString"] = value
		}
		arn, err := s.Secrets.ensure(name, props)
		if err != nil {
			return err
		}
		s.SecretARNs[name] = arn
		s.res.Resources[name] = arn
	}
	for _, f := range s.Template.Functions() {
		stmts, err := functionPolicies(s.Template, s.res, f.Name, f.Properties)
		if err != nil {
			return err
		}
		s.IAM.addFunction(f.Name, stmts)
	}
	return nil
}

// Instances returns, for each of the template's functions, how many
// execution environments each has started.
func (s *Stack) Instances() map[string]int {
	out := map[string]int{}
	for name, fn := range s.functions {
		out[name] = fn.instances()
	}
	return out
}

// Recycle retires every function's idle execution environments, as Lambda
// does after a while: the next request to each is a cold start, with its
// caches (the signing keys') empty. An instance busy at the time
// goes back to the pool when its request is done.
func (s *Stack) Recycle() {
	for _, fn := range s.functions {
		fn.recycle()
	}
}

// Denials returns the calls IAM has refused so far.
func (s *Stack) Denials() []Denial { return s.IAM.Denials() }

// Environment is what a function's process would find in its environment
// on Lambda, pointed at this stack: the template's variables, the
// function's own credentials, the region and the emulators' endpoints
// ("KEY=value" pairs, for exec.Cmd.Env). Commands that run a function's
// built binary against the stack use it (infra/bench/coldstart).
func (s *Stack) Environment(function string) []string {
	env := map[string]string{
		"AWS_REGION":            Region,
		"AWS_ACCESS_KEY_ID":     function,
		"AWS_SECRET_ACCESS_KEY": s.IAM.secretOf(function),
	}
	for k, v := range s.awsEnv {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
			env[k] = v
		}
	}
	for k, v := range s.envs[function] {
		env[k] = v
	}
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Sweep runs, at the stack's clock, what AWS does in the background: TTL
// deletion of expired items (after the TTL lag) and the buckets'
// lifecycle rules.
func (s *Stack) Sweep() {
	now := s.Clock.Now()
	s.dynamo.expire(now)
	s.s3.applyLifecycle(now)
}

// buildFunctions builds every function of the template with its resolved
// environment and wires its events: HTTP routes, streams and S3.
func (s *Stack) buildFunctions(ctx context.Context) (*api, error) {
	res := s.res
	// Values that only exist locally: where the site and the bucket are.
	// Turnstile's siteverify is the local fake (Cloudflare's test keys).
	overrides := map[string]string{"SITE_URL": s.URL, "S3_PATH_STYLE": "true", "CONNECT_SRC": s.S3URL,
		"TURNSTILE_VERIFY_URL": s.URL + "/_local/turnstile/siteverify"}

	router := &api{log: s.log}
	for _, f := range s.Template.Functions() {
		ctor, ok := Functions[f.Name]
		if !ok {
			return nil, fmt.Errorf("template function %s has no constructor in the local stack (stack.Functions)", f.Name)
		}
		env := map[string]string{}
		for k, v := range f.Environment {
			if o, ok := overrides[k]; ok {
				env[k] = o
				continue
			}
			val, err := res.Resolve(s.Template, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f.Name, k, err)
			}
			env[k] = val
		}
		// Each function signs its calls with credentials of its own, so the
		// emulators can hold it to its policies in the template.
		cfg := s.AWS.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(f.Name, s.IAM.secretOf(f.Name), "")
		s.envs[f.Name] = env
		build := func() (any, error) { return ctor(func(k string) string { return env[k] }, cfg) }
		// Fail at start, not at the first request, when a function's
		// configuration is wrong; the pool still starts empty.
		if _, err := build(); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		timeout := 3 * time.Second // Lambda's default
		if t, ok := f.Properties["Timeout"].(int); ok {
			timeout = time.Duration(t) * time.Second
		}
		memory := 128 // Lambda's default
		if m, ok := f.Properties["MemorySize"].(int); ok {
			memory = m
		}
		fn := &function{name: f.Name, timeout: timeout, memoryMB: memory, build: build, log: s.log, onInvoke: s.opts.OnInvoke}
		s.functions[f.Name] = fn
		for _, ev := range f.Events {
			if err := s.wire(ctx, router, res, fn, ev); err != nil {
				return nil, fmt.Errorf("%s event %s: %w", f.Name, ev.Name, err)
			}
		}
	}
	return router, nil
}

func (s *Stack) wire(ctx context.Context, router *api, res Resolver, fn *function, ev Event) error {
	switch ev.Type {
	case "HttpApi":
		router.add(asString(ev.Properties["Method"]), asString(ev.Properties["Path"]), fn)
	case "DynamoDB":
		ga := asSlice(asMap(ev.Properties["Stream"])["Fn::GetAtt"])
		if len(ga) != 2 {
			return errors.New("the Stream property must be !GetAtt <Table>.StreamArn")
		}
		table := asString(ga[0])
		m, err := newStreamMapping(fn, ev, table, s.log, &s.pending, s.retryWait())
		if err != nil {
			return err
		}
		s.streams[table] = append(s.streams[table], m)
		s.wg.Add(1)
		go func() { defer s.wg.Done(); m.run(ctx) }()
	case "S3":
		return s.wireS3(res, fn, ev)
	case "ScheduleV2":
		return s.wireSchedule(ctx, fn, ev)
	case "SNS":
		topic := asString(asMap(ev.Properties["Topic"])["Ref"])
		if topic == "" {
			return errors.New("the Topic property must be !Ref <Topic>")
		}
		s.snsSubs = append(s.snsSubs, snsSubscription{topic: topic, fn: fn})
	default:
		return fmt.Errorf("event type %s is not supported by the local stack", ev.Type)
	}
	return nil
}

func (s *Stack) onStreamRecord(table string, rec events.DynamoDBEventRecord) {
	for _, m := range s.streams[table] {
		m.add(rec)
	}
}

// WaitIdle waits until every event raised so far has been delivered.
func (s *Stack) WaitIdle(ctx context.Context) error {
	for {
		if s.pending.Load() == 0 && s.inflight.Load() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local stack still busy (%d events pending): %w", s.pending.Load(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close stops the stack, saving the table first when it has a data folder.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	if s.dynamo != nil && s.opts.DataDir != "" {
		errs = append(errs, s.dynamo.save(filepath.Join(s.opts.DataDir, "dynamodb")))
	}
	if s.cancel != nil {
		s.cancel()
	}
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	s.wg.Wait()
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
	}
	return errors.Join(errs...)
}

func findTemplate() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template.yaml not found above the working directory")
		}
		dir = parent
	}
}
