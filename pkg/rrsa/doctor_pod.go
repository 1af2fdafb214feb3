package rrsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// What ack-pod-identity-webhook injects into a pod.
const (
	EnvRoleARN         = "ALIBABA_CLOUD_ROLE_ARN"
	EnvOIDCProviderARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	EnvOIDCTokenFile   = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
	// TokenMountPath is where the projected token volume is mounted; TokenFile is the token.
	TokenMountPath = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens"
	TokenFile      = TokenMountPath + "/token"
)

// injection is what a pod carries of the webhook's injection.
type injection struct {
	injected bool
	// problem is the first thing that does not fit, "" when everything does.
	problem  string
	roleARN  string
	lifetime int64
}

// selectedContainers are the containers the webhook injects into, after the pod's
// only-containers and skip-containers annotations.
func selectedContainers(p *corev1.Pod) []corev1.Container {
	only := splitNames(p.Annotations[OnlyContainersAnnotation])
	skip := splitNames(p.Annotations[SkipContainersAnnotation])
	var out []corev1.Container
	for _, c := range p.Spec.Containers {
		if (len(only) == 0 || slices.Contains(only, c.Name)) && !slices.Contains(skip, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func envValue(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// inspectPod compares what the pod's containers carry with what the webhook injects for
// roleARN and providerARN (either may be "" when unknown).
func inspectPod(p *corev1.Pod, roleARN, providerARN string) injection {
	var in injection
	for _, c := range selectedContainers(p) {
		role, ok := envValue(&c, EnvRoleARN)
		if !ok {
			if in.injected && in.problem == "" {
				in.problem = fmt.Sprintf("container %s has no %s", c.Name, EnvRoleARN)
			}
			continue
		}
		in.injected, in.roleARN = true, role
		if in.problem == "" {
			in.problem = containerProblem(p, &c, role, roleARN, providerARN, &in.lifetime)
		}
	}
	return in
}

// containerProblem checks one injected container's variables and token volume.
func containerProblem(p *corev1.Pod, c *corev1.Container, role, roleARN, providerARN string, lifetime *int64) string {
	provider, _ := envValue(c, EnvOIDCProviderARN)
	file, _ := envValue(c, EnvOIDCTokenFile)
	switch {
	case roleARN != "" && !strings.EqualFold(role, roleARN):
		return fmt.Sprintf("container %s carries %s=%s, not %s", c.Name, EnvRoleARN, role, roleARN)
	case provider == "":
		return fmt.Sprintf("container %s has no %s", c.Name, EnvOIDCProviderARN)
	case providerARN != "" && !strings.EqualFold(provider, providerARN):
		return fmt.Sprintf("container %s carries %s=%s, not the cluster's %s", c.Name, EnvOIDCProviderARN, provider, providerARN)
	case file == "":
		return fmt.Sprintf("container %s has no %s", c.Name, EnvOIDCTokenFile)
	}
	src, why := tokenSource(p, c, file)
	switch {
	case src == nil:
		return fmt.Sprintf("container %s: %s=%s %s", c.Name, EnvOIDCTokenFile, file, why)
	case src.Audience != Audience:
		return fmt.Sprintf("container %s: the token at %s is for audience %q, not %s", c.Name, file, src.Audience, Audience)
	}
	*lifetime = DefaultTokenExpiration
	if src.ExpirationSeconds != nil {
		*lifetime = *src.ExpirationSeconds
	}
	return ""
}

// tokenSource finds the projected service account token a container sees at file, or says
// why there is none.
func tokenSource(p *corev1.Pod, c *corev1.Container, file string) (*corev1.ServiceAccountTokenProjection, string) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path.Clean(file), path.Clean(m.MountPath)+"/")
		if !ok {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.Name != m.Name || v.Projected == nil {
				continue
			}
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil && path.Clean(s.ServiceAccountToken.Path) == rel {
					return s.ServiceAccountToken, ""
				}
			}
		}
		return nil, fmt.Sprintf("is in volume %s, which projects no service account token there", m.Name)
	}
	return nil, "is in no volume the container mounts"
}

// checkPod checks that a pod carries what the webhook injects for the service account's role,
// and when it does not, says why: most often the pod predates the annotation or the label.
func (d *Doctor) checkPod(ctx context.Context, cf *clusterFacts, f *subjectFacts, p corev1.Pod) Check {
	c := Check{ID: CheckPod, Step: 5, Title: "Pod " + p.Namespace + "/" + p.Name}
	providerARN := ""
	if cf.rrsa != nil {
		providerARN = cf.rrsa.OIDCArn
	}
	in := inspectPod(&p, f.roleARN, providerARN)
	restart := d.restartCommand(ctx, &p)
	switch {
	case !in.injected:
		return d.notInjected(c, cf, f, &p, restart)
	case in.problem != "":
		return c.fail(fmt.Sprintf("%s: the pod was created before that changed", in.problem), restart)
	}
	return c.pass(fmt.Sprintf("injected: %s=%s, token %s for %s (%d s)", EnvRoleARN, in.roleARN, TokenFile, Audience, in.lifetime))
}

// notInjected explains a pod without the injection.
func (d *Doctor) notInjected(c Check, cf *clusterFacts, f *subjectFacts, p *corev1.Pod, restart string) Check {
	annotated := f.sa != nil && validRoleName(strings.TrimSpace(f.sa.Annotations[RoleNameAnnotation]))
	podLabelled := p.Labels[InjectionLabel] == InjectionOn
	nsLabelled := f.namespace != nil && f.namespace.Labels[InjectionLabel] == InjectionOn
	if !annotated || !(podLabelled || nsLabelled) || cf.webhook.failed {
		return c.warn("not injected, which follows from the ✘ checks above", "once they pass, restart it: "+restart)
	}
	what, at, known := injectionConfiguredAt(f, podLabelled)
	created := p.CreationTimestamp.Time
	switch {
	case !known:
		return c.fail("not injected: it was probably created before its service account was annotated or its namespace labelled; the webhook changes pods only as they are created", restart)
	case !created.After(at):
		return c.fail(fmt.Sprintf("not injected: it was created at %s, not after %s (%s); the webhook changes pods only as they are created",
			created.UTC().Format(time.RFC3339), what, at.UTC().Format(time.RFC3339)), restart)
	}
	return c.fail(fmt.Sprintf("not injected although it was created at %s, after %s (%s): the webhook was not running or not called then",
		created.UTC().Format(time.RFC3339), what, at.UTC().Format(time.RFC3339)), restart)
}

// injectionConfiguredAt returns when the last piece of the injection's configuration was set:
// the service account's annotation or (unless the pod labels itself) the namespace label, as
// the API server's managed fields record it.
func injectionConfiguredAt(f *subjectFacts, podLabelled bool) (what string, at time.Time, known bool) {
	if t, ok := fieldSetAt(f.sa.ManagedFields, "f:metadata", "f:annotations", "f:"+RoleNameAnnotation); ok {
		what, at, known = fmt.Sprintf("service account %s/%s was annotated", f.sa.Namespace, f.sa.Name), t, true
	}
	if podLabelled || f.namespace == nil {
		return what, at, known
	}
	if t, ok := fieldSetAt(f.namespace.ManagedFields, "f:metadata", "f:labels", "f:"+InjectionLabel); ok && (!known || t.After(at)) {
		what, at, known = fmt.Sprintf("namespace %s was labelled", f.namespace.Name), t, true
	}
	return what, at, known
}

// fieldSetAt returns the latest time a manager set the field at path (in managed fields
// notation), if any entry records it.
func fieldSetAt(entries []metav1.ManagedFieldsEntry, path ...string) (time.Time, bool) {
	var latest time.Time
	found := false
	for _, e := range entries {
		if e.FieldsV1 == nil || e.Time == nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields) != nil || !hasPath(fields, path) {
			continue
		}
		if t := e.Time.Time; !found || t.After(latest) {
			latest, found = t, true
		}
	}
	return latest, found
}

func hasPath(m map[string]any, path []string) bool {
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return false
}

// restartCommand is how to get a pod re-created (so that the webhook sees it): a rollout
// restart of its workload, or deleting it when its controller re-creates it.
func (d *Doctor) restartCommand(ctx context.Context, p *corev1.Pod) string {
	ref := metav1.GetControllerOf(p)
	ns := p.Namespace
	switch {
	case ref == nil:
		return fmt.Sprintf("re-create the pod: kubectl -n %s get pod %s -o yaml | kubectl replace --force -f -", ns, p.Name)
	case ref.Kind == "ReplicaSet":
		if rs, err := d.Kube.AppsV1().ReplicaSets(ns).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
			if owner := metav1.GetControllerOf(rs); owner != nil && owner.Kind == "Deployment" {
				return fmt.Sprintf("kubectl -n %s rollout restart deployment/%s", ns, owner.Name)
			}
		}
	case ref.Kind == "Deployment" || ref.Kind == "StatefulSet" || ref.Kind == "DaemonSet":
		return fmt.Sprintf("kubectl -n %s rollout restart %s/%s", ns, strings.ToLower(ref.Kind), ref.Name)
	}
	return fmt.Sprintf("kubectl -n %s delete pod %s (its %s %s re-creates it)", ns, p.Name, ref.Kind, ref.Name)
}

// ErrNoPods reports that a pod selector matched no pod.
var ErrNoPods = errors.New("no pod matches")

// PodTarget returns the target for one pod: its service account, with the pod to check.
func PodTarget(ctx context.Context, kc kubernetes.Interface, ns, name, role string) (DoctorTarget, error) {
	p, err := kc.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return DoctorTarget{}, fmt.Errorf("get pod %s/%s: %w", ns, name, err)
	}
	return DoctorTarget{Namespace: ns, ServiceAccount: podServiceAccount(p), Role: role, Pods: []corev1.Pod{*p}}, nil
}

// SelectorTargets returns one target per service account of the pods in ns that selector
// matches, each with its pods.
func SelectorTargets(ctx context.Context, kc kubernetes.Interface, ns, selector, role string) ([]DoctorTarget, error) {
	list, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods in namespace %s with selector %q: %w", ns, selector, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("%w selector %q in namespace %s", ErrNoPods, selector, ns)
	}
	return groupPods(list.Items, role), nil
}

// AnnotatedTargets returns a target for every service account in the cluster that carries
// the role annotation, each with the pods that use it.
func AnnotatedTargets(ctx context.Context, kc kubernetes.Interface) ([]DoctorTarget, error) {
	sas, err := kc.CoreV1().ServiceAccounts(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list service accounts: %w", err)
	}
	pods, err := kc.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	byAccount := map[string][]corev1.Pod{}
	for _, p := range pods.Items {
		k := p.Namespace + "/" + podServiceAccount(&p)
		byAccount[k] = append(byAccount[k], p)
	}
	var out []DoctorTarget
	for _, sa := range sas.Items {
		if strings.TrimSpace(sa.Annotations[RoleNameAnnotation]) == "" {
			continue
		}
		out = append(out, DoctorTarget{Namespace: sa.Namespace, ServiceAccount: sa.Name, Pods: byAccount[sa.Namespace+"/"+sa.Name]})
	}
	slices.SortFunc(out, func(a, b DoctorTarget) int {
		return strings.Compare(a.Namespace+"/"+a.ServiceAccount, b.Namespace+"/"+b.ServiceAccount)
	})
	return out, nil
}

func podServiceAccount(p *corev1.Pod) string {
	if p.Spec.ServiceAccountName == "" {
		return "default"
	}
	return p.Spec.ServiceAccountName
}

// groupPods makes one target per service account of pods, in name order.
func groupPods(pods []corev1.Pod, role string) []DoctorTarget {
	var out []DoctorTarget
	for _, p := range pods {
		sa := podServiceAccount(&p)
		i := slices.IndexFunc(out, func(t DoctorTarget) bool { return t.Namespace == p.Namespace && t.ServiceAccount == sa })
		if i < 0 {
			out = append(out, DoctorTarget{Namespace: p.Namespace, ServiceAccount: sa, Role: role})
			i = len(out) - 1
		}
		out[i].Pods = append(out[i].Pods, p)
	}
	slices.SortFunc(out, func(a, b DoctorTarget) int { return strings.Compare(a.ServiceAccount, b.ServiceAccount) })
	return out
}
