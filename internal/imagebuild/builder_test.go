package imagebuild

import (
	"regexp"
	"strings"
	"testing"
)

// The buildx command line (docker buildx is not installed on the
// development machine, so its invocation is checked here, not run).
func TestBuildxArgs(t *testing.T) {
	b := &buildxBuilder{docker: "docker", cacheFrom: []string{"type=gha,scope=sglang"}, cacheTo: []string{"type=gha,mode=max,scope=sglang"}}
	got := strings.Join(b.args("/tmp/ctx", "ghcr.io/o/x:base-0123", map[string]string{"b": "2", "a": "1 \"q\""}), " ")
	want := `buildx build --load --progress=plain -t ghcr.io/o/x:base-0123 -f /tmp/ctx/Dockerfile --label a=1 "q" --label b=2 ` +
		`--cache-from type=gha,scope=sglang --cache-to type=gha,mode=max,scope=sglang /tmp/ctx`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestTailTracksTheStep(t *testing.T) {
	cases := []struct {
		name  string
		step  *regexp.Regexp
		lines []string
		want  string
	}{
		{"classic", classicStep, []string{"Step 1/3 : FROM x", " ---> abc", "Step 2/3 : RUN make", "error: boom"}, "Step 2/3 : RUN make"},
		{"buildx", buildxStep, []string{"#5 [1/3] FROM x", "#7 [2/3] RUN make", "#7 0.3 error: boom", "ERROR: failed to solve"}, "#7 [2/3] RUN make"},
	}
	for _, c := range cases {
		tl := newTail(2, c.step)
		for _, l := range c.lines {
			tl.add(l)
		}
		if tl.step != c.want || len(tl.lines) != 2 || tl.lines[1] != c.lines[3] {
			t.Errorf("%s: step %q, tail %q", c.name, tl.step, tl.lines)
		}
	}
}
