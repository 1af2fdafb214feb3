package rrsa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// newConfirmer returns the one confirmation policy of the plugins (internal/cli): yes (-y, or the global
// --assume-yes) answers yes; otherwise a terminal on stdin is asked on stderr; without a
// terminal the command refuses in its Validate step, before anything is read or changed.
func (o *rootOptions) newConfirmer(yes bool) cli.Confirmer {
	return cli.Confirmer{
		Yes: yes || o.assumeYes, In: o.streams.In, Out: o.streams.ErrOut,
		IsTerminal: func() bool { return isTerminal(o.streams.In) },
	}
}

// confirm asks question unless yes (or --assume-yes) was given. A "no" returns cli.ErrDeclined;
// Ctrl-C ends the question at once and returns cli.ErrDeclined wrapped with the interruption.
func (o *rootOptions) confirm(ctx context.Context, yes bool, question string) error {
	err := o.newConfirmer(yes).Confirm(ctx, question)
	if err != nil && ctx.Err() != nil && !errors.Is(err, cli.ErrDeclined) {
		return fmt.Errorf("%w (%w)", cli.ErrDeclined, err)
	}
	return err
}

// isTerminal reports whether stream (stdin, stdout or stderr) is an interactive terminal:
// questions and progress spinners only go there. Streams that are not files can say so
// themselves with an IsTerminal() bool method (a wrapped pseudo-terminal, for example).
func isTerminal(stream any) bool {
	if t, ok := stream.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	w, ok := stream.(io.Writer)
	return ok && prompt.IsTerminal(w)
}

// printData prints v in a machine-readable -o format: json, yaml, jsonpath= or custom-columns=.
// The human-readable forms (text, table, wide, name, env) are the caller's.
func printData(w io.Writer, o *cli.Output, v any) error {
	switch o.Name() {
	case cli.FormatJSONPath, cli.FormatCustomColumns:
		return kube.PrintTemplate(w, o, v)
	}
	return cli.PrintData(w, o.Name(), v)
}

// mask hides all but the first four characters of a secret.
func mask(secret string) string {
	if len(secret) <= 4 {
		return strings.Repeat("*", len(secret))
	}
	return secret[:4] + strings.Repeat("*", 8)
}
