// Command digest measures what a digest reads, and how long it takes, over
// a table holding many older stories against one holding only the new
// ones: `go run ./infra/bench/digest` (defaults: 100,000 older stories, 200
// new ones, 5 runs each).
//
// Both tables are template.yaml's table on minidyn's in-memory DynamoDB,
// and the digest is the real handler (store, grouping, CSV export, email
// rendering) with in-memory S3 and SES. Items read are what the digest's
// requests returned: what DynamoDB reads and bills. Wall time is split into
// the time inside the DynamoDB client and the rest, because minidyn
// evaluates a Query against every item of the index (a linear scan), where
// DynamoDB goes straight to the partition and sort-key range: the emulator's
// time grows with the table even when the items read do not.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	minidyn "github.com/truora/minidyn/aws-v2/client"

	"frontlinevoices/infra/local/stack"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/mail"
	"frontlinevoices/shared/store"
	"frontlinevoices/shared/story"
)

func main() {
	older := flag.Int("older", 100000, "older stories, already sent in earlier digests")
	fresh := flag.Int("new", 200, "new stories since the last digest")
	runs := flag.Int("runs", 5, "digests timed on each table")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(*older, *fresh, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// The period: the last digest 72 hours ago, this one a minute ago.
var (
	end       = time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	watermark = end.Add(-72 * time.Hour)
	grace     = 10 * time.Minute
)

type result struct {
	table          string
	items, queries int // what the digest read
	html, text     int // the email's parts, bytes
	stories        int
	wall, inDB     []time.Duration
}

func run(older, fresh, runs int) error {
	ctx := context.Background()
	var results []result
	for _, tb := range []struct {
		name  string
		older int
	}{{fmt.Sprintf("%d new only", fresh), 0}, {fmt.Sprintf("%d older + %d new", older, fresh), older}} {
		if tb.older > 0 {
			fmt.Fprintf(os.Stderr, "loading %d older stories (minidyn sorts its whole index on every write: a few minutes)…\n", tb.older)
		}
		db, err := table(ctx, tb.older, fresh)
		if err != nil {
			return err
		}
		r := result{table: tb.name}
		for i := range runs {
			if err := reset(ctx, db); err != nil {
				return err
			}
			h := digest.New(digest.Config{
				Mail: config.Mail{CommsAddress: []string{"comms@example.org"}}, MaxInEmail: 200,
				LinkTTL: 7 * 24 * time.Hour, ClaimLease: 15 * time.Minute, Grace: grace, FirstLookback: 30 * 24 * time.Hour,
			}, store.New(db, "StoriesTable"), &files{}, discard{&r.html, &r.text})
			db.reset()
			runtime.GC()
			start := time.Now()
			res, err := h.Handle(ctx, digest.Event{ScheduledTime: end.Format(time.RFC3339)})
			wall := time.Since(start)
			if err != nil {
				return err
			}
			if res.Status != digest.StatusSent || res.Stories != fresh {
				return fmt.Errorf("%s: digest %+v, want %d stories sent", tb.name, res, fresh)
			}
			items, queries, inDB := db.totals()
			if i == 0 {
				r.items, r.queries, r.stories = items, queries, res.Stories
			}
			r.wall = append(r.wall, wall)
			r.inDB = append(r.inDB, inDB)
		}
		results = append(results, r)
	}
	report(results)
	return nil
}

func report(rs []result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "table\tstories sent\titems read\trequests\twall (median)\tin DynamoDB client\tdigest's own\t")
	for _, r := range rs {
		wall, db := median(r.wall), median(r.inDB)
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", r.table, r.stories, r.items, r.queries, ms(wall), ms(db), ms(wall-db))
	}
	w.Flush()
	a, b := rs[0], rs[1]
	fmt.Printf("\nthe email: HTML %d KB, text %d KB\n", rs[0].html/1024, rs[0].text/1024)
	fmt.Printf("ratio (%s ÷ %s): items read %.2f, wall time %.2f (in DynamoDB client %.2f, digest's own %.2f)\n",
		b.table, a.table, float64(b.items)/float64(a.items),
		float64(median(b.wall))/float64(median(a.wall)),
		float64(median(b.inDB))/float64(median(a.inDB)),
		float64(median(b.wall)-median(b.inDB))/float64(median(a.wall)-median(a.inDB)))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// table makes template.yaml's table on minidyn with older stories spread
// over the year before the watermark, and fresh ones after it.
func table(ctx context.Context, older, fresh int) (*counting, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	tmpl, err := stack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	in, err := tmpl.CreateTableInput("StoriesTable")
	if err != nil {
		return nil, err
	}
	db := minidyn.NewClient()
	if _, err := db.CreateTable(ctx, in); err != nil {
		return nil, err
	}
	s := store.New(db, "StoriesTable")
	year := 365 * 24 * time.Hour
	for i := range older {
		at := watermark.Add(-year + time.Duration(i+1)*(year/time.Duration(older)))
		if _, _, err := s.PutStory(ctx, newStory(i, at)); err != nil {
			return nil, err
		}
		if (i+1)%25000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d\n", i+1)
		}
	}
	span := end.Sub(watermark)
	for i := range fresh {
		at := watermark.Add(time.Duration(i+1) * span / time.Duration(fresh+1))
		if _, _, err := s.PutStory(ctx, newStory(older+i, at)); err != nil {
			return nil, err
		}
	}
	return &counting{DynamoDB: db}, nil
}

// reset puts the digest state back: the last digest ended at the
// watermark, having sent the older stories of its last grace minutes.
func reset(ctx context.Context, db *counting) error {
	s := store.New(db, "StoriesTable")
	p, _, err := s.ReadPeriod(ctx, watermark.Add(-grace), watermark)
	if err != nil {
		return err
	}
	var recent []string
	for _, st := range p.Stories {
		recent = append(recent, st.ID)
	}
	prev, err := s.DigestState(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if ok, err := s.ClaimDigest(ctx, store.DigestClaim{Watermark: prev.Watermark, End: watermark, Owner: "bench", Now: now, Until: now.Add(time.Second)}); err != nil || !ok {
		return fmt.Errorf("reset: claim %v %v", ok, err)
	}
	return s.CompleteDigest(ctx, store.DigestSent{Owner: "bench", Start: watermark.Add(-time.Hour), End: watermark, Recent: recent, SentAt: now})
}

var (
	boroughs   = []string{"camden", "southwark", "brent", "newham", "croydon", "lambeth", "barnet", "ealing", "hillingdon", "tower_hamlets"}
	activities = [][]string{{"media"}, {"mp_meeting"}, {"video", "social"}, nil, {"media", "mp_meeting", "video"}}
	paragraph  = strings.Repeat("Our phone lines opened at 8am and within ten minutes 140 people were waiting. ", 8)
)

func newStory(n int, at time.Time) story.Story {
	id := fmt.Sprintf("%026d", n)
	b, _ := story.FindBorough(boroughs[n%len(boroughs)])
	st := story.Story{
		ID: id, Name: fmt.Sprintf("Volunteer %d", n), Role: "practice_nurse", Practice: "Bellenden Road Surgery",
		Borough: b.ID, Area: b.Area.ID, Email: fmt.Sprintf("volunteer%d@example.org", n), PreferredContact: "email",
		Topics: []string{"workload", "access"}, Text: paragraph, Activities: activities[n%len(activities)],
		PatientsSpeak: []string{"yes", "maybe", "no"}[n%3], SubmittedAt: at, ContentHash: id,
		Consents: []story.ConsentRecord{
			{Statement: "contact", Version: "v", Agreed: true, At: at, Channel: "form"},
			{Statement: "store", Version: "v", Agreed: true, At: at, Channel: "form"},
			{Statement: "public", Version: "v", Agreed: n%2 == 0, At: at, Channel: "form"},
		},
	}
	if n%7 == 0 {
		st.Contacts = []story.Contact{{Name: "Jane Example MP", What: "Met at a constituency surgery."}}
	}
	return st
}

// counting counts what the digest's requests read and the time spent in
// the DynamoDB client.
type counting struct {
	store.DynamoDB
	mu      sync.Mutex
	items   int
	queries int
	inDB    time.Duration
}

func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items, c.queries, c.inDB = 0, 0, 0
}

func (c *counting) totals() (int, int, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items, c.queries, c.inDB
}

func (c *counting) add(items int, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items += items
	c.queries++
	c.inDB += d
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.Query(ctx, in, opts...)
	if err == nil {
		c.add(len(out.Items), time.Since(start))
	}
	return out, err
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.GetItem(ctx, in, opts...)
	if err == nil {
		n := 0
		if len(out.Item) > 0 {
			n = 1
		}
		c.add(n, time.Since(start))
	}
	return out, err
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.UpdateItem(ctx, in, opts...)
	c.add(0, time.Since(start))
	return out, err
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.PutItem(ctx, in, opts...)
	c.add(0, time.Since(start))
	return out, err
}

// files is an in-memory S3 for the export.
type files struct{ n int }

func (f *files) Put(_ context.Context, _, _ string, body []byte) error {
	f.n += len(body)
	return nil
}
func (f *files) Link(_ context.Context, key, name string) (string, error) {
	return "https://bench.example/" + key + "?download=" + name, nil
}

// discard is an SES that sends nothing; it notes the email's size.
type discard struct{ html, text *int }

func (d discard) Send(_ context.Context, m mail.Message) (string, error) {
	*d.html, *d.text = len(m.HTML), len(m.Text)
	return "bench", nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("template.yaml not found above %s", dir)
		}
		dir = parent
	}
}
