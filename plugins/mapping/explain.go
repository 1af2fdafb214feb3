package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// identityFlags describe the identity to explain.
type identityFlags struct {
	arn, session, account, userID, accessKeyID string
}

// Explanation is the machine-readable result of `explain -o json|yaml`.
type Explanation struct {
	ARN          string `json:"arn"`
	CanonicalARN string `json:"canonicalARN"`
	Mapped       bool   `json:"mapped"`
	// Mapper is the authenticator mapper that decided: MountedFile (static config) or CRD.
	Mapper string `json:"mapper,omitempty"`
	// Source is the winning rule's source: "crd:<name>", "config:mapRoles", ...
	Source string `json:"source,omitempty"`
	// Mapping is the RAMIdentityMapping name when the rule comes from a CR.
	Mapping string `json:"mapping,omitempty"`
	// Kind is exact, glob or account.
	Kind        string   `json:"kind,omitempty"`
	RuleARN     string   `json:"ruleARN,omitempty"`
	RuleAccount string   `json:"ruleAccount,omitempty"`
	Username    string   `json:"username,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	// Reason says why the identity is not mapped.
	Reason string `json:"reason,omitempty"`
	// Ignored lists invalid mappings that the authenticator skips as well.
	Ignored []string `json:"ignored,omitempty"`
	// AnyAccount says that the winning rule has a wildcard account id (allowAnyAccount): it
	// matches identities of every Alibaba Cloud account.
	AnyAccount bool `json:"anyAccount,omitempty"`
}

func newExplainCommand(o *rootOptions) *cobra.Command {
	var (
		idf         identityFlags
		configFile  string
		output      string
		allowed     []string
		skipCluster bool
	)
	cmd := &cobra.Command{
		Use:   "explain --arn ARN [--session-name S]",
		Short: "Show which mapping a RAM identity hits and the username and groups it gets",
		Long: `Explain how ack-ram-authenticator would map a RAM identity, using the same matching code
(pkg/mapper) on the cluster's RAMIdentityMappings and, with --config, the static mappings of an
authenticator configuration file or alibabacloud-auth ConfigMap.

The authenticator asks its mappers in order — the static file (MountedFile) first, then the
RAMIdentityMappings (CRD), or as server.mappers in --config says — and the first that matches
decides; an error (such as a template without a value) refuses the identity. Within one mapper a
rule for exactly the identity's canonical ARN wins over globs, the most specific glob wins over
other globs, and account rules (mapAccounts) come last. The output names the winning mapping,
its kind (exact, glob, account) and the rendered username and groups.

Exit status: 0 when the identity is mapped, 1 when it is not (no rule matches, a template has
no value for it, or the result uses a reserved "system:" name the server would refuse).

An assumed-role ARN carries its session name; for a role ARN give --session-name. Values that
only a real login has (--user-id, --access-key-id) are needed only when templates use them.`,
		Example: `  kubectl ack-map explain --arn acs:ram::123456789012:assumed-role/dev/alice@example.com
  kubectl ack-map explain --arn acs:ram::123456789012:role/dev --session-name alice -o json
  kubectl ack-map explain --arn acs:ram::123456789012:user/bob --user-id 2001 --config /etc/ack-ram-authenticator/config.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outJSON, outYAML); err != nil {
				return err
			}
			id, err := idf.identity()
			if err != nil {
				return err
			}
			ex := Explanation{ARN: id.ARN, CanonicalARN: id.CanonicalARN}
			var (
				static []mapper.Rule
				order  = []string{mapper.MapperCRD}
			)
			if configFile != "" {
				sf, err := readStaticFile("--config", configFile)
				if err != nil {
					return err
				}
				if static, err = sf.config.Rules(); err != nil {
					return fmt.Errorf("--config %s: %w", configFile, err)
				}
				allowed = append(allowed, sf.allowedGroups...)
				// The cluster is readable here (unless --no-cluster drops it below), as it is for a
				// server with a kubeconfig.
				if order, err = mapper.Order(sf.mappers, true); err != nil {
					return fmt.Errorf("--config %s: %w", configFile, err)
				}
			}
			if skipCluster {
				order = slices.DeleteFunc(order, func(m string) bool { return m == mapper.MapperCRD })
			} else if !slices.Contains(order, mapper.MapperCRD) {
				o.warnf("server.mappers in %s does not list %s: the cluster's RAMIdentityMappings are not used", configFile, mapper.MapperCRD)
			}
			var stages []mapper.Stage
			for _, m := range order {
				st := mapper.RuleStage{StageName: m, Rules: static}
				if m == mapper.MapperCRD {
					a, err := o.api()
					if err != nil {
						return err
					}
					items, err := a.listAll(cmd.Context())
					if err != nil {
						return err
					}
					ms := make([]*v1alpha1.RAMIdentityMapping, len(items))
					for i := range items {
						ms[i] = &items[i]
					}
					var errs []error
					st.Rules, errs = mapper.RulesFromMappings(ms)
					for _, e := range errs {
						ex.Ignored = append(ex.Ignored, e.Error())
					}
				}
				stages = append(stages, st)
			}
			explainIdentity(&ex, stages, id, allowed)
			if err := printExplanation(o.streams.Out, output, &ex); err != nil {
				return err
			}
			for _, ig := range ex.Ignored {
				o.warnf("ignored invalid mapping (the authenticator skips it too): %s", ig)
			}
			if !ex.Mapped {
				return errSilent
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&idf.arn, "arn", "", "ARN of the identity: user, role, root or assumed-role (required)")
	f.StringVar(&idf.session, "session-name", "", "Role session name (for a role ARN; an assumed-role ARN carries its own)")
	f.StringVar(&idf.account, "account-id", "", "Account id (default: from the ARN; must agree with it)")
	f.StringVar(&idf.userID, "user-id", "", "RAM user id / principal id, for {{UserID}} templates (default for root: the account id)")
	f.StringVar(&idf.accessKeyID, "access-key-id", "", "Access key id that would sign the token, for {{AccessKeyID}} templates")
	f.StringVar(&configFile, "config", "", "Also use the static mappings of this authenticator config file or alibabacloud-auth ConfigMap")
	f.BoolVar(&skipCluster, "no-cluster", false, "Do not read RAMIdentityMappings from the cluster (only --config)")
	addAllowReservedFlag(cmd, &allowed)
	addOutputFlag(cmd, &output, "", outJSON, outYAML)
	return cmd
}

// identity builds the identity STS would report for the flags.
func (f identityFlags) identity() (token.Identity, error) {
	s := strings.TrimSpace(f.arn)
	if s == "" {
		return token.Identity{}, errors.New("--arn is required, e.g. --arn acs:ram::123456789012:assumed-role/dev/alice")
	}
	if arn.IsGlob(s) {
		return token.Identity{}, fmt.Errorf("--arn %q: explain needs the ARN of one identity, not a glob", s)
	}
	a, err := arn.Parse(s)
	if err != nil {
		return token.Identity{}, fmt.Errorf("--arn: %w", err)
	}
	if f.account != "" && f.account != a.AccountID {
		return token.Identity{}, fmt.Errorf("--account-id %s does not match the account %s in --arn", f.account, a.AccountID)
	}
	id := token.Identity{
		AccountID: a.AccountID, ARN: a.String(), CanonicalARN: a.Canonical().String(),
		PrincipalID: f.userID, UserID: f.userID, AccessKeyID: f.accessKeyID,
	}
	switch a.Type {
	case arn.TypeAssumedRole:
		if f.session != "" && f.session != a.Session {
			return token.Identity{}, fmt.Errorf("--session-name %q differs from the session %q in the assumed-role ARN: give one of them", f.session, a.Session)
		}
		id.SessionName, id.IdentityType = a.Session, "AssumedRoleUser"
	case arn.TypeRole:
		id.IdentityType = "AssumedRoleUser"
		if f.session != "" {
			if strings.Contains(f.session, "/") {
				return token.Identity{}, fmt.Errorf("--session-name %q: session names cannot contain \"/\"", f.session)
			}
			id.SessionName = f.session
			id.ARN = arn.ARN{AccountID: a.AccountID, Type: arn.TypeAssumedRole, Name: a.Name, Session: f.session}.String()
		}
	case arn.TypeUser, arn.TypeRoot:
		if f.session != "" {
			return token.Identity{}, fmt.Errorf("--session-name is only for roles; %s is a %s", s, a.Type)
		}
		id.IdentityType = "RAMUser"
		if a.Type == arn.TypeRoot {
			id.IdentityType = "Account"
			if id.UserID == "" {
				id.UserID, id.PrincipalID = a.AccountID, a.AccountID
			}
		}
	}
	return id, nil
}

// explainIdentity reports the authenticator's decision (mapper.Decide) for id.
func explainIdentity(ex *Explanation, stages []mapper.Stage, id token.Identity, allowed []string) {
	d := mapper.Decide(stages, id, allowed)
	ex.Mapper = d.Stage
	if res := d.Result; res != nil {
		ex.Source, ex.Kind = res.Rule.Source, res.Kind
		if name, isCRD := strings.CutPrefix(res.Rule.Source, mapper.SourceCRDPrefix); isCRD {
			ex.Mapping = name
		}
		ex.RuleARN, ex.RuleAccount, ex.AnyAccount = res.Rule.ARN, res.Rule.Account, res.Rule.AnyAccount()
		ex.Username, ex.Groups = res.Username, slices.Clone(res.Groups)
	}
	switch {
	case d.Mapped():
		ex.Mapped = true
		return
	case d.Err != nil && errors.Is(d.Err, mapper.ErrReserved):
		ex.Reason = "the authenticator refuses the result: " + d.Err.Error()
		return
	case d.Err != nil:
		ex.Reason = d.Err.Error()
		if errors.Is(d.Err, mapper.ErrTemplate) {
			ex.Reason += " (give the value with --session-name, --user-id or --access-key-id to see the result for a real login)"
		}
		return
	}
	ex.Reason = fmt.Sprintf("no mapping matches %s (canonical %s)", id.ARN, id.CanonicalARN)
}

func printExplanation(w io.Writer, output string, ex *Explanation) error {
	switch output {
	case outJSON, outYAML:
		b, err := yaml.Marshal(ex)
		if err != nil {
			return err
		}
		if output == outJSON {
			if b, err = json.MarshalIndent(ex, "", "    "); err != nil {
				return err
			}
			b = append(b, '\n')
		}
		_, err = w.Write(b)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Identity:       %s\n", ex.ARN)
	fmt.Fprintf(&b, "Canonical ARN:  %s\n", ex.CanonicalARN)
	if ex.Source != "" {
		by := "static " + strings.TrimPrefix(ex.Source, "config:") + " entry (" + ex.Mapper + " mapper)"
		if ex.Mapping != "" {
			by = "RAMIdentityMapping " + ex.Mapping
		}
		rule := "ARN " + ex.RuleARN
		if ex.RuleAccount != "" {
			rule = "account " + ex.RuleAccount
		}
		fmt.Fprintf(&b, "Matched by:     %s (%s rule, %s)\n", by, ex.Kind, rule)
		if ex.AnyAccount {
			b.WriteString("Scope:          ANY Alibaba Cloud account (allowAnyAccount): the rule maps identities of accounts you may not control\n")
		}
		fmt.Fprintf(&b, "Username:       %s\n", ex.Username)
		fmt.Fprintf(&b, "Groups:         %s\n", orNone(strings.Join(ex.Groups, ", ")))
	}
	if !ex.Mapped {
		fmt.Fprintf(&b, "not mapped: %s\n", ex.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
