package modal

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// lineMux interleaves several output streams (stdout and stderr arrive
// separately from Modal) into one writer, a whole line at a time, so that
// the log and its ready-line detection never see two lines spliced.
type lineMux struct {
	mu sync.Mutex
	w  io.Writer
}

func newLineMux(w io.Writer) *lineMux {
	if w == nil {
		w = io.Discard
	}
	return &lineMux{w: w}
}

// maxPartial bounds a line held back for its end (a progress bar redrawn
// with \r never ends one).
const maxPartial = 64 << 10

type lineStream struct {
	m   *lineMux
	buf []byte
}

func (m *lineMux) stream() *lineStream { return &lineStream{m: m} }

func (s *lineStream) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	cut := bytes.LastIndexByte(s.buf, '\n') + 1
	if cut == 0 && len(s.buf) >= maxPartial {
		cut = len(s.buf)
	}
	if cut > 0 {
		s.m.mu.Lock()
		s.m.w.Write(s.buf[:cut])
		s.m.mu.Unlock()
		s.buf = append(s.buf[:0], s.buf[cut:]...)
	}
	return len(p), nil
}

// flush writes what is left, ended with a newline.
func (s *lineStream) flush() {
	if len(s.buf) > 0 {
		s.Write([]byte{'\n'})
	}
}

// note writes one line of run-bench's own.
func (m *lineMux) note(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.w, format+"\n", args...)
}
