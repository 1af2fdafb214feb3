package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/pkg/suggest"
)

// Setup applies the shared conventions to a finished command tree (call it after every
// subcommand was added):
//   - usage lines, help and errors name the command as kubectl does ("kubectl ack-login"),
//     not by its binary name;
//   - errors and usage are printed once, by Execute, never by cobra;
//   - a mistyped flag or subcommand is a usage error (exit 2) with "did you mean";
//   - a command that takes no arguments says so instead of ignoring them, and a group command
//     given an unknown word says it is not a command instead of printing its help;
//   - --version prints "<displayName> <version>".
func Setup(root *cobra.Command, displayName, version string) {
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = displayName
	root.SetFlagErrorFunc(flagError)
	walk(root, func(c *cobra.Command) {
		c.SilenceErrors = true
		c.SilenceUsage = true
		c.SuggestionsMinimumDistance = 2
		switch {
		case c.HasAvailableSubCommands() && !c.Runnable():
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRun
		case c.Args == nil:
			c.Args = noArgs
		}
	})
	addVersionFlag(root, displayName, version)
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// groupRun runs a command that only groups others: without arguments it shows its help, with
// one it names the unknown command and the nearest ones.
func groupRun(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return UsageErrorf("%s\n\nRun '%s --help' for the commands.", msg, c.CommandPath())
}

// noArgs refuses positional arguments for commands that take flags only, naming the argument
// and, when it looks like the value of a flag, which flag it may have been meant for.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q: %q takes no arguments, only flags", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean the command %q?)", s[0])
	} else if name := nearestFlag(c, args[0]); name != "" {
		msg += fmt.Sprintf(" (did you mean --%s?)", name)
	}
	return UsageErrorf("%s\n\nRun '%s --help' for its flags.", msg, c.CommandPath())
}

// flagError turns pflag's errors into usage errors that point at help and suggest the nearest
// flag name for a mistyped one.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := unknownFlagName(msg); ok {
		if s := nearestFlag(c, name); s != "" {
			msg += fmt.Sprintf("\n\nDid you mean --%s?", s)
		}
	}
	return UsageErrorf("%s\n\nRun '%s --help' for its flags.", msg, c.CommandPath())
}

// unknownFlagName extracts the name from pflag's "unknown flag: --name" message.
func unknownFlagName(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, " ")
	return name, true
}

// nearestFlag returns the name of c's flag closest to word (at most two edits, or a prefix),
// or "".
func nearestFlag(c *cobra.Command, word string) string {
	word = strings.TrimLeft(word, "-")
	if word == "" {
		return ""
	}
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := suggest.Distance(strings.ToLower(word), f.Name)
		if d <= 2 || (len(word) >= 3 && strings.HasPrefix(f.Name, word)) {
			cands = append(cands, cand{f.Name, d})
		}
	})
	if len(cands) == 0 {
		return ""
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	return cands[0].name
}
