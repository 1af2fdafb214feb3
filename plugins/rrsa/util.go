package rrsa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// confirm asks question on stderr and reads a yes/no answer from stdin. yes (or the global
// --assume-yes) skips the question; Ctrl-C ends it (see prompt.Confirm).
func (o *rootOptions) confirm(ctx context.Context, yes bool, question string) error {
	if yes || o.assumeYes {
		return nil
	}
	ok, err := prompt.Confirm(ctx, o.streams.In, o.streams.ErrOut, question)
	if err != nil {
		return fmt.Errorf("%w (%w)", errAborted, err)
	}
	if !ok {
		return errAborted
	}
	return nil
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
