package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// DryRun is the value of --dry-run: none (write), client (print what would be written, send
// nothing) or server (the server validates and stores nothing), as in kubectl. A bare
// --dry-run means client; true and false are kubectl's old spellings of client and none.
type DryRun string

// DryRun values.
const (
	DryRunNone   DryRun = "none"
	DryRunClient DryRun = "client"
	DryRunServer DryRun = "server"
)

// dryRunValue is the pflag.Value of --dry-run for one command.
type dryRunValue struct {
	p            *DryRun
	serverDoesIt bool
}

func (v *dryRunValue) String() string { return string(*v.p) }
func (v *dryRunValue) Type() string   { return "string" }

func (v *dryRunValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "false":
		*v.p = DryRunNone
	case "client", "true", "":
		*v.p = DryRunClient
	case "server":
		if !v.serverDoesIt {
			return fmt.Errorf("this command has no server-side dry run (the cloud API cannot validate without writing): use --dry-run=client")
		}
		*v.p = DryRunServer
	default:
		return fmt.Errorf("use none, client or server")
	}
	return nil
}

// AddDryRunFlag registers --dry-run on cmd. server says whether the command can ask its server
// to validate without storing (Kubernetes can; RAM cannot, so there --dry-run=server is
// refused with the reason).
func AddDryRunFlag(cmd *cobra.Command, p *DryRun, server bool) {
	if *p == "" {
		*p = DryRunNone
	}
	help := `"client": print what would be written and change nothing`
	values := []string{string(DryRunNone), string(DryRunClient)}
	if server {
		help += `; "server": the API server validates and stores nothing`
		values = append(values, string(DryRunServer))
	}
	cmd.Flags().Var(&dryRunValue{p: p, serverDoesIt: server}, "dry-run", help+`; "none": write (a bare --dry-run means client)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = string(DryRunClient)
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// verbosityValue is -v/--v: a level as in kubectl (-v=4). A bare -v means 1.
type verbosityValue struct{ p *int }

func (v verbosityValue) String() string { return strconv.Itoa(*v.p) }
func (v verbosityValue) Type() string   { return "int" }

func (v verbosityValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("-v takes a level, a whole number from 0 (write -v=4, as in kubectl)")
	}
	*v.p = n
	return nil
}

// verboseAlias is --verbose, the earlier spelling of -v=1.
type verboseAlias struct{ p *int }

func (v verboseAlias) String() string { return strconv.FormatBool(*v.p > 0) }
func (v verboseAlias) Type() string   { return "bool" }
func (v verboseAlias) IsBoolFlag() bool {
	return true
}

func (v verboseAlias) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if b && *v.p < 1 {
		*v.p = 1
	} else if !b {
		*v.p = 0
	}
	return nil
}

// AddVerbosityFlags registers -v/--v (a level, as kubectl's -v; a bare -v means 1) and
// --verbose (the same as -v=1) on fs. Level 1 says where things came from (credentials,
// cluster id, files); higher levels add request details. Secrets are never printed.
func AddVerbosityFlags(fs *pflag.FlagSet, p *int) {
	fs.VarP(verbosityValue{p}, "v", "v", "Log level on stderr, as kubectl's -v: 1 says where credentials, the cluster and files came from; higher adds request details")
	fs.Lookup("v").NoOptDefVal = "1"
	fs.Var(verboseAlias{p}, "verbose", "Same as -v=1")
	fs.Lookup("verbose").NoOptDefVal = "true"
}
