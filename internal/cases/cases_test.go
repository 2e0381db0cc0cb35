package cases

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeJSONLWithRowErrors(t *testing.T) {
	data := `{"id":"a","commit":"c1","parent":"p1","perf_command":"python3 -m sglang.bench_serving","pr":6994}
# a comment line

{"id":"b","commit":"c2","parent":"p2","perf_comand":"x"}
{"id":"c","commit":"c3","parent":"p3","gpu_count":"eight"}
{not json}
{"id":"d","commit":"c4","parent":"p4","models":["org/m"],"lora_paths":["lora=org/adapter"],"agent_name":"claude-code","agent_model":"claude-sonnet-4-20250514"}
{"id":"e","commit":"c5","parent":"p5","agent":"claude-code"}
`
	cs, errs, err := Decode([]byte(data), Detect("cases.jsonl", []byte(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "a" || cs[0].PR != "6994" || cs[1].ID != "d" || cs[1].Where != "case d" ||
		cs[1].AgentName != "claude-code" || cs[1].AgentModel != "claude-sonnet-4-20250514" {
		t.Fatalf("cases = %+v", cs)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		"case b: perf_comand: not a case field; did you mean perf_command?",
		"case c: gpu_count: is a JSON string, want int; fix the value's type",
		"line 6: not valid JSON",
		"case e: agent: not a case field; did you mean agent_patch?",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

func TestDecodeJSONForms(t *testing.T) {
	for _, data := range []string{
		`[{"id":"a","commit":"c","parent":"p"}]`,
		"{\n  \"cases\": [{\"id\":\"a\",\"commit\":\"c\",\"parent\":\"p\"}]\n}",
	} {
		cs, errs, err := Decode([]byte(data), Detect("cases", []byte(data)))
		if err != nil || len(errs) != 0 || len(cs) != 1 || cs[0].ID != "a" {
			t.Errorf("%s: %+v %v %v", data, cs, errs, err)
		}
	}
	if _, _, err := Decode([]byte(`{"x":1}`), JSON); err == nil {
		t.Error("an object without cases must be refused")
	}
}

func TestCSVIsoBench(t *testing.T) {
	cs, errs, err := Load("../../testdata/fixtures/isobench/sglang-cases.csv")
	if err != nil || len(errs) != 0 {
		t.Fatal(err, errs)
	}
	if len(cs) != 80 {
		t.Fatalf("%d cases", len(cs))
	}
	c := cs[0]
	if c.ID != "sglang_000_021f76e4" || c.Repo != "sgl-project/sglang" || len(c.Commit) != 40 ||
		len(c.Models) != 1 || c.Models[0] != "meta-llama/Llama-3.1-8B-Instruct" || len(c.FilesChanged) != 2 {
		t.Errorf("first case = %+v", c)
	}
	if len(cs[1].Models) != 0 {
		t.Errorf("N/A must become no model: %q", cs[1].Models)
	}
}

func TestCSVWithoutColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	_, _, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "lacks the ISO-Bench columns commit_hash") {
		t.Errorf("err = %v", err)
	}
}
