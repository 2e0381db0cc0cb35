package perfcmd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// Facts are what planning needs from a command.
type Facts struct {
	// Model is the model the command names ("" when it names none).
	Model string
	// TP and DP are the parallelism the command asks for (0: not given).
	TP, DP int
	// Dataset is the dataset name, the tool's default when not given.
	Dataset string
	// NeedsDownload is true when the dataset is fetched at run time.
	NeedsDownload bool
	LoRA          string
	// ClientArgs is the command with server-only flags removed (server mode).
	ClientArgs []string
	// ServerArgs are the server flags the command implies (server mode).
	ServerArgs []string
	// Warnings are flags the tool does not know, and normalisations.
	Warnings []string
}

// Facts extracts what planning needs. An unparsable TP or DP value is an
// error naming the flag.
func (c *Command) Facts() (Facts, error) {
	f := Facts{Warnings: append([]string{}, c.Notes...)}
	// Resolve against the tool's flags plus the server's: a bench_serving
	// command that says --tp means the server's --tp-size.
	known := knownWithServer[c.Tool]
	canon := make([]string, len(c.Flags))
	for i, fl := range c.Flags {
		canon[i] = fl
		if !strings.HasPrefix(fl, "--") && fl != "-tp" {
			continue
		}
		key, val, hasEq := strings.Cut(fl, "=")
		if key == "-tp" {
			key = "--tp-size"
		}
		key = strings.ReplaceAll(key, "_", "-")
		if full, ok := resolve(key, known); ok {
			key = full
		} else {
			f.Warnings = append(f.Warnings, fmt.Sprintf("flag %s is not known to %s", key, c.Tool))
		}
		if hasEq {
			canon[i] = key + "=" + val
		} else {
			canon[i] = key
		}
	}
	all := append(append([]string{}, canon...), c.serverHints...)
	var err error
	if f.TP, err = intFlag(all, "--tp-size", "--tensor-parallel-size"); err != nil {
		return f, err
	}
	if f.DP, err = intFlag(all, "--dp-size", "--data-parallel-size"); err != nil {
		return f, err
	}
	if v, ok := Lookup(all, "--model-path"); ok {
		f.Model = v
	} else if v, ok := Lookup(all, "--model"); ok {
		f.Model = v
	}
	f.LoRA, _ = Lookup(all, "--lora-name")
	f.Dataset, f.NeedsDownload = dataset(c.Tool, all)
	if c.Mode == engine.ModeServer {
		f.ClientArgs, f.ServerArgs = splitServer(c.Args[:3], canon, c.serverHints)
	}
	return f, nil
}

func intFlag(flags []string, names ...string) (int, error) {
	v, ok := Lookup(flags, names[0], names[1:]...)
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q is not a positive integer", names[0], v)
	}
	return n, nil
}

// dataset returns the dataset a run uses and whether it is downloaded at
// run time. SGLang's "random" samples real text from ShareGPT, so it
// downloads too; only random-ids and generated-shared-prefix do not.
func dataset(t engine.Tool, flags []string) (string, bool) {
	name, ok := Lookup(flags, "--dataset-name")
	if !ok {
		switch t {
		case engine.BenchServing, engine.BenchOfflineThroughput:
			name = "sharegpt"
		default:
			return "", false
		}
	}
	_, hasPath := Lookup(flags, "--dataset-path")
	switch name {
	case "random-ids", "generated-shared-prefix":
		return name, false
	case "sharegpt", "random":
		return name, !hasPath
	}
	return name, true
}

// splitServer moves the server-only flags of a bench_serving command to the
// server we launch; the client gets the rest.
func splitServer(prefix, canon, hints []string) (client, server []string) {
	client = append([]string{}, prefix...)
	server = append([]string{}, hints...)
	for i := 0; i < len(canon); i++ {
		key, _, hasEq := strings.Cut(canon[i], "=")
		isServer := contains(serverFlags, key) && !contains(servingFlags, key)
		takesValue := !hasEq && i+1 < len(canon) && !isFlag(canon[i+1])
		dst := &client
		if isServer {
			dst = &server
		}
		*dst = append(*dst, canon[i])
		if takesValue {
			i++
			*dst = append(*dst, canon[i])
		}
	}
	return client, server
}
