package rrsa

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// statusOutput is the -o json|yaml form of `status`.
type statusOutput struct {
	ClusterID        string       `json:"clusterId"`
	ClusterState     string       `json:"clusterState,omitempty"`
	Enabled          bool         `json:"enabled"`
	OIDCProviderName string       `json:"oidcProviderName,omitempty"`
	OIDCProviderARN  string       `json:"oidcProviderArn,omitempty"`
	Issuer           string       `json:"issuer,omitempty"`
	Issuers          []string     `json:"issuers,omitempty"`
	Audience         string       `json:"audience,omitempty"`
	RunningTasks     []taskStatus `json:"runningTasks,omitempty"`
}

// taskStatus is a running cluster task in `status`.
type taskStatus struct {
	TaskID  string    `json:"taskId"`
	Type    string    `json:"type"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
}

func newStatus(id string, c *cloud.Cluster) statusOutput {
	return statusOutput{
		ClusterID:        id,
		ClusterState:     c.State,
		Enabled:          c.RRSA.Enabled,
		OIDCProviderName: c.RRSA.OIDCName,
		OIDCProviderARN:  c.RRSA.OIDCArn,
		Issuer:           c.RRSA.Issuer,
		Issuers:          c.RRSA.Issuers,
		Audience:         c.RRSA.Audience,
	}
}

// statusOptions are the flags of status.
type statusOptions struct {
	*rootOptions
	output *cli.Output
}

// Complete has nothing to derive: status reads only.
func (o *statusOptions) Complete() error { return nil }

// Validate checks -o.
func (o *statusOptions) Validate() error { return o.output.Validate() }

// Run shows the cluster's state, its RRSA configuration and any running task.
func (o *statusOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	c, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	st := newStatus(s.clusterID, c)
	// The task list is extra information: without it (no permission, an older region) the
	// status is still worth showing.
	if tasks, err := s.clients.CS.DescribeClusterTasks(ctx, s.clusterID); err != nil {
		fmt.Fprintf(o.streams.ErrOut, "Warning: cannot list the cluster's tasks: %v\n", err)
	} else {
		for _, t := range tasks {
			if !t.Done() {
				st.RunningTasks = append(st.RunningTasks, taskStatus{TaskID: t.TaskID, Type: t.TaskType, State: t.State, Created: t.Created.UTC()})
			}
		}
	}
	if o.output.IsData() {
		return printData(o.streams.Out, o.output, st)
	}
	return printStatus(o.streams.Out, st)
}

func printStatus(w io.Writer, st statusOutput) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	state := "disabled"
	if st.Enabled {
		state = "enabled"
	}
	fmt.Fprintf(tw, "Cluster:\t%s\n", st.ClusterID)
	fmt.Fprintf(tw, "Cluster state:\t%s\n", st.ClusterState)
	fmt.Fprintf(tw, "RRSA feature:\t%s\n", state)
	if st.Enabled {
		fmt.Fprintf(tw, "OIDC Provider Name:\t%s\n", st.OIDCProviderName)
		fmt.Fprintf(tw, "OIDC Provider ARN:\t%s\n", st.OIDCProviderARN)
		fmt.Fprintf(tw, "OIDC Token Issuer:\t%s\n", st.Issuer)
		fmt.Fprintf(tw, "Audience:\t%s\n", st.Audience)
	}
	for _, t := range st.RunningTasks {
		fmt.Fprintf(tw, "Running task:\t%s (%s, %s since %s)\n", t.TaskID, t.Type, t.State, t.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

func newStatusCommand(root *rootOptions) *cobra.Command {
	o := &statusOptions{rootOptions: root,
		output: cli.NewOutput(cli.FormatText, cli.FormatText, cli.FormatJSON, cli.FormatYAML, cli.FormatJSONPath)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's state, whether RRSA is enabled, its OIDC provider and any running task",
		Example: `  kubectl ack-rrsa status
  kubectl ack-rrsa status -c c0123456789abcdef0123456789abcdef -o json
  kubectl ack-rrsa status -o jsonpath='{.oidcProviderArn}'`,
		RunE: runE(o),
	}
	o.output.AddFlags(cmd)
	return cmd
}
