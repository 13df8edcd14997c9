package stack

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the part of template.yaml the local stack reads: parameters,
// the Globals for functions, and resources. Intrinsic functions (!Ref,
// !GetAtt, !Sub, …) are kept as one-key maps ({"Ref": x}) and resolved
// against local values by Resolve.
type Template struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
}

// Resource is one resource of the template.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// LoadTemplate reads and parses a SAM template.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	doc, ok := convert(&root).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template: not a mapping")
	}
	t := &Template{Parameters: map[string]map[string]any{}, Conditions: asMap(doc["Conditions"]), Resources: map[string]Resource{}}
	for k, v := range asMap(doc["Parameters"]) {
		t.Parameters[k] = asMap(v)
	}
	t.Globals = asMap(asMap(doc["Globals"])["Function"])
	for name, v := range asMap(doc["Resources"]) {
		r := asMap(v)
		t.Resources[name] = Resource{Type: asString(r["Type"]), Properties: asMap(r["Properties"]), Metadata: asMap(r["Metadata"])}
	}
	return t, nil
}

// convert turns a YAML node into plain Go values, keeping CloudFormation's
// short-form tags as long-form maps (!Ref X → {"Ref": "X"}).
func convert(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = convert(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, convert(c))
		}
		v = s
	default:
		var x any
		if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			x = n.Value
		} else if err := n.Decode(&x); err != nil {
			x = n.Value
		}
		v = x
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := strings.TrimPrefix(n.Tag, "!")
		if name == "GetAtt" {
			if s, ok := v.(string); ok {
				parts := strings.SplitN(s, ".", 2)
				v = []any{parts[0], parts[len(parts)-1]}
			}
		}
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		return map[string]any{name: v}
	}
	return v
}

// Function is a serverless function with Globals merged in.
type Function struct {
	Name        string
	Properties  map[string]any
	Environment map[string]any
	Events      map[string]Event
}

// Event is one event source of a function.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Functions lists the template's functions, sorted by name, with Globals
// merged (SAM merges them on deploy; a function's own value wins).
func (t *Template) Functions() []Function {
	var out []Function
	for name, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		props := map[string]any{}
		for k, v := range t.Globals {
			props[k] = v
		}
		for k, v := range r.Properties {
			props[k] = v
		}
		env := map[string]any{}
		for k, v := range asMap(asMap(t.Globals["Environment"])["Variables"]) {
			env[k] = v
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			env[k] = v
		}
		f := Function{Name: name, Properties: props, Environment: env, Events: map[string]Event{}}
		for en, ev := range asMap(r.Properties["Events"]) {
			e := asMap(ev)
			f.Events[en] = Event{Name: en, Type: asString(e["Type"]), Properties: asMap(e["Properties"])}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Resolver gives local values to the template's references.
type Resolver struct {
	Params    map[string]string // parameter values (overriding defaults)
	Resources map[string]string // logical id → local physical name
	Pseudo    map[string]string // AWS::Region and friends
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// Resolve turns a template value into a string using local values.
func (r Resolver) Resolve(t *Template, v any) (string, error) {
	return r.resolveWith(t, v, nil)
}

// resolveWith resolves v, with vars as the variables of an Fn::Sub list.
func (r Resolver) resolveWith(t *Template, v any, vars map[string]string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"]; ok {
			if v, ok := vars[asString(ref)]; ok {
				return v, nil
			}
			return r.ref(t, asString(ref))
		}
		if ga, ok := x["Fn::GetAtt"]; ok {
			parts := asSlice(ga)
			if len(parts) != 2 {
				return "", fmt.Errorf("bad GetAtt %v", ga)
			}
			return r.getAtt(t, asString(parts[0]), asString(parts[1]))
		}
		if sub, ok := x["Fn::Sub"]; ok {
			text := asString(sub)
			if list := asSlice(sub); len(list) == 2 {
				text = asString(list[0])
				inner := map[string]string{}
				for k, v := range vars {
					inner[k] = v
				}
				for k, v := range asMap(list[1]) {
					s, err := r.resolveWith(t, v, vars)
					if err != nil {
						return "", err
					}
					inner[k] = s
				}
				vars = inner
			}
			var err error
			out := subVar.ReplaceAllStringFunc(text, func(m string) string {
				name := m[2 : len(m)-1]
				if v, ok := vars[name]; ok {
					return v
				}
				var s string
				var e error
				if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
					s, e = r.getAtt(t, res, attr)
				} else {
					s, e = r.ref(t, name)
				}
				if e != nil {
					err = e
				}
				return s
			})
			return out, err
		}
		if sel, ok := x["Fn::Select"]; ok {
			args := asSlice(sel)
			if len(args) != 2 {
				return "", fmt.Errorf("bad Select %v", sel)
			}
			var i int
			if _, err := fmt.Sscan(asString(args[0]), &i); err != nil {
				return "", fmt.Errorf("bad Select index %v", args[0])
			}
			list, err := r.list(t, args[1], vars)
			if err != nil {
				return "", err
			}
			if i < 0 || i >= len(list) {
				return "", fmt.Errorf("index %d of Select is out of %d", i, len(list))
			}
			return list[i], nil
		}
		if cond, ok := x["Fn::If"]; ok {
			args := asSlice(cond)
			if len(args) != 3 {
				return "", fmt.Errorf("bad If %v", cond)
			}
			yes, err := r.Condition(t, asString(args[0]))
			if err != nil {
				return "", err
			}
			if yes {
				return r.resolveWith(t, args[1], vars)
			}
			return r.resolveWith(t, args[2], vars)
		}
	}
	return "", fmt.Errorf("cannot resolve %v locally", v)
}

// getAtt gives a resource's attribute locally: ARNs as AWS writes them.
func (r Resolver) getAtt(t *Template, logicalID, attr string) (string, error) {
	name, ok := r.Resources[logicalID]
	if !ok {
		return "", fmt.Errorf("GetAtt of unknown resource %v", logicalID)
	}
	region, account := r.Pseudo["AWS::Region"], r.Pseudo["AWS::AccountId"]
	typ := ""
	if res, ok := t.Resources[logicalID]; ok {
		typ = res.Type
	}
	switch typ + "." + attr {
	case "AWS::DynamoDB::Table.Arn":
		return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name, nil
	case "AWS::DynamoDB::Table.StreamArn":
		return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name + "/stream/local", nil
	case "AWS::S3::Bucket.Arn":
		return "arn:aws:s3:::" + name, nil
	case "AWS::SQS::Queue.Arn":
		return "arn:aws:sqs:" + region + ":" + account + ":" + name, nil
	case "AWS::SQS::Queue.QueueName":
		return name, nil
	case "AWS::Serverless::Function.Arn", "AWS::Lambda::Function.Arn":
		return "arn:aws:lambda:" + region + ":" + account + ":function:" + name, nil
	}
	return "arn:aws:local:::" + name + "/" + attr, nil
}

// list resolves a value that is a list: !Split, or a YAML list.
func (r Resolver) list(t *Template, v any, vars map[string]string) ([]string, error) {
	if sp, ok := asMap(v)["Fn::Split"]; ok {
		args := asSlice(sp)
		if len(args) != 2 {
			return nil, fmt.Errorf("bad Split %v", sp)
		}
		s, err := r.resolveWith(t, args[1], vars)
		if err != nil {
			return nil, err
		}
		return strings.Split(s, asString(args[0])), nil
	}
	var out []string
	for _, e := range asSlice(v) {
		s, err := r.resolveWith(t, e, vars)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Condition evaluates the template's condition name with local values.
func (r Resolver) Condition(t *Template, name string) (bool, error) {
	c, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	return r.evalCondition(t, c)
}

func (r Resolver) evalCondition(t *Template, c any) (bool, error) {
	m := asMap(c)
	switch {
	case m["Condition"] != nil:
		return r.Condition(t, asString(m["Condition"]))
	case m["Fn::Not"] != nil:
		args := asSlice(m["Fn::Not"])
		if len(args) != 1 {
			return false, fmt.Errorf("bad Not %v", c)
		}
		b, err := r.evalCondition(t, args[0])
		return !b, err
	case m["Fn::Equals"] != nil:
		args := asSlice(m["Fn::Equals"])
		if len(args) != 2 {
			return false, fmt.Errorf("bad Equals %v", c)
		}
		a, err := r.Resolve(t, args[0])
		if err != nil {
			return false, err
		}
		b, err := r.Resolve(t, args[1])
		return a == b, err
	case m["Fn::And"] != nil, m["Fn::Or"] != nil:
		and := m["Fn::And"] != nil
		args := asSlice(m["Fn::And"])
		if !and {
			args = asSlice(m["Fn::Or"])
		}
		for _, a := range args {
			b, err := r.evalCondition(t, a)
			if err != nil {
				return false, err
			}
			if b != and {
				return b, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("cannot evaluate condition %v locally", c)
}

func (r Resolver) ref(t *Template, name string) (string, error) {
	if v, ok := r.Pseudo[name]; ok {
		return v, nil
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	if p, ok := t.Parameters[name]; ok {
		if d, ok := p["Default"]; ok {
			return fmt.Sprint(d), nil
		}
		return "", fmt.Errorf("parameter %s has no default and no local value", name)
	}
	if v, ok := r.Resources[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown reference %s", name)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
