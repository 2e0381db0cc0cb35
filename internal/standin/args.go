package standin

import (
	"fmt"
	"strconv"
	"strings"
)

// flags is an argparse-like view of a command line: every --flag with its
// values. The stand-in is lenient where argparse is strict: an unknown flag
// takes the values that follow it, so server-side flags it does not model
// (--attention-backend, --enable-torch-compile…) never stop a run.
type flags map[string][]string

// parseFlags parses args. bools are flags without a value.
func parseFlags(args []string, bools ...string) flags {
	isBool := map[string]bool{}
	for _, b := range bools {
		isBool[b] = true
	}
	f := flags{}
	var cur string
	for _, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 && !isNumber(a) {
			name, val, hasVal := strings.Cut(a[2:], "=")
			name = strings.ReplaceAll(name, "_", "-")
			f[name] = f[name][:0:0]
			cur = name
			if hasVal {
				f[name] = append(f[name], val)
				cur = ""
			}
			if isBool[name] {
				cur = ""
			}
			continue
		}
		if cur != "" {
			f[cur] = append(f[cur], a)
		}
	}
	return f
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func (f flags) has(name string) bool { _, ok := f[name]; return ok }

func (f flags) str(name, def string) string {
	if v := f[name]; len(v) > 0 {
		return v[0]
	}
	return def
}

func (f flags) num(name string, def float64) (float64, error) {
	v := f[name]
	if len(v) == 0 {
		return def, nil
	}
	if v[0] == "inf" {
		return posInf, nil
	}
	x, err := strconv.ParseFloat(v[0], 64)
	if err != nil {
		return 0, fmt.Errorf("argument --%s: invalid float value: '%s'", name, v[0])
	}
	return x, nil
}

func (f flags) integer(name string, def int) (int, error) {
	v := f[name]
	if len(v) == 0 {
		return def, nil
	}
	x, err := strconv.Atoi(v[0])
	if err != nil {
		return 0, fmt.Errorf("argument --%s: invalid int value: '%s'", name, v[0])
	}
	return x, nil
}

// ints reads an nargs="+" integer flag (bench_one_batch's --batch-size 1 8).
func (f flags) ints(name string, def int) ([]int, error) {
	v := f[name]
	if len(v) == 0 {
		return []int{def}, nil
	}
	out := make([]int, 0, len(v))
	for _, s := range v {
		x, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("argument --%s: invalid int value: '%s'", name, s)
		}
		out = append(out, x)
	}
	return out, nil
}
