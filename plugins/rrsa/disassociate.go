package rrsa

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// disassociateOptions are the flags of disassociate-role.
type disassociateOptions struct {
	*rootOptions
	roleName, namespace, serviceAccount string
	yes, annotate, deleteRole           bool
	dryRun                              cli.DryRun
}

// Complete has nothing to derive: the flags are used as given.
func (o *disassociateOptions) Complete() error { return nil }

// Validate checks the flags before anything is looked up, and that the confirmation can be
// asked.
func (o *disassociateOptions) Validate() error {
	if err := checkRoleName(o.roleName); err != nil {
		return err
	}
	if o.annotate && isWildcard(o.namespace, o.serviceAccount) {
		return fmt.Errorf("--annotate-service-account needs one service account, not the pattern %s/%s", o.namespace, o.serviceAccount)
	}
	if o.dryRun == cli.DryRunNone {
		return o.newConfirmer(o.yes).Check()
	}
	return nil
}

// Run removes the service account from the trust policy (deleting the role with --delete-role
// when it would be left without statements), then its annotation with --annotate-service-account.
func (o *disassociateOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return err
	}
	dry := o.dryRun != cli.DryRunNone
	var kc kubernetes.Interface
	if o.annotate && !dry {
		if kc, err = o.preflightKube(ctx, "--annotate-service-account", rrsa.UnannotatePermissions(o.namespace, o.serviceAccount), ""); err != nil {
			return err
		}
	}
	subject := fmt.Sprintf("service account %s/%s", o.namespace, o.serviceAccount)
	gone := rrsa.Statement{OIDCProviderARN: c.RRSA.OIDCArn, Issuer: c.RRSA.Issuer, Namespace: o.namespace, ServiceAccount: o.serviceAccount}
	question := fmt.Sprintf("Remove %s from the trust policy of RAM role %q", subject, o.roleName)
	if o.deleteRole {
		question += " (deleting the role if nothing else is left in it)"
	}
	plan, res, err := o.runTrustStep(ctx, s, trustStep{
		change: rrsa.TrustChange{
			Role: o.roleName,
			Edit: func(p *rrsa.Policy) (*rrsa.Policy, bool, error) {
				return rrsa.Remove(p, c.RRSA.OIDCArn, c.RRSA.Issuer, o.namespace, o.serviceAccount)
			},
			Verify:        func(p *rrsa.Policy) bool { return !rrsa.Contains(p, gone) },
			DeleteIfEmpty: o.deleteRole,
		},
		dryRun: dry, yes: o.yes, question: question,
	})
	if err != nil {
		return explainTrustError(err, o.roleName, false)
	}
	switch {
	case dry && !plan.Changed:
		fmt.Fprintf(o.streams.ErrOut, "Dry run: RAM role %q does not trust %s; nothing would change\n", o.roleName, subject)
		return nil
	case dry:
		return nil
	case res == nil:
		fmt.Fprintf(o.streams.Out, "RAM role %q does not trust %s; nothing to do in RAM\n", o.roleName, subject)
	case res.Deleted:
		fmt.Fprintf(o.streams.Out, "Deleted RAM role %q: %s was the last service account it trusted%s\n", o.roleName, subject, detachedText(res))
	default:
		fmt.Fprintf(o.streams.Out, "Disassociated RAM role %q from %s\n", o.roleName, subject)
	}
	if kc == nil {
		return nil
	}
	return o.unannotate(ctx, kc, res != nil)
}

func detachedText(res *rrsa.Result) string {
	if len(res.Detached) == 0 {
		return ""
	}
	return " (detached " + policyList(res.Detached) + ")"
}

// unannotate removes the role annotation when it still names this role, and says what it found.
func (o *disassociateOptions) unannotate(ctx context.Context, kc kubernetes.Interface, trustChanged bool) error {
	ns, sa := o.namespace, o.serviceAccount
	outcome, named, err := rrsa.RemoveRoleAnnotation(ctx, kc, ns, sa, o.roleName)
	if err != nil {
		if !trustChanged {
			return err
		}
		return fmt.Errorf("%w\nRAM role %q no longer trusts service account %s/%s, but its annotation is still there. Remove it with:\n  kubectl annotate serviceaccount -n %s %s %s-",
			err, o.roleName, ns, sa, ns, sa, rrsa.RoleNameAnnotation)
	}
	switch outcome {
	case rrsa.AnnotationRemoved:
		fmt.Fprintf(o.streams.Out, "Removed annotation %s=%s from service account %s/%s\n", rrsa.RoleNameAnnotation, o.roleName, ns, sa)
	case rrsa.AnnotationNamesOther:
		fmt.Fprintf(o.streams.Out, "Service account %s/%s is annotated for RAM role %q, not %q; annotation kept\n", ns, sa, named, o.roleName)
	case rrsa.AnnotationChanged:
		fmt.Fprintf(o.streams.ErrOut, "Warning: the annotation of service account %s/%s changed while it was being removed; it was kept: check it with kubectl get serviceaccount -n %s %s -o yaml\n", ns, sa, ns, sa)
	default:
		fmt.Fprintf(o.streams.Out, "Service account %s/%s has no %s annotation; nothing to remove\n", ns, sa, rrsa.RoleNameAnnotation)
	}
	return nil
}

func newDisassociateCommand(root *rootOptions) *cobra.Command {
	o := &disassociateOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "disassociate-role",
		Short: "Stop a Kubernetes service account from assuming a RAM role",
		Long: `Remove the service account from the RAM role's trust policy.

Only that service account's oidc:sub value is removed; a statement is deleted only when nothing
else is left in it. Other service accounts, other clusters and foreign statements are kept.

RAM does not accept a trust policy without statements, and putting another statement in its place
could let someone new assume the role. So when the service account is the last one the role
trusts, the command changes nothing and says so, unless --delete-role is given: then it detaches
the role's policies and deletes the role (after confirmation).

With --annotate-service-account it also removes the service account's
pod-identity.alibabacloud.com/role-name annotation if it still names this role (the undo of
associate-role --annotate-service-account), checking first that it may.`,
		Example: `  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app
  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app --annotate-service-account --delete-role -y
  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app --dry-run`,
		RunE: runE(o),
	}
	root.addRoleSAFlags(cmd, &o.roleName, &o.namespace, &o.serviceAccount)
	f := cmd.Flags()
	f.BoolVar(&o.annotate, "annotate-service-account", false, "Also remove the service account's role annotation if it still names this role")
	f.BoolVar(&o.deleteRole, "delete-role", false, "Delete the role (detaching its policies) when this service account is the last one it trusts")
	cli.AddYesFlag(f, &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, false)
	return cmd
}
