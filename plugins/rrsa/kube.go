package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// preflightKube checks, before anything is changed, that the Kubernetes side of a command can be
// done: the current kube context is usable, the user has perms (SelfSubjectAccessReview) and,
// when ns is not empty, the namespace exists. flag names the option that asked for it.
func (o *rootOptions) preflightKube(ctx context.Context, flag string, perms []rrsa.Permission, ns string) (kubernetes.Interface, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format+"; nothing was changed", append([]any{flag}, args...)...)
	}
	kc, err := o.kubeClient()
	if err != nil {
		// kube.ErrNoContext says how to get a context; the other way out is not to need one.
		return nil, fail("%v; or leave out %s", err, flag)
	}
	err = rrsa.CheckAccess(ctx, kc, perms)
	var denied *rrsa.AccessDeniedError
	switch {
	case errors.As(err, &denied):
		return nil, fail("%v. Ask a cluster admin for these permissions (kubectl auth can-i shows them), or leave out %s", err, flag)
	case err != nil:
		return nil, fail("cannot use the cluster of %s (%v). Check that the context points at a reachable cluster, or leave out %s", o.contextText(), err, flag)
	}
	if ns != "" {
		if err := rrsa.CheckNamespace(ctx, kc, ns); err != nil {
			return nil, fail("%v: create it (kubectl create namespace %s) and re-run", err, ns)
		}
	}
	return kc, nil
}

// contextText names the kube context in use, for messages.
func (o *rootOptions) contextText() string {
	if o.configFlags.Context != nil && *o.configFlags.Context != "" {
		return fmt.Sprintf("kube context %q", *o.configFlags.Context)
	}
	if raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil && raw.CurrentContext != "" {
		return fmt.Sprintf("kube context %q", raw.CurrentContext)
	}
	return "the current kube context"
}

// command renders a complete `kubectl ack-rrsa` command line for messages that tell the user how
// to finish or revert something: the verb and args, the cluster and the kube context in use.
func (o *rootOptions) command(clusterID string, args ...string) string {
	parts := append([]string{"kubectl", "ack-rrsa"}, args...)
	parts = append(parts, "-c", clusterID)
	if o.configFlags.KubeConfig != nil && *o.configFlags.KubeConfig != "" {
		parts = append(parts, "--kubeconfig", *o.configFlags.KubeConfig)
	}
	if o.configFlags.Context != nil && *o.configFlags.Context != "" {
		parts = append(parts, "--context", *o.configFlags.Context)
	}
	for i, p := range parts {
		if strings.ContainsAny(p, " *?'\"$\\") {
			parts[i] = shellQuote(p)
		}
	}
	return strings.Join(parts, " ")
}
