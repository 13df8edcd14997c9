package uploads

import (
	"context"
	"net/http"
	"testing"
	"time"

	"frontlinevoices/shared/apigw"
	"frontlinevoices/shared/config"
	"frontlinevoices/shared/token"
)

func testConfig() Config {
	return Config{
		Shared:    config.Shared{TableName: "t", Bucket: "b"},
		Clips:     config.Clips{MaxClipBytes: 500 << 20, MaxClips: 5, ClipPartSize: 8 << 20, ClipTypes: []string{"video/mp4", "video/webm"}},
		URLExpiry: 15 * time.Minute,
	}
}

func TestConfigIsChecked(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"URLs that last over 15 minutes": func(c *Config) { c.URLExpiry = 16 * time.Minute },
		"parts under 5 MiB":              func(c *Config) { c.ClipPartSize = 1 << 20 },
		"an unknown type":                func(c *Config) { c.ClipTypes = []string{"video/avi"} },
	} {
		cfg := testConfig()
		change(&cfg)
		if _, err := New(cfg, nil, nil, token.Signer{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	h, err := New(testConfig(), nil, nil, token.Signer{})
	if err != nil {
		t.Fatal(err)
	}
	if h.maxParts != 100 { // 500 MiB in parts of at least 5 MiB
		t.Errorf("maxParts = %d", h.maxParts)
	}
}

func TestUnknownRoute(t *testing.T) {
	h, _ := New(testConfig(), nil, nil, token.Signer{})
	resp, err := h.Handle(context.Background(), apigw.Request{RouteKey: "GET /api/s3/nope"})
	if err != nil || resp.StatusCode != http.StatusNotFound || resp.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("unknown route = %d %v", resp.StatusCode, err)
	}
}
