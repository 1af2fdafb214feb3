package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// VersionInfo is what `version -o json|yaml` prints.
type VersionInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

// NewVersionCommand returns the `version` command every binary has: text by default
// ("<displayName> <version>"), -o json or yaml for scripts.
func NewVersionCommand(out io.Writer, displayName string) *cobra.Command {
	o := NewOutput(FormatText, FormatText, FormatJSON, FormatYAML)
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Example: fmt.Sprintf(`  %[1]s version
  %[1]s version -o json`, displayName),
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			return o.Validate()
		},
		RunE: func(*cobra.Command, []string) error {
			info := VersionInfo{Name: displayName, Version: version.Version, Commit: version.Commit, Date: version.Date}
			if o.Name() == FormatText {
				_, err := fmt.Fprintf(out, "%s %s\n", displayName, version.String())
				return err
			}
			return PrintData(out, o.Name(), info)
		},
	}
	o.AddFlags(cmd)
	return cmd
}
