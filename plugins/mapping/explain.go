package mapping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/crd"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/dynamicfile"
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
	// Mapper is the authenticator backend that decided: MountedFile (static config), CRD, ...
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
	// OfficialDifferences names the patterns the official ack-ram-authenticator reads
	// differently, with an identity that gains or loses access here.
	OfficialDifferences []string `json:"officialDifferences,omitempty"`
	// Skipped lists the backends that could not be asked here (no usable kube context, an
	// unreadable dynamic file): the answer is that of the other backends.
	Skipped []SkippedBackend `json:"skipped,omitempty"`
}

// SkippedBackend is a backend explain could not ask here; the answer holds without it.
type SkippedBackend struct {
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
}

// explainOptions are the flags of explain.
type explainOptions struct {
	*rootOptions
	idf         identityFlags
	configFile  string
	allowed     []string
	skipCluster bool
	output      *cli.Output

	id token.Identity
}

// Complete builds the identity STS would report for the flags.
func (o *explainOptions) Complete(*cobra.Command, []string) error {
	id, err := o.idf.identity()
	o.id = id
	return err
}

// Validate checks -o.
func (o *explainOptions) Validate() error { return o.output.Validate() }

// Run asks the backends in the authenticator's order and prints the decision. It ends with
// ExitNotMapped when the identity is not mapped.
func (o *explainOptions) Run(ctx context.Context) error {
	ex := Explanation{ARN: o.id.ARN, CanonicalARN: o.id.CanonicalARN}
	sf, order, err := o.plan()
	if err != nil {
		return err
	}
	if order, err = o.reachable(sf, order, &ex); err != nil {
		return err
	}
	stages, err := o.stages(ctx, &ex, sf, order)
	if err != nil {
		return err
	}
	explainIdentity(&ex, stages, o.id, o.allowedGroups(sf))
	explainDivergences(&ex, stages, o.id)
	if !ex.Mapped && len(ex.Skipped) > 0 {
		ex.Reason += fmt.Sprintf(" (by the backends asked; skipped: %s)", skippedNames(ex.Skipped))
	}
	if err := o.print(&ex); err != nil {
		return err
	}
	for _, ig := range ex.Ignored {
		o.warnf("ignored invalid mapping (the authenticator skips it too): %s", ig)
	}
	if !ex.Mapped {
		return cli.Silent(ExitNotMapped)
	}
	return nil
}

func newExplainCommand(root *rootOptions) *cobra.Command {
	o := &explainOptions{rootOptions: root, output: cli.NewOutput("", cli.FormatJSON, cli.FormatYAML, cli.FormatJSONPath)}
	cmd := &cobra.Command{
		Use:     "explain --arn ARN [--session-name S]",
		Short:   "Show which mapping a RAM identity hits and the username and groups it gets",
		Long:    explainLong,
		Example: explainExample,
		RunE:    runE(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.idf.arn, "arn", "", "ARN of the identity: user, role, root or assumed-role (required)")
	f.StringVar(&o.idf.session, "session-name", "", "Role session name (for a role ARN; an assumed-role ARN carries its own)")
	f.StringVar(&o.idf.account, "account-id", "", "Account id (default: from the ARN; must agree with it)")
	f.StringVar(&o.idf.userID, "user-id", "", "RAM user id / principal id, for {{UserID}} templates (default for root: the account id)")
	f.StringVar(&o.idf.accessKeyID, "access-key-id", "", "Access key id that would sign the token, for {{AccessKeyID}} templates")
	f.StringVar(&o.configFile, "config", "", "Also use the backends of this authenticator config file, or the mappings of an alibabacloud-auth ConfigMap file")
	f.BoolVar(&o.skipCluster, "no-cluster", false, "Do not read the cluster (RAMIdentityMappings, the live ConfigMap): only --config")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml", "json")
	addAllowReservedFlag(cmd, &o.allowed)
	o.output.AddFlags(cmd)
	return cmd
}

// allowedGroups are the reserved groups the authenticator would allow: --config's
// server.allowedGroups (system:masters without the key, or without a config file), plus
// --allow-reserved-group.
func (o *explainOptions) allowedGroups(sf *staticFile) []string {
	allowed := slices.Clone(o.allowed)
	if sf != nil && sf.cfg != nil {
		return append(allowed, sf.allowedGroups()...)
	}
	return append(allowed, mapper.AllowedGroups(nil)...)
}

// plan reads --config and returns the backends to ask, in the authenticator's order.
func (o *explainOptions) plan() (*staticFile, []string, error) {
	order := []string{mapper.MapperCRD}
	var sf *staticFile
	if o.configFile != "" {
		var err error
		if sf, err = readStaticFile("--config", o.configFile); err != nil {
			return nil, nil, err
		}
		if sf.cfg == nil {
			// A ConfigMap of mappings: the ACKConfigMap backend, then the cluster's objects.
			order = []string{mapper.MapperACKConfigMap, mapper.MapperCRD}
		} else if order, err = sf.cfg.Order(true); err != nil {
			// The cluster is readable here (unless --no-cluster drops it below), as it is for a
			// server with a kubeconfig.
			return nil, nil, fmt.Errorf("--config %s: %w", o.configFile, err)
		}
		if _, err := sf.config.Rules(); err != nil {
			return nil, nil, fmt.Errorf("--config %s: %w", o.configFile, err)
		}
	}
	if o.skipCluster {
		order = slices.DeleteFunc(order, func(b string) bool { return needsCluster(b, sf) })
	} else if !slices.Contains(order, mapper.MapperCRD) {
		o.warnf("server.backendMode in %s does not list %s: the cluster's RAMIdentityMappings are not used", o.configFile, mapper.MapperCRD)
	}
	if o.verbosity >= 1 {
		o.logf("Backends, in the order the authenticator asks them: %s", strings.Join(order, ", "))
	}
	return sf, order, nil
}

// needsCluster reports whether a backend reads the cluster: CRD, and ACKConfigMap unless --config
// is a ConfigMap file (then that file is the ConfigMap).
func needsCluster(backend string, sf *staticFile) bool {
	return backend == mapper.MapperCRD || backend == mapper.MapperACKConfigMap && (sf == nil || sf.cfg != nil)
}

// reachable drops the backends that need the cluster when no kube context is usable and --config
// gives backends to answer from without it (the static mappings, a dynamic file), and records
// them as skipped. Without --config the cluster is all there is, so the error stands; so does any
// error of a usable context (an unreachable cluster is not silently left out).
func (o *explainOptions) reachable(sf *staticFile, order []string, ex *Explanation) ([]string, error) {
	if !slices.ContainsFunc(order, func(b string) bool { return needsCluster(b, sf) }) {
		return order, nil
	}
	_, err := o.restConfig()
	if err == nil || sf == nil || !errors.Is(err, kube.ErrNoContext) {
		return order, err
	}
	var kept []string
	for _, b := range order {
		if needsCluster(b, sf) {
			ex.Skipped = append(ex.Skipped, SkippedBackend{Backend: b, Reason: "no usable kube context"})
		} else {
			kept = append(kept, b)
		}
	}
	o.warnf("answering from %s without the cluster: skipped %s (%v)", o.configFile, skippedNames(ex.Skipped), err)
	return kept, nil
}

func skippedNames(s []SkippedBackend) string {
	names := make([]string, len(s))
	for i, b := range s {
		names[i] = b.Backend
	}
	return strings.Join(names, ", ")
}

// stages loads the rules of each backend in order.
func (o *explainOptions) stages(ctx context.Context, ex *Explanation, sf *staticFile, order []string) ([]mapper.Stage, error) {
	var stages []mapper.Stage
	for _, b := range order {
		st, err := o.stage(ctx, ex, sf, b)
		if err != nil {
			return nil, err
		}
		if st != nil {
			stages = append(stages, st)
		}
	}
	return stages, nil
}

// stage loads the rules of one backend the way the server's backend reads them.
func (o *explainOptions) stage(ctx context.Context, ex *Explanation, sf *staticFile, backend string) (mapper.Stage, error) {
	var rules []mapper.Rule
	var err error
	switch {
	case backend == mapper.MapperMountedFile, backend == mapper.MapperACKConfigMap && !needsCluster(backend, sf):
		rules, err = sf.config.Rules()
	case backend == mapper.MapperCRD:
		rules, err = o.crdRules(ctx, ex)
	case backend == mapper.MapperACKConfigMap:
		rules, err = liveConfigMapRules(ctx, o.rootOptions)
	case backend == mapper.MapperDynamicFile:
		path := sf.cfg.Server.DynamicFilePath
		if rules, err = dynamicfile.Load(path); err != nil {
			o.warnf("the DynamicFile backend is skipped: its file cannot be read here (%v)", err)
			ex.Skipped = append(ex.Skipped, SkippedBackend{Backend: backend, Reason: "its file cannot be read here: " + err.Error()})
			return nil, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return mapper.RuleStage{StageName: backend, Rules: rules}, nil
}

func (o *explainOptions) crdRules(ctx context.Context, ex *Explanation) ([]mapper.Rule, error) {
	a, err := o.api()
	if err != nil {
		return nil, err
	}
	items, err := a.listAll(ctx)
	if err != nil {
		return nil, err
	}
	ms := make([]*v1alpha1.RAMIdentityMapping, len(items))
	for i := range items {
		ms[i] = &items[i]
	}
	rules, errs := crd.RulesFromMappings(ms)
	for _, e := range errs {
		ex.Ignored = append(ex.Ignored, e.Error())
	}
	return rules, nil
}

// liveConfigMapRules reads kube-system/alibabacloud-auth; a missing ConfigMap maps nobody, as on
// the server.
func liveConfigMapRules(ctx context.Context, o *rootOptions) ([]mapper.Rule, error) {
	cms, err := o.configMaps(configmap.Namespace)
	if err != nil {
		return nil, err
	}
	c, _, err := configmap.Get(ctx, cms, configmap.Name)
	if apierrors.IsNotFound(errors.Unwrap(err)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return c.Rules()
}

// explainDivergences lists the patterns the official add-on reads differently, marking the ones
// that change the answer for this identity.
func explainDivergences(ex *Explanation, stages []mapper.Stage, id token.Identity) {
	seen := map[string]bool{}
	for _, st := range stages {
		rs, ok := st.(mapper.RuleStage)
		if !ok {
			continue
		}
		for _, r := range rs.Rules {
			d, differs := mapper.OfficialDivergence(r, rs.StageName)
			if !differs || seen[rs.StageName+r.ARN] {
				continue
			}
			seen[rs.StageName+r.ARN] = true
			line := describeDivergence(r.Source, d)
			ours, official := arn.Match(r.ARN, id.CanonicalARN), arn.MatchOfficial(r.ARN, d.Reading, id.CanonicalARN)
			if ours != official {
				line += fmt.Sprintf("; this identity is matched %s only", map[bool]string{true: "here", false: "on the official server"}[ours])
			}
			ex.OfficialDifferences = append(ex.OfficialDifferences, line)
		}
	}
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

// print writes the explanation in the -o format, or as text.
func (o *explainOptions) print(ex *Explanation) error {
	w := o.streams.Out
	switch o.output.Name() {
	case cli.FormatJSON, cli.FormatYAML:
		return cli.PrintData(w, o.output.Name(), ex)
	case cli.FormatJSONPath:
		return kube.PrintTemplate(w, o.output, ex)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Identity:       %s\n", ex.ARN)
	fmt.Fprintf(&b, "Canonical ARN:  %s\n", ex.CanonicalARN)
	if ex.Source != "" {
		writeMatch(&b, ex)
	}
	if !ex.Mapped {
		fmt.Fprintf(&b, "not mapped: %s\n", ex.Reason)
	}
	for _, s := range ex.Skipped {
		fmt.Fprintf(&b, "Skipped:        %s backend (%s)\n", s.Backend, s.Reason)
	}
	for _, d := range ex.OfficialDifferences {
		fmt.Fprintf(&b, "Official reading differs: %s\n", d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMatch writes the lines about the winning rule.
func writeMatch(b *strings.Builder, ex *Explanation) {
	by := "static " + strings.TrimPrefix(ex.Source, "config:") + " entry (" + ex.Mapper + " mapper)"
	if ex.Mapping != "" {
		by = "RAMIdentityMapping " + ex.Mapping
	}
	rule := "ARN " + ex.RuleARN
	if ex.RuleAccount != "" {
		rule = "account " + ex.RuleAccount
	}
	fmt.Fprintf(b, "Matched by:     %s (%s rule, %s)\n", by, ex.Kind, rule)
	if ex.AnyAccount {
		b.WriteString("Scope:          ANY Alibaba Cloud account (allowAnyAccount): the rule maps identities of accounts you may not control\n")
	}
	fmt.Fprintf(b, "Username:       %s\n", ex.Username)
	fmt.Fprintf(b, "Groups:         %s\n", orNone(strings.Join(ex.Groups, ", ")))
}

// Help of explain (kept out of newExplainCommand to keep it short).
const (
	explainLong = `Explain how ack-ram-authenticator would map a RAM identity, using the same code as the
server (pkg/mapper and its backends) on the cluster's RAMIdentityMappings and, with --config, the
backends of an authenticator configuration file (its mapRoles/mapUsers/mapAccounts, the live
alibabacloud-auth ConfigMap, its dynamic mapping file when readable here) or the mappings of an
alibabacloud-auth ConfigMap file.

The authenticator asks its backends in order — the static file (MountedFile) first, then the
RAMIdentityMappings (CRD), or as server.backendMode in --config says — and the first that
matches decides; an error (such as a template without a value) refuses the identity. Within one
backend a rule for exactly the identity's canonical ARN wins over globs, the most specific glob
wins over other globs, and account rules (mapAccounts) come last. The output names the winning
mapping, its kind (exact, glob, account) and the rendered username and groups. Reserved groups
are checked as the server does: system:masters is allowed unless the file's
server.allowedGroups says otherwise, plus --allow-reserved-group.

Offline: with --config and no usable kube context, explain answers from the backends that need
no cluster (the file's static mappings, its DynamicFile) and names the ones it skipped (CRD, the
live ACKConfigMap); --no-cluster skips them on purpose. With a usable context they are asked as
configured.

Every pattern with "*" or "?" that the official ack-ram-authenticator reads differently (its
RAMIdentityMapping globs are unanchored regular expressions, its file and ConfigMap compare
literally) is listed with an identity that gains or loses access, and whether this identity is
one of them.

Exit status: 0 when the identity is mapped; 3 when it is not (no rule matches, a template has
no value for it, or the result uses a reserved "system:" name the server would refuse);
1 on an error (such as an unreadable --config or an unreachable cluster); 2 for a bad command
line.

An assumed-role ARN carries its session name; for a role ARN give --session-name. Values that
only a real login has (--user-id, --access-key-id) are needed only when templates use them.`

	explainExample = `  kubectl ack-map explain --arn acs:ram::123456789012:assumed-role/dev/alice@example.com
  kubectl ack-map explain --arn acs:ram::123456789012:role/dev --session-name alice -o json
  kubectl ack-map explain --arn acs:ram::123456789012:user/bob --user-id 2001 --config /etc/ack-ram-authenticator/config.yaml

  # In a script: exit status 0 mapped, 3 not mapped, 1 error
  kubectl ack-map explain --arn "$ARN" -o jsonpath='{.username}'`
)
