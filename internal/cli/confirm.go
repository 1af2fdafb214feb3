package cli

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// ErrNoTerminal is the usage error of a command that would ask for confirmation with no one to
// answer: it is returned before anything is done.
var ErrNoTerminal = errors.New("this command asks for confirmation, but stdin is not a terminal: pass -y/--yes to go ahead without asking (nothing was changed)")

// ErrDeclined is returned when the user answers no.
var ErrDeclined = errors.New("aborted: nothing was changed (pass -y/--yes to skip the confirmation)")

// Confirmer is the one confirmation behaviour of every command: -y answers yes; otherwise a
// terminal on stdin is asked on stderr; without a terminal the command refuses up front.
type Confirmer struct {
	// Yes is -y/--yes.
	Yes bool
	// In is where the answer is read (stdin), Out where the question goes (stderr).
	In  io.Reader
	Out io.Writer
	// IsTerminal overrides terminal detection of In (tests).
	IsTerminal func() bool
}

// CanAsk reports whether a question would be answered: -y, or a terminal on stdin.
func (c Confirmer) CanAsk() bool {
	if c.Yes {
		return true
	}
	if c.IsTerminal != nil {
		return c.IsTerminal()
	}
	f, ok := c.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Check is called in a command's Validate step, before it reads or changes anything: it
// returns a usage error when the command would have to ask and cannot.
func (c Confirmer) Check() error {
	if c.CanAsk() {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: ErrNoTerminal}
}

// Confirm asks question (yes/no) unless -y was given; a cancelled ctx (Ctrl-C) ends the
// question at once with ctx's cause. It returns ErrDeclined for any answer but yes.
func (c Confirmer) Confirm(ctx context.Context, question string) error {
	if c.Yes {
		return nil
	}
	if err := c.Check(); err != nil {
		return err
	}
	ok, err := prompt.Confirm(ctx, c.In, c.Out, question)
	if err != nil {
		return err
	}
	if !ok {
		return ErrDeclined
	}
	return nil
}

// AddYesFlag registers -y/--yes on the command's flags.
func AddYesFlag(fs *pflag.FlagSet, p *bool) {
	fs.BoolVarP(p, "yes", "y", false, "Do not ask for confirmation (needed when stdin is not a terminal)")
}
