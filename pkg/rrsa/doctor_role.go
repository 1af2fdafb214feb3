package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// What ack-pod-identity-webhook reads and injects (its documented configuration).
const (
	// TokenExpirationAnnotation on a service account or pod sets the lifetime, in seconds, of
	// the OIDC token the webhook projects (600 to 43200; other values mean the default).
	TokenExpirationAnnotation = "pod-identity.alibabacloud.com/service-account-token-expiration"
	// DefaultTokenExpiration is the token lifetime without (or with an invalid) annotation.
	DefaultTokenExpiration = 3600
	// OnlyContainersAnnotation and SkipContainersAnnotation on a pod limit the injection to, or
	// exclude from it, comma-separated container names.
	OnlyContainersAnnotation = "pod-identity.alibabacloud.com/only-containers"
	SkipContainersAnnotation = "pod-identity.alibabacloud.com/skip-containers"
)

// subjectFacts is what the service account's checks learnt, for the later ones.
type subjectFacts struct {
	sa        *corev1.ServiceAccount
	namespace *corev1.Namespace
	role      *cloud.Role
	roleName  string
	roleARN   string // the role's ARN, or the ARN it would have
}

// diagnose runs the checks of one service account.
func (d *Doctor) diagnose(ctx context.Context, cf *clusterFacts, s DoctorTarget) Report {
	r := Report{Namespace: s.Namespace, ServiceAccount: s.ServiceAccount}
	for _, p := range s.Pods {
		r.Pods = append(r.Pods, p.Namespace+"/"+p.Name)
	}
	var f subjectFacts
	add := func(c Check) { r.Checks = append(r.Checks, c) }
	add(d.checkServiceAccount(ctx, cf, s, &f, &r))
	add(d.checkRole(ctx, cf, s, &f))
	add(checkMaxSession(f.role, f.sa, s.Pods))
	add(checkTrust(cf, f.role, s))
	add(d.checkInjection(ctx, cf, s, &f))
	for _, p := range s.Pods {
		add(d.checkPod(ctx, cf, &f, p))
	}
	r.RoleARN = f.roleARN
	sts, assumed := d.checkSTS(ctx, cf, &f, s, r.Checks)
	add(sts)
	r.AssumedRoleARN = assumed
	return r
}

// checkServiceAccount checks that the service account exists and names a role, and settles
// which role the other checks look at.
func (d *Doctor) checkServiceAccount(ctx context.Context, cf *clusterFacts, s DoctorTarget, f *subjectFacts, r *Report) Check {
	c := Check{ID: CheckServiceAccount, Step: 2, Title: "Service account"}
	name := s.Namespace + "/" + s.ServiceAccount
	f.roleName, r.RoleSource = strings.TrimSpace(s.Role), "flag"
	sa, err := d.Kube.CoreV1().ServiceAccounts(s.Namespace).Get(ctx, s.ServiceAccount, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.settleRole(cf, f, r)
		if f.roleName != "" {
			return c.fail("service account "+name+" does not exist",
				d.command("associate-role", "-r", roleNameOf(f.roleName), "-n", s.Namespace, "-s", s.ServiceAccount, "--annotate-service-account"))
		}
		return c.fail("service account "+name+" does not exist",
			fmt.Sprintf("kubectl -n %s create serviceaccount %s, then annotate it with %s=<role name>", s.Namespace, s.ServiceAccount, RoleNameAnnotation))
	case err != nil:
		return c.fail(fmt.Sprintf("cannot read service account %s: %v", name, err), "allow get serviceaccounts in namespace "+s.Namespace+", then re-run")
	}
	f.sa = sa
	annotated := strings.TrimSpace(sa.Annotations[RoleNameAnnotation])
	if f.roleName == "" {
		f.roleName, r.RoleSource = annotated, "annotation"
	}
	d.settleRole(cf, f, r)
	annotate := fmt.Sprintf("kubectl -n %s annotate serviceaccount %s --overwrite %s=%s", s.Namespace, s.ServiceAccount, RoleNameAnnotation, orPlaceholder(roleNameOf(f.roleName)))
	switch {
	case annotated == "" && s.Role == "":
		return c.fail(fmt.Sprintf("%s has no %s annotation, so the webhook injects nothing into its pods", name, RoleNameAnnotation), annotate)
	case annotated == "":
		return c.warn(fmt.Sprintf("%s has no %s annotation: its pods get no role until it is annotated (checking role %s as asked)", name, RoleNameAnnotation, f.roleName), annotate)
	case !validRoleName(annotated):
		return c.fail(fmt.Sprintf("%s annotation %s=%q is not a RAM role name, so the webhook ignores it", name, RoleNameAnnotation, annotated), annotate)
	case !strings.EqualFold(annotated, roleNameOf(f.roleName)):
		return c.warn(fmt.Sprintf("%s is annotated for role %s; checking role %s as asked", name, annotated, f.roleName), annotate)
	}
	return c.pass(fmt.Sprintf("%s is annotated %s=%s", name, RoleNameAnnotation, annotated))
}

// settleRole fills the role's ARN (the one given, or the name's in the cluster's account) in
// the facts and its name in the report.
func (d *Doctor) settleRole(cf *clusterFacts, f *subjectFacts, r *Report) {
	r.Role = roleNameOf(f.roleName)
	if a, err := arn.ParseRole(f.roleName); err == nil {
		f.roleARN = a.String()
	} else if f.roleName != "" && cf.account != "" {
		f.roleARN = arn.Role(cf.account, f.roleName).String()
	}
}

// roleNameOf returns a role name from a name or a role ARN.
func roleNameOf(s string) string {
	s = strings.TrimSpace(s)
	if a, err := arn.ParseRole(s); err == nil {
		return a.Name
	}
	return s
}

func orPlaceholder(role string) string {
	if role == "" {
		return "<role name>"
	}
	return role
}

// validRoleName reports whether s is a RAM role name (1-64 letters, digits, '.' and '-').
func validRoleName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func (d *Doctor) checkRole(ctx context.Context, cf *clusterFacts, s DoctorTarget, f *subjectFacts) Check {
	c := Check{ID: CheckRole, Step: 2, Title: "RAM role"}
	switch {
	case f.roleName == "":
		return c.skip("no role to check: the service account names none and -r was not given")
	case !validRoleName(roleNameOf(f.roleName)):
		return c.skip(fmt.Sprintf("%q is not a RAM role name", f.roleName))
	}
	role, err := d.RAM.GetRole(ctx, roleNameOf(f.roleName))
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return c.fail(fmt.Sprintf("RAM role %s does not exist", f.roleName),
			d.command("associate-role", "-r", roleNameOf(f.roleName), "-n", s.Namespace, "-s", s.ServiceAccount, "--create-role-if-not-exist"))
	case err != nil:
		return c.fail(fmt.Sprintf("cannot read RAM role %s: %v", f.roleName, err), "allow ram:GetRole to the credentials in use, then re-run")
	}
	f.role, f.roleARN = role, role.ARN
	return c.pass(role.ARN)
}

// tokenLifetime returns the lifetime of the token the webhook projects into the pods (the
// longest one when pods differ) and what set it: a pod's annotation wins over the service
// account's, which wins over the default.
func tokenLifetime(sa *corev1.ServiceAccount, pods []corev1.Pod) (int64, string) {
	life, from := int64(DefaultTokenExpiration), "the webhook's default"
	if sa != nil {
		if v, ok := parseExpiration(sa.Annotations[TokenExpirationAnnotation]); ok {
			life, from = v, fmt.Sprintf("%s on service account %s/%s", TokenExpirationAnnotation, sa.Namespace, sa.Name)
		}
	}
	if len(pods) == 0 {
		return life, from
	}
	var best int64
	var bestFrom string
	for _, p := range pods {
		l, f := life, from
		if v, ok := parseExpiration(p.Annotations[TokenExpirationAnnotation]); ok {
			l, f = v, fmt.Sprintf("%s on pod %s/%s", TokenExpirationAnnotation, p.Namespace, p.Name)
		}
		if l > best {
			best, bestFrom = l, f
		}
	}
	return best, bestFrom
}

// parseExpiration reads a token lifetime annotation as the webhook does: whole seconds from 600
// to 43200, anything else being ignored.
func parseExpiration(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 600 || n > 43200 {
		return 0, false
	}
	return n, true
}

func checkMaxSession(role *cloud.Role, sa *corev1.ServiceAccount, pods []corev1.Pod) Check {
	c := Check{ID: CheckMaxSession, Step: 2, Title: "Max session duration"}
	if role == nil {
		return c.skip("no role to check")
	}
	life, from := tokenLifetime(sa, pods)
	if role.MaxSessionDuration < life {
		return c.fail(fmt.Sprintf("role %s allows sessions of %d s, shorter than the %d s token lifetime set by %s", role.Name, role.MaxSessionDuration, life, from),
			fmt.Sprintf("aliyun ram UpdateRole --RoleName %s --NewMaxSessionDuration %d (or lower %s)", role.Name, life, TokenExpirationAnnotation))
	}
	return c.pass(fmt.Sprintf("%d s, at least the %d s token lifetime (%s)", role.MaxSessionDuration, life, from))
}

// checkTrust evaluates the role's trust policy for the service account with the matcher.
func checkTrust(cf *clusterFacts, role *cloud.Role, s DoctorTarget) Check {
	c := Check{ID: CheckTrustPolicy, Step: 3, Title: "Trust policy"}
	switch {
	case cf.rrsa == nil:
		return c.skip("the cluster's OIDC provider and issuer are unknown until RRSA is enabled")
	case role == nil:
		return c.skip("no role to check")
	}
	target := Target{OIDCProviderARN: cf.rrsa.OIDCArn, Issuer: cf.rrsa.Issuer, Namespace: s.Namespace, ServiceAccount: s.ServiceAccount}
	associate := fmt.Sprintf("kubectl ack-rrsa associate-role -r %s -n %s -s %s", role.Name, s.Namespace, s.ServiceAccount)
	p, err := ParsePolicy(role.AssumeRolePolicyDocument)
	if err != nil {
		return c.fail(fmt.Sprintf("the trust policy of role %s does not parse: %v", role.Name, err), associate)
	}
	ev := Evaluate(p, target)
	who := target.Subject()
	switch {
	case ev.Allowed:
		return c.pass(fmt.Sprintf("statement %d lets %s in", ev.Allowing[0].Index+1, who))
	case len(ev.DeniedBy) > 0:
		return c.fail(fmt.Sprintf("statement %d denies %s, and a Deny wins", ev.DeniedBy[0].Index+1, who),
			fmt.Sprintf("remove or narrow Deny statement %d in the trust policy of role %s", ev.DeniedBy[0].Index+1, role.Name))
	case ev.Closest == nil:
		return c.fail(fmt.Sprintf("no statement of role %s trusts the cluster's OIDC provider %s", role.Name, target.OIDCProviderARN), associate)
	}
	c = c.fail(fmt.Sprintf("no statement lets %s in; the closest, statement %d, differs: %s", who, ev.Closest.Index+1, ev.Closest.Differences[0].Message),
		fmt.Sprintf("%s (adds the statement %s needs), or in statement %d: %s", associate, who, ev.Closest.Index+1, differenceFixes(ev.Closest.Differences, who)))
	for _, diff := range ev.Closest.Differences[1:] {
		c.Details = append(c.Details, diff.Message)
	}
	return c
}

// differenceFixes says how to change a statement so that it admits the target.
func differenceFixes(diffs []Difference, subject string) string {
	var out []string
	for _, d := range diffs {
		switch d.Aspect {
		case AspectOperator:
			out = append(out, "move oidc:sub from StringEquals to StringLike")
		case AspectNamespace, AspectServiceAccount:
			out = append(out, fmt.Sprintf("set oidc:sub to %q", subject))
		case AspectAudience:
			out = append(out, fmt.Sprintf("set oidc:aud to %q", d.Want))
		case AspectIssuer:
			out = append(out, fmt.Sprintf("set oidc:iss to %q", d.Want))
		case AspectProvider:
			out = append(out, fmt.Sprintf("set Principal.Federated to [%q]", d.Want))
		case AspectAction:
			out = append(out, fmt.Sprintf("set Action to %q", ActionAssumeRole))
		default:
			out = append(out, d.Message)
		}
	}
	return strings.Join(dedupe(out), "; ")
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// checkSTS is the live proof: a fresh TokenRequest token of the service account exchanged for
// the role's credentials with AssumeRoleWithOIDC. It runs once the cloud side (steps 1-3)
// passed; the credentials are dropped unseen.
func (d *Doctor) checkSTS(ctx context.Context, cf *clusterFacts, f *subjectFacts, s DoctorTarget, checks []Check) (Check, string) {
	c := Check{ID: CheckSTS, Step: 6, Title: "Live proof (STS AssumeRoleWithOIDC)"}
	if failedBefore(cf.checks, 4) || failedBefore(checks, 4) || cf.rrsa == nil || f.sa == nil || f.role == nil {
		return c.skip("fix the ✘ checks of steps 1-3 first"), ""
	}
	token, err := ServiceAccountToken(ctx, d.Kube, s.Namespace, s.ServiceAccount)
	if err != nil {
		return c.fail(fmt.Sprintf("cannot get a token for %s/%s: %v", s.Namespace, s.ServiceAccount, err),
			fmt.Sprintf("allow create serviceaccounts/token in namespace %s (kubectl auth can-i create serviceaccounts/token -n %s), then re-run", s.Namespace, s.Namespace)), ""
	}
	session := d.SessionName
	if session == "" {
		session = DefaultDoctorSession
	}
	out, err := d.STS.AssumeRoleWithOIDC(ctx, cloud.AssumeRoleWithOIDCInput{
		RoleARN: f.role.ARN, OIDCProviderARN: cf.rrsa.OIDCArn, OIDCToken: token, SessionName: session,
	})
	if err != nil {
		meaning, fix := stsMeaning(err)
		c = c.fail(fmt.Sprintf("STS refused a fresh token of %s: %v", Subject(s.Namespace, s.ServiceAccount), err), fix)
		c.Details = []string{meaning}
		return c, ""
	}
	return c.pass(fmt.Sprintf("a fresh token of %s was exchanged for credentials of %s", Subject(s.Namespace, s.ServiceAccount), out.AssumedRoleARN)), out.AssumedRoleARN
}

func failedBefore(checks []Check, step int) bool {
	for _, c := range checks {
		if c.Step < step && c.Status == CheckFailed {
			return true
		}
	}
	return false
}

// stsMeaning says what an AssumeRoleWithOIDC error usually means when the checks before it
// passed, and what to do.
func stsMeaning(err error) (meaning, fix string) {
	var e *cloud.APIError
	code := ""
	if errors.As(err, &e) {
		code = e.Code
	}
	switch {
	case strings.HasPrefix(code, "AuthenticationFail.NoPermission"):
		return "the trust policy did not let the token in although it looked right here: it may have changed since, or RAM evaluates a condition this tool does not know",
			"re-run the doctor; if it persists, compare the trust policy with `kubectl ack-rrsa list-associations -r ROLE`"
	case strings.HasPrefix(code, "AuthenticationFail.OIDCToken.Expired"):
		return "STS found the token expired: the clocks of this machine, the cluster or STS disagree", "check the clocks (NTP) and re-run"
	case strings.HasPrefix(code, "AuthenticationFail.OIDCToken"), strings.HasPrefix(code, "InvalidParameter.OIDCToken"):
		return "STS rejected the token itself: its issuer, audience or signature does not fit the OIDC provider (the provider's issuer URL, client IDs or fingerprint, or the cluster's published signing keys)",
			"compare `kubectl ack-rrsa status` with the OIDC provider in RAM; re-enabling RRSA refreshes the provider"
	case strings.HasPrefix(code, "EntityNotExist.OIDCProvider"):
		return "STS does not know the OIDC provider the cluster reports", "re-create the OIDC provider (see the OIDC provider check)"
	case strings.HasPrefix(code, "EntityNotExist.Role"):
		return "the role does not exist (any more)", "re-create it with kubectl ack-rrsa associate-role --create-role-if-not-exist"
	case errors.Is(err, cloud.ErrUnavailable), errors.Is(err, cloud.ErrThrottled):
		return "STS could not be reached or was busy", "check --sts-endpoint/--region-id and the network, then re-run"
	}
	return "an error this doctor has no explanation for", "see the STS error above"
}
