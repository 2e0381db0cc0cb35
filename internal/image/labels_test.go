package image

import "testing"

func TestValidateRepository(t *testing.T) {
	for repo, ok := range map[string]bool{
		"ghcr.io/o/sglang-bench": true, "127.0.0.1:5000/t/bench": true, "o/x": true,
		"": false, "ghcr.io/O/x": false, "ghcr.io/o/x:latest": false, "ghcr.io/o/x@sha256:ab": false,
	} {
		if err := ValidateRepository(repo); (err == nil) != ok {
			t.Errorf("ValidateRepository(%q) = %v", repo, err)
		}
	}
}

func TestTagsAndRedaction(t *testing.T) {
	c := "021f76e4f49861b2e9ea9ccff06a46d577e3c548"
	if got := Tag(c, "agent", "0123456789abcdef0123"); got != c+"-agent-0123456789ab" {
		t.Errorf("Tag = %s", got)
	}
	if got := Tag(c, "human", ""); got != c+"-human" {
		t.Errorf("Tag = %s", got)
	}
	if got := BaseTag("3ccf45ce45e29710eda3d6a4"); got != "base-3ccf45ce45e2" {
		t.Errorf("BaseTag = %s", got)
	}
	if got := RedactURL("https://x-access-token:ghs_secret@github.com/o/sglang"); got != "https://github.com/o/sglang" {
		t.Errorf("RedactURL = %s", got)
	}
}
