package rrsa

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"sigs.k8s.io/yaml"
)

// writerIsTerminal reports whether w is a terminal device.
func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks question on stderr and reads a yes/no answer from stdin. yes (or the global
// --assume-yes) skips the question.
// The read runs in a goroutine so that Ctrl-C (which cancels ctx instead of killing the process)
// ends the prompt rather than leaving it waiting for a line.
func (o *rootOptions) confirm(ctx context.Context, yes bool, question string) error {
	if yes || o.assumeYes {
		return nil
	}
	fmt.Fprintf(o.streams.ErrOut, "%s [y/N]: ", question)
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(o.streams.In).ReadString('\n')
		ch <- answer{line, err}
	}()
	var a answer
	select {
	case <-ctx.Done():
		fmt.Fprintln(o.streams.ErrOut)
		return fmt.Errorf("%w (%w)", errAborted, context.Cause(ctx))
	case a = <-ch:
	}
	if a.err != nil && a.line == "" {
		fmt.Fprintln(o.streams.ErrOut)
		return errAborted
	}
	switch strings.ToLower(strings.TrimSpace(a.line)) {
	case "y", "yes":
		return nil
	}
	return errAborted
}

// validateOutput checks an -o value against the formats a command supports.
func validateOutput(output string, allowed ...string) error {
	var named []string
	for _, a := range allowed {
		if output == a {
			return nil
		}
		if a != "" {
			named = append(named, a)
		}
	}
	return fmt.Errorf("unsupported output format -o %q: use one of %s", output, strings.Join(named, ", "))
}

// printStructured writes v as indented JSON or as YAML.
func printStructured(w io.Writer, output string, v any) error {
	switch output {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unsupported output format %q", output)
}

// mask hides all but the first four characters of a secret.
func mask(secret string) string {
	if len(secret) <= 4 {
		return strings.Repeat("*", len(secret))
	}
	return secret[:4] + strings.Repeat("*", 8)
}
