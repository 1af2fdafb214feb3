package login

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (progress lines are drawn only there, so logs and
// pipes stay clean).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws one self-overwriting status line on a terminal; on anything else it prints
// nothing.
type progress struct {
	w     io.Writer
	drawn bool
}

func (o *rootOptions) newProgress() *progress {
	on := isTerminal
	if o.hooks.terminal != nil {
		on = o.hooks.terminal
	}
	if !on(o.streams.ErrOut) {
		return &progress{}
	}
	return &progress{w: o.streams.ErrOut}
}

// Printf replaces the status line.
func (p *progress) Printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K"+format, args...)
	p.drawn = true
}

// Done clears the status line before other output is printed.
func (p *progress) Done() {
	if p == nil || p.w == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.drawn = false
}
