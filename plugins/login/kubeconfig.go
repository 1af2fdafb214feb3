package login

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
)

// ExecCommand is the command written into kubeconfig exec sections.
const ExecCommand = "kubectl-ack_login"

// InstallHint is shown by kubectl when ExecCommand is not on the PATH.
const InstallHint = `kubectl-ack_login is the ACK credential plugin for kubectl. Install it with:
  kubectl krew install ack-login
or download it from https://github.com/kubectl-ack/kubectl-ack/releases and put it on your PATH.`

// passThroughFlags are the global flags copied into the exec arguments when
// the user set them, so kubectl resolves the same identity and endpoints.
var passThroughFlags = []string{
	"profile-file", "profile-name", "ignore-env-credentials", "ignore-aliyun-cli-credentials",
	"role-arn", "role-session-name", "credential-type",
	"region-id", "sts-endpoint", "cs-endpoint", "vpc-endpoint",
}

type kubeconfigOptions struct {
	root           *rootOptions
	clusterID      string
	cluster        string
	all            bool
	region         string
	nameGlob       string
	contextTmpl    string
	prune          bool
	mode           string
	privateAddress bool
	expiration     string
	stdout         bool
	dryRun         cli.DryRun
	noSetContext   bool
	contextName    string
	kubeconfig     string
	execAPIVersion string
	execCommand    string

	// Set by Complete.
	execArgs  []string // the exec arguments after "--cluster-id ID"
	tmpl      *contextTemplate
	longLived bool // --expiration 0
	tmplSet   bool // --context-template given
}

func newKubeconfigCommand(o *rootOptions) *cobra.Command {
	ko := &kubeconfigOptions{root: o}
	cmd := &cobra.Command{
		Use:   "kubeconfig (--cluster NAME | --cluster-id ID | --all) [--mode token|certificate]",
		Short: "Add ACK clusters to your kubeconfig, authenticated by kubectl-ack_login",
		Long: `Fetch the API server address and CA of an ACK cluster (CS DescribeClusterUserKubeconfig) and
write a cluster, a user whose exec section runs kubectl-ack_login, and a context named
"<account id>-<cluster id>" (--context-name to change).

Name the cluster as you know it with --cluster NAME (a name used by several clusters fails and
lists them with region and id; --region narrows), or by id with --cluster-id (-c).

--all writes a context for every running cluster (of --region, or every region; --name-glob
'prod-*' to select by name) in one update of the file, with one backup. Context names come from
--context-template: text with the placeholders {{.Name}}, {{.ClusterID}}, {{.RegionID}},
{{.AccountID}} and {{.ClusterType}} (no other template syntax); the default
"{{.Name}}.{{.RegionID}}" cannot collide across regions. Clusters that are not
running are skipped with the reason. Running it again changes nothing when nothing changed
("unchanged"). The contexts it writes carry a "kubectl-ack" extension that kubectl keeps, so
--prune can remove exactly those whose cluster no longer exists. --all never switches the
current context and refuses to overwrite contexts it did not write.

The file is chosen like kubectl does: --kubeconfig, else the KUBECONFIG list (an entry is
updated in the file that defines it, new entries go to the first existing file), else
~/.kube/config. Other entries are never touched; every changed file is first copied to
<file>.bak-<timestamp>. The current context is switched unless --no-set-context.
Credential and endpoint flags you pass (--profile-name, --role-arn, --region-id, ...) are
copied into the exec arguments so kubectl uses the same identity.`,
		Example: `  # A cluster by name (token mode needs ack-ram-authenticator in the cluster)
  kubectl ack-login kubeconfig --cluster prod-web

  # A context for every running cluster whose name starts with prod-, in every region
  kubectl ack-login kubeconfig --all --name-glob 'prod-*'

  # Keep one region's contexts in sync: add new clusters, drop deleted ones
  kubectl ack-login kubeconfig --all --region cn-hangzhou --prune --context-template '{{.Name}}'

  # Certificate mode via the intranet address, with a dedicated aliyun CLI profile
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef --mode certificate \
    --private-address --profile-name dev

  # Print instead of writing
  kubectl ack-login kubeconfig --cluster prod-web --stdout > ack.kubeconfig

  # What would --all --prune change? Prints the entries, reports on stderr, writes nothing
  kubectl ack-login kubeconfig --all --prune --dry-run`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return ko.runCommand(cmd)
		},
	}
	ko.addFlags(cmd.Flags(), modeToken)
	fs := cmd.Flags()
	fs.StringVar(&ko.cluster, "cluster", "", "ACK cluster name (or id); see `kubectl ack-login clusters`")
	fs.BoolVar(&ko.all, "all", false, "Write a context for every running cluster (of --region, or every region)")
	fs.StringVar(&ko.region, "region", "", "With --all or --cluster: only clusters of this region")
	fs.StringVar(&ko.nameGlob, "name-glob", "", "With --all: only clusters whose name matches this glob (* and ?, case-insensitive)")
	fs.StringVar(&ko.contextTmpl, "context-template", defaultContextTemplate, "With --all: context names, text with {{.Name}} {{.ClusterID}} {{.RegionID}} {{.AccountID}} {{.ClusterType}}")
	fs.BoolVar(&ko.prune, "prune", false, "With --all: remove the contexts --all wrote for clusters that no longer exist")
	fs.BoolVar(&ko.stdout, "stdout", false, "Print the kubeconfig instead of writing it")
	cli.AddDryRunFlag(cmd, &ko.dryRun, false)
	fs.BoolVar(&ko.noSetContext, "no-set-context", false, "Do not switch the current context")
	fs.StringVar(&ko.contextName, "context-name", "", `Context name (default "<account id>-<cluster id>")`)
	fs.StringVar(&ko.kubeconfig, "kubeconfig", "", "Path of the kubeconfig file to write (default: KUBECONFIG, else ~/.kube/config)")
	return cmd
}

// newGetKubeconfigCommand is ack-ram-tool's `get-kubeconfig` (top level and under
// credential-plugin): it prints the kubeconfig and defaults to certificate mode.
func newGetKubeconfigCommand(o *rootOptions) *cobra.Command {
	ko := &kubeconfigOptions{root: o, stdout: true}
	cmd := &cobra.Command{
		Use:   "get-kubeconfig --cluster-id CLUSTER_ID",
		Short: "Print a kubeconfig that uses kubectl-ack_login (ack-ram-tool compatible; see `kubeconfig`)",
		Example: `  kubectl-ack_login get-kubeconfig --cluster-id c0123456789abcdef0123456789abcdef > kubeconfig
  kubectl-ack_login credential-plugin get-kubeconfig --cluster-id c0123456789abcdef0123456789abcdef --mode ram-authenticator-token`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return ko.runCommand(cmd)
		},
	}
	ko.addFlags(cmd.Flags(), modeCertificate)
	_ = cmd.Flags().String("credential-cache-dir", "", "Accepted for ack-ram-tool compatibility and ignored")
	_ = cmd.Flags().MarkHidden("credential-cache-dir")
	return cmd
}

func (ko *kubeconfigOptions) addFlags(fs *pflag.FlagSet, defaultMode string) {
	fs.StringVarP(&ko.clusterID, "cluster-id", "c", "", "ACK cluster ID")
	fs.StringVarP(&ko.mode, "mode", "m", defaultMode, "Credential the exec plugin provides: token or certificate")
	fs.BoolVar(&ko.privateAddress, "private-address", false, "Use the cluster's private (intranet) API server address")
	fs.StringVar(&ko.expiration, "expiration", "", "Certificate mode: certificate lifetime passed to the plugin, 15m to 72h (default 3h; 0 = a long-lived certificate, see --help)")
	fs.StringVar(&ko.execAPIVersion, "api-version", "v1", "client.authentication.k8s.io version of the exec section: v1 (kubectl 1.22+) or v1beta1")
	fs.StringVar(&ko.execCommand, "exec-command", ExecCommand, "Command written into the exec section (a path if it is not on kubectl's PATH)")
}

func (ko *kubeconfigOptions) runCommand(cmd *cobra.Command) error {
	if err := ko.Complete(cmd.Flags()); err != nil {
		return err
	}
	if err := ko.Validate(); err != nil {
		return err
	}
	return ko.Run(cmd.Context())
}

// Complete normalises the flags and builds the exec arguments every context shares.
func (ko *kubeconfigOptions) Complete(fs *pflag.FlagSet) error {
	mode, err := normalizeMode(ko.mode)
	if err != nil {
		return err
	}
	ko.mode = mode
	if ko.execAPIVersion, err = normalizeAPIVersion(ko.execAPIVersion); err != nil {
		return usage(err)
	}
	ko.region = strings.TrimSpace(ko.region)
	ko.tmplSet = fs.Changed("context-template")
	ko.execArgs = []string{"--mode", mode}
	if ko.expiration != "" {
		d, err := parseDuration(ko.expiration)
		if err != nil {
			return usage(fmt.Errorf("invalid --expiration: %w", err))
		}
		if err := validateExpiration(d); err != nil {
			return err
		}
		ko.longLived = d == 0
		ko.execArgs = append(ko.execArgs, "--expiration", d.String())
	}
	pass := changedFlags(fs, passThroughFlags...)
	for i := 0; i+1 < len(pass); i++ {
		// kubectl runs the plugin from any directory.
		if pass[i] == "--profile-file" {
			if abs, err := filepath.Abs(pass[i+1]); err == nil {
				pass[i+1] = abs
			}
		}
	}
	ko.execArgs = append(ko.execArgs, pass...)
	if ko.all {
		if ko.tmpl, err = parseContextTemplate(ko.contextTmpl); err != nil {
			return usage(err)
		}
	}
	return nil
}

// printOnly reports whether the entries are printed rather than written: --stdout, or
// --dry-run=client.
func (ko *kubeconfigOptions) printOnly() bool { return ko.stdout || ko.dryRun == cli.DryRunClient }

// Validate checks that the flags make one request. Every mistake is a usage error.
func (ko *kubeconfigOptions) Validate() error { return usage(ko.validate()) }

func (ko *kubeconfigOptions) validate() error {
	set := 0
	for _, b := range []bool{ko.clusterID != "", ko.cluster != "", ko.all} {
		if b {
			set++
		}
	}
	switch {
	case set == 0:
		return errors.New("name the cluster: --cluster NAME (see `kubectl ack-login clusters`), --cluster-id ID, or --all for every cluster")
	case set > 1:
		return errors.New("--cluster, --cluster-id and --all exclude each other: pass one")
	case ko.expiration != "" && ko.mode != modeCertificate:
		return errors.New("--expiration applies to --mode certificate only")
	case !ko.all && (ko.nameGlob != "" || ko.prune || ko.tmplSet):
		return errors.New("--name-glob, --context-template and --prune apply to --all only")
	case ko.region != "" && ko.clusterID != "":
		return errors.New("--region applies to --cluster and --all: a cluster id needs no region")
	case ko.all && ko.contextName != "":
		return errors.New("--context-name names one context: with --all use --context-template")
	case ko.prune && ko.stdout:
		return errors.New("--prune edits a kubeconfig file: it cannot be combined with --stdout")
	}
	return nil
}

// Run writes (or prints) the kubeconfig entries.
func (ko *kubeconfigOptions) Run(ctx context.Context) error {
	if ko.longLived {
		ko.root.log.Warnf("%s", longLivedWarning)
	}
	if ko.all {
		return ko.runAll(ctx)
	}
	res, cs, err := ko.root.csClient(ctx)
	if err != nil {
		return err
	}
	id := ko.clusterID
	if id == "" {
		c, err := clusters.Resolve(ctx, cs, clusters.Scope{RegionID: ko.region}, ko.cluster)
		if err != nil {
			return explainResolve(err)
		}
		ko.root.log.Infof("Cluster %q is %s in %s.", ko.cluster, c.ClusterID, c.RegionID)
		id = c.ClusterID
	}
	return ko.runOne(ctx, res, cs, id)
}

// explainResolve adds what to do next to the errors of clusters.Resolve.
func explainResolve(err error) error {
	var amb *clusters.AmbiguousError
	var nf *clusters.NotFoundError
	switch {
	case errors.As(err, &amb):
		return fmt.Errorf("%w\npick one with --cluster-id (-c), or narrow with --region", err)
	case errors.As(err, &nf):
		return fmt.Errorf("%w\nlist the clusters with `kubectl ack-login clusters`", err)
	}
	return err
}

// execEntries returns the entries of one cluster, its exec arguments starting with its id.
func (ko *kubeconfigOptions) execEntries(clusterID, contextName, server string, caData []byte) kubefile.Entries {
	clusterName := clusterID
	if ko.privateAddress {
		clusterName += "-internal"
	}
	return kubefile.Entries{
		ClusterName: clusterName,
		Cluster:     kubefile.Cluster{Server: server, CertificateAuthorityData: caData},
		UserName:    contextName,
		Exec: kubefile.ExecConfig{
			APIVersion:      ko.execAPIVersion,
			Command:         ko.execCommand,
			Args:            append([]string{"--cluster-id", clusterID}, ko.execArgs...),
			InstallHint:     InstallHint,
			InteractiveMode: "Never",
		},
		ContextName: contextName,
		Context:     kubefile.Context{Cluster: clusterName, User: contextName},
	}
}

// endpoint asks CS for the cluster's kubeconfig and returns its server, CA and context name.
func (ko *kubeconfigOptions) endpoint(ctx context.Context, cs *cloud.CS, clusterID string) (server string, caData []byte, csContext string, err error) {
	// The shortest lifetime: only the address and CA of this answer are used.
	kc, err := cs.DescribeClusterUserKubeconfig(ctx, clusterID, ko.privateAddress, int(minExpiration.Minutes()))
	if err != nil {
		return "", nil, "", fmt.Errorf("get the kubeconfig of cluster %s: %w", clusterID, err)
	}
	server, caData, csContext, err = clusterEndpoint([]byte(kc.Config))
	if err != nil {
		return "", nil, "", fmt.Errorf("kubeconfig of cluster %s from DescribeClusterUserKubeconfig: %w", clusterID, err)
	}
	return server, caData, csContext, nil
}

// runOne writes the context of one cluster.
func (ko *kubeconfigOptions) runOne(ctx context.Context, res *credentials.Resolved, cs *cloud.CS, clusterID string) error {
	o := ko.root
	server, caData, csContext, err := ko.endpoint(ctx, cs, clusterID)
	if err != nil {
		return err
	}
	contextName := ko.contextName
	if contextName == "" {
		if id, ok := kubefile.ClusterIDFromContextName(csContext); ok && id == clusterID {
			contextName = csContext
		} else {
			ci, err := credentials.Whoami(ctx, res, o.endpoints)
			if err != nil {
				return fmt.Errorf("find the account id for the context name (or pass --context-name): %w", err)
			}
			contextName = kubefile.ContextName(ci.AccountID, clusterID)
		}
	}
	entries := ko.execEntries(clusterID, contextName, server, caData)
	entries.SetCurrentContext = !ko.noSetContext
	if ko.printOnly() {
		return ko.printOne(entries)
	}
	result, err := kubefile.Merge(ko.paths(), entries, o.now())
	if err != nil {
		return err
	}
	for _, b := range result.Backups {
		fmt.Fprintf(o.streams.Out, "Backed up %s\n", b)
	}
	where := "unchanged"
	if len(result.Files) > 0 {
		where = "written to " + strings.Join(result.Files, ", ")
	}
	fmt.Fprintf(o.streams.Out, "Context %q for cluster %s (%s mode, server %s) %s\n", contextName, clusterID, ko.mode, server, where)
	if !ko.noSetContext {
		fmt.Fprintf(o.streams.Out, "Switched to context %q.\n", contextName)
	}
	return nil
}

// printOne prints the entries of one cluster as a standalone kubeconfig; a dry run also says on
// stderr where they would have gone.
func (ko *kubeconfigOptions) printOne(entries kubefile.Entries) error {
	b, err := kubefile.Render(entries)
	if err != nil {
		return err
	}
	if _, err := ko.root.streams.Out.Write(b); err != nil {
		return err
	}
	if ko.stdout {
		return nil
	}
	files, err := ko.paths().Precedence()
	if err != nil {
		return err
	}
	fmt.Fprintf(ko.root.streams.ErrOut, "Dry run: context %q was not written; without --dry-run it is merged into %s.\n",
		entries.ContextName, strings.Join(files, ", "))
	return nil
}

// clusterEndpoint returns the server, CA bundle and current-context name of
// the kubeconfig CS returned.
func clusterEndpoint(config []byte) (server string, caData []byte, contextName string, err error) {
	doc, err := kubefile.ParseDocument(config)
	if err != nil {
		return "", nil, "", err
	}
	contextName = doc.CurrentContext()
	clusterName := ""
	if c, ok := doc.Get(kubefile.SectionContexts, contextName); ok {
		clusterName, _ = c["cluster"].(string)
	}
	cl, ok := doc.Get(kubefile.SectionClusters, clusterName)
	if !ok {
		names := doc.Names(kubefile.SectionClusters)
		if len(names) != 1 {
			return "", nil, "", fmt.Errorf("cannot tell which of %d clusters to use", len(names))
		}
		cl, _ = doc.Get(kubefile.SectionClusters, names[0])
	}
	server, _ = cl["server"].(string)
	if server == "" {
		return "", nil, "", errors.New("the cluster entry has no server")
	}
	if s, _ := cl["certificate-authority-data"].(string); s != "" {
		if caData, err = base64.StdEncoding.DecodeString(s); err != nil {
			return "", nil, "", fmt.Errorf("decode certificate-authority-data: %w", err)
		}
	}
	return server, caData, contextName, nil
}
