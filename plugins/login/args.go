package login

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
)

// hintPositionals makes a word typed where a flag was meant (`kubeconfig prod-web`,
// `kubectl ack-login c0123…`, `whoami json`) a usage error that names the flag, instead of
// cobra's "unknown command" or a silent mistake. It runs after cli.Setup and keeps the
// kit's checks for everything else.
func hintPositionals(root *cobra.Command) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if next := c.Args; next != nil && c.Runnable() {
			c.Args = func(c *cobra.Command, args []string) error {
				if len(args) > 0 && c.ArgsLenAtDash() != 0 {
					if err := positionalHint(c, args[0]); err != nil {
						return err
					}
				}
				return next(c, args)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// positionalHint returns the usage error for arg on c when it can tell which flag arg belongs
// to, or, on the root command (which runs the credential request and groups the others) given
// no flags, that arg is not a command.
func positionalHint(c *cobra.Command, arg string) error {
	if flag := flagFor(c, arg); flag != "" {
		return cli.UsageErrorf("unexpected argument %q: did you mean %s %s?\n\nRun '%s --help' for its flags.", arg, flag, arg, c.CommandPath())
	}
	if c.HasParent() || c.Flags().NFlag() > 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", arg, c.CommandPath())
	if s := c.SuggestionsFor(arg); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return cli.UsageErrorf("%s\n\nRun '%s --help' for the commands; the credential request itself takes flags only (--cluster-id ID).", msg, c.CommandPath())
}

// flagFor returns the flag (as written: -o, --cluster-id) that arg is a value of: an ACK
// cluster id, a value of -o or --mode, or for `kubeconfig` a cluster name.
func flagFor(c *cobra.Command, arg string) string {
	fs := c.Flags()
	switch {
	case strings.HasPrefix(arg, "-"):
		return ""
	case fs.Lookup("cluster-id") != nil && kubefile.IsClusterID(arg):
		return "--cluster-id"
	}
	for _, name := range []string{"output", "mode"} {
		if fixedValue(c, name, arg) {
			if f := fs.Lookup(name); f.Shorthand != "" && name == "output" {
				return "-" + f.Shorthand
			}
			return "--" + name
		}
	}
	if fs.Lookup("cluster") != nil && c.Name() == "kubeconfig" {
		return "--cluster"
	}
	return ""
}

// fixedValue reports whether arg is one of the values the completion of flag name offers.
// Only flags with fixed values are asked: the cluster completions would call CS.
func fixedValue(c *cobra.Command, name, arg string) bool {
	if c.Flags().Lookup(name) == nil {
		return false
	}
	fn, ok := c.GetFlagCompletionFunc(name)
	if !ok {
		return false
	}
	values, _ := fn(c, nil, "")
	for _, v := range values {
		v, _, _ = strings.Cut(v, "\t")
		if strings.EqualFold(strings.TrimSuffix(v, "="), arg) {
			return true
		}
	}
	return false
}
