package stack

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Secrets is a minimal local Secrets Manager (the JSON 1.1 protocol the SDK
// speaks): GetSecretValue, PutSecretValue and DescribeSecret, on the
// secrets template.yaml declares. A secret with GenerateSecretString is made
// as CloudFormation makes it, once, and kept in a file (0600) so links in the
// outbox keep working after a restart. A secret is found by its name or its
// ARN, as on AWS. Every call is authorised by IAM on the secret's ARN.
type Secrets struct {
	path   string
	faults *Faults
	iam    *IAM // nil: every caller allowed
	mu     sync.Mutex
	byName map[string]*localSecret
}

type localSecret struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	Value   string    `json:"value"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// Template is the SecretString the template last gave it.
	Template string `json:"template,omitempty"`
}

// NewSecrets returns a local Secrets Manager keeping its secrets in path
// ("" keeps them in memory).
func NewSecrets(path string, faults *Faults, iam *IAM) (*Secrets, error) {
	s := &Secrets{path: path, faults: faults, iam: iam, byName: map[string]*localSecret{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.byName); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// secretARN is the local ARN of the secret name (Ref of the resource).
func secretARN(name string) string {
	return "arn:aws:secretsmanager:" + Region + ":000000000000:secret:" + name + "-local"
}

// ensure creates the secret name from its CloudFormation properties (their
// SecretString resolved) unless it exists already, and returns its ARN. A
// kept secret takes a SecretString the template now gives otherwise, as a
// stack update sets it (a value put since is kept while the template's is
// unchanged); a generated one stays as it is.
func (s *Secrets) ensure(name string, props map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	value, given := props["SecretString"].(string)
	if sec, ok := s.byName[name]; ok {
		if given && sec.Template != value {
			sec.Value, sec.Template, sec.Version = value, value, sec.Version+1
			return sec.ARN, s.save()
		}
		return sec.ARN, nil
	}
	template := value
	if gen := asMap(props["GenerateSecretString"]); gen != nil {
		template = ""
		v, err := generateSecretString(gen)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		value = v
	}
	s.byName[name] = &localSecret{Name: name, ARN: secretARN(name), Value: value, Version: 1, Created: time.Now().UTC(), Template: template}
	return secretARN(name), s.save()
}

// generateSecretString does what CloudFormation's GenerateSecretString does
// with the properties the template uses: a random password of
// PasswordLength (letters and digits with ExcludePunctuation), alone or
// set as GenerateStringKey in SecretStringTemplate.
func generateSecretString(gen map[string]any) (string, error) {
	n := 32
	if l, ok := gen["PasswordLength"].(int); ok {
		n = l
	}
	chars := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	if gen["ExcludePunctuation"] != true {
		chars += "!#$%&()*+,-./:;<=>?@[]^_{|}~"
	}
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			return "", err
		}
		b.WriteByte(chars[i.Int64()])
	}
	tmpl := asString(gen["SecretStringTemplate"])
	if tmpl == "" {
		return b.String(), nil
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(tmpl), &doc); err != nil {
		return "", fmt.Errorf("SecretStringTemplate: %w", err)
	}
	doc[asString(gen["GenerateStringKey"])] = b.String()
	out, err := json.Marshal(doc)
	return string(out), err
}

func (s *Secrets) save() error {
	if s.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.byName, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *Secrets) find(id string) *localSecret {
	for _, sec := range s.byName {
		if id == sec.Name || id == sec.ARN {
			return sec
		}
	}
	return nil
}

func (s *Secrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if f, ok := s.faults.take("secretsmanager", op); ok {
		smError(w, f.Status, f.Code, f.Message)
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
		VersionStage string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		smError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(in.SecretID)
	if sec == nil {
		smError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	if err := s.iam.check(accessKeyOf(r), authz{action: "secretsmanager:" + op, resource: sec.ARN}); err != nil {
		code := "AccessDeniedException"
		if err.unknownKey {
			code = "UnrecognizedClientException"
		}
		smError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	version := fmt.Sprintf("00000000-0000-4000-8000-%012d", sec.Version)
	switch op {
	case "GetSecretValue":
		if in.VersionStage != "" && in.VersionStage != "AWSCURRENT" {
			smError(w, http.StatusBadRequest, "ResourceNotFoundException", "the local Secrets Manager keeps only AWSCURRENT")
			return
		}
		smJSON(w, map[string]any{"ARN": sec.ARN, "Name": sec.Name, "SecretString": sec.Value, "VersionId": version,
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(sec.Created.Unix())})
	case "PutSecretValue":
		if in.SecretString == nil {
			smError(w, http.StatusBadRequest, "InvalidParameterException", "SecretString is required locally")
			return
		}
		sec.Value, sec.Version = *in.SecretString, sec.Version+1
		if err := s.save(); err != nil {
			smError(w, http.StatusInternalServerError, "InternalServiceError", err.Error())
			return
		}
		smJSON(w, map[string]any{"ARN": sec.ARN, "Name": sec.Name,
			"VersionId": fmt.Sprintf("00000000-0000-4000-8000-%012d", sec.Version), "VersionStages": []string{"AWSCURRENT"}})
	case "DescribeSecret":
		smJSON(w, map[string]any{"ARN": sec.ARN, "Name": sec.Name, "CreatedDate": float64(sec.Created.Unix())})
	default:
		smError(w, http.StatusBadRequest, "InvalidActionException", "the local Secrets Manager does not do "+op)
	}
}

func smJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func smError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}
