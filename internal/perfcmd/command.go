package perfcmd

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// Command is a perf command understood well enough to plan it.
type Command struct {
	// Env holds leading NAME=value assignments.
	Env []string
	// Args is the argv to run: the interpreter, "-m", the module, the flags.
	Args []string
	Tool engine.Tool
	Mode engine.Mode
	// Flags are the tool's flags (Args after the module), with argparse
	// abbreviations still as written.
	Flags []string
	// TranslatedFrom is the original command when Args is a translation.
	TranslatedFrom string
	// Notes record normalisations a reader should know about.
	Notes []string
	// serverHints are server flags found in a translated command.
	serverHints []string
}

// NotRunnableError says why a command cannot be run as given.
type NotRunnableError struct{ Reason string }

func (e *NotRunnableError) Error() string { return e.Reason }

func notRunnable(format string, args ...any) error {
	return &NotRunnableError{Reason: fmt.Sprintf(format, args...)}
}

var (
	pythonRe = regexp.MustCompile(`^python(\d+(\.\d+)?)?$`)
	envRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// Parse reads a perf command. A command that cannot run returns a
// *NotRunnableError whose reason is meant for the plan table.
func Parse(cmd string) (*Command, error) {
	if strings.TrimSpace(cmd) == "" {
		return nil, notRunnable("no perf command")
	}
	args, err := Split(cmd)
	if err != nil {
		return nil, notRunnable("perf command uses %v; give a single command without shell syntax", err)
	}
	c := &Command{}
	for len(args) > 0 && envRe.MatchString(args[0]) {
		c.Env = append(c.Env, args[0])
		args = args[1:]
	}
	if len(args) == 0 {
		return nil, notRunnable("perf command has only variable assignments")
	}
	if !pythonRe.MatchString(path.Base(args[0])) {
		return nil, notRunnable("perf command runs %q, not python; only the engine's Python benchmark tools are supported", args[0])
	}
	if len(args) < 2 {
		return nil, notRunnable("perf command runs python with no module or script")
	}
	if args[1] == "-m" {
		if len(args) < 3 {
			return nil, notRunnable("perf command has -m without a module")
		}
		return c.fromModule(args[0], args[2], args[3:])
	}
	return c.fromScript(args[0], args[1], args[2:], cmd)
}

func (c *Command) fromModule(python, module string, flags []string) (*Command, error) {
	name, ok := strings.CutPrefix(module, "sglang.")
	if !ok {
		return nil, notRunnable("module %s is not an SGLang benchmark tool", module)
	}
	switch name {
	case "launch_server":
		if v, ok := Lookup(flags, "--nnodes"); ok && v != "1" {
			return nil, notRunnable("multi-node launch (--nnodes %s) is not supported; give a single-node benchmark command", v)
		}
		return nil, notRunnable("sglang.launch_server starts a server but measures nothing; give a benchmark command such as sglang.bench_serving")
	}
	tool := engine.Tool(name)
	if tool.Mode() == "" {
		return nil, notRunnable("module %s is not a known SGLang benchmark tool (known: %s)", module, toolList())
	}
	c.Tool, c.Mode = tool, tool.Mode()
	c.Flags = flags
	c.Args = append([]string{python, "-m", module}, flags...)
	return c, nil
}

// fromScript accepts SGLang's own tools run as scripts and vLLM's
// benchmark_serving.py (translated); every other script is refused, because
// an accuracy run or an ad-hoc script yields no metric we can compare.
func (c *Command) fromScript(python, script string, flags []string, orig string) (*Command, error) {
	base := strings.TrimSuffix(path.Base(script), ".py")
	dir := path.Dir(script)
	switch {
	case base == "benchmark_serving" && (dir == "benchmarks" || strings.HasSuffix(dir, "/benchmarks")):
		return c.translateVLLM(flags, orig)
	case engine.Tool(base).Mode() != "" && (dir == "." || dir == "python/sglang" || dir == "sglang"):
		c.Notes = append(c.Notes, fmt.Sprintf("script %s run as python3 -m sglang.%s", script, base))
		return c.fromModule(python, "sglang."+base, flags)
	case strings.Contains(script, "gsm8k") || strings.Contains(script, "mmlu") || strings.Contains(script, "hellaswag"):
		return nil, notRunnable("%s is an accuracy benchmark, not a performance tool", script)
	}
	return nil, notRunnable("script %s is not an SGLang benchmark tool (known: %s)", script, toolList())
}

func toolList() string {
	var s []string
	for _, t := range engine.Tools() {
		s = append(s, "sglang."+string(t))
	}
	return strings.Join(s, ", ")
}

// Lookup returns the value of flag (exactly as named, or written as an
// argparse abbreviation that only this flag could mean) in flags.
func Lookup(flags []string, name string, aliases ...string) (string, bool) {
	names := append([]string{name}, aliases...)
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		if !strings.HasPrefix(f, "-") {
			continue
		}
		key, val, hasEq := strings.Cut(f, "=")
		for _, n := range names {
			if key != n {
				continue
			}
			if hasEq {
				return val, true
			}
			if i+1 < len(flags) && !isFlag(flags[i+1]) {
				return flags[i+1], true
			}
			return "", true
		}
	}
	return "", false
}

func isFlag(s string) bool {
	if !strings.HasPrefix(s, "-") || s == "-" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err != nil
}
