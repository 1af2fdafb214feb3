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

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
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
	mode           string
	privateAddress bool
	expiration     string
	stdout         bool
	noSetContext   bool
	contextName    string
	kubeconfig     string
	execAPIVersion string
	execCommand    string
}

func newKubeconfigCommand(o *rootOptions) *cobra.Command {
	ko := &kubeconfigOptions{root: o}
	cmd := &cobra.Command{
		Use:   "kubeconfig --cluster-id CLUSTER_ID [--mode token|certificate]",
		Short: "Add an ACK cluster to your kubeconfig, authenticated by kubectl-ack_login",
		Long: `Fetch the API server address and CA of an ACK cluster (CS DescribeClusterUserKubeconfig) and
write a cluster, a user whose exec section runs kubectl-ack_login, and a context named
"<account id>-<cluster id>" (--context-name to change).

The file is chosen like kubectl does: --kubeconfig, else the KUBECONFIG list (an entry is
updated in the file that defines it, new entries go to the first existing file), else
~/.kube/config. Other entries are never touched; every changed file is first copied to
<file>.bak-<timestamp>. The current context is switched unless --no-set-context.
Credential and endpoint flags you pass (--profile-name, --role-arn, --region-id, ...) are
copied into the exec arguments so kubectl uses the same identity.`,
		Example: `  # Token mode (needs ack-ram-authenticator in the cluster)
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef

  # Certificate mode via the intranet address, with a dedicated aliyun CLI profile
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef --mode certificate \
    --private-address --profile-name dev

  # Print instead of writing
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef --stdout > ack.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return ko.run(cmd.Context(), cmd.Flags())
		},
	}
	ko.addFlags(cmd.Flags(), modeToken)
	fs := cmd.Flags()
	fs.BoolVar(&ko.stdout, "stdout", false, "Print the kubeconfig instead of writing it")
	fs.BoolVar(&ko.noSetContext, "no-set-context", false, "Do not switch the current context")
	fs.StringVar(&ko.contextName, "context-name", "", `Context name (default "<account id>-<cluster id>")`)
	fs.StringVar(&ko.kubeconfig, "kubeconfig", "", "Path of the kubeconfig file to write (default: KUBECONFIG, else ~/.kube/config)")
	return cmd
}

// newGetKubeconfigCommand is ack-ram-tool's `credential-plugin
// get-kubeconfig`: it prints the kubeconfig and defaults to certificate mode.
func newGetKubeconfigCommand(o *rootOptions) *cobra.Command {
	ko := &kubeconfigOptions{root: o, stdout: true}
	cmd := &cobra.Command{
		Use:     "get-kubeconfig --cluster-id CLUSTER_ID",
		Short:   "Print a kubeconfig that uses kubectl-ack_login (ack-ram-tool compatible; see `kubeconfig`)",
		Example: `  kubectl-ack_login credential-plugin get-kubeconfig --cluster-id c0123456789abcdef0123456789abcdef > kubeconfig`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return ko.run(cmd.Context(), cmd.Flags())
		},
	}
	ko.addFlags(cmd.Flags(), modeCertificate)
	_ = cmd.Flags().String("credential-cache-dir", "", "Accepted for ack-ram-tool compatibility and ignored")
	_ = cmd.Flags().MarkHidden("credential-cache-dir")
	return cmd
}

func (ko *kubeconfigOptions) addFlags(fs *pflag.FlagSet, defaultMode string) {
	fs.StringVarP(&ko.clusterID, "cluster-id", "c", "", "ACK cluster ID (required)")
	fs.StringVarP(&ko.mode, "mode", "m", defaultMode, "Credential the exec plugin provides: token or certificate")
	fs.BoolVar(&ko.privateAddress, "private-address", false, "Use the cluster's private (intranet) API server address")
	fs.StringVar(&ko.expiration, "expiration", "", "Certificate mode: certificate lifetime passed to the plugin, 15m to 72h (default 3h)")
	fs.StringVar(&ko.execAPIVersion, "api-version", "v1", "client.authentication.k8s.io version of the exec section: v1 (kubectl 1.22+) or v1beta1")
	fs.StringVar(&ko.execCommand, "exec-command", ExecCommand, "Command written into the exec section (a path if it is not on kubectl's PATH)")
}

func (ko *kubeconfigOptions) run(ctx context.Context, fs *pflag.FlagSet) error {
	o := ko.root
	mode, err := normalizeMode(ko.mode)
	if err != nil {
		return err
	}
	if ko.clusterID == "" {
		return errors.New("--cluster-id is required: the ACK cluster ID, e.g. --cluster-id c0123456789abcdef0123456789abcdef")
	}
	execAPIVersion, err := normalizeAPIVersion(ko.execAPIVersion)
	if err != nil {
		return err
	}
	args := []string{"--cluster-id", ko.clusterID, "--mode", mode}
	if ko.expiration != "" {
		if mode != modeCertificate {
			return errors.New("--expiration applies to --mode certificate only")
		}
		d, err := parseDuration(ko.expiration)
		if err != nil {
			return err
		}
		if d < minExpiration || d > maxExpiration {
			return fmt.Errorf("invalid --expiration %s: the certificate lifetime must be between 15m and 72h", ko.expiration)
		}
		args = append(args, "--expiration", d.String())
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
	args = append(args, pass...)

	res, err := o.creds.Resolve(ctx)
	if err != nil {
		return err
	}
	cs, err := cloud.NewCS(res.Credential, o.endpoints)
	if err != nil {
		return err
	}
	// The shortest lifetime: only the address and CA of this answer are used.
	kc, err := cs.DescribeClusterUserKubeconfig(ctx, ko.clusterID, ko.privateAddress, int(minExpiration.Minutes()))
	if err != nil {
		return fmt.Errorf("get the kubeconfig of cluster %s: %w", ko.clusterID, err)
	}
	server, caData, csContext, err := clusterEndpoint([]byte(kc.Config))
	if err != nil {
		return fmt.Errorf("kubeconfig of cluster %s from DescribeClusterUserKubeconfig: %w", ko.clusterID, err)
	}
	contextName := ko.contextName
	if contextName == "" {
		if id, ok := kubefile.ClusterIDFromContextName(csContext); ok && id == ko.clusterID {
			contextName = csContext
		} else {
			sts, err := cloud.NewSTS(res.Credential, o.endpoints)
			if err != nil {
				return err
			}
			ci, err := sts.GetCallerIdentity(ctx)
			if err != nil {
				return fmt.Errorf("find the account id for the context name (or pass --context-name): %w", err)
			}
			contextName = kubefile.ContextName(ci.AccountID, ko.clusterID)
		}
	}
	clusterName := ko.clusterID
	if ko.privateAddress {
		clusterName += "-internal"
	}
	entries := kubefile.Entries{
		ClusterName: clusterName,
		Cluster:     kubefile.Cluster{Server: server, CertificateAuthorityData: caData},
		UserName:    contextName,
		Exec: kubefile.ExecConfig{
			APIVersion:      execAPIVersion,
			Command:         ko.execCommand,
			Args:            args,
			InstallHint:     InstallHint,
			InteractiveMode: "Never",
		},
		ContextName:       contextName,
		Context:           kubefile.Context{Cluster: clusterName, User: contextName},
		SetCurrentContext: !ko.noSetContext,
	}
	if ko.stdout {
		b, err := kubefile.Render(entries)
		if err != nil {
			return err
		}
		_, err = o.streams.Out.Write(b)
		return err
	}
	paths := kubefile.PathOptions{ExplicitPath: ko.kubeconfig, Env: o.lookupEnv}
	result, err := kubefile.Merge(paths, entries, o.now())
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
	fmt.Fprintf(o.streams.Out, "Context %q for cluster %s (%s mode, server %s) %s\n", contextName, ko.clusterID, mode, server, where)
	if !ko.noSetContext {
		fmt.Fprintf(o.streams.Out, "Switched to context %q.\n", contextName)
	}
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
