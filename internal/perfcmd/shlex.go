// Package perfcmd reads a case's perf command: it splits it as a POSIX
// shell would, refuses anything that needs a shell to mean what it says,
// identifies the engine tool it runs and extracts what planning needs
// (model, parallelism, dataset, LoRA).
package perfcmd

import (
	"fmt"
	"strings"
)

// ShellError says why a command cannot be run without a shell.
type ShellError struct {
	Offset  int
	Problem string
}

func (e *ShellError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Problem, e.Offset)
}

// Split tokenizes s like a POSIX shell's word splitting with quote removal:
// single quotes keep everything literally, double quotes keep all but \" \\
// \$ \` and a line continuation, a backslash outside quotes escapes the next
// character. It refuses every construct whose meaning needs a shell —
// chaining (; && || |), backgrounding (&), redirection (< >), command or
// variable substitution ($( ` ${ $NAME) and globs — because commitbench runs
// the command as an argv, never through sh, and silently dropping half of a
// chained command is how the old pipeline benchmarked the wrong thing.
func Split(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inWord bool
		// Bytes, not runes: every special character is ASCII, and UTF-8
		// never hides an ASCII byte inside a multi-byte sequence.
		rs      = []byte(s)
		refuse  = func(i int, p string) ([]string, error) { return nil, &ShellError{Offset: i, Problem: p} }
		flush   = func() { args = append(args, cur.String()); cur.Reset(); inWord = false }
		special = func(i int) (string, bool) {
			switch rs[i] {
			case ';':
				return "command chaining (;)", true
			case '|':
				if i+1 < len(rs) && rs[i+1] == '|' {
					return "command chaining (||)", true
				}
				return "a pipe (|)", true
			case '&':
				if i+1 < len(rs) && rs[i+1] == '&' {
					return "command chaining (&&)", true
				}
				return "backgrounding (&)", true
			case '<', '>':
				return "redirection (" + string(rs[i]) + ")", true
			case '`':
				return "command substitution (`)", true
			case '(', ')':
				return "a subshell or grouping (" + string(rs[i]) + ")", true
			case '*', '?', '[':
				return "a glob (" + string(rs[i]) + ")", true
			}
			return "", false
		}
	)
	dollar := func(i int) (string, bool) {
		if rs[i] != '$' || i+1 >= len(rs) {
			return "", false
		}
		switch n := rs[i+1]; {
		case n == '(':
			return "command substitution ($()", true
		case n == '{', n == '_', n >= 'A' && n <= 'Z', n >= 'a' && n <= 'z', n >= '0' && n <= '9', strings.IndexByte("@*#?$!-", n) >= 0:
			return "variable expansion ($" + string(n) + ")", true
		}
		return "", false
	}
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				flush()
			}
		case c == '#' && !inWord:
			return refuse(i, "a comment (#)")
		case c == '\\':
			inWord = true
			if i+1 >= len(rs) {
				return refuse(i, "a trailing backslash")
			}
			i++
			if rs[i] != '\n' {
				cur.WriteByte(rs[i])
			}
		case c == '\'':
			inWord = true
			end := indexByte(rs, i+1, '\'')
			if end < 0 {
				return refuse(i, "an unterminated single quote")
			}
			cur.WriteString(string(rs[i+1 : end]))
			i = end
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch {
				case rs[j] == '\\' && j+1 < len(rs) && strings.IndexByte("\"\\$`\n", rs[j+1]) >= 0:
					j++
					if rs[j] != '\n' {
						cur.WriteByte(rs[j])
					}
				case rs[j] == '`':
					return refuse(j, "command substitution (`)")
				default:
					if p, bad := dollar(j); bad {
						return refuse(j, p)
					}
					cur.WriteByte(rs[j])
				}
			}
			if j >= len(rs) {
				return refuse(i, "an unterminated double quote")
			}
			i = j
		default:
			if p, bad := dollar(i); bad {
				return refuse(i, p)
			}
			if p, bad := special(i); bad {
				return refuse(i, p)
			}
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		flush()
	}
	return args, nil
}

func indexByte(rs []byte, from int, r byte) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// Join quotes args so that Split(Join(args)) == args.
func Join(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = quote(a)
	}
	return strings.Join(out, " ")
}

func quote(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
