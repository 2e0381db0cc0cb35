package backend

import (
	"errors"
	"sync"
)

// Exit is a process's end, recorded the way every backend needs it: Done
// closes once the exit status is known and the output is complete, and
// ExitCode answers only after that. Backends embed it and call Finish once.
// The zero value is ready to use.
type Exit struct {
	mu   sync.Mutex
	done chan struct{}
	code int
	err  error
}

func (e *Exit) ch() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == nil {
		e.done = make(chan struct{})
	}
	return e.done
}

// Done implements Process.
func (e *Exit) Done() <-chan struct{} { return e.ch() }

// ExitCode implements Process.
func (e *Exit) ExitCode() (int, error) {
	select {
	case <-e.ch():
	default:
		return 0, errors.New("still running")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.code, e.err
}

// Err is the error Finish recorded so far (nil while running).
func (e *Exit) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Finish records the exit and closes Done; call it once.
func (e *Exit) Finish(code int, err error) {
	c := e.ch()
	e.mu.Lock()
	e.code, e.err = code, err
	e.mu.Unlock()
	close(c)
}
