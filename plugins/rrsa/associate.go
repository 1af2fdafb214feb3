package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// ErrConcurrentModification reports that someone else changed a role's trust policy while we
// were updating it. RAM has no conditional update, so the best we can do is notice and stop.
var ErrConcurrentModification = errors.New("the trust policy was modified concurrently")

// trustChange is one edit of a role's trust policy: associate or disassociate.
type trustChange struct {
	roleName string
	// mayCreate says the command has --create-role-if-not-exist; createRole is its value.
	mayCreate  bool
	createRole bool
	dryRun     bool
	yes        bool
	// edit computes the new policy from the current one and says whether anything changes.
	edit func(*rrsa.Policy) (*rrsa.Policy, bool, error)
	// verify checks that the written policy has what we wanted (read back after the write).
	verify func(*rrsa.Policy) bool
	// describe is the action in words, for prompts and messages.
	describe string
}

// applyTrustChange reads the role, applies the edit, shows the diff, confirms, writes, and reads
// back to verify. It returns whether the policy was changed.
func (o *rootOptions) applyTrustChange(ctx context.Context, s *session, ch trustChange) (bool, error) {
	role, err := s.clients.RAM.GetRole(ctx, ch.roleName)
	exists := true
	if err != nil {
		if !errors.Is(err, cloud.ErrNotFound) {
			return false, fmt.Errorf("get RAM role %q: %w", ch.roleName, err)
		}
		if !ch.mayCreate {
			return false, fmt.Errorf("RAM role %q does not exist: check -r/--role-name: %w", ch.roleName, err)
		}
		if !ch.createRole {
			return false, fmt.Errorf("RAM role %q does not exist: create it first or pass --create-role-if-not-exist: %w", ch.roleName, err)
		}
		exists = false
		role = &cloud.Role{Name: ch.roleName}
	}
	current, err := rrsa.ParsePolicy(role.AssumeRolePolicyDocument)
	if err != nil {
		return false, fmt.Errorf("trust policy of RAM role %q: %w", ch.roleName, err)
	}
	updated, changed, err := ch.edit(current)
	if err != nil {
		return false, err
	}
	if !changed {
		return false, nil
	}
	newDoc, err := updated.JSON()
	if err != nil {
		return false, err
	}
	if ch.dryRun {
		pretty, err := updated.Pretty()
		if err != nil {
			return false, err
		}
		diff, err := rrsa.Diff(role.AssumeRolePolicyDocument, newDoc)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(o.streams.ErrOut, "Dry run: the trust policy of RAM role %q would change as follows:\n%s", ch.roleName, diff)
		fmt.Fprintf(o.streams.Out, "%s\n", pretty)
		return true, nil
	}
	if exists {
		diff, err := rrsa.Diff(role.AssumeRolePolicyDocument, newDoc)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(o.streams.ErrOut, "The trust policy of RAM role %q will change as follows:\n%s", ch.roleName, diff)
	} else {
		pretty, err := updated.Pretty()
		if err != nil {
			return false, err
		}
		fmt.Fprintf(o.streams.ErrOut, "RAM role %q will be created with this trust policy:\n%s\n", ch.roleName, pretty)
	}
	if err := o.confirm(ctx, ch.yes, fmt.Sprintf("%s?", ch.describe)); err != nil {
		return false, err
	}
	if o.hooks.afterRead != nil {
		o.hooks.afterRead(ctx)
	}
	if exists {
		// Narrow the window for lost updates: if the policy changed since we read it (perhaps
		// while the user was reading the diff), our edit is based on stale data.
		again, err := s.clients.RAM.GetRole(ctx, ch.roleName)
		if err != nil {
			return false, fmt.Errorf("re-read RAM role %q before writing: %w", ch.roleName, err)
		}
		if !rrsa.Equal(again.AssumeRolePolicyDocument, role.AssumeRolePolicyDocument) {
			return false, fmt.Errorf("%w: the trust policy of RAM role %q changed after it was read and before it was written (another user or tool is editing it); nothing was written: re-run the command to apply the change on top of the new policy", ErrConcurrentModification, ch.roleName)
		}
		if _, err := s.clients.RAM.UpdateRole(ctx, ch.roleName, newDoc); err != nil {
			return false, fmt.Errorf("update trust policy of RAM role %q: %w", ch.roleName, err)
		}
	} else {
		if _, err := s.clients.RAM.CreateRole(ctx, cloud.CreateRoleInput{
			Name:                     ch.roleName,
			AssumeRolePolicyDocument: newDoc,
			Description:              "Created by kubectl ack-rrsa for RRSA service accounts",
		}); err != nil {
			return false, fmt.Errorf("create RAM role %q: %w", ch.roleName, err)
		}
	}
	if o.hooks.afterWrite != nil {
		o.hooks.afterWrite(ctx)
	}
	back, err := s.clients.RAM.GetRole(ctx, ch.roleName)
	if err != nil {
		return true, fmt.Errorf("read back RAM role %q to verify the change: %w", ch.roleName, err)
	}
	if !rrsa.Equal(back.AssumeRolePolicyDocument, newDoc) {
		backPolicy, perr := rrsa.ParsePolicy(back.AssumeRolePolicyDocument)
		if perr != nil || !ch.verify(backPolicy) {
			return true, fmt.Errorf("%w: after writing, the trust policy of RAM role %q no longer has our change (another writer replaced it); re-run the command", ErrConcurrentModification, ch.roleName)
		}
		return true, fmt.Errorf("%w: after writing, the trust policy of RAM role %q differs from what was written (another writer changed it at the same time); our change is present but please review the policy and re-run the command to be sure:\n%s", ErrConcurrentModification, ch.roleName, mustDiff(newDoc, back.AssumeRolePolicyDocument))
	}
	return true, nil
}

func mustDiff(a, b string) string {
	d, err := rrsa.Diff(a, b)
	if err != nil {
		return err.Error()
	}
	return d
}

// associateParams is what associate-role and setup-addon share.
type associateParams struct {
	roleName, namespace, serviceAccount string
	createRole, dryRun, yes, annotate   bool
	systemPolicies, customPolicies      []string
}

// checkSubject refuses a namespace or service account name Kubernetes would never issue a token
// for (such as "Default"): the trust statement would be written but no pod could use it.
// Wildcards are checked with each "*" or "?" standing for one letter.
func checkSubject(ns, sa string) error {
	wild := strings.NewReplacer("*", "x", "?", "x")
	if errs := validation.IsDNS1123Label(wild.Replace(ns)); len(errs) > 0 {
		return fmt.Errorf("-n/--namespace %q is not a valid namespace name (%s); no pod could use the association. Use the namespace's exact name, or * for any", ns, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(wild.Replace(sa)); len(errs) > 0 {
		return fmt.Errorf("-s/--service-account %q is not a valid service account name (%s); no pod could use the association. Use the service account's exact name, or * for any", sa, strings.Join(errs, "; "))
	}
	return nil
}

func (o *rootOptions) associate(ctx context.Context, s *session, p associateParams) error {
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return err
	}
	stmt, err := rrsa.BuildStatement(c.RRSA.OIDCArn, c.RRSA.Issuer, p.namespace, p.serviceAccount)
	if err != nil {
		return err
	}
	if p.annotate && stmt.Wildcard() {
		return fmt.Errorf("--annotate-service-account needs one service account, not the pattern %s/%s", p.namespace, p.serviceAccount)
	}
	subject := fmt.Sprintf("service account %s/%s", p.namespace, p.serviceAccount)
	changed, err := o.applyTrustChange(ctx, s, trustChange{
		roleName:   p.roleName,
		mayCreate:  true,
		createRole: p.createRole,
		dryRun:     p.dryRun,
		yes:        p.yes,
		edit:       func(pol *rrsa.Policy) (*rrsa.Policy, bool, error) { return rrsa.Merge(pol, stmt) },
		verify:     func(pol *rrsa.Policy) bool { return rrsa.Contains(pol, stmt) },
		describe:   fmt.Sprintf("Associate RAM role %q with %s", p.roleName, subject),
	})
	if err != nil {
		return err
	}
	if p.dryRun {
		if !changed {
			fmt.Fprintf(o.streams.ErrOut, "Dry run: RAM role %q already trusts %s; nothing would change\n", p.roleName, subject)
		}
		return nil
	}
	if changed {
		fmt.Fprintf(o.streams.Out, "Associated RAM role %q with %s\n", p.roleName, subject)
	} else {
		fmt.Fprintf(o.streams.Out, "RAM role %q already trusts %s; trust policy unchanged\n", p.roleName, subject)
	}
	if err := o.attachPolicies(ctx, s, p); err != nil {
		return err
	}
	if p.annotate {
		if err := o.annotateServiceAccount(ctx, p.namespace, p.serviceAccount, p.roleName); err != nil {
			return err
		}
	}
	return nil
}

func (o *rootOptions) attachPolicies(ctx context.Context, s *session, p associateParams) error {
	if len(p.systemPolicies) == 0 && len(p.customPolicies) == 0 {
		return nil
	}
	attached, err := s.clients.RAM.ListPoliciesForRole(ctx, p.roleName)
	if err != nil {
		return fmt.Errorf("list policies of RAM role %q: %w", p.roleName, err)
	}
	has := map[string]bool{}
	for _, a := range attached {
		has[strings.ToLower(a.Type)+"/"+a.Name] = true
	}
	for _, set := range []struct {
		typ   string
		names []string
	}{{"System", p.systemPolicies}, {"Custom", p.customPolicies}} {
		for _, name := range set.names {
			if has[strings.ToLower(set.typ)+"/"+name] {
				fmt.Fprintf(o.streams.Out, "%s policy %q is already attached to RAM role %q\n", set.typ, name, p.roleName)
				continue
			}
			if err := s.clients.RAM.AttachPolicyToRole(ctx, set.typ, name, p.roleName); err != nil && !errors.Is(err, cloud.ErrAlreadyExists) {
				return fmt.Errorf("attach %s policy %q to RAM role %q: %w", strings.ToLower(set.typ), name, p.roleName, err)
			}
			fmt.Fprintf(o.streams.Out, "Attached %s policy %q to RAM role %q\n", strings.ToLower(set.typ), name, p.roleName)
		}
	}
	return nil
}

// checkRoleName rejects -r values RAM would only answer with a confusing "role does not exist"
// (or, with --create-role-if-not-exist, an invalid-name error): empty names and ARNs.
func checkRoleName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("-r/--role-name is empty: give the RAM role name, e.g. -r my-role")
	}
	if strings.HasPrefix(name, "acs:") {
		hint := "give the role name, e.g. -r my-role"
		if a, err := arn.Parse(name); err == nil && a.Type == arn.TypeRole {
			hint = "use -r " + a.Name
		}
		return fmt.Errorf("-r/--role-name takes a RAM role name, not an ARN (%q): %s", name, hint)
	}
	return nil
}

func addRoleSAFlags(cmd *cobra.Command, role, ns, sa *string) {
	cmd.Flags().StringVarP(role, "role-name", "r", "", "RAM role name")
	cmd.Flags().StringVarP(ns, "namespace", "n", "", "Kubernetes namespace of the service account (* for any)")
	cmd.Flags().StringVarP(sa, "service-account", "s", "", "Kubernetes service account name (* for any)")
	for _, f := range []string{"role-name", "namespace", "service-account"} {
		_ = cmd.MarkFlagRequired(f)
	}
}

func newAssociateCommand(o *rootOptions) *cobra.Command {
	var p associateParams
	cmd := &cobra.Command{
		Use:   "associate-role",
		Short: "Let a Kubernetes service account assume a RAM role through RRSA",
		Long: `Add a trust statement for the service account to the RAM role's trust policy.

Every other statement of the policy is kept. The change is shown as a diff and confirmed before it
is written, then the role is read back to make sure no concurrent writer undid it. Running the
command again is a no-op. A * namespace or service account trusts every matching one (StringLike).`,
		Example: `  kubectl ack-rrsa associate-role -r my-role -n default -s my-app
  kubectl ack-rrsa associate-role -r my-role -n default -s my-app --create-role-if-not-exist \
      --attach-system-policy AliyunOSSReadOnlyAccess --annotate-service-account -y
  kubectl ack-rrsa associate-role -r my-role -n team-a -s '*' --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRoleName(p.roleName); err != nil {
				return err
			}
			if err := checkSubject(p.namespace, p.serviceAccount); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := o.newSession(ctx)
			if err != nil {
				return err
			}
			return o.associate(ctx, s, p)
		},
	}
	addRoleSAFlags(cmd, &p.roleName, &p.namespace, &p.serviceAccount)
	f := cmd.Flags()
	f.BoolVar(&p.createRole, "create-role-if-not-exist", false, "Create the RAM role if it does not exist")
	f.StringArrayVar(&p.systemPolicies, "attach-system-policy", nil, "Attach this system policy to the role (repeatable)")
	f.StringArrayVar(&p.customPolicies, "attach-custom-policy", nil, "Attach this custom policy to the role (repeatable)")
	f.BoolVar(&p.annotate, "annotate-service-account", false, "Create the service account if missing, annotate it with the role name and label its namespace for pod identity injection")
	f.BoolVar(&p.dryRun, "dry-run", false, "Print the resulting trust policy (and the diff on stderr) without changing anything")
	f.BoolVarP(&p.yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

func newDisassociateCommand(o *rootOptions) *cobra.Command {
	var (
		roleName, ns, sa string
		dryRun, yes      bool
	)
	cmd := &cobra.Command{
		Use:   "disassociate-role",
		Short: "Stop a Kubernetes service account from assuming a RAM role",
		Long: `Remove the service account from the RAM role's trust policy.

Only that service account's oidc:sub value is removed; a statement is deleted only when nothing
else is left in it. Other service accounts, other clusters and foreign statements are kept.`,
		Example: `  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app
  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkRoleName(roleName); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := o.newSession(ctx)
			if err != nil {
				return err
			}
			c, err := s.rrsaCluster(ctx)
			if err != nil {
				return err
			}
			subject := fmt.Sprintf("service account %s/%s", ns, sa)
			stmt := rrsa.Statement{OIDCProviderARN: c.RRSA.OIDCArn, Issuer: c.RRSA.Issuer, Namespace: ns, ServiceAccount: sa}
			changed, err := o.applyTrustChange(ctx, s, trustChange{
				roleName: roleName,
				dryRun:   dryRun,
				yes:      yes,
				edit: func(pol *rrsa.Policy) (*rrsa.Policy, bool, error) {
					return rrsa.Remove(pol, c.RRSA.OIDCArn, c.RRSA.Issuer, ns, sa)
				},
				verify: func(pol *rrsa.Policy) bool {
					for _, r := range rrsa.ListAssociations(pol, c.RRSA.OIDCArn, c.RRSA.Issuer) {
						if r.Namespace == ns && r.Name == sa {
							return false
						}
					}
					return !rrsa.Contains(pol, stmt)
				},
				describe: fmt.Sprintf("Remove %s from the trust policy of RAM role %q", subject, roleName),
			})
			if err != nil {
				return err
			}
			switch {
			case !changed:
				fmt.Fprintf(o.streams.Out, "RAM role %q does not trust %s; nothing to do\n", roleName, subject)
			case !dryRun:
				fmt.Fprintf(o.streams.Out, "Disassociated RAM role %q from %s\n", roleName, subject)
			}
			return nil
		},
	}
	addRoleSAFlags(cmd, &roleName, &ns, &sa)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Print the resulting trust policy (and the diff on stderr) without changing anything")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

// associationsOutput is the -o json|yaml form of list-associations.
type associationsOutput struct {
	ClusterID       string                   `json:"clusterId"`
	RoleName        string                   `json:"roleName"`
	RoleARN         string                   `json:"roleArn"`
	OIDCProviderARN string                   `json:"oidcProviderArn"`
	Issuer          string                   `json:"issuer"`
	ServiceAccounts []rrsa.ServiceAccountRef `json:"serviceAccounts"`
}

func newListAssociationsCommand(o *rootOptions) *cobra.Command {
	var roleName, output string
	cmd := &cobra.Command{
		Use:   "list-associations",
		Short: "List the service accounts of this cluster a RAM role trusts",
		Example: `  kubectl ack-rrsa list-associations -r my-role
  kubectl ack-rrsa list-associations -r my-role -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(output, "", "table", "json", "yaml"); err != nil {
				return err
			}
			if err := checkRoleName(roleName); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := o.newSession(ctx)
			if err != nil {
				return err
			}
			c, err := s.rrsaCluster(ctx)
			if err != nil {
				return err
			}
			role, err := s.clients.RAM.GetRole(ctx, roleName)
			if err != nil {
				return fmt.Errorf("get RAM role %q: %w", roleName, err)
			}
			pol, err := rrsa.ParsePolicy(role.AssumeRolePolicyDocument)
			if err != nil {
				return fmt.Errorf("trust policy of RAM role %q: %w", roleName, err)
			}
			out := associationsOutput{
				ClusterID: s.clusterID, RoleName: role.Name, RoleARN: role.ARN,
				OIDCProviderARN: c.RRSA.OIDCArn, Issuer: c.RRSA.Issuer,
				ServiceAccounts: rrsa.ListAssociations(pol, c.RRSA.OIDCArn, c.RRSA.Issuer),
			}
			if out.ServiceAccounts == nil {
				out.ServiceAccounts = []rrsa.ServiceAccountRef{}
			}
			if output == "json" || output == "yaml" {
				return printStructured(o.streams.Out, output, out)
			}
			if len(out.ServiceAccounts) == 0 {
				fmt.Fprintf(o.streams.ErrOut, "RAM role %q trusts no service account of cluster %s\n", roleName, s.clusterID)
				return nil
			}
			tw := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAMESPACE\tSERVICE ACCOUNT\tMATCH")
			for _, r := range out.ServiceAccounts {
				match := "exact"
				if r.Wildcard {
					match = "pattern"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Namespace, r.Name, match)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&roleName, "role-name", "r", "", "RAM role name")
	_ = cmd.MarkFlagRequired("role-name")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "Output format: table, json or yaml")
	return cmd
}
