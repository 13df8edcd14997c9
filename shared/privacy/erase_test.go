package privacy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"frontlinevoices/shared/bucket"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/privacy"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

const clips = "clips"

// held is a volunteer's story, with one clip, on a fresh table and bucket.
type held struct {
	stories *store.Store
	s3      *s3.Client
	clips   *bucket.Bucket
	story   story.Story
}

func hold(t *testing.T) held {
	t.Helper()
	h := held{stories: store.New(testenv.Table(t, "StoriesTable"), "StoriesTable"), s3: testenv.S3(t, clips)}
	h.clips = bucket.New(h.s3, nil, clips)
	sub := story.Submission{
		Name: "Ines Okonkwo-Berg", Role: "practice_manager", Practice: "Riverside Medical Centre", Borough: "lewisham",
		Email: "ines.okonkwo-berg@example.org", PreferredContact: "email", Topics: []string{"access"},
		Story: "How our reception team finds an appointment for everyone who calls.", PatientsSpeak: "no",
		Consent: map[string]bool{"contact": true, "store": true, "public": true, "clips": true}, ConsentVersion: story.ConsentVersion(),
	}
	st, errs := sub.Normalize().Validate(time.Now())
	if errs != nil {
		t.Fatal(errs)
	}
	if _, _, err := h.stories.PutStory(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	h.story = st
	h.land(t, "before.mp4")
	return h
}

// land puts a clip object under the story's prefix, as a POST signed
// before the erasure may still do.
func (h held) land(t *testing.T, name string) {
	t.Helper()
	_, err := h.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(clips),
		Key: aws.String(bucket.ClipPrefix(h.story.ID) + name), Body: strings.NewReader("video")})
	if err != nil {
		t.Error(err)
	}
}

// landsAfterFirstSweep is the clips bucket, with a clip landing and a
// multipart upload starting under the story's prefix once the erasure's
// first sweep has ended (its last step reads the exports' list), before
// the story's items are deleted.
type landsAfterFirstSweep struct {
	privacy.Bucket
	h    held
	t    *testing.T
	once sync.Once
}

func (b *landsAfterFirstSweep) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := b.Bucket.List(ctx, prefix)
	if prefix == bucket.ExportsPrefix {
		b.once.Do(func() {
			b.h.land(b.t, "late.mp4")
			_, err := b.h.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(clips),
				Key: aws.String(bucket.ClipPrefix(b.h.story.ID) + "late.webm")})
			if err != nil {
				b.t.Error(err)
			}
		})
	}
	return keys, err
}

// TestEraseSweepsAgainAfterTheItemsGo: what lands under a story's prefix
// while its erasure runs is gone when Erase returns.
func TestEraseSweepsAgainAfterTheItemsGo(t *testing.T) {
	h := hold(t)
	p := &privacy.Service{Stories: h.stories, Clips: &landsAfterFirstSweep{Bucket: h.clips, h: h, t: t}, ExportPrefix: bucket.ExportsPrefix}
	ctx := context.Background()
	res, err := p.Erase(ctx, h.story.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := h.clips.List(ctx, bucket.ClipPrefix(h.story.ID))
	if err != nil || len(keys) != 0 {
		t.Errorf("clips left after the erasure: %q %v", keys, err)
	}
	uploads, err := h.clips.Uploads(ctx, bucket.ClipPrefix(h.story.ID))
	if err != nil || len(uploads) != 0 {
		t.Errorf("multipart uploads left after the erasure: %v %v", uploads, err)
	}
	if res.Clips != 2 || res.Uploads != 1 {
		t.Errorf("erasure deleted %d clips and aborted %d uploads, want 2 and 1", res.Clips, res.Uploads)
	}
}

// firstSendWaits is a mailer whose first message waits, after its claim
// was taken, until the test lets it go.
type firstSendWaits struct {
	privacy.Sender
	once             sync.Once
	waiting, release chan struct{}
}

func (s *firstSendWaits) Send(ctx context.Context, msg mail.Message) (string, error) {
	s.once.Do(func() {
		close(s.waiting)
		<-s.release
	})
	return s.Sender.Send(ctx, msg)
}

// TestErasureEmailsGoOnceWhenTwoRunsMeet: the request's run of an erasure
// is sending its first email when the stream's run starts. Each email
// still goes once, the run that found an email in another's hands says so
// (to be retried), and a later run sends nothing.
func TestErasureEmailsGoOnceWhenTwoRunsMeet(t *testing.T) {
	h := hold(t)
	ses, outbox, _ := testenv.SES(t)
	mailer := mail.NewMailer(ses, "stories@example.org")
	comms := []string{"comms@example.org"}
	slow := &firstSendWaits{Sender: mailer, waiting: make(chan struct{}), release: make(chan struct{})}
	run := func(m privacy.Sender) *privacy.Service {
		return &privacy.Service{Stories: h.stories, Clips: h.clips, Mail: m, Comms: comms, ClaimLease: time.Minute}
	}
	ctx := context.Background()
	var first privacy.Result
	var firstErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		first, firstErr = run(slow).Erase(ctx, h.story.ID)
	}()
	select {
	case <-slow.waiting:
	case <-done:
		t.Fatalf("the first run ended without sending: %v", firstErr)
	}
	second, err := run(mailer).Erase(ctx, h.story.ID)
	if !errors.Is(err, privacy.ErrEmailsPending) {
		t.Errorf("second run = %v, want ErrEmailsPending while the first run sends", err)
	}
	close(slow.release)
	<-done
	if firstErr != nil {
		t.Errorf("first run: %v", firstErr)
	}
	if first.Emailed+second.Emailed != 2 {
		t.Errorf("the runs sent %d and %d emails, want 2 in all", first.Emailed, second.Emailed)
	}
	third, err := run(mailer).Erase(ctx, h.story.ID)
	if err != nil || third.Emailed != 0 {
		t.Errorf("a later run sent %d emails (%v), want none", third.Emailed, err)
	}
	var toComms, toVolunteer int
	for _, e := range outbox.Emails() {
		switch {
		case slices.Equal(e.To, comms):
			toComms++
		case slices.Equal(e.To, []string{h.story.Email}):
			toVolunteer++
		default:
			t.Errorf("an email to %q", e.To)
		}
	}
	if toComms != 1 || toVolunteer != 1 {
		t.Errorf("%d alerts to the team and %d confirmations to the volunteer, want one of each", toComms, toVolunteer)
	}
}
