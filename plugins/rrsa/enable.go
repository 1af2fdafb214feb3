package rrsa

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

func newEnableCommand(o *rootOptions, enable bool) *cobra.Command {
	var (
		yes  bool
		wait = waitOptions{timeout: defaultTimeout, interval: 5 * time.Second}
	)
	verb, state := "enable", "enabled"
	if !enable {
		verb, state = "disable", "disabled"
	}
	cmd := &cobra.Command{
		Use:   verb,
		Short: fmt.Sprintf("%s RRSA for the cluster and wait until the cluster is running again", capitalize(verb)),
		Long: fmt.Sprintf(`%s RRSA for the cluster.

The cluster must be running. The command starts the change, waits for the cluster task to finish
and for the cluster to be running again (up to --timeout), and on failure prints the task error
and the cluster log lines written meanwhile. If RRSA is already %s nothing is done.`, capitalize(verb), state),
		Example: fmt.Sprintf(`  kubectl ack-rrsa %[1]s
  kubectl ack-rrsa %[1]s -c c0123456789abcdef0123456789abcdef -y --timeout 20m`, verb),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if wait.interval <= 0 || wait.timeout <= 0 {
				return fmt.Errorf("--poll-interval and --timeout must be positive")
			}
			ctx := cmd.Context()
			s, err := o.newSession(ctx)
			if err != nil {
				return err
			}
			c, err := s.cluster(ctx)
			if err != nil {
				return err
			}
			if c.RRSA.Enabled == enable {
				fmt.Fprintf(o.streams.Out, "RRSA is already %s for cluster %s; nothing to do\n", state, s.clusterID)
				return nil
			}
			if c.State != "running" {
				return fmt.Errorf("cluster %s is %q: RRSA can only be %s while the cluster is running; wait for the current operation to finish and retry", s.clusterID, c.State, state)
			}
			question := fmt.Sprintf("%s RRSA for cluster %s (%s)?", capitalize(verb), s.clusterID, c.Name)
			if !enable {
				question += " Pods that use RRSA will no longer be able to assume RAM roles."
			}
			if err := o.confirm(ctx, yes, question); err != nil {
				return err
			}
			taskID, err := s.clients.CS.ModifyClusterRRSA(ctx, s.clusterID, enable)
			if err != nil {
				return fmt.Errorf("%s RRSA for cluster %s: %w", verb, s.clusterID, err)
			}
			o.logf("Started task %s", taskID)
			ready := func(c *cloud.Cluster) bool { return c.State == "running" && c.RRSA.Enabled == enable }
			if err := o.waitTask(ctx, s, taskID, fmt.Sprintf("RRSA to be %s", state), wait, ready); err != nil {
				return err
			}
			fmt.Fprintf(o.streams.Out, "RRSA %s for cluster %s\n", state, s.clusterID)
			if enable {
				c, err := s.cluster(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(o.streams.Out, "OIDC Provider ARN: %s\nOIDC Token Issuer: %s\n", c.RRSA.OIDCArn, c.RRSA.Issuer)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not ask for confirmation")
	addWaitFlags(cmd, &wait)
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
