package login

import (
	"fmt"
	"io"

	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// progress draws one self-overwriting status line on a terminal; on anything else (pipes, logs)
// it prints nothing.
type progress struct {
	w     io.Writer
	drawn bool
}

func (o *rootOptions) newProgress() *progress {
	on := prompt.IsTerminal
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
