// Package prompt asks yes/no questions on behalf of the plugins' confirmations.
package prompt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Confirm writes question and " [y/N]: " to out and reads one line from in. It reports true only
// for "y" or "yes" (any case). The read runs in a goroutine so that a cancelled ctx (the plugins
// turn Ctrl-C into a cancellation) ends the question at once with ctx's cause, rather than
// leaving it waiting for a line; the abandoned read ends with the process.
func Confirm(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprintf(out, "%s [y/N]: ", question)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(in).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(out)
		return false, context.Cause(ctx)
	case a := <-ch:
		if a.err != nil && a.line == "" {
			// End of input without an answer: finish the prompt's line.
			fmt.Fprintln(out)
			return false, nil
		}
		switch strings.ToLower(strings.TrimSpace(a.line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}
