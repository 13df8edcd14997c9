package submit_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/internal/testenv"
	"frontlinevoices/shared/story"
)

// Every question with choices, sent an answer not among them through the
// JSON API, is refused with a 422 that names the question and says what
// to do (its definition's message), and nothing is stored.
func TestUnknownChoiceIsA422WithItsMessage(t *testing.T) {
	for _, f := range story.Fields {
		if f.Options == nil || f.Kind == story.KindBlock {
			continue
		}
		t.Run(f.ID, func(t *testing.T) {
			h, stories := newHandler(t)
			var req apigw.Request
			testenv.Event(t, "submit-json.json", &req)
			var body map[string]any
			if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
				t.Fatal(err)
			}
			if f.Kind == story.KindCheckboxes {
				body[f.ID] = []string{"no-such-answer"}
			} else {
				body[f.ID] = "no-such-answer"
			}
			if f.ID == "hadContact" {
				delete(body, "mpContacts")
			}
			b, _ := json.Marshal(body)
			req.Body = string(b)
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Errors []story.FieldError `json:"errors"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &p)
			if resp.StatusCode != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0] != (story.FieldError{Field: f.ID, Message: f.Invalid}) {
				t.Fatalf("status %d, errors %+v; want 422 with %q on %s", resp.StatusCode, p.Errors, f.Invalid, f.ID)
			}
			if _, err := stories.GetStory(context.Background(), body["id"].(string)); err == nil {
				t.Error("the story was stored")
			}
		})
	}
}

// A plain form sent from its last step with a problem comes back with
// every answer kept: whichever choice a question has, it is still chosen
// (on the page shown) or carried (in a hidden field of the other steps).
func TestInvalidSendKeepsEveryChoice(t *testing.T) {
	for _, f := range story.Fields {
		if f.Options == nil {
			continue
		}
		for _, o := range f.Choices() {
			h, _ := newHandler(t)
			form := submitFormValues(t)
			form.Del(f.ID)
			form.Add(f.ID, o.ID)
			form.Set("name", "") // the problem
			resp := post(t, h, form)
			page := html.UnescapeString(resp.Body)
			kept := strings.Contains(page, `name="`+f.ID+`" value="`+o.ID+`" checked`) ||
				strings.Contains(page, `<input type="hidden" name="`+f.ID+`" value="`+o.ID+`">`) ||
				strings.Contains(page, `<option value="`+o.ID+`" selected>`)
			if resp.StatusCode >= 500 || !strings.Contains(page, "Enter your full name") || !kept {
				t.Errorf("%s=%s: status %d, the answer is not kept", f.ID, o.ID, resp.StatusCode)
			}
		}
	}
}
