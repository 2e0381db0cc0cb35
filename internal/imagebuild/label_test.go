package imagebuild

import "testing"

func TestLabelInstruction(t *testing.T) {
	got := labelInstruction(map[string]string{
		"org.opencontainers.image.source": `https://example.com/a "b" $HOME\x`,
		"dev.commitbench.variant":         "human",
	})
	want := "\nLABEL \\\n    dev.commitbench.variant=\"human\" \\\n    org.opencontainers.image.source=\"https://example.com/a \\\"b\\\" \\$HOME\\\\x\"\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if labelInstruction(nil) != "" {
		t.Fatal("no labels should add nothing")
	}
}
