package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DefaultLogCap bounds one saved log: the first and last half are kept, so
// that both the startup (configuration, the first error) and the end (the
// fatal traceback) survive a server that logs for hours.
const DefaultLogCap = 16 << 20

// evidenceLines is how many final lines a log keeps in memory for a
// failure's evidence when no rule matched.
const evidenceLines = 20

// logFile is a process's saved output. Every line is redacted before it
// is written, and handed to onLine (readiness detection) as it arrives.
type logFile struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	headCap int64
	tailCap int
	written int64
	tail    []byte
	dropped int64
	partial []byte
	last    []string
	redact  func(string) string
	onLine  func(string)
	closed  bool
}

func newLogFile(path string, capBytes int64, redact func(string) string, onLine func(string)) (*logFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &logFile{f: f, path: path, headCap: capBytes / 2, tailCap: int(capBytes - capBytes/2), redact: redact, onLine: onLine}, nil
}

// Write implements io.Writer; it never fails the process it records.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	// A process printing a progress bar without newlines must not grow
	// memory without bound.
	if len(l.partial) > 64<<10 {
		l.line(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

func (l *logFile) line(s string) {
	s = strings.TrimSuffix(l.redact(s), "\r")
	if l.onLine != nil {
		l.onLine(s)
	}
	l.last = append(l.last, s)
	if len(l.last) > evidenceLines {
		l.last = l.last[len(l.last)-evidenceLines:]
	}
	b := []byte(s + "\n")
	if room := l.headCap - l.written; room > 0 {
		n := min(int64(len(b)), room)
		l.f.Write(b[:n])
		l.written += n
		b = b[n:]
	}
	if len(b) == 0 {
		return
	}
	l.tail = append(l.tail, b...)
	if over := len(l.tail) - l.tailCap; over > l.tailCap {
		l.dropped += int64(over)
		l.tail = append(l.tail[:0:0], l.tail[over:]...)
	}
}

// Close flushes the last partial line and the kept tail.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
	l.closed = true
	if over := len(l.tail) - l.tailCap; over > 0 {
		l.dropped += int64(over)
		l.tail = l.tail[over:]
	}
	if l.dropped > 0 {
		fmt.Fprintf(l.f, "\n[commitbench: %d bytes elided; the first %d and the last %d bytes are kept]\n", l.dropped, l.headCap, l.tailCap)
	}
	l.f.Write(l.tail)
	return l.f.Close()
}

// Last returns the final lines seen, for evidence.
func (l *logFile) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}
