package withdraw_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/erasure"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/links"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
	"frontlinevoices/shared/token"
	"frontlinevoices/shared/withdraw"
)

type fixture struct {
	h      *withdraw.Handler
	mailer *mail.Mailer
	store  *store.Store
	s3     *s3.Client
	outbox *stack.Outbox
	faults *stack.Faults
	signer token.Signer
}

func setup(t *testing.T) fixture {
	t.Helper()
	ses, outbox, faults := testenv.SES(t)
	s3c := testenv.S3Faults(t, faults, "clips")
	stories := store.New(testenv.Table(t, "StoriesTable"), "StoriesTable")
	mailer := mail.NewMailer(ses, "stories@example.org")
	h, err := withdraw.New(withdraw.Config{Shared: config.Shared{TableName: "StoriesTable", Bucket: "clips"},
		Mail: config.Mail{Sender: "stories@example.org", CommsAddress: []string{"comms@example.org"}}},
		&privacy.Service{Stories: stories, Clips: bucket.New(s3c, nil, "clips")}, mailer, testenv.Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{h: h, mailer: mailer, store: stories, s3: s3c, outbox: outbox, faults: faults, signer: testenv.Signer(t)}
}

func (f fixture) story(t *testing.T, name string) story.Story {
	t.Helper()
	sub := story.Submission{
		Name: name, Role: "salaried_gp", Practice: "Hillside Surgery", Borough: "croydon", Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org",
		PreferredContact: "email", Topics: []string{"access"}, Story: "A morning in the life of a salaried GP in Croydon.",
		PatientsSpeak: "no", Consent: map[string]bool{"contact": true, "store": true, "public": true, "clips": true}, ConsentVersion: story.ConsentVersion(),
	}
	st, errs := sub.Normalize().Validate(time.Now())
	if errs != nil {
		t.Fatal(errs)
	}
	if _, _, err := f.store.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a.mp4", "b.webm"} {
		_, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("clips"), Key: aws.String(bucket.ClipPrefix(st.ID) + k), Body: strings.NewReader("video")})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func (f fixture) get(t *testing.T, tok string) apigw.Response {
	t.Helper()
	resp, err := f.h.Handle(context.Background(), apigw.Request{RawQueryString: "t=" + url.QueryEscape(tok),
		RequestContext: apigwContext(http.MethodGet)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f fixture) post(t *testing.T, form url.Values) apigw.Response {
	t.Helper()
	resp, err := f.h.Handle(context.Background(), apigw.Request{Body: form.Encode(),
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, RequestContext: apigwContext(http.MethodPost)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func apigwContext(method string) events.APIGatewayV2HTTPRequestContext {
	var rc events.APIGatewayV2HTTPRequestContext
	rc.HTTP.Method = method
	return rc
}

func TestTokens(t *testing.T) {
	f := setup(t)
	a := f.story(t, "Amara Okafor")
	b := f.story(t, "Tomasz Nowak")
	good := sign(t, f.signer, links.WithdrawPurpose, a.ID, time.Now().Add(time.Hour))
	cases := []struct {
		name, tok string
		status    int
		want      string
	}{
		{"good", good, 200, "Amara Okafor"},
		{"forged", good[:len(good)-3] + "abc", 400, "This link is not valid"},
		{"another purpose", sign(t, f.signer, links.UploadPurpose, a.ID, time.Now().Add(time.Hour)), 400, "This link is not valid"},
		{"other secret", sign(t, mustSigner(t, strings.Repeat("x", 40)), links.WithdrawPurpose, a.ID, time.Now().Add(time.Hour)), 400, "This link is not valid"},
		{"expired", sign(t, f.signer, links.WithdrawPurpose, a.ID, time.Now().Add(-time.Minute)), 410, "This link has expired"},
		{"missing", "", 400, "This link is not valid"},
		{"another story's token shows only that story", sign(t, f.signer, links.WithdrawPurpose, b.ID, time.Now().Add(time.Hour)), 200, "Tomasz Nowak"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := f.get(t, c.tok)
			if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.want) {
				t.Fatalf("status %d, want %d with %q:\n%.400s", resp.StatusCode, c.status, c.want, resp.Body)
			}
			if c.status != 200 && (strings.Contains(resp.Body, "Amara") || strings.Contains(resp.Body, "Tomasz")) {
				t.Fatal("a refused link shows personal data")
			}
			if c.name == "another story's token shows only that story" && strings.Contains(resp.Body, "Amara") {
				t.Fatal("another story's data shown")
			}
		})
	}
}

func TestWithdrawOneConsentThenEraseEverything(t *testing.T) {
	f := setup(t)
	st := f.story(t, "Amara Okafor")
	tok := sign(t, f.signer, links.WithdrawPurpose, st.ID, time.Now().Add(time.Hour))
	if resp := f.get(t, tok); !strings.Contains(resp.Body, `id="clip-count">2<`) {
		t.Fatalf("page does not show 2 clips:\n%s", resp.Body)
	}
	resp := f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"clips"}})
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "Your choice is recorded") {
		t.Fatalf("withdraw clips: %d %.300s", resp.StatusCode, resp.Body)
	}
	got, _ := f.store.GetStory(context.Background(), st.ID)
	if got.Consented("clips") || !got.Consented("public") {
		t.Fatalf("ledger %+v", got.Consents)
	}
	last := got.Consents[len(got.Consents)-1]
	if last.Statement != "clips" || last.Agreed || last.Channel != "withdraw-page" || last.Version == "" {
		t.Fatalf("ledger entry %+v", last)
	}
	// Pressing again changes nothing and emails no one.
	for range 3 {
		if resp := f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"clips"}}); resp.StatusCode != 200 || !strings.Contains(resp.Body, "already withdrawn") {
			t.Fatalf("withdraw clips again: %d %.300s", resp.StatusCode, resp.Body)
		}
	}
	// A required consent cannot be withdrawn on its own: that is erasing.
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"store"}}); resp.StatusCode != 422 {
		t.Fatalf("withdrawing a required consent = %d", resp.StatusCode)
	}
	// Erasing needs the confirmation box.
	// … and says so beside the box, which takes the focus.
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"erase"}}); resp.StatusCode != 422 || !strings.Contains(resp.Body, "Tick the box") ||
		!strings.Contains(resp.Body, `id="confirm-error"`) || !strings.Contains(resp.Body, `aria-describedby="confirm-error" aria-invalid="true" autofocus`) ||
		!strings.Contains(resp.Body, "<title>Error: ") {
		t.Fatalf("erase without confirming = %d %s", resp.StatusCode, resp.Body)
	}
	resp = f.post(t, url.Values{"t": {tok}, "action": {"erase"}, "confirm": {"yes"}})
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "Your story has been erased") {
		t.Fatalf("erase: %d %.300s", resp.StatusCode, resp.Body)
	}
	objs, _ := f.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("clips")})
	if len(objs.Contents) != 0 {
		t.Fatalf("%d clip objects left", len(objs.Contents))
	}
	// The link, used, now says so.
	if resp := f.get(t, tok); resp.StatusCode != 410 || !strings.Contains(resp.Body, "already been erased") {
		t.Fatalf("used link: %d %.300s", resp.StatusCode, resp.Body)
	}
	// The request sent no erasure email: the tombstone's stream record
	// does, once however often it is delivered.
	if n := len(f.outbox.Emails()); n != 2 {
		t.Fatalf("%d emails before the tombstone's record, want the 2 of the consent withdrawal", n)
	}
	worker := erasure.New(&privacy.Service{Stories: f.store, Clips: bucket.New(f.s3, nil, "clips"), Mail: f.mailer, Comms: []string{"comms@example.org"}})
	insert := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: "1", Keys: map[string]events.DynamoDBAttributeValue{
			"pk": events.NewStringAttribute("STORY#" + st.ID), "sk": events.NewStringAttribute("WITHDRAWN")}}}}}
	for range 2 {
		if resp, err := worker.Handle(context.Background(), insert); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("erase function: %+v %v", resp, err)
		}
	}
	var subjects []string
	for _, e := range f.outbox.Emails() {
		subjects = append(subjects, e.To[0]+": "+e.Subject)
	}
	want := []string{
		"comms@example.org: Consent changed for story " + st.ID + ": stop using their clips in campaigns",
		"amara.okafor@example.org: We have recorded your choice",
		"comms@example.org: Erased: stop using story " + st.ID,
		"amara.okafor@example.org: Your story has been erased",
	}
	if strings.Join(subjects, "\n") != strings.Join(want, "\n") {
		t.Fatalf("emails:\n%s\nwant:\n%s", strings.Join(subjects, "\n"), strings.Join(want, "\n"))
	}
}

// A fault after the tombstone exists: a transient one (S3 slowing down past
// the SDK's retries) is answered 202, the erasure under way; a denial (a
// missing IAM right) is the request's error, a 5xx, never hidden behind a
// 202. Either way pressing again, or the tombstone's record, finishes it.
func TestEraseFaultTransientIs202DenialIs5xx(t *testing.T) {
	slowDown := stack.Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "local fault: slow down"}
	for _, c := range []struct {
		name   string
		fault  stack.Fault
		n      int // the SDK's default is 3 attempts
		status int
	}{
		{"transient", slowDown, 3, http.StatusAccepted},
		{"denied", stack.Denied, 1, http.StatusInternalServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t)
			st := f.story(t, "Kofi Mensah")
			tok := sign(t, f.signer, links.WithdrawPurpose, st.ID, time.Now().Add(time.Hour))
			f.faults.Inject("s3", "DeleteObjects", c.n, c.fault)
			resp, err := f.h.Handle(context.Background(), apigw.Request{Body: url.Values{"t": {tok}, "action": {"erase"}, "confirm": {"yes"}}.Encode(),
				Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, RequestContext: apigwContext(http.MethodPost)})
			status := resp.StatusCode
			if err != nil {
				status = http.StatusInternalServerError // as apigw.WithLogging answers and logs it
			}
			if status != c.status || f.faults.Pending("s3", "DeleteObjects") != 0 {
				t.Fatalf("erase with a %s fault = %d %v %.300s", c.name, status, err, resp.Body)
			}
			if c.status == http.StatusAccepted && !strings.Contains(resp.Body, "Your story is being erased") {
				t.Fatalf("202 page: %.300s", resp.Body)
			}
			if c.status != http.StatusAccepted && (err == nil || !strings.Contains(err.Error(), "AccessDenied")) {
				t.Fatalf("the denial is not in the error: %v", err)
			}
			// The tombstone was written before the fault: the link says the
			// story is being erased, and the erasure can be finished.
			if resp := f.get(t, tok); resp.StatusCode != http.StatusGone || !strings.Contains(resp.Body, "being erased") {
				t.Fatalf("link after the fault: %d %.300s", resp.StatusCode, resp.Body)
			}
			p := &privacy.Service{Stories: f.store, Clips: bucket.New(f.s3, nil, "clips"), ExportPrefix: bucket.ExportsPrefix,
				Mail: f.mailer, Comms: []string{"comms@example.org"}}
			if _, err := p.Erase(context.Background(), st.ID); err != nil {
				t.Fatal(err)
			}
			if a, err := p.Audit(context.Background(), st.ID, st.Email); err != nil || !a.Clean() {
				t.Fatalf("audit after finishing: %v %s", err, a)
			}
			if n := len(f.outbox.Emails()); n != 2 {
				t.Fatalf("%d emails, want the alert and the confirmation", n)
			}
		})
	}
}

func sign(t *testing.T, s token.Signer, purpose, id string, expires time.Time) string {
	t.Helper()
	tok, err := s.Sign(context.Background(), purpose, id, expires)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustSigner(t *testing.T, secret string) token.Signer {
	s, err := token.StaticSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// If the team cannot be told, the volunteer is told so and can press again;
// nothing is lost.
func TestTeamNotToldIsSaidAndCanBeRetried(t *testing.T) {
	f := setup(t)
	st := f.story(t, "Amara Okafor")
	tok := sign(t, f.signer, links.WithdrawPurpose, st.ID, time.Now().Add(time.Hour))
	f.faults.Inject("ses", "SendEmail", 1, stack.SESUnavailable)
	resp := f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"public"}})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Body, "could not tell the communications team") || !strings.Contains(resp.Body, `id="retry"`) {
		t.Fatalf("%d %.500s", resp.StatusCode, resp.Body)
	}
	if got, _ := f.store.GetStory(context.Background(), st.ID); got.Consented("public") {
		t.Fatal("the choice was not recorded")
	}
	resp = f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"public"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	var alerts int
	for _, e := range f.outbox.Emails() {
		if e.To[0] == "comms@example.org" {
			alerts++
		}
	}
	if alerts != 1 {
		t.Fatalf("%d alerts to the team, want 1", alerts)
	}
	got, _ := f.store.GetStory(context.Background(), st.ID)
	if n := len(got.Consents); n != len(st.Consents)+1 {
		t.Fatalf("ledger has %d entries, want one withdrawal added once", n)
	}
}

// The page shows every answer held, names each button's consent, and a
// consent withdrawn can be given again; the team is told exactly what
// changed each time.
func TestEveryFieldShownAndConsentGivenAgain(t *testing.T) {
	f := setup(t)
	st := f.story(t, "Amara Okafor")
	tok := sign(t, f.signer, links.WithdrawPurpose, st.ID, time.Now().Add(time.Hour))
	body := f.get(t, tok).Body
	for _, want := range []string{"Amara Okafor", "Salaried GP", "Hillside Surgery", "Croydon", "amara.okafor@example.org",
		"Access and appointments", "A morning in the life", "Willing to do", "None chosen", "Patients would speak", "Contact me by", "Email",
		"Stop quoting my story publicly", "Stop using my clips in campaigns", "Change how I am named", `value="anonymous" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	// Every answer the definitions show the volunteer is on the page.
	for _, r := range story.Rows(st, story.ViewWithdraw) {
		if !strings.Contains(body, "<dt>"+r.Label+"</dt>") {
			t.Errorf("the page does not show the answer %q", r.Label)
		}
	}
	if strings.Contains(body, "Withdraw this") {
		t.Error("a button says only \"Withdraw this\"")
	}
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"public"}}); resp.StatusCode != 200 {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	if body := f.get(t, tok).Body; !strings.Contains(body, "Allow my story to be quoted publicly") {
		t.Fatal("no button to give the consent again")
	}
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"give"}, "statement": {"public"}}); resp.StatusCode != 200 || !strings.Contains(resp.Body, "You agree to this again") {
		t.Fatalf("give again: %d %.300s", resp.StatusCode, resp.Body)
	}
	if got, _ := f.store.GetStory(context.Background(), st.ID); !got.Consented("public") {
		t.Fatal("the consent given again is not in the ledger")
	}
	// Naming: anonymous → role and borough only; no choice is an error by the radios.
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"naming"}}); resp.StatusCode != 422 || !strings.Contains(resp.Body, `id="naming-error"`) {
		t.Fatalf("naming without an answer: %d", resp.StatusCode)
	}
	if resp := f.post(t, url.Values{"t": {tok}, "action": {"naming"}, "naming": {"role"}}); resp.StatusCode != 200 {
		t.Fatalf("naming: %d %.300s", resp.StatusCode, resp.Body)
	}
	got, _ := f.store.GetStory(context.Background(), st.ID)
	if got.Naming().ID != "role" || got.Consented("named") || !got.Consented("role") {
		t.Fatalf("naming now %q", got.Naming().ID)
	}
	var team []string
	for _, e := range f.outbox.Emails() {
		if e.To[0] == "comms@example.org" {
			team = append(team, e.Subject+"\n"+e.Text)
		}
	}
	if len(team) != 3 {
		t.Fatalf("%d emails to the team, want 3", len(team))
	}
	for i, want := range []string{
		"Consent changed for story " + st.ID + ": stop quoting it publicly\n",
		"Consent changed for story " + st.ID + ": may quote it publicly again\n",
		"Consent changed for story " + st.ID + ": name them: no name: role and borough only\n",
	} {
		if !strings.HasPrefix(team[i], want) {
			t.Errorf("email %d: %.200q, want it to start %q", i, team[i], want)
		}
	}
	// Each says what changed and what holds now.
	for i, want := range []string{"Quote publicly: now no (was yes)", "Quote publicly: now yes (was no)", "Name them: now no name: role and borough only (was no: anonymous"} {
		if !strings.Contains(team[i], want) || !strings.Contains(team[i], "CAN WE USE THIS?") {
			t.Errorf("email %d does not say %q:\n%s", i, want, team[i])
		}
	}
}

// Without SITE_URL (the template cannot name the API to the function it
// routes to), the emails link the privacy notice at the address the
// request came to.
func TestPrivacyLinkFromTheRequestsAddress(t *testing.T) {
	f := setup(t)
	st := f.story(t, "Amara Okafor")
	tok := sign(t, f.signer, links.WithdrawPurpose, st.ID, time.Now().Add(time.Hour))
	rc := apigwContext(http.MethodPost)
	rc.DomainName = "abc123.execute-api.eu-west-2.amazonaws.com"
	resp, err := f.h.Handle(context.Background(), apigw.Request{Body: url.Values{"t": {tok}, "action": {"withdraw"}, "statement": {"clips"}}.Encode(),
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}, RequestContext: rc})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: %v %d", err, resp.StatusCode)
	}
	emails := f.outbox.Emails()
	if len(emails) != 2 {
		t.Fatalf("%d emails", len(emails))
	}
	for _, e := range emails {
		if !strings.Contains(e.Text, "https://abc123.execute-api.eu-west-2.amazonaws.com/privacy") {
			t.Errorf("%s: no privacy link at the request's address:\n%s", e.Subject, e.Text)
		}
	}
}
