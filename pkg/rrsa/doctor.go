package rrsa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// CheckStatus is the outcome of one doctor check.
type CheckStatus string

// Outcomes of a check.
const (
	CheckPassed  CheckStatus = "pass"
	CheckFailed  CheckStatus = "fail"
	CheckWarning CheckStatus = "warn"
	// CheckSkipped means the check could not run because an earlier one failed.
	CheckSkipped CheckStatus = "skip"
)

// Symbol is the mark a checklist shows for the status: ✔, ✘, ! or -.
func (s CheckStatus) Symbol() string {
	switch s {
	case CheckPassed:
		return "✔"
	case CheckFailed:
		return "✘"
	case CheckWarning:
		return "!"
	}
	return "-"
}

// CheckID names a doctor check.
type CheckID string

// The doctor's checks, in the order they run.
const (
	CheckRRSA           CheckID = "rrsa"            // RRSA is enabled on the cluster
	CheckOIDCProvider   CheckID = "oidc-provider"   // the cluster's OIDC provider exists in RAM and fits
	CheckServiceAccount CheckID = "service-account" // the service account exists and names a role
	CheckRole           CheckID = "role"            // the RAM role exists
	CheckMaxSession     CheckID = "max-session"     // the role's max session covers the token lifetime
	CheckTrustPolicy    CheckID = "trust-policy"    // the trust policy lets the service account in
	CheckWebhook        CheckID = "webhook"         // ack-pod-identity-webhook is installed and running
	CheckInjection      CheckID = "injection"       // the webhook selects the namespace
	CheckPod            CheckID = "pod"             // a pod carries what the webhook injects
	CheckSTS            CheckID = "sts"             // the live proof: AssumeRoleWithOIDC
)

// Check is one line of the doctor's checklist.
type Check struct {
	ID CheckID `json:"id"`
	// Step is the check's place in the documented order (1 RRSA and provider, 2 service
	// account and role, 3 trust policy, 4 webhook, 5 pods, 6 live proof).
	Step   int         `json:"step"`
	Title  string      `json:"title"`
	Status CheckStatus `json:"status"`
	// Found says what was found; Details add lines (such as what differs in a statement).
	Found   string   `json:"found"`
	Details []string `json:"details,omitempty"`
	// Fix is, for a failure or warning, the command to run or the change to make.
	Fix string `json:"fix,omitempty"`
}

// Report is the checklist of one service account.
type Report struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	// Role is the RAM role checked; RoleSource says where it came from ("annotation" or "flag").
	Role       string `json:"role,omitempty"`
	RoleSource string `json:"roleSource,omitempty"`
	RoleARN    string `json:"roleArn,omitempty"`
	// Pods are the pods checked (check 5).
	Pods []string `json:"pods,omitempty"`
	// Checks are the service account's checks; the cluster's are in Diagnosis.Cluster.
	Checks []Check `json:"checks"`
	// AssumedRoleARN is what STS answered in the live proof (never the credentials).
	AssumedRoleARN string `json:"assumedRoleArn,omitempty"`
}

// Failed reports whether any of the report's checks failed.
func (r *Report) Failed() bool { return hasFailure(r.Checks) }

// Diagnosis is what Doctor.Diagnose found: the cluster's checks and each service account's.
type Diagnosis struct {
	ClusterID string `json:"clusterId"`
	// OK is true when no check failed (warnings allowed).
	OK              bool     `json:"ok"`
	Cluster         []Check  `json:"cluster"`
	ServiceAccounts []Report `json:"serviceAccounts"`
}

// Checklist returns the cluster's checks and those of service account i in the documented
// order, the form a checklist for one service account shows.
func (d *Diagnosis) Checklist(i int) []Check {
	out := append(slices.Clone(d.Cluster), d.ServiceAccounts[i].Checks...)
	slices.SortStableFunc(out, func(a, b Check) int { return a.Step - b.Step })
	return out
}

// Failures counts the failed checks, the cluster's once.
func (d *Diagnosis) Failures() int {
	n := countStatus(d.Cluster, CheckFailed)
	for _, r := range d.ServiceAccounts {
		n += countStatus(r.Checks, CheckFailed)
	}
	return n
}

func countStatus(checks []Check, s CheckStatus) int {
	n := 0
	for _, c := range checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

func hasFailure(checks []Check) bool { return countStatus(checks, CheckFailed) > 0 }

// ClusterReader is the part of CS the doctor reads.
type ClusterReader interface {
	DescribeClusterDetail(ctx context.Context, id string) (*cloud.Cluster, error)
}

// IdentityReader is the part of RAM the doctor reads.
type IdentityReader interface {
	GetRole(ctx context.Context, name string) (*cloud.Role, error)
	GetOIDCProvider(ctx context.Context, name string) (*cloud.OIDCProvider, error)
}

// OIDCAssumer is the STS call of the live proof.
type OIDCAssumer interface {
	AssumeRoleWithOIDC(ctx context.Context, in cloud.AssumeRoleWithOIDCInput) (*cloud.AssumeRoleWithOIDCOutput, error)
}

// DoctorTarget is one service account to diagnose, with the pods of it to check (if any).
type DoctorTarget struct {
	Namespace, ServiceAccount string
	// Role overrides the service account's annotation when not empty (a name or a role ARN).
	Role string
	Pods []corev1.Pod
}

// DefaultDoctorSession is the role session name of the live proof.
const DefaultDoctorSession = "kubectl-ack-doctor"

// Doctor diagnoses why pods of a service account do (not) get their RAM role, from the cloud
// side (CS, RAM, STS) and the cluster side (service account, namespace, webhook, pods).
type Doctor struct {
	ClusterID string
	CS        ClusterReader
	RAM       IdentityReader
	STS       OIDCAssumer
	Kube      kubernetes.Interface
	// Command renders a `kubectl ack-rrsa` command line for fixes from its arguments; nil
	// renders "kubectl ack-rrsa ARGS -c CLUSTER".
	Command func(args ...string) string
	// SessionName is the role session name of the live proof (default DefaultDoctorSession).
	SessionName string
}

// Diagnose runs every check for each target. The cluster's checks run once. Problems are
// checks, not errors: the error is only for a cancelled context.
func (d *Doctor) Diagnose(ctx context.Context, targets []DoctorTarget) (*Diagnosis, error) {
	cf := d.clusterChecks(ctx)
	out := &Diagnosis{ClusterID: d.ClusterID, Cluster: cf.checks}
	for _, s := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.ServiceAccounts = append(out.ServiceAccounts, d.diagnose(ctx, cf, s))
	}
	out.OK = out.Failures() == 0
	return out, nil
}

// clusterFacts is what the cluster checks learnt, for the service accounts' checks.
type clusterFacts struct {
	checks []Check
	// rrsa is the cluster's RRSA configuration when enabled and complete, else nil.
	rrsa *cloud.RRSAConfig
	// account is the cluster's account (from its OIDC provider ARN).
	account string
	webhook webhookFacts
}

func (d *Doctor) clusterChecks(ctx context.Context) *clusterFacts {
	cf := &clusterFacts{}
	rrsaCheck, rrsa := d.checkRRSA(ctx)
	cf.checks = append(cf.checks, rrsaCheck)
	if rrsa != nil {
		cf.rrsa = rrsa
		if a, err := arn.ParseOIDCProvider(rrsa.OIDCArn); err == nil {
			cf.account = a.AccountID
		}
	}
	cf.checks = append(cf.checks, d.checkOIDCProvider(ctx, rrsa))
	var webhookCheck Check
	webhookCheck, cf.webhook = d.checkWebhook(ctx)
	cf.checks = append(cf.checks, webhookCheck)
	return cf
}

func (d *Doctor) command(args ...string) string {
	if d.Command != nil {
		return d.Command(args...)
	}
	return "kubectl ack-rrsa " + strings.Join(append(args, "-c", d.ClusterID), " ")
}

func (d *Doctor) checkRRSA(ctx context.Context) (Check, *cloud.RRSAConfig) {
	c := Check{ID: CheckRRSA, Step: 1, Title: "RRSA enabled"}
	cluster, err := d.CS.DescribeClusterDetail(ctx, d.ClusterID)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return c.fail(fmt.Sprintf("cluster %s was not found in this account and region", d.ClusterID),
			"check -c/--cluster-id and --region-id (kubectl ack-login clusters lists the clusters you can see)"), nil
	case err != nil:
		return c.fail(fmt.Sprintf("cannot describe cluster %s: %v", d.ClusterID, err),
			"check the Alibaba Cloud credentials (kubectl ack-login whoami) and the network, then re-run"), nil
	case !cluster.RRSA.Enabled:
		return c.fail(fmt.Sprintf("RRSA is not enabled on cluster %s", d.ClusterID), d.command("enable")), nil
	case cluster.RRSA.Issuer == "" || cluster.RRSA.OIDCArn == "":
		return c.fail(fmt.Sprintf("RRSA is enabled but cluster %s (state %s) reports no issuer or OIDC provider", d.ClusterID, cluster.State),
			"wait until the cluster is running ("+d.command("status")+"), then re-run"), nil
	}
	rrsa := cluster.RRSA
	return c.pass(fmt.Sprintf("issuer %s, OIDC provider %s", rrsa.Issuer, rrsa.OIDCArn)), &rrsa
}

func (c Check) pass(found string) Check {
	c.Status, c.Found = CheckPassed, found
	return c
}

func (c Check) fail(found, fix string) Check {
	c.Status, c.Found, c.Fix = CheckFailed, found, fix
	return c
}

func (c Check) warn(found, fix string) Check {
	c.Status, c.Found, c.Fix = CheckWarning, found, fix
	return c
}

func (c Check) skip(why string) Check {
	c.Status, c.Found = CheckSkipped, "skipped: "+why
	return c
}

// checkOIDCProvider compares RAM's OIDC provider with what the cluster reports.
func (d *Doctor) checkOIDCProvider(ctx context.Context, rrsa *cloud.RRSAConfig) Check {
	c := Check{ID: CheckOIDCProvider, Step: 1, Title: "OIDC provider"}
	if rrsa == nil {
		return c.skip("RRSA is not enabled")
	}
	name := rrsa.OIDCName
	if a, err := arn.ParseOIDCProvider(rrsa.OIDCArn); err == nil {
		name = a.Name
	}
	create := fmt.Sprintf("aliyun ims CreateOIDCProvider --OIDCProviderName %s --IssuerUrl %s --ClientIds %s", name, rrsa.Issuer, Audience)
	p, err := d.RAM.GetOIDCProvider(ctx, name)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return c.fail(fmt.Sprintf("RAM has no OIDC provider %s, the one the cluster reports (%s)", name, rrsa.OIDCArn),
			"re-create it: "+create+" (add --Fingerprints with the SHA-1 fingerprint of the issuer's certificate if RAM asks)")
	case err != nil:
		return c.fail(fmt.Sprintf("cannot read OIDC provider %s: %v", name, err),
			"allow ram:GetOIDCProvider to the credentials in use, then re-run")
	}
	var problems []string
	fix := ""
	if p.IssuerURL != rrsa.Issuer {
		problems = append(problems, fmt.Sprintf("its issuer URL %s is not the cluster's issuer %s", p.IssuerURL, rrsa.Issuer))
		fix = fmt.Sprintf("re-create it with the cluster's issuer: aliyun ims DeleteOIDCProvider --OIDCProviderName %s, then %s", name, create)
	}
	if !slices.Contains(p.ClientIDs, Audience) {
		problems = append(problems, fmt.Sprintf("its client IDs [%s] lack %s", strings.Join(p.ClientIDs, ", "), Audience))
		if fix == "" {
			fix = fmt.Sprintf("aliyun ims AddClientIdToOIDCProvider --OIDCProviderName %s --ClientId %s", name, Audience)
		}
	}
	if p.ARN != "" && !strings.EqualFold(p.ARN, rrsa.OIDCArn) {
		problems = append(problems, fmt.Sprintf("RAM's ARN %s is not the one the cluster reports (%s)", p.ARN, rrsa.OIDCArn))
		if fix == "" {
			fix = "the cluster's RRSA configuration names another provider: " + d.command("status") + " shows it; re-enable RRSA to repair it"
		}
	}
	if len(problems) > 0 {
		c = c.fail(fmt.Sprintf("OIDC provider %s: %s", name, problems[0]), fix)
		c.Details = problems[1:]
		return c
	}
	return c.pass(fmt.Sprintf("%s: issuer URL matches, client IDs include %s", p.ARN, Audience))
}
