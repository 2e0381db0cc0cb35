// Package actionsio gives every stage the same inputs and outputs whether it
// runs as a GitHub Action or by hand: inputs come from command-line flags or,
// when a flag was not given, from INPUT_* variables; outputs, the job summary,
// groups, annotations and masks go to the Actions files and workflow commands
// when those exist and to plain stderr otherwise, so nothing panics on a
// developer's machine where GITHUB_OUTPUT is unset.
package actionsio

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	githubactions "github.com/sethvargo/go-githubactions"
)

// IO is one stage's view of its environment. Create it with New, declare
// inputs on Flags(), then call Parse.
type IO struct {
	name   string
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	action *githubactions.Action
	flags  *flag.FlagSet

	mu      sync.Mutex
	secrets []string
}

// Options configures New; zero values mean the process environment.
type Options struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

// New returns the I/O for the stage called name.
func New(name string, o Options) *IO {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	x := &IO{name: name, getenv: o.Getenv, stdout: o.Stdout, stderr: o.Stderr}
	// Workflow commands go to stdout, where the runner reads them; locally
	// the Action is still usable for its environment lookups.
	x.action = githubactions.New(githubactions.WithGetenv(o.Getenv), githubactions.WithWriter(o.Stdout))
	x.flags = flag.NewFlagSet(name, flag.ContinueOnError)
	x.flags.SetOutput(o.Stderr)
	return x
}

// Flags is where a stage declares its inputs, named exactly like the
// action.yml inputs (hyphens included).
func (x *IO) Flags() *flag.FlagSet { return x.flags }

// Stdout is where a stage prints its primary result (JSON for diagnostic
// commands).
func (x *IO) Stdout() io.Writer { return x.stdout }

// Stderr receives human-readable progress. Everything written through it
// has registered secrets redacted.
func (x *IO) Stderr() io.Writer { return &redactingWriter{io: x, w: x.stderr} }

// Getenv reads the stage's environment.
func (x *IO) Getenv(k string) string { return x.getenv(k) }

// UnderActions reports whether the stage runs inside a GitHub Actions job.
func (x *IO) UnderActions() bool { return x.getenv("GITHUB_ACTIONS") == "true" }

// Parse reads args into the declared flags, then fills every flag that was
// not given on the command line from its INPUT_* variable. An input given
// both ways takes the flag: the person at the keyboard wins.
func (x *IO) Parse(args []string) error {
	if err := x.flags.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	x.flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	x.flags.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		v, ok := x.input(f.Name)
		if !ok {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("input %s: %q: %v", f.Name, v, e)
		}
	})
	return err
}

// input looks up INPUT_<NAME> the way the runner spells it (upper case,
// spaces to underscores, hyphens kept) and, because shells cannot export
// names with hyphens, also the underscore spelling.
func (x *IO) input(name string) (string, bool) {
	up := strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	for _, k := range []string{"INPUT_" + up, "INPUT_" + strings.ReplaceAll(up, "-", "_")} {
		if v := strings.TrimSpace(x.getenv(k)); v != "" {
			return v, true
		}
	}
	return "", false
}

// Mask registers a secret: it is masked in the Actions log and redacted
// from everything written through Stderr. Empty values are ignored.
func (x *IO) Mask(secret string) {
	if strings.TrimSpace(secret) == "" {
		return
	}
	x.mu.Lock()
	x.secrets = append(x.secrets, secret)
	// Longest first so that a secret containing another is replaced whole.
	sort.Slice(x.secrets, func(i, j int) bool { return len(x.secrets[i]) > len(x.secrets[j]) })
	x.mu.Unlock()
	if x.UnderActions() {
		x.action.AddMask(secret)
	}
}

// Redact replaces every registered secret in s with ***.
func (x *IO) Redact(s string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, sec := range x.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

// SetOutput sets a step output, or prints it to stderr when run by hand.
func (x *IO) SetOutput(name, value string) {
	if x.getenv("GITHUB_OUTPUT") != "" {
		x.action.SetOutput(name, value)
		return
	}
	if len(value) > 300 {
		// A matrix can be hundreds of kilobytes; a terminal needs the gist.
		value = fmt.Sprintf("%s… (%d bytes)", value[:200], len(value))
	}
	fmt.Fprintf(x.Stderr(), "output %s=%s\n", name, value)
}

// AddSummary appends markdown to the job summary; by hand it goes to stderr
// so that a local run shows what the job summary would.
func (x *IO) AddSummary(markdown string) {
	if x.getenv("GITHUB_STEP_SUMMARY") != "" {
		x.action.AddStepSummary(x.Redact(markdown))
		return
	}
	fmt.Fprintln(x.Stderr(), markdown)
}

// Group opens a collapsible log group; the returned func closes it.
func (x *IO) Group(title string) func() {
	if x.UnderActions() {
		x.action.Group(x.Redact(title))
		return x.action.EndGroup
	}
	fmt.Fprintf(x.Stderr(), "== %s\n", title)
	return func() {}
}

// Warningf emits a warning annotation, or a "warning:" line by hand.
func (x *IO) Warningf(format string, args ...any) { x.annotate("warning", format, args...) }

// Errorf emits an error annotation, or an "error:" line by hand.
func (x *IO) Errorf(format string, args ...any) { x.annotate("error", format, args...) }

// Noticef emits a notice annotation, or a "notice:" line by hand.
func (x *IO) Noticef(format string, args ...any) { x.annotate("notice", format, args...) }

func (x *IO) annotate(level, format string, args ...any) {
	msg := x.Redact(fmt.Sprintf(format, args...))
	if !x.UnderActions() {
		fmt.Fprintf(x.stderr, "%s: %s\n", level, msg)
		return
	}
	switch level {
	case "warning":
		x.action.Warningf("%s", msg)
	case "error":
		x.action.Errorf("%s", msg)
	default:
		x.action.Noticef("%s", msg)
	}
}

// Infof prints a progress line to stderr.
func (x *IO) Infof(format string, args ...any) {
	fmt.Fprintf(x.Stderr(), format+"\n", args...)
}

type redactingWriter struct {
	io *IO
	w  io.Writer
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.io.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
