package perfcmd

import (
	"encoding/csv"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: `python3 -m sglang.bench_serving --num-prompts 10`, want: []string{"python3", "-m", "sglang.bench_serving", "--num-prompts", "10"}},
		{in: "  a\t b\n", want: []string{"a", "b"}},
		{in: `a 'b c' "d e"`, want: []string{"a", "b c", "d e"}},
		{in: `--extra-request-body '{"x": [1, 2]}'`, want: []string{"--extra-request-body", `{"x": [1, 2]}`}},
		{in: `a "it's" 'say "hi"'`, want: []string{"a", "it's", `say "hi"`}},
		{in: `a b\ c "q\"uote" "back\\slash" "keep\n"`, want: []string{"a", "b c", `q"uote`, `back\slash`, `keep\n`}},
		{in: `a '' ""`, want: []string{"a", "", ""}},
		{in: "a \\\nb", want: []string{"a", "b"}},
		{in: `a'b'"c"d`, want: []string{"abcd"}},
		{in: `--model=org/m --x=1`, want: []string{"--model=org/m", "--x=1"}},
		{in: `price $5`, want: []string{"price", "$5"}[:1], err: "variable expansion"},
		{in: `a 'price $5'`, want: []string{"a", "price $5"}},
		{in: `a; b`, err: "command chaining (;)"},
		{in: `a && b`, err: "command chaining (&&)"},
		{in: `a || b`, err: "command chaining (||)"},
		{in: `a | tee x`, err: "a pipe (|)"},
		{in: `a &`, err: "backgrounding (&)"},
		{in: "a `id`", err: "command substitution (`)"},
		{in: `a $(id)`, err: "command substitution ($()"},
		{in: `a "$(id)"`, err: "command substitution ($()"},
		{in: `a "$HOME"`, err: "variable expansion ($H)"},
		{in: `a ${X}`, err: "variable expansion (${)"},
		{in: `a > out.txt`, err: "redirection (>)"},
		{in: `a 2>&1`, err: "redirection (>)"},
		{in: `a *.py`, err: "a glob (*)"},
		{in: `a 'open`, err: "unterminated single quote"},
		{in: `a "open`, err: "unterminated double quote"},
		{in: `a \`, err: "trailing backslash"},
		{in: `a # comment`, err: "a comment (#)"},
		{in: `a b#c`, want: []string{"a", "b#c"}},
	} {
		got, err := Split(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Split(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestJoinRoundTrips(t *testing.T) {
	for _, args := range [][]string{
		{"python3", "-m", "sglang.bench_serving"},
		{"a b", "it's", `"q"`, "", "$HOME", "x;y", "*"},
	} {
		got, err := Split(Join(args))
		if err != nil || !reflect.DeepEqual(got, args) {
			t.Errorf("Split(Join(%q)) = %q, %v", args, got, err)
		}
	}
}

// fixtureCommands returns every non-empty perf command of the ISO-Bench
// export, keyed by item id.
func fixtureCommands(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open("../../testdata/fixtures/isobench/sglang-cases.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		if c := r[col["dataset_perf_command"]]; c != "" {
			out[r[col["item_id"]]] = c
		}
	}
	return out
}

func FuzzSplit(f *testing.F) {
	for _, c := range fixtureCommands(f) {
		f.Add(c)
	}
	for _, c := range []string{`a 'b' "c\"d" e\ f`, "a;b", `"$(x)"`, "a\\", `'`, `"`} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := Split(s)
		if err != nil {
			var se *ShellError
			if !asShellError(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("bad error %v for %q", err, s)
			}
			return
		}
		again, err := Split(Join(args))
		if err != nil || !reflect.DeepEqual(again, args) {
			t.Fatalf("round trip of %q: %q -> %q, %v", s, args, again, err)
		}
	})
}

func asShellError(err error, target **ShellError) bool {
	se, ok := err.(*ShellError)
	if ok {
		*target = se
	}
	return ok
}
