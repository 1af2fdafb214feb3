package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Output formats. Templated formats carry their argument after "=" (-o jsonpath='{.x}').
const (
	FormatText          = "text"
	FormatTable         = "table"
	FormatWide          = "wide"
	FormatJSON          = "json"
	FormatYAML          = "yaml"
	FormatName          = "name"
	FormatEnv           = "env"
	FormatJSONPath      = "jsonpath"
	FormatCustomColumns = "custom-columns"
)

// Output is the -o/--output flag of one command: the formats it allows, its default, and for
// commands that print a table, --no-headers. Every command reports a bad value the same way.
type Output struct {
	// Format is the value given (or the default), e.g. "json" or "jsonpath={.items}".
	Format string
	// NoHeaders is --no-headers, registered only for commands that print a table.
	NoHeaders bool
	allowed   []string
	def       string
}

// NewOutput returns an -o flag whose default is def (may be "", meaning the command's
// human-readable form) and whose values are allowed. "jsonpath" and "custom-columns" in allowed
// accept "jsonpath=TEMPLATE" and "custom-columns=SPEC".
func NewOutput(def string, allowed ...string) *Output {
	return &Output{Format: def, def: def, allowed: allowed}
}

// AddFlags registers -o/--output (with completion of its values) and, when the command prints
// a table, --no-headers.
func (o *Output) AddFlags(cmd *cobra.Command) {
	help := "Output format: one of " + strings.Join(o.shown(), "|")
	cmd.Flags().StringVarP(&o.Format, "output", "o", o.def, help)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(o.shown(), cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace))
	if slices.Contains(o.allowed, FormatTable) || slices.Contains(o.allowed, FormatWide) {
		cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "Print tables without the header line")
	}
}

// shown lists the values as a user types them (jsonpath=… and custom-columns=… with their "=").
func (o *Output) shown() []string {
	out := make([]string, 0, len(o.allowed))
	for _, a := range o.allowed {
		if a == FormatJSONPath || a == FormatCustomColumns {
			a += "="
		}
		out = append(out, a)
	}
	return out
}

// Validate refuses a format the command does not print, with the one wording every command
// uses. It is a usage error.
func (o *Output) Validate() error {
	name, arg, templated := strings.Cut(o.Format, "=")
	switch {
	case o.Format == "" && o.def == "":
		return nil
	case !slices.Contains(o.allowed, name):
	case (name == FormatJSONPath || name == FormatCustomColumns) != templated:
	case templated && strings.TrimSpace(arg) == "":
		return UsageErrorf("-o %s needs a template after '=', e.g. -o %s=%s", name, name, exampleTemplate(name))
	default:
		return nil
	}
	return UsageErrorf("unknown output format -o %q: use one of %s", o.Format, strings.Join(o.shown(), ", "))
}

func exampleTemplate(name string) string {
	if name == FormatJSONPath {
		return "'{.metadata.name}'"
	}
	return "NAME:.metadata.name"
}

// Name is the format without its template ("jsonpath" for "jsonpath={.x}"); "" when none was
// given and the command has no default.
func (o *Output) Name() string {
	name, _, _ := strings.Cut(o.Format, "=")
	return name
}

// Template is the argument of jsonpath= or custom-columns=.
func (o *Output) Template() string {
	_, arg, _ := strings.Cut(o.Format, "=")
	return arg
}

// IsData reports whether the format is machine-readable (json, yaml, name, env, jsonpath,
// custom-columns): commands then keep progress and notes on stderr only.
func (o *Output) IsData() bool {
	switch o.Name() {
	case "", FormatText, FormatTable, FormatWide:
		return false
	}
	return true
}

// PrintJSON writes v as indented JSON with a final newline.
func PrintJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// PrintYAML writes v as YAML (through its JSON form, so json tags apply).
func PrintYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// PrintData writes v as JSON or YAML according to format; other formats are the caller's.
func PrintData(w io.Writer, format string, v any) error {
	if format == FormatYAML {
		return PrintYAML(w, v)
	}
	return PrintJSON(w, v)
}
