package stack_test

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	"frontlinevoices/infra/local/stack"
)

// resolverFor resolves the template as CloudFormation would for a stack
// named stackName with id uuid, with params.
func resolverFor(tmpl *stack.Template, stackName, uuid string, params map[string]string) stack.Resolver {
	pseudo := maps.Clone(stack.Pseudo)
	pseudo["AWS::StackName"] = stackName
	pseudo["AWS::StackId"] = "arn:aws:cloudformation:eu-west-2:123456789012:stack/" + stackName + "/" + uuid
	pseudo["AWS::URLSuffix"] = "amazonaws.com"
	resources := map[string]string{}
	for name := range tmpl.Resources {
		resources[name] = name
	}
	resources["HttpApi"] = "a1b2c3d4e5"
	p := map[string]string{"CommsAddresses": "team@example.org", "SenderAddress": "stories@example.org", "AlarmEmail": "ops@example.org"}
	maps.Copy(p, params)
	return stack.Resolver{Params: p, Resources: resources, Pseudo: pseudo}
}

// Names made by the stack are its own: two stacks in one account and
// region, a stack created again after `sam delete` (which keeps the
// bucket), and a stack of any name (up to CloudFormation's 128 characters,
// in any case) get names that are new and within S3's and Scheduler's
// limits.
func TestNamesAreTheStacksOwn(t *testing.T) {
	tmpl := loadTemplate(t)
	bucketName := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	scheduleName := regexp.MustCompile(`^[0-9a-zA-Z_.-]{1,64}$`)
	digest := tmpl.Resources["DigestFunction"].Properties["Events"].(map[string]any)["Digest"].(map[string]any)["Properties"].(map[string]any)
	seen := map[string]bool{}
	for _, tc := range []struct{ stack, uuid string }{
		{"frontline-voices", "6b1d9a40-8d6e-11ef-9d5a-0a1b2c3d4e5f"},
		{"frontline-voices", "0e4c2f10-8d6f-11ef-a1b2-06f5e4d3c2b1"}, // created again
		{strings.Repeat("Frontline-Voices-Staging-", 6)[:128], "9f8e7d60-8d6f-11ef-b3c4-0a9b8c7d6e5f"},
	} {
		r := resolverFor(tmpl, tc.stack, tc.uuid, nil)
		bucket, err := r.Resolve(tmpl, tmpl.Resources["ClipsBucket"].Properties["BucketName"])
		if err != nil {
			t.Fatal(err)
		}
		schedule, err := r.Resolve(tmpl, digest["Name"])
		if err != nil {
			t.Fatal(err)
		}
		if !bucketName.MatchString(bucket) || !scheduleName.MatchString(schedule) {
			t.Errorf("stack %q: bucket %q (%d characters), schedule %q (%d): not valid names", tc.stack, bucket, len(bucket), schedule, len(schedule))
		}
		if seen[bucket] || seen[schedule] {
			t.Errorf("stack %q %s: %q or %q is another stack's", tc.stack, tc.uuid, bucket, schedule)
		}
		seen[bucket], seen[schedule] = true, true
	}
}

// Every emailed link starts at the lasting address when DomainName is set,
// and the bucket lets only the site's own origin upload (never '*').
func TestLinksUseTheLastingAddress(t *testing.T) {
	tmpl := loadTemplate(t)
	api := "https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com"
	for _, tc := range []struct {
		name     string
		params   map[string]string
		site     string // SITE_URL of the functions that email links
		withdraw string // WithdrawFunction's (empty: the request's own address)
		origin   string
	}{
		{"no domain", nil, api, "", api},
		{"a domain", map[string]string{"DomainName": "stories.example.org", "CertificateArn": "arn:aws:acm:eu-west-2:123456789012:certificate/abc"},
			"https://stories.example.org", "https://stories.example.org", "https://stories.example.org"},
		{"another origin", map[string]string{"SiteOrigin": "https://frontlinevoices.example.org"}, api, "", "https://frontlinevoices.example.org"},
	} {
		r := resolverFor(tmpl, "frontline-voices", "6b1d9a40-8d6e-11ef-9d5a-0a1b2c3d4e5f", tc.params)
		for _, f := range tmpl.Functions() {
			v, ok := f.Environment["SITE_URL"]
			if !ok {
				continue
			}
			got, err := r.Resolve(tmpl, v)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.site
			if f.Name == "WithdrawFunction" {
				want = tc.withdraw
			}
			if got != want {
				t.Errorf("%s: %s SITE_URL = %q, want %q", tc.name, f.Name, got, want)
			}
		}
		rules := tmpl.Resources["ClipsBucket"].Properties["CorsConfiguration"].(map[string]any)["CorsRules"].([]any)
		for _, rule := range rules {
			for _, o := range rule.(map[string]any)["AllowedOrigins"].([]any) {
				got, err := r.Resolve(tmpl, o)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.origin {
					t.Errorf("%s: the bucket's CORS allows %q, want %q", tc.name, got, tc.origin)
				}
			}
		}
	}
	for _, name := range []string{"NotifyFunction", "DigestFunction", "WithdrawFunction"} {
		if _, ok := tmpl.Resources[name].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["SITE_URL"]; !ok {
			t.Errorf("%s emails links but has no SITE_URL", name)
		}
	}
}

// What a real account needs of the table and the functions' limits.
func TestTableAndTimeouts(t *testing.T) {
	tmpl := loadTemplate(t)
	if tmpl.Resources["StoriesTable"].Properties["DeletionProtectionEnabled"] != true {
		t.Error("the table has no deletion protection")
	}
	for _, f := range tmpl.Functions() {
		api := false
		for _, ev := range f.Events {
			api = api || ev.Type == "HttpApi"
		}
		timeout, _ := f.Properties["Timeout"].(int)
		// API Gateway gives up on an integration after 30 s.
		if api && timeout >= 30 {
			t.Errorf("%s: Timeout %d s, but the HTTP API waits 30 s at most", f.Name, timeout)
		}
	}
	// Completing a 500 MiB multipart upload (100 parts) takes S3 longer
	// than the 10 s default.
	if to, _ := tmpl.Resources["UploadsFunction"].Properties["Timeout"].(int); to < 29 {
		t.Errorf("UploadsFunction: Timeout %d s is too short to complete a large multipart upload", to)
	}
}
