package stack_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"frontlinevoices/infra/local/stack"
)

// What template.yaml must keep true to be run on a real account (see the
// README's Deploying section): every function's logs are kept for
// LogRetentionDays and its errors and throttles are alarmed; every
// asynchronous or stream source ends in a dead-letter queue that is
// alarmed; no IAM statement allows "*" except for actions that have no
// resource; every S3 action names the function's own prefixes.

// s3Prefixes are the parts of the clips bucket each function touches.
var s3Prefixes = map[string][]string{
	"UploadsFunction":  {"clips/"},
	"IngestFunction":   {"clips/"},
	"DownloadFunction": {"clips/", "exports/"},
	"WithdrawFunction": {"clips/", "exports/"}, // erasure: clips, uploads, export rows
	"EraseFunction":    {"clips/", "exports/"},
	"DigestFunction":   {"exports/"},
}

// headsObjects are the functions that HEAD a key that may be gone: S3
// answers 404 rather than 403 only with s3:ListBucket, and a HEAD carries
// no s3:prefix to condition it on.
var headsObjects = map[string]bool{"IngestFunction": true, "DownloadFunction": true}

// listsUploads are the functions that abort a story's multipart uploads:
// s3:ListBucketMultipartUploads has no s3:prefix condition key, so it is
// granted on the bucket (and asked with the story's prefix).
var listsUploads = map[string]bool{"WithdrawFunction": true, "EraseFunction": true}

// starActions may have Resource "*": they act on no resource.
var starActions = []string{"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}

const bucketARN = "arn:${AWS::Partition}:s3:::frontline-voices-clips-${StackUUID}"

func loadTemplate(t *testing.T) *stack.Template {
	t.Helper()
	tmpl, err := stack.LoadTemplate(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// alarmed lists what the template's alarms watch: "Errors FunctionName
// NotifyFunction", "ApproximateNumberOfMessagesVisible QueueName
// NotifyDeadLetterQueue", each with the alarm's name.
func alarmed(tmpl *stack.Template) map[string]string {
	out := map[string]string{}
	for name, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" || len(r.Properties["AlarmActions"].([]any)) == 0 {
			continue
		}
		for _, d := range asSlice(r.Properties["Dimensions"]) {
			dm := d.(map[string]any)
			v := dm["Value"].(map[string]any)
			target := fmt.Sprint(v["Ref"])
			if ga, ok := v["Fn::GetAtt"].([]any); ok {
				target = fmt.Sprint(ga[0])
			}
			out[fmt.Sprint(r.Properties["MetricName"], " ", dm["Name"], " ", target)] = name
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestEveryFunctionHasRetainedLogsAndAlarms(t *testing.T) {
	tmpl := loadTemplate(t)
	alarms := alarmed(tmpl)
	for _, f := range tmpl.Functions() {
		lc, _ := f.Properties["LoggingConfig"].(map[string]any)
		group := ""
		if ref, ok := lc["LogGroup"].(map[string]any); ok {
			group = fmt.Sprint(ref["Ref"])
		}
		lg, ok := tmpl.Resources[group]
		if !ok || lg.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup is not a log group of the template (%v)", f.Name, lc["LogGroup"])
		} else if fmt.Sprint(lg.Properties["RetentionInDays"]) != "map[Ref:LogRetentionDays]" {
			t.Errorf("%s: its log group's retention is %v, not LogRetentionDays", f.Name, lg.Properties["RetentionInDays"])
		}
		// Globals give every function JSON logs with levels.
		if tmpl.Globals["LoggingConfig"].(map[string]any)["LogFormat"] != "JSON" {
			t.Errorf("logs are not JSON")
		}
		for _, metric := range []string{"Errors", "Throttles"} {
			if _, ok := alarms[metric+" FunctionName "+f.Name]; !ok {
				t.Errorf("%s: no alarm on its %s", f.Name, metric)
			}
		}
	}
	api := tmpl.Resources["HttpApi"].Properties["AccessLogSettings"].(map[string]any)
	if format := fmt.Sprint(api["Format"]); !strings.Contains(format, "$context.routeKey") ||
		strings.Contains(format, "querystring") || strings.Contains(format, "$context.path") || strings.Contains(format, "sourceIp") {
		t.Errorf("the API's access log must name the route, never the query string, path or caller: %s", format)
	}
	for _, want := range []string{"5xx ApiId HttpApi", "IteratorAge FunctionName NotifyFunction"} {
		if _, ok := alarms[want]; !ok {
			t.Errorf("no alarm on %s", want)
		}
	}
	var ses []string
	for _, r := range tmpl.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" && r.Properties["Namespace"] == "AWS/SES" {
			ses = append(ses, fmt.Sprint(r.Properties["MetricName"]))
		}
	}
	slices.Sort(ses)
	if fmt.Sprint(ses) != "[Reputation.BounceRate Reputation.ComplaintRate]" {
		t.Errorf("SES alarms %v", ses)
	}
}

// queueOf returns the queue's logical id in a !GetAtt Queue.Arn.
func queueOf(v any) string {
	m, _ := v.(map[string]any)
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
		return fmt.Sprint(ga[0])
	}
	return ""
}

func TestEveryAsyncSourceHasAnAlarmedDeadLetterQueue(t *testing.T) {
	tmpl := loadTemplate(t)
	alarms := alarmed(tmpl)
	check := func(what, queue string) {
		t.Helper()
		r, ok := tmpl.Resources[queue]
		switch {
		case !ok || r.Type != "AWS::SQS::Queue":
			t.Errorf("%s: no dead-letter queue of the template (%q)", what, queue)
		case fmt.Sprint(r.Properties["MessageRetentionPeriod"]) != "1209600":
			t.Errorf("%s: %s keeps messages %v s, not 14 days", what, queue, r.Properties["MessageRetentionPeriod"])
		default:
			if _, ok := alarms["ApproximateNumberOfMessagesVisible QueueName "+queue]; !ok {
				t.Errorf("%s: %s is not alarmed", what, queue)
			}
		}
	}
	for _, f := range tmpl.Functions() {
		async := false
		for _, ev := range f.Events {
			switch ev.Type {
			case "DynamoDB", "Kinesis", "SQS":
				dest, _ := ev.Properties["DestinationConfig"].(map[string]any)
				onFailure, _ := dest["OnFailure"].(map[string]any)
				check(f.Name+" "+ev.Name, queueOf(onFailure["Destination"]))
			case "S3", "SNS", "ScheduleV2", "Schedule", "EventBridgeRule", "CloudWatchEvent":
				async = true
				if ev.Type == "ScheduleV2" {
					dl, _ := ev.Properties["DeadLetterConfig"].(map[string]any)
					check(f.Name+" "+ev.Name+" (the scheduler's own)", queueOf(dl["Arn"]))
				}
			}
		}
		if async {
			eic, _ := f.Properties["EventInvokeConfig"].(map[string]any)
			dest, _ := eic["DestinationConfig"].(map[string]any)
			onFailure, _ := dest["OnFailure"].(map[string]any)
			check(f.Name+" (asynchronous invocations)", queueOf(onFailure["Destination"]))
		}
	}
}

// statements returns a function's inline IAM statements.
func statements(f stack.Function) []map[string]any {
	var out []map[string]any
	for _, p := range asSlice(f.Properties["Policies"]) {
		pm, _ := p.(map[string]any)
		for _, s := range asSlice(pm["Statement"]) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func list(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	return []any{v}
}

// subText is a !Sub's text (either form).
func subText(v any) string {
	m, _ := v.(map[string]any)
	sub, ok := m["Fn::Sub"]
	if !ok {
		return ""
	}
	if s, ok := sub.([]any); ok {
		return fmt.Sprint(s[0])
	}
	return fmt.Sprint(sub)
}

func TestIAMIsScoped(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, f := range tmpl.Functions() {
		for _, s := range statements(f) {
			actions := list(s["Action"])
			for _, r := range list(s["Resource"]) {
				if r == "*" {
					for _, a := range actions {
						if !slices.Contains(starActions, fmt.Sprint(a)) {
							t.Errorf(`%s: %v on Resource "*"`, f.Name, a)
						}
					}
				}
			}
			for _, a := range actions {
				action := fmt.Sprint(a)
				if strings.Contains(action, "*") {
					t.Errorf("%s: a wildcard action %s", f.Name, action)
				}
				if !strings.HasPrefix(action, "s3:") {
					continue
				}
				prefixes, ok := s3Prefixes[f.Name]
				if !ok {
					t.Errorf("%s: %s, but it touches no part of the bucket", f.Name, action)
					continue
				}
				for _, r := range list(s["Resource"]) {
					text := subText(r)
					if text == bucketARN {
						// A bucket-level action: its s3:prefix condition,
						// if any, within the function's prefixes.
						cond, _ := s["Condition"].(map[string]any)
						like, _ := cond["StringLike"].(map[string]any)
						if like["s3:prefix"] == nil {
							if !(action == "s3:ListBucket" && headsObjects[f.Name]) && !(action == "s3:ListBucketMultipartUploads" && listsUploads[f.Name]) {
								t.Errorf("%s: %s on the whole bucket", f.Name, action)
							}
							continue
						}
						for _, p := range list(like["s3:prefix"]) {
							if !slices.ContainsFunc(prefixes, func(x string) bool { return strings.HasPrefix(fmt.Sprint(p), x) }) {
								t.Errorf("%s: %s for prefix %v, outside %v", f.Name, action, p, prefixes)
							}
						}
						continue
					}
					key, ok := strings.CutPrefix(text, bucketARN+"/")
					if !ok || !slices.ContainsFunc(prefixes, func(p string) bool { return key == p+"*" }) {
						t.Errorf("%s: %s on %v, not on one of its prefixes %v", f.Name, action, r, prefixes)
					}
				}
			}
		}
	}
	// The bucket the statements name is the bucket.
	if subText(tmpl.Resources["ClipsBucket"].Properties["BucketName"]) != "frontline-voices-clips-${StackUUID}" {
		t.Errorf("ClipsBucket's name is not the one the policies name")
	}
}
