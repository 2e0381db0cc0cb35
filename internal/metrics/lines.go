package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"regexp"
)

// maxLine is the longest line the parsers look at. Longer physical lines
// (a tqdm bar redrawn with \r for an hour, a dumped tensor) are cut here and
// the rest discarded: no result line of any tool is anywhere near this long,
// and memory stays bounded whatever the log holds.
const maxLine = 64 << 10

// lineReader yields the logical lines of a log one at a time: physical lines
// split again at \r (progress bars redraw with \r, and a result header may
// follow the last redraw on the same physical line), with ANSI escapes
// removed. It never holds more than one line of maxLine bytes.
type lineReader struct {
	br      *bufio.Reader
	pending [][]byte // \r-separated pieces of the current physical line
	piece   int      // index of the next piece in pending
	line    []byte
	err     error
	buf     []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine)}
}

// next advances to the next logical line; false at EOF or on a read error
// (see Err).
func (l *lineReader) next() bool {
	for l.piece == len(l.pending) {
		if l.err != nil {
			return false
		}
		phys, err := l.readPhysical()
		if err != nil {
			l.err = err
			if len(phys) == 0 {
				return false
			}
		}
		l.pending, l.piece = l.pending[:0], 0
		for {
			i := bytes.IndexByte(phys, '\r')
			if i < 0 {
				l.pending = append(l.pending, phys)
				break
			}
			l.pending = append(l.pending, phys[:i])
			phys = phys[i+1:]
		}
	}
	l.line = stripANSI(l.pending[l.piece])
	l.piece++
	return true
}

// readPhysical returns one \n-terminated line without its terminator,
// truncated to maxLine.
func (l *lineReader) readPhysical() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		frag, err := l.br.ReadSlice('\n')
		if room := maxLine - len(l.buf); room > 0 {
			l.buf = append(l.buf, frag[:min(len(frag), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the rest of an over-long line: dropped above
		}
		l.buf = bytes.TrimSuffix(l.buf, []byte{'\n'})
		if err == io.EOF {
			if len(l.buf) == 0 {
				return nil, io.EOF
			}
			return l.buf, io.EOF
		}
		return l.buf, err
	}
}

// Err is the first read error other than io.EOF.
func (l *lineReader) Err() error {
	if l.err == io.EOF {
		return nil
	}
	return l.err
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func stripANSI(b []byte) []byte {
	if bytes.IndexByte(b, 0x1b) < 0 {
		return b
	}
	return ansiRE.ReplaceAll(b, nil)
}

// mpiPrefixRE is Open MPI's --tag-output prefix, "[job,rank]<stdout>:".
var mpiPrefixRE = regexp.MustCompile(`^\[\d+,\d+\]<std(?:out|err)>:`)

func stripMPI(b []byte) []byte {
	if len(b) > 0 && b[0] == '[' {
		if loc := mpiPrefixRE.FindIndex(b); loc != nil {
			return b[loc[1]:]
		}
	}
	return b
}
