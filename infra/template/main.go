// Command template prints the figures of template.yaml: its parameters
// (with their defaults) and its resources by type; with -sam, also the
// resources CloudFormation creates once SAM has transformed the template
// (it runs the SAM translator cfn-lint bundles, so it needs cfn-lint):
//
//	go run ./infra/template [-sam] [template.yaml]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"

	"frontlinevoices/infra/local/stack"
)

func main() {
	sam := flag.Bool("sam", false, "also count the resources after the SAM transform (needs cfn-lint)")
	flag.Parse()
	path := "template.yaml"
	if flag.NArg() > 0 {
		path = flag.Arg(0)
	}
	if err := run(path, *sam, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "template:", err)
		os.Exit(1)
	}
}

func run(path string, sam bool, out io.Writer) error {
	t, err := stack.LoadTemplate(path)
	if err != nil {
		return err
	}
	var params []string
	for name, p := range t.Parameters {
		if d, ok := p["Default"]; ok {
			name += fmt.Sprintf(" (default %q)", fmt.Sprint(d))
		}
		params = append(params, name)
	}
	sort.Strings(params)
	fmt.Fprintf(out, "%d parameters:\n", len(params))
	for _, p := range params {
		fmt.Fprintln(out, "  "+p)
	}
	byType := map[string]int{}
	for _, r := range t.Resources {
		byType[r.Type]++
	}
	fmt.Fprintf(out, "%d resources in %s:\n", len(t.Resources), path)
	printTypes(out, byType)
	if !sam {
		return nil
	}
	byType, err = transformed(path)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range byType {
		n += c
	}
	fmt.Fprintf(out, "%d resources after the SAM transform:\n", n)
	printTypes(out, byType)
	return nil
}

func printTypes(out io.Writer, byType map[string]int) {
	types := make([]string, 0, len(byType))
	for ty := range byType {
		types = append(types, ty)
	}
	sort.Strings(types)
	for _, ty := range types {
		fmt.Fprintf(out, "  %3d %s\n", byType[ty], ty)
	}
}

// translate transforms the template with the SAM translator that cfn-lint
// bundles (as `cfn-lint template.yaml` does before its checks) and prints
// the resulting resources' types as JSON.
const translate = `
import sys, json
import cfnlint.decode
from cfnlint.template.transforms._sam import Transform
tpl, matches = cfnlint.decode.decode(sys.argv[1])
if matches:
    sys.exit("cannot read the template: %s" % matches)
t = Transform(sys.argv[1], tpl, "eu-west-2")
errs = t.transform_template()
if errs:
    sys.exit("the SAM transform failed: %s" % errs)
json.dump({k: v["Type"] for k, v in t._template["Resources"].items()}, sys.stdout)
`

// transformed counts the template's resources by type after the SAM transform.
func transformed(path string) (map[string]int, error) {
	python := "python3"
	if lint, err := exec.LookPath("cfn-lint"); err == nil {
		// The interpreter cfn-lint runs on (pip may have installed it for
		// another python than python3).
		if b, err := os.ReadFile(lint); err == nil && bytes.HasPrefix(b, []byte("#!")) {
			if line, _, _ := strings.Cut(string(b[2:]), "\n"); strings.Contains(line, "python") {
				python = strings.TrimSpace(line)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, "-c", translate, path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New("the SAM translator (cfn-lint's) did not run: " + strings.TrimSpace(stderr.String()) + " " + err.Error())
	}
	var types map[string]string
	if err := json.Unmarshal(stdout.Bytes(), &types); err != nil {
		return nil, err
	}
	byType := map[string]int{}
	for _, ty := range types {
		byType[ty]++
	}
	return byType, nil
}
