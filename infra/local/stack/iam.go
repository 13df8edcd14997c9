package stack

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
)

// AdminKey is the access key id of the stack itself and of tests and
// commands that act as an administrator: every call is allowed. Every
// function signs its calls with an access key id that is its logical id
// in template.yaml, and is held to the policies the template gives it.
const AdminKey = "local"

// IAM holds each function's identity policies, expanded from template.yaml
// as SAM expands them, and decides whether a call is allowed as IAM does:
// an explicit Deny wins, then any Allow whose action, resource and
// conditions all match; everything else is denied. The local S3, DynamoDB
// and SES ask it about every request they serve.
//
// Resource-based policies (the bucket policy) are not evaluated: its one
// statement denies plain HTTP, and the local endpoints are plain HTTP.
type IAM struct {
	log        *slog.Logger
	principals map[string]*principal // access key id → principal

	mu      sync.Mutex
	denials []Denial
}

type principal struct {
	name       string
	secret     string
	admin      bool
	statements []Statement
}

// Statement is one statement of an identity policy, resolved to local
// values.
type Statement struct {
	Effect    string
	Action    []string
	Resource  []string
	Condition map[string]map[string][]string // operator → key → values
}

// Denial is a call IAM refused: the stack logs each one, and tests read
// them with Stack.Denials.
type Denial struct {
	Function string `json:"function"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
}

// authz is one action on one resource, with the condition keys the
// service puts in the request context (lower case).
type authz struct {
	action   string
	resource string
	context  map[string][]string
}

// NewIAM makes an IAM that knows only the administrator; Stack adds each
// function's policies.
func NewIAM(log *slog.Logger) *IAM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &IAM{log: log, principals: map[string]*principal{AdminKey: {name: "admin", secret: "local", admin: true}}}
}

// localSecretKey is every local principal's secret access key.
const localSecretKey = "local"

func (i *IAM) secretOf(accessKey string) string {
	if i == nil {
		return localSecretKey
	}
	if p, ok := i.principals[accessKey]; ok {
		return p.secret
	}
	return localSecretKey
}

func (i *IAM) addFunction(name string, statements []Statement) {
	i.principals[name] = &principal{name: name, secret: localSecretKey, statements: statements}
}

// Denials returns the calls refused so far, oldest first.
func (i *IAM) Denials() []Denial {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Denial(nil), i.denials...)
}

// errDenied is an authorisation failure, worded as AWS words it.
type errDenied struct {
	principal, action, resource string
	unknownKey                  bool
}

func (e *errDenied) Error() string {
	if e.unknownKey {
		return "The AWS Access Key Id you provided does not exist in our records."
	}
	return fmt.Sprintf("User: arn:aws:sts::000000000000:assumed-role/%sRole/%s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		e.principal, e.principal, e.action, e.resource, e.action)
}

// check authorises every step of one request for the caller with access
// key id key. A nil IAM allows everything (handler tests' emulators).
func (i *IAM) check(key string, steps ...authz) *errDenied {
	if i == nil {
		return nil
	}
	p, ok := i.principals[key]
	if !ok {
		return &errDenied{principal: key, unknownKey: true}
	}
	if p.admin {
		return nil
	}
	for _, s := range steps {
		if !allowed(p.statements, s) {
			i.mu.Lock()
			i.denials = append(i.denials, Denial{Function: p.name, Action: s.action, Resource: s.resource})
			i.mu.Unlock()
			i.log.Warn("AccessDenied: the function's policies in template.yaml do not allow this call",
				"function", p.name, "action", s.action, "resource", s.resource)
			return &errDenied{principal: p.name, action: s.action, resource: s.resource}
		}
	}
	return nil
}

// allows reports whether principal key may do the step, without
// recording a denial (S3 asks it whether a caller may list a bucket).
func (i *IAM) allows(key string, s authz) bool {
	if i == nil {
		return true
	}
	p, ok := i.principals[key]
	if !ok {
		return false
	}
	return p.admin || allowed(p.statements, s)
}

func allowed(statements []Statement, s authz) bool {
	allow := false
	for _, st := range statements {
		if !matchAny(st.Action, s.action, true) || !matchAny(st.Resource, s.resource, false) || !conditionsHold(st.Condition, s.context) {
			continue
		}
		if strings.EqualFold(st.Effect, "Deny") {
			return false
		}
		allow = true
	}
	return allow
}

func matchAny(patterns []string, v string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, v, fold) {
			return true
		}
	}
	return false
}

// wildcard matches IAM's * and ? patterns.
func wildcard(pattern, v string, fold bool) bool {
	if fold {
		pattern, v = strings.ToLower(pattern), strings.ToLower(v)
	}
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == v
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	ok, _ := regexp.MatchString(b.String(), v)
	return ok
}

// conditionsHold evaluates a statement's Condition block: every operator,
// and every key under it, must hold.
func conditionsHold(cond map[string]map[string][]string, ctx map[string][]string) bool {
	for op, keys := range cond {
		for key, want := range keys {
			if !conditionHolds(op, want, ctx[strings.ToLower(key)], ctx != nil && hasKey(ctx, key)) {
				return false
			}
		}
	}
	return true
}

func hasKey(ctx map[string][]string, key string) bool {
	_, ok := ctx[strings.ToLower(key)]
	return ok
}

func conditionHolds(op string, want, got []string, present bool) bool {
	set := ""
	if i := strings.Index(op, ":"); i >= 0 {
		set, op = strings.ToLower(op[:i]), op[i+1:]
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	negated := strings.Contains(op, "Not")
	match := func(v string) bool {
		for _, w := range want {
			var ok bool
			switch strings.Replace(op, "Not", "", 1) {
			case "StringEquals", "ArnEquals":
				ok = v == w
			case "StringEqualsIgnoreCase":
				ok = strings.EqualFold(v, w)
			case "StringLike", "ArnLike":
				ok = wildcard(w, v, false)
			case "Bool":
				ok = strings.EqualFold(v, w)
			default:
				return false // an operator the local IAM does not know never matches
			}
			if ok {
				return true
			}
		}
		return false
	}
	switch set {
	case "forallvalues":
		for _, v := range got {
			if match(v) == negated {
				return false
			}
		}
		return true
	case "foranyvalue":
		for _, v := range got {
			if match(v) != negated {
				return true
			}
		}
		return false
	}
	if !present || len(got) == 0 {
		return ifExists || negated
	}
	any := false
	for _, v := range got {
		if match(v) {
			any = true
		}
	}
	return any != negated
}

// accessKeyOf finds the access key id a request was signed with: the
// Authorization header, a presigned URL's X-Amz-Credential, or (for
// browser form POSTs, read by the caller) the form's x-amz-credential.
func accessKeyOf(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if _, rest, ok := strings.Cut(a, "Credential="); ok {
			k, _, _ := strings.Cut(rest, "/")
			return k
		}
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		k, _, _ := strings.Cut(c, "/")
		return k
	}
	return ""
}

// functionPolicies resolves a function's Policies as SAM does: inline
// policy documents, the SAM policy templates the project may use, and
// managed policy names (which add nothing the emulators serve).
func functionPolicies(t *Template, res Resolver, name string, props map[string]any) ([]Statement, error) {
	var out []Statement
	policies := props["Policies"]
	if s, ok := policies.(string); ok {
		policies = []any{s}
	}
	if m, ok := policies.(map[string]any); ok {
		policies = []any{m}
	}
	for _, p := range asSlice(policies) {
		switch p := p.(type) {
		case string:
			// A managed policy (AWSLambdaBasicExecutionRole and the like):
			// logs and tracing, nothing the local stack serves.
			continue
		case map[string]any:
			if stmts, ok := p["Statement"]; ok {
				ss, err := statements(t, res, stmts, nil)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				out = append(out, ss...)
				continue
			}
			for tmplName, params := range p {
				ss, err := policyTemplate(t, res, tmplName, asMap(params))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				out = append(out, ss...)
			}
		}
	}
	return out, nil
}

func statements(t *Template, res Resolver, v any, vars map[string]string) ([]Statement, error) {
	list := asSlice(v)
	if m, ok := v.(map[string]any); ok {
		list = []any{m}
	}
	var out []Statement
	for _, raw := range list {
		m := asMap(raw)
		st := Statement{Effect: asString(m["Effect"]), Condition: map[string]map[string][]string{}}
		if _, ok := m["NotAction"]; ok {
			return nil, fmt.Errorf("NotAction is not supported by the local IAM")
		}
		if _, ok := m["NotResource"]; ok {
			return nil, fmt.Errorf("NotResource is not supported by the local IAM")
		}
		st.Action = append(st.Action, stringList(m["Action"])...)
		for _, r := range listOf(m["Resource"]) {
			s, err := res.resolveWith(t, r, vars)
			if err != nil {
				return nil, fmt.Errorf("resource %v: %w", r, err)
			}
			st.Resource = append(st.Resource, s)
		}
		for op, keys := range asMap(m["Condition"]) {
			st.Condition[op] = map[string][]string{}
			for k, vals := range asMap(keys) {
				for _, x := range listOf(vals) {
					s, err := res.resolveWith(t, x, vars)
					if err != nil {
						return nil, fmt.Errorf("condition %s %s: %w", op, k, err)
					}
					st.Condition[op][k] = append(st.Condition[op][k], s)
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func listOf(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func stringList(v any) []string {
	var out []string
	for _, x := range listOf(v) {
		out = append(out, asString(x))
	}
	return out
}

// policyTemplate expands one SAM policy template, with the actions and
// resources SAM's policy_templates.json gives it.
func policyTemplate(t *Template, res Resolver, name string, params map[string]any) ([]Statement, error) {
	param := func(k string) (string, error) {
		v, ok := params[k]
		if !ok {
			return "", fmt.Errorf("policy template %s needs %s", name, k)
		}
		return res.Resolve(t, v)
	}
	region, account := res.Pseudo["AWS::Region"], res.Pseudo["AWS::AccountId"]
	table := func(actions ...string) ([]Statement, error) {
		tn, err := param("TableName")
		if err != nil {
			return nil, err
		}
		arn := "arn:aws:dynamodb:" + region + ":" + account + ":table/" + tn
		return []Statement{{Effect: "Allow", Action: actions, Resource: []string{arn, arn + "/index/*"}}}, nil
	}
	bucket := func(actions ...string) ([]Statement, error) {
		bn, err := param("BucketName")
		if err != nil {
			return nil, err
		}
		return []Statement{{Effect: "Allow", Action: actions, Resource: []string{"arn:aws:s3:::" + bn, "arn:aws:s3:::" + bn + "/*"}}}, nil
	}
	switch name {
	case "DynamoDBCrudPolicy":
		return table("dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
			"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem")
	case "DynamoDBReadPolicy":
		return table("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable")
	case "DynamoDBWritePolicy":
		return table("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")
	case "S3ReadPolicy":
		return bucket("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration")
	case "S3WritePolicy":
		return bucket("s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration")
	case "S3CrudPolicy":
		return bucket("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:PutObject",
			"s3:PutObjectAcl", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:DeleteObject")
	case "SESCrudPolicy":
		id, err := param("IdentityName")
		if err != nil {
			return nil, err
		}
		return []Statement{{Effect: "Allow", Action: []string{"ses:GetIdentityVerificationAttributes", "ses:SendEmail", "ses:SendRawEmail", "ses:VerifyEmailIdentity"},
			Resource: []string{"arn:aws:ses:" + region + ":" + account + ":identity/" + id}}}, nil
	case "SQSSendMessagePolicy":
		q, err := param("QueueName")
		if err != nil {
			return nil, err
		}
		return []Statement{{Effect: "Allow", Action: []string{"sqs:SendMessage*"}, Resource: []string{"arn:aws:sqs:" + region + ":" + account + ":" + q}}}, nil
	case "AWSSecretsManagerGetSecretValuePolicy":
		arn, err := param("SecretArn")
		if err != nil {
			return nil, err
		}
		return []Statement{{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{arn}}}, nil
	}
	return nil, fmt.Errorf("policy template %s is not known to the local stack's IAM (add its expansion in iam.go)", name)
}

// s3Authz is what an S3 REST request asks IAM for: its action, resource
// and condition keys (s3:prefix for listings).
func s3Authz(r *http.Request) []authz {
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(p, "/")
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucketARN := "arn:aws:s3:::" + bucket
	objARN := bucketARN + "/" + key
	one := func(action, res string) []authz { return []authz{{action: action, resource: res}} }
	if bucket == "" {
		return one("s3:ListAllMyBuckets", "*")
	}
	if key == "" {
		switch r.Method {
		case http.MethodGet:
			switch {
			case has("uploads"):
				return one("s3:ListBucketMultipartUploads", bucketARN)
			case has("location"):
				return one("s3:GetBucketLocation", bucketARN)
			case has("lifecycle"):
				return one("s3:GetLifecycleConfiguration", bucketARN)
			case has("cors"):
				return one("s3:GetBucketCORS", bucketARN)
			case has("tagging"):
				return one("s3:GetBucketTagging", bucketARN)
			case has("versions"):
				return one("s3:ListBucketVersions", bucketARN)
			}
			ctx := map[string][]string{}
			if has("prefix") {
				ctx["s3:prefix"] = []string{q.Get("prefix")}
			}
			if has("delimiter") {
				ctx["s3:delimiter"] = []string{q.Get("delimiter")}
			}
			return []authz{{action: "s3:ListBucket", resource: bucketARN, context: ctx}}
		case http.MethodHead:
			return one("s3:ListBucket", bucketARN)
		case http.MethodPut:
			return one("s3:CreateBucket", bucketARN)
		case http.MethodDelete:
			return one("s3:DeleteBucket", bucketARN)
		case http.MethodPost:
			if has("delete") {
				return nil // DeleteObjects: each key is checked by the handler
			}
			return nil // a browser form POST: checked with the form's fields
		}
		return one("s3:"+r.Method+"Bucket", bucketARN)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case has("tagging"):
			return one("s3:GetObjectTagging", objARN)
		case has("uploadId"):
			return one("s3:ListMultipartUploadParts", objARN)
		case has("acl"):
			return one("s3:GetObjectAcl", objARN)
		}
		return one("s3:GetObject", objARN)
	case http.MethodPut:
		switch {
		case has("tagging"):
			return one("s3:PutObjectTagging", objARN)
		case has("acl"):
			return one("s3:PutObjectAcl", objARN)
		}
		steps := one("s3:PutObject", objARN)
		if r.Header.Get("X-Amz-Tagging") != "" {
			steps = append(steps, authz{action: "s3:PutObjectTagging", resource: objARN})
		}
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			if u, err := url.PathUnescape(strings.SplitN(src, "?", 2)[0]); err == nil {
				steps = append(steps, authz{action: "s3:GetObject", resource: "arn:aws:s3:::" + strings.TrimPrefix(path.Clean("/"+u), "/")})
			}
		}
		return steps
	case http.MethodPost:
		// CreateMultipartUpload (?uploads) and CompleteMultipartUpload
		// (?uploadId) are authorised as s3:PutObject.
		steps := one("s3:PutObject", objARN)
		if has("uploads") && r.Header.Get("X-Amz-Tagging") != "" {
			steps = append(steps, authz{action: "s3:PutObjectTagging", resource: objARN})
		}
		return steps
	case http.MethodDelete:
		switch {
		case has("tagging"):
			return one("s3:DeleteObjectTagging", objARN)
		case has("uploadId"):
			return one("s3:AbortMultipartUpload", objARN)
		}
		return one("s3:DeleteObject", objARN)
	}
	return one("s3:"+r.Method, objARN)
}
