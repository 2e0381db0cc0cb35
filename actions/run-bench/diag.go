package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/metrics"
	"github.com/commitbench/commitbench/internal/result"
)

// Diagnostic subcommands (docs/diagnostics.md): they read one file and
// print JSON on stdout, streaming the file so that a multi-GB log is fine.

// headSize is how much of a file tool and format detection look at first.
const headSize = 1 << 20

// parseOutput is what `parse` prints. Each block is one flat object: its
// metrics under the tool's own JSON keys, plus "key" when the block has one.
type parseOutput struct {
	Tool   engine.Tool      `json:"tool"`
	Source string           `json:"source"` // "text" or "jsonl"
	Blocks []map[string]any `json:"blocks"`
	// Failure is METRICS_MISSING when a block lacks its tool's metrics.
	Failure *failure.Failure `json:"failure,omitempty"`
	// Error is a read or decode error; the blocks before it are kept.
	Error string `json:"error,omitempty"`
}

func parseCommand(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("parse", o)
	fs := x.Flags()
	toolName := fs.String("tool", "auto", "tool that wrote FILE: "+toolList()+" or auto")
	format := fs.String("format", "auto", "text (a log), jsonl (the tool's result file) or auto (from the content)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: run-bench parse [--tool TOOL] [--format FORMAT] FILE\n")
		fs.PrintDefaults()
	}
	path, err := parseArgs(x, args)
	if err != nil {
		return err
	}
	tool := engine.Tool(*toolName)
	if tool != "auto" && tool.Mode() == "" {
		return cli.Usagef("tool: %q is not a benchmark tool; pass one of %s or auto", tool, toolList())
	}
	if *format != "auto" && *format != "text" && *format != "jsonl" {
		return cli.Usagef("format: %q; pass text, jsonl or auto", *format)
	}
	f, head, err := openHead(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if tool == "auto" {
		if tool = metrics.Detect(head); tool == "" {
			if tool, err = detectAll(f); err != nil {
				return cli.Usagef("file %s: %v; fix the file or pass --tool", path, err)
			}
		}
		if tool == "" {
			return cli.Usagef("file %s: no benchmark output recognised; pass --tool %s", path, toolList())
		}
	}
	out := parseOutput{Tool: tool, Source: *format}
	if out.Source == "auto" {
		out.Source = "text"
		if metrics.IsJSONL(head) {
			out.Source = "jsonl"
		}
	}
	var blocks []result.Block
	if out.Source == "jsonl" {
		blocks, err = metrics.ParseJSONL(tool, f)
	} else {
		blocks, err = metrics.ParseText(tool, f)
	}
	out.Blocks = make([]map[string]any, 0, len(blocks))
	for _, b := range blocks {
		obj := map[string]any{}
		for k, v := range b.Metrics {
			obj[k] = v
		}
		if b.Key != "" {
			obj["key"] = b.Key
		}
		out.Blocks = append(out.Blocks, obj)
	}
	out.Failure = metrics.Check(tool, blocks)
	if err != nil {
		out.Error = fmt.Sprintf("file %s: %v", path, err)
	}
	if werr := writeJSON(x.Stdout(), out); werr != nil {
		return werr
	}
	switch {
	case err != nil:
		return fmt.Errorf("file %s: %v; the blocks before it were printed", path, err)
	case out.Failure != nil:
		return fmt.Errorf("file %s: %s: %s", path, out.Failure.Category, out.Failure.Evidence)
	}
	return nil
}

// classifyOutput is what `classify` prints; every field is always present.
type classifyOutput struct {
	Category  failure.Category `json:"category"`
	Retriable bool             `json:"retriable"`
	Evidence  string           `json:"evidence"`
	RootCause string           `json:"root_cause"`
	Hint      string           `json:"hint"`
	Rule      string           `json:"rule"`
	Line      int64            `json:"line"`
}

func classifyCommand(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("classify", o)
	fs := x.Flags()
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: run-bench classify FILE\n")
		fs.PrintDefaults()
	}
	path, err := parseArgs(x, args)
	if err != nil {
		return err
	}
	f, _, err := openHead(path)
	if err != nil {
		return err
	}
	defer f.Close()
	c := failure.Classify(f)
	return writeJSON(x.Stdout(), classifyOutput{c.Category, c.Retriable, c.Evidence, c.RootCause, c.Hint, c.Rule, c.Line})
}

// parseArgs parses the flags and returns the one FILE argument.
func parseArgs(x *actionsio.IO, args []string) (string, error) {
	if err := x.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", cli.Usagef("%v", err)
	}
	fs := x.Flags()
	switch fs.NArg() {
	case 1:
		return fs.Arg(0), nil
	case 0:
		return "", cli.Usagef("file: missing; pass the path of the file to read")
	}
	return "", cli.Usagef("file: %d given (%s); pass exactly one, flags before it", fs.NArg(), strings.Join(fs.Args(), " "))
}

// openHead opens path and reads its first headSize bytes, leaving the file
// at its start.
func openHead(path string) (*os.File, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, cli.Usagef("file %s: %v; pass a readable file", path, unwrapPath(err))
	}
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		f.Close()
		return nil, nil, cli.Usagef("file %s: %v; pass a readable regular file", path, unwrapPath(err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, cli.Usagef("file %s: %v; pass a regular file, not a pipe", path, unwrapPath(err))
	}
	return f, head[:n], nil
}

// detectAll looks for a tool's markers past the head (a long server log
// before the result), one chunk at a time; chunks overlap so that a marker
// across a boundary is still seen. It leaves f at its start.
func detectAll(f *os.File) (engine.Tool, error) {
	defer f.Seek(0, io.SeekStart)
	buf := make([]byte, headSize)
	keep := 0
	for {
		n, err := io.ReadFull(f, buf[keep:])
		if t := metrics.Detect(buf[:keep+n]); t != "" {
			return t, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return "", nil
			}
			return "", unwrapPath(err)
		}
		keep = copy(buf, buf[len(buf)-512:])
	}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // evidence quotes logs: keep <module> readable
	if err := enc.Encode(v); err != nil {
		return &cli.InternalError{Err: err}
	}
	return nil
}

func toolList() string {
	var s []string
	for _, t := range engine.Tools() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}
