package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// addOptions are the official "add user|role" flags.
type addOptions struct {
	*rootOptions
	kind                                 string // "user" or "role"
	arn, username                        string
	groups                               []string
	prompt                               bool
	masterURL, kubeconfig, kubeconfigCtx string
}

func newAddCommand(root *rootOptions) *cobra.Command {
	ao := &addOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "add user|role",
		Short: "Add a RAM user or role mapping to the kube-system/alibabacloud-auth ConfigMap (the ACKConfigMap backend)",
		Long: `add appends one mapRoles or mapUsers entry to the kube-system/alibabacloud-auth ConfigMap,
which the ACKConfigMap backend watches. The entry is validated as the server validates it, an
entry for the same ARN is refused, and the ConfigMap is created when it does not exist. It asks
for confirmation first; --prompt=false skips the question (needed when stdin is not a terminal).
Concurrent edits are retried on a fresh copy.`,
		Example: `  ack-ram-authenticator add role --rolearn acs:ram::123456789012:role/KubernetesAdmin --username kubernetes-admin --groups system:masters
  ack-ram-authenticator add user --userarn acs:ram::123456789012:user/alice --username alice --groups devs --prompt=false --kubeconfig admin.kubeconfig`,
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&ao.prompt, "prompt", true, "ask before writing; false to skip the question")
	pf.StringVar(&ao.masterURL, "master-url", "", "kube-apiserver URL (overrides the kubeconfig's)")
	pf.StringVar(&ao.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
	pf.StringVar(&ao.kubeconfigCtx, "kubeconfig-context", "", "kubeconfig context (default: the current context)")
	for _, kind := range []string{"user", "role"} {
		cmd.AddCommand(newAddKindCommand(ao, kind))
	}
	return cmd
}

func newAddKindCommand(ao *addOptions, kind string) *cobra.Command {
	c := &cobra.Command{
		Use:     kind + " --" + kind + "arn ARN --username NAME [--groups G1,G2]",
		Short:   fmt.Sprintf("Add a RAM %s to the alibabacloud-auth ConfigMap", kind),
		Example: fmt.Sprintf("  ack-ram-authenticator add %[1]s --%[1]sarn acs:ram::123456789012:%[1]s/admin --username admin --groups system:masters", kind),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ao.kind = kind
			return runE(ao)(cmd, nil)
		},
	}
	c.Flags().StringVar(&ao.arn, kind+"arn", "", fmt.Sprintf("ARN of the RAM %s (acs:ram::<account>:%s/<name>)", kind, kind))
	c.Flags().StringVar(&ao.username, "username", "", "Kubernetes username (template: {{AccountID}}, {{SessionName}}, ...)")
	c.Flags().StringSliceVar(&ao.groups, "groups", nil, "Kubernetes groups, comma-separated")
	return c
}

// Complete has nothing to derive: the kind comes from the subcommand.
func (ao *addOptions) Complete(*cobra.Command) error { return nil }

// Validate checks the entry as the server would, and that the question can be answered: without
// a terminal, --prompt=false is needed before the cluster is read.
func (ao *addOptions) Validate() error {
	if _, err := ao.entry(); err != nil {
		return err
	}
	if ao.prompt && !isTerminal(ao.stdin) {
		return errors.New("stdin is not a terminal, so nobody can confirm: pass --prompt=false to add without the question (nothing was changed)")
	}
	return nil
}

// entry validates the flags into the mapping to add.
func (ao *addOptions) entry() (mapper.StaticConfig, error) {
	if strings.TrimSpace(ao.arn) == "" || strings.TrimSpace(ao.username) == "" {
		return mapper.StaticConfig{}, fmt.Errorf("--%sarn and --username are required", ao.kind)
	}
	var c mapper.StaticConfig
	if ao.kind == "role" {
		c.MapRoles = []mapper.RoleMapping{{RoleARN: ao.arn, Username: ao.username, Groups: ao.groups}}
	} else {
		c.MapUsers = []mapper.UserMapping{{UserARN: ao.arn, Username: ao.username, Groups: ao.groups}}
	}
	if _, err := c.Rules(); err != nil {
		return mapper.StaticConfig{}, err
	}
	return c, nil
}

// Run asks, then appends the entry to the ConfigMap (created when missing) and prints it.
func (ao *addOptions) Run(ctx context.Context) error {
	add, err := ao.entry()
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%sarn %s, username %q, groups [%s]", ao.kind, ao.arn, ao.username, strings.Join(ao.groups, ","))
	if err := ao.confirm(ctx, what); err != nil {
		return err
	}
	cs, err := ao.client()
	if err != nil {
		return err
	}
	cm, created, err := configmap.Edit(ctx, cs.CoreV1().ConfigMaps(configmap.Namespace), configmap.Name, configmap.EditOptions{Create: true},
		func(c *mapper.StaticConfig) error { return appendEntry(c, add) })
	if err != nil {
		return fmt.Errorf("add to ConfigMap %s/%s: %w", configmap.Namespace, configmap.Name, err)
	}
	cm.ManagedFields = nil
	b, err := yaml.Marshal(cm)
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	_, err = fmt.Fprintf(ao.stdout, "%s configmap:\n\n%s", verb, b)
	return err
}

// appendEntry adds the one entry of add to c, refusing a second entry for the same identity.
func appendEntry(c *mapper.StaticConfig, add mapper.StaticConfig) error {
	for _, r := range add.MapRoles {
		for _, have := range c.MapRoles {
			if arn.Equal(have.RoleARN, r.RoleARN) {
				return fmt.Errorf("cannot add duplicate role ARN %q: the ConfigMap already maps it to %q", r.RoleARN, have.Username)
			}
		}
		c.MapRoles = append(c.MapRoles, r)
	}
	for _, u := range add.MapUsers {
		for _, have := range c.MapUsers {
			if arn.Equal(have.UserARN, u.UserARN) {
				return fmt.Errorf("cannot add duplicate user ARN %q: the ConfigMap already maps it to %q", u.UserARN, have.Username)
			}
		}
		c.MapUsers = append(c.MapUsers, u)
	}
	return nil
}

// confirm asks before writing (Validate made sure a terminal answers); --prompt=false skips it.
func (ao *addOptions) confirm(ctx context.Context, what string) error {
	if !ao.prompt {
		return nil
	}
	yes, err := prompt.Confirm(ctx, ao.stdin, ao.stderr, fmt.Sprintf("Add %s to ConfigMap %s/%s?", what, configmap.Namespace, configmap.Name))
	if err != nil {
		return err
	}
	if !yes {
		return errors.New("cancelled: nothing was changed")
	}
	return nil
}

// isTerminal reports whether stdin is an interactive terminal.
func isTerminal(stdin io.Reader) bool {
	w, ok := stdin.(io.Writer)
	return ok && prompt.IsTerminal(w)
}

// client builds a Kubernetes client from --kubeconfig, --kubeconfig-context and --master-url,
// or from the default kubeconfig loading rules.
func (ao *addOptions) client() (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if ao.kubeconfig != "" {
		rules.ExplicitPath = ao.kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: ao.kubeconfigCtx}
	overrides.ClusterInfo.Server = ao.masterURL
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, nil
}
