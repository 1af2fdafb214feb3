package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every binary. Commands may document their own codes above these (for
// example `ack-map explain` exits 3 when an ARN is not mapped).
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// ErrInterrupted is the cause of a context cancelled by SIGINT or SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// ExitError carries an exit code with an error. A Silent one prints nothing: the command has
// already said why it ends (explain's "not mapped" line, for example).
type ExitError struct {
	Code   int
	Err    error
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// WithCode returns err with exit code code (nil stays nil).
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// Silent ends the command with code and prints nothing more.
func Silent(code int) error { return &ExitError{Code: code, Silent: true} }

// UsageErrorf reports a mistake in the command line: exit code 2.
func UsageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is a command-line mistake (exit code 2).
func IsUsage(err error) bool { return Code(err) == ExitUsage }

// cobra reports these command-line mistakes as plain errors; they are usage errors too.
var cobraUsagePrefixes = []string{
	"required flag(s)",
	"if any flags in the group",
	"at least one of the flags in the group",
	"none of the others can be",
	"unknown command",
	"unknown flag",
	"unknown shorthand flag",
	"flag needs an argument",
	"invalid argument",
	"accepts ",
	"requires at least",
	"requires at most",
}

// Code returns the exit code for err: 0 for nil, the code of an *ExitError, 130 for an
// interruption, 2 for cobra's own command-line errors, else 1.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, ErrInterrupted) {
		return ExitInterrupted
	}
	msg := err.Error()
	for _, p := range cobraUsagePrefixes {
		if strings.HasPrefix(msg, p) {
			return ExitUsage
		}
	}
	return ExitFailure
}

// Report prints err on w the way every binary does ("Error: …", nothing for a silent error)
// and returns its exit code. interrupted says the run was cancelled by a signal, so a bare
// context.Canceled reads "interrupted" and exits 130.
func Report(w io.Writer, err error, interrupted bool) int {
	if err == nil {
		return ExitOK
	}
	code := Code(err)
	if interrupted && (code == ExitFailure || errors.Is(err, context.Canceled)) {
		code = ExitInterrupted
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Silent {
		return code
	}
	msg := err.Error()
	switch {
	case code != ExitInterrupted:
		fmt.Fprintf(w, "Error: %s\n", msg)
	case msg == context.Canceled.Error() || msg == ErrInterrupted.Error():
		fmt.Fprintln(w, "Interrupted.")
	default:
		fmt.Fprintf(w, "Interrupted: %s\n", msg)
	}
	return code
}

// Execute runs root with args under a context that SIGINT and SIGTERM cancel with cause
// ErrInterrupted, prints any error on stderr and returns the exit code.
func Execute(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
			cancel(ErrInterrupted)
		case <-ctx.Done():
		}
	}()
	return ExecuteContext(ctx, root, args, stderr)
}

// ExecuteContext is Execute without the signal handling: tests cancel ctx with ErrInterrupted
// themselves.
func ExecuteContext(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return Report(stderr, err, errors.Is(context.Cause(ctx), ErrInterrupted))
}
