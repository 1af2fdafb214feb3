// Package prompttest helps tests drive prompt.Confirm: it tells them when the question has been
// asked, so they can answer or cancel without sleeping.
package prompttest

import (
	"bytes"
	"strings"
	"sync"
)

// Writer records what is written to it and closes Prompted once a "[y/N]: " question appears.
// It is safe for concurrent use.
type Writer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	once     sync.Once
	prompted chan struct{}
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{prompted: make(chan struct{})} }

// Write implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "[y/N]: ") {
		w.once.Do(func() { close(w.prompted) })
	}
	return n, err
}

// Prompted is closed once the question has been written.
func (w *Writer) Prompted() <-chan struct{} { return w.prompted }

// String returns everything written so far.
func (w *Writer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
