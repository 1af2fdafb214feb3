package rrsa

import (
	"bufio"
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

// confirm asks question on stderr and reads a yes/no answer from stdin. yes skips the question.
func (o *rootOptions) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	fmt.Fprintf(o.streams.ErrOut, "%s [y/N]: ", question)
	line, err := bufio.NewReader(o.streams.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(o.streams.ErrOut)
		return errAborted
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errAborted
}

// validateOutput checks an -o value against the formats a command supports.
func validateOutput(output string, allowed ...string) error {
	for _, a := range allowed {
		if output == a {
			return nil
		}
	}
	return fmt.Errorf("unsupported output format %q: use one of %s", output, strings.Join(allowed, ", "))
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
