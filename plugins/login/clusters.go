package login

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// clusterItem is one cluster in `clusters -o json|yaml`.
type clusterItem struct {
	Name                      string `json:"name"`
	ClusterID                 string `json:"clusterId"`
	RegionID                  string `json:"regionId"`
	ClusterType               string `json:"clusterType"`
	State                     string `json:"state"`
	Version                   string `json:"version"`
	RRSAEnabled               bool   `json:"rrsaEnabled"`
	APIServerEndpoint         string `json:"apiServerEndpoint,omitempty"`
	IntranetAPIServerEndpoint string `json:"intranetApiServerEndpoint,omitempty"`
}

func newClusterItem(c cloud.Cluster) clusterItem {
	return clusterItem{
		Name: c.Name, ClusterID: c.ClusterID, RegionID: c.RegionID, ClusterType: c.ClusterType, State: c.State,
		Version: c.Version, RRSAEnabled: c.RRSA.Enabled,
		APIServerEndpoint: c.APIServerEndpoint, IntranetAPIServerEndpoint: c.IntranetAPIServerEndpoint,
	}
}

// clustersOptions are the flags of `clusters`.
type clustersOptions struct {
	root       *rootOptions
	region     string
	allRegions bool
	output     *cli.Output

	scope clusters.Scope
}

func newClustersCommand(o *rootOptions) *cobra.Command {
	co := &clustersOptions{root: o, output: cli.NewOutput(cli.FormatTable,
		cli.FormatTable, cli.FormatWide, cli.FormatJSON, cli.FormatYAML, cli.FormatName)}
	cmd := &cobra.Command{
		Use:   "clusters [--region REGION | --all-regions] [-o table|wide|json|yaml|name]",
		Short: "List the ACK clusters your credentials can see",
		Long: `List ACK clusters (CS DescribeClustersV1, every page): name, id, region, type, state,
Kubernetes version and whether RRSA is on. Every region is listed unless --region names one.
The table prints each page as it arrives; on a terminal a progress line shows on stderr.
Use a name with "kubeconfig --cluster NAME", or write a context for each cluster with
"kubeconfig --all".`,
		Example: `  # Every cluster in every region
  kubectl ack-login clusters

  # One region, with API server addresses
  kubectl ack-login clusters --region cn-hangzhou -o wide

  # Names of the running clusters, for scripts
  kubectl ack-login clusters -o json | jq -r '.[] | select(.state == "running") | .name'

  # Every cluster id, without the header
  kubectl ack-login clusters --no-headers | awk '{print $2}'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := co.Complete(); err != nil {
				return err
			}
			if err := co.Validate(); err != nil {
				return err
			}
			return co.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&co.region, "region", "", "List the clusters of this region only (e.g. cn-hangzhou)")
	fs.BoolVar(&co.allRegions, "all-regions", false, "List the clusters of every region (the default)")
	co.output.AddFlags(cmd)
	return cmd
}

// Complete fills the scope from the flags.
func (co *clustersOptions) Complete() error {
	co.region = strings.TrimSpace(co.region)
	co.output.Format = trimLower(co.output.Format)
	co.scope = clusters.Scope{RegionID: co.region}
	return nil
}

// Validate checks the flags.
func (co *clustersOptions) Validate() error {
	if co.region != "" && co.allRegions {
		return cli.UsageErrorf("--region and --all-regions exclude each other: pass one")
	}
	return co.output.Validate()
}

// Run lists the clusters and prints them.
func (co *clustersOptions) Run(ctx context.Context) error {
	o := co.root
	_, cs, err := o.csClient(ctx)
	if err != nil {
		return err
	}
	prog := o.newProgress()
	defer prog.Done()
	format := co.output.Name()
	table := &streamTable{w: o.streams.Out, wide: format == cli.FormatWide, noHeaders: co.output.NoHeaders}
	var all []cloud.Cluster
	err = clusters.List(ctx, cs, co.scope, func(p cloud.ClusterPage) error {
		prog.Done()
		switch format {
		case cli.FormatTable, cli.FormatWide:
			table.write(p.Clusters)
		case cli.FormatName:
			for _, c := range p.Clusters {
				fmt.Fprintln(o.streams.Out, c.Name)
			}
		default:
			all = append(all, p.Clusters...)
		}
		if p.TotalCount > p.Seen {
			prog.Printf("listing clusters in %s: %d of %d", co.scope, p.Seen, p.TotalCount)
		}
		return nil
	})
	prog.Done()
	if err != nil {
		return err
	}
	switch format {
	case cli.FormatJSON, cli.FormatYAML:
		return printClusterList(o.streams.Out, format, all)
	case cli.FormatTable, cli.FormatWide:
		if table.rows == 0 {
			fmt.Fprintf(o.streams.ErrOut, "No clusters found in %s.\n", co.scope)
		}
	}
	return nil
}

func printClusterList(w io.Writer, output string, list []cloud.Cluster) error {
	items := make([]clusterItem, 0, len(list))
	for _, c := range list {
		items = append(items, newClusterItem(c))
	}
	return cli.PrintData(w, output, items)
}

// streamTable prints clusters as aligned columns page by page: the column widths are fixed by
// the first page (longer cells later only push their own row), so no row waits for the last page.
type streamTable struct {
	w         io.Writer
	wide      bool
	noHeaders bool
	widths    []int
	rows      int
}

func (t *streamTable) cells(c cloud.Cluster) []string {
	rrsa := "off"
	if c.RRSA.Enabled {
		rrsa = "on"
	}
	row := []string{c.Name, c.ClusterID, c.RegionID, c.ClusterType, c.State, c.Version, rrsa}
	if t.wide {
		row = append(row, dash(c.APIServerEndpoint), dash(c.IntranetAPIServerEndpoint))
	}
	return row
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (t *streamTable) write(page []cloud.Cluster) {
	if len(page) == 0 {
		return
	}
	rows := make([][]string, 0, len(page))
	for _, c := range page {
		rows = append(rows, t.cells(c))
	}
	if t.widths == nil {
		header := []string{"NAME", "ID", "REGION", "TYPE", "STATE", "VERSION", "RRSA"}
		if t.wide {
			header = append(header, "API SERVER", "INTRANET API SERVER")
		}
		t.widths = make([]int, len(header))
		for _, r := range append([][]string{header}, rows...) {
			for i, cell := range r {
				t.widths[i] = max(t.widths[i], len(cell))
			}
		}
		if !t.noHeaders {
			t.line(header)
		}
	}
	for _, r := range rows {
		t.line(r)
	}
	t.rows += len(rows)
}

func (t *streamTable) line(cells []string) {
	var b strings.Builder
	for i, c := range cells {
		b.WriteString(c)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", max(t.widths[i]-len(c), 0)+3))
		}
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(t.w, b.String())
}

// csClient resolves the credentials and returns them with a CS client.
func (o *rootOptions) csClient(ctx context.Context) (*credentials.Resolved, *cloud.CS, error) {
	res, err := o.creds.Resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	o.log.Debugf("credentials: %s", res.Source)
	cs, err := cloud.NewCS(res.Credential, o.endpoints)
	if err != nil {
		return nil, nil, err
	}
	return res, cs, nil
}
