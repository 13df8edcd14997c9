package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/chromedp/chromedp"

	"frontlinevoices/infra/local/stacktest"
	"frontlinevoices/shared/store"
)

// A volunteer sends a story, opens the confirmation on the outbox page,
// follows the personal link and erases everything.
func TestWithdrawFromTheLinkInTheConfirmationEmail(t *testing.T) {
	t.Parallel()
	ctx := tab(t, false) // the withdrawal page works without JavaScript
	email := stacktest.Unique("withdraw.me@example.org")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/"),
		fillStory(email, nil),
		click(byID("send")),
		waitVisible(chromedp.CSS(".panel h1")),
	); err != nil {
		t.Fatal(err)
	}
	waitIdle(t)
	var confirmation string
	for _, e := range st.Outbox.Emails() {
		if e.To[0] == email {
			confirmation = e.ID
		}
	}
	if confirmation == "" {
		t.Fatal("no confirmation email")
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.URL+"/_local/outbox"),
		click(chromedp.CSS(`a[href="/_local/outbox/`+confirmation+`"]`)),
		waitVisible(byID("open-html")),
		click(byID("open-html")),
		waitVisible(chromedp.CSS(`a[href*="/withdraw?t="]`)),
		click(chromedp.CSS(`a[href*="/withdraw?t="]`)),
		waitVisible(byID("erase")),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "withdraw")
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil || !strings.Contains(page, "Priya Shah") || !strings.Contains(page, email) {
		t.Fatalf("the page does not show what is held (%v):\n%s", err, page)
	}
	link, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		click(byID("confirm")),
		click(byID("erase")),
		waitVisible(chromedp.CSS(".panel h1")),
	); err != nil {
		t.Fatal(err)
	}
	done, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".panel h1")))
	if done != "Your story has been erased" {
		t.Fatalf("after erasing: %q", done)
	}
	// The link now says the story is gone.
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if h1 != "This story has already been erased" {
		t.Fatalf("the used link says %q", h1)
	}
	id := link[strings.Index(link, "t=")+2:]
	id = id[:strings.IndexByte(id, '.')]
	_, err = store.New(dynamodb.NewFromConfig(st.AWS), st.Tables["StoriesTable"]).GetStory(context.Background(), id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("story still held: %v", err)
	}
	waitIdle(t)
	var erased bool
	for _, e := range st.Outbox.Emails() {
		if e.To[0] == email && e.Subject == "Your story has been erased" {
			erased = true
		}
	}
	if !erased {
		t.Fatal("no erasure confirmation email")
	}
}
