package rrsa

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// enableOptions are the flags of enable and disable.
type enableOptions struct {
	*rootOptions
	enable bool
	yes    bool
	dryRun cli.DryRun
	wait   waitOptions
}

func (o *enableOptions) words() (verb, state string) {
	if o.enable {
		return "enable", "enabled"
	}
	return "disable", "disabled"
}

// Complete has nothing to derive: the cluster is resolved in Run.
func (o *enableOptions) Complete() error { return nil }

// Validate checks the wait flags and that the confirmation can be asked.
func (o *enableOptions) Validate() error {
	if err := o.wait.validate(); err != nil {
		return err
	}
	if o.dryRun == cli.DryRunNone {
		return o.newConfirmer(o.yes).Check()
	}
	return nil
}

// Run starts the change, waits for the task and for the cluster to be running with RRSA in the
// wanted state.
func (o *enableOptions) Run(ctx context.Context) error {
	verb, state := o.words()
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	c, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	if c.RRSA.Enabled == o.enable {
		fmt.Fprintf(o.streams.Out, "RRSA is already %s for cluster %s; nothing to do\n", state, s.clusterID)
		return nil
	}
	if c.State != "running" {
		return fmt.Errorf("cluster %s is %q: RRSA can only be %s while the cluster is running; wait for the current operation to finish (see `%s`) and retry",
			s.clusterID, c.State, state, o.command(s.clusterID, "status"))
	}
	if o.dryRun != cli.DryRunNone {
		fmt.Fprintf(o.streams.ErrOut, "Dry run: RRSA would be %s for cluster %s (%s); nothing was changed\n", state, s.clusterID, c.Name)
		return nil
	}
	question := fmt.Sprintf("%s RRSA for cluster %s (%s)?", capitalize(verb), s.clusterID, c.Name)
	if !o.enable {
		question += " Pods that use RRSA will no longer be able to assume RAM roles."
	}
	if err := o.confirm(ctx, o.yes, question); err != nil {
		return err
	}
	taskID, err := s.clients.CS.ModifyClusterRRSA(ctx, s.clusterID, o.enable)
	if err != nil {
		return fmt.Errorf("%s RRSA for cluster %s: %w", verb, s.clusterID, err)
	}
	o.logf("Started task %s", taskID)
	ready := func(c *cloud.Cluster) bool { return c.State == "running" && c.RRSA.Enabled == o.enable }
	if err := o.waitTask(ctx, s, taskID, fmt.Sprintf("RRSA to be %s", state), o.wait, ready); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "RRSA %s for cluster %s\n", state, s.clusterID)
	if !o.enable {
		return nil
	}
	if c, err = s.cluster(ctx); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "OIDC Provider ARN: %s\nOIDC Token Issuer: %s\n", c.RRSA.OIDCArn, c.RRSA.Issuer)
	return nil
}

func newEnableCommand(root *rootOptions, enable bool) *cobra.Command {
	o := &enableOptions{rootOptions: root, enable: enable, wait: waitOptions{timeout: defaultTimeout, interval: 5 * time.Second}}
	verb, state := o.words()
	cmd := &cobra.Command{
		Use:   verb,
		Short: fmt.Sprintf("%s RRSA for the cluster and wait until the cluster is running again", capitalize(verb)),
		Long: fmt.Sprintf(`%s RRSA for the cluster.

The cluster must be running. The command starts the change, waits for the cluster task to finish
and for the cluster to be running again (up to --timeout), and on failure prints the task error
and the cluster log lines written meanwhile. Network errors and throttling while waiting are
retried with backoff; an interrupted or timed-out wait leaves the task running in the cloud
(check it with status; Ctrl-C exits with code 130). If RRSA is already %s nothing is done.`, capitalize(verb), state),
		Example: fmt.Sprintf(`  kubectl ack-rrsa %[1]s
  kubectl ack-rrsa %[1]s -c c0123456789abcdef0123456789abcdef -y --timeout 20m
  kubectl ack-rrsa %[1]s --dry-run`, verb),
		RunE: runE(o),
	}
	cli.AddYesFlag(cmd.Flags(), &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, false)
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func addWaitFlags(cmd *cobra.Command, w *waitOptions) {
	cmd.Flags().DurationVar(&w.timeout, "timeout", w.timeout, "How long to wait for the cluster task to finish")
	cmd.Flags().DurationVar(&w.interval, "poll-interval", w.interval, "How often to poll the task and cluster state")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
