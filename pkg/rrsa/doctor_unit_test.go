package rrsa

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// The pure parts of the doctor; the checks themselves are tested end to end against the
// emulator and a real kube-apiserver in plugins/rrsa (TestDoctor).

func TestTokenLifetime(t *testing.T) {
	sa := func(v string) *corev1.ServiceAccount {
		s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa"}}
		if v != "" {
			s.Annotations = map[string]string{TokenExpirationAnnotation: v}
		}
		return s
	}
	pod := func(name, v string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		if v != "" {
			p.Annotations = map[string]string{TokenExpirationAnnotation: v}
		}
		return p
	}
	tests := []struct {
		name     string
		sa       *corev1.ServiceAccount
		pods     []corev1.Pod
		want     int64
		wantFrom string
	}{
		{name: "default", sa: sa(""), want: 3600, wantFrom: "the webhook's default"},
		{name: "no service account", want: 3600, wantFrom: "the webhook's default"},
		{name: "service account", sa: sa("7200"), want: 7200, wantFrom: "service account ns/sa"},
		{name: "not a number", sa: sa("2h"), want: 3600, wantFrom: "default"},
		{name: "below the range", sa: sa("599"), want: 3600, wantFrom: "default"},
		{name: "above the range", sa: sa("43201"), want: 3600, wantFrom: "default"},
		{name: "pod overrides, lower", sa: sa("7200"), pods: []corev1.Pod{pod("a", "1200")}, want: 1200, wantFrom: "pod ns/a"},
		{name: "longest of the pods", sa: sa("7200"), pods: []corev1.Pod{pod("a", "1200"), pod("b", "")}, want: 7200, wantFrom: "service account ns/sa"},
		{name: "pod above the service account", sa: sa("7200"), pods: []corev1.Pod{pod("a", "43200")}, want: 43200, wantFrom: "pod ns/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from := tokenLifetime(tt.sa, tt.pods)
			if got != tt.want || !strings.Contains(from, tt.wantFrom) {
				t.Errorf("tokenLifetime = %d from %q, want %d from %q", got, from, tt.want, tt.wantFrom)
			}
		})
	}
}

const (
	testRole     = "acs:ram::123:role/app"
	testProvider = "acs:ram::123:oidc-provider/ack-rrsa-c1"
)

// injectedPod is a pod as the webhook leaves it; mutate changes it.
func injectedPod(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app",
			Env:          []corev1.EnvVar{{Name: EnvRoleARN, Value: testRole}, {Name: EnvOIDCProviderARN, Value: testProvider}, {Name: EnvOIDCTokenFile, Value: TokenFile}},
			VolumeMounts: []corev1.VolumeMount{{Name: "rrsa-oidc-token", MountPath: TokenMountPath}}}},
		Volumes: []corev1.Volume{{Name: "rrsa-oidc-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: Audience, Path: "token"}}}}}}},
	}}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func TestInspectPod(t *testing.T) {
	sidecar := corev1.Container{Name: "proxy"}
	tests := []struct {
		name         string
		pod          *corev1.Pod
		wantInjected bool
		wantProblem  string
	}{
		{name: "injected", pod: injectedPod(nil), wantInjected: true},
		{name: "not injected", pod: &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}},
		{name: "another role", pod: injectedPod(func(p *corev1.Pod) { p.Spec.Containers[0].Env[0].Value = "acs:ram::123:role/old" }),
			wantInjected: true, wantProblem: "carries ALIBABA_CLOUD_ROLE_ARN=acs:ram::123:role/old, not acs:ram::123:role/app"},
		{name: "another provider", pod: injectedPod(func(p *corev1.Pod) { p.Spec.Containers[0].Env[1].Value = "acs:ram::123:oidc-provider/x" }),
			wantInjected: true, wantProblem: "not the cluster's " + testProvider},
		{name: "token file outside the mount", pod: injectedPod(func(p *corev1.Pod) { p.Spec.Containers[0].Env[2].Value = "/tmp/token" }),
			wantInjected: true, wantProblem: "is in no volume the container mounts"},
		{name: "other audience", pod: injectedPod(func(p *corev1.Pod) {
			p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Audience = "kubernetes"
		}), wantInjected: true, wantProblem: `is for audience "kubernetes"`},
		{name: "mount of another kind", pod: injectedPod(func(p *corev1.Pod) { p.Spec.Volumes[0].Projected = nil }),
			wantInjected: true, wantProblem: "projects no service account token there"},
		{name: "a selected container left out", pod: injectedPod(func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, sidecar) }),
			wantInjected: true, wantProblem: "container proxy has no ALIBABA_CLOUD_ROLE_ARN"},
		{name: "skip-containers honoured", pod: injectedPod(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, sidecar)
			p.Annotations = map[string]string{SkipContainersAnnotation: "proxy"}
		}), wantInjected: true},
		{name: "only-containers honoured", pod: injectedPod(func(p *corev1.Pod) {
			p.Spec.Containers = append([]corev1.Container{sidecar}, p.Spec.Containers...)
			p.Annotations = map[string]string{OnlyContainersAnnotation: "app"}
		}), wantInjected: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inspectPod(tt.pod, testRole, testProvider)
			if in.injected != tt.wantInjected || (tt.wantProblem == "") != (in.problem == "") || !strings.Contains(in.problem, tt.wantProblem) {
				t.Errorf("inspectPod = %+v, want injected=%v problem %q", in, tt.wantInjected, tt.wantProblem)
			}
		})
	}
}

func TestFieldSetAt(t *testing.T) {
	at := func(s int) *metav1.Time { return &metav1.Time{Time: time.Unix(int64(s), 0)} }
	entry := func(ts int, raw string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Time: at(ts), FieldsV1: metav1.NewFieldsV1(raw)}
	}
	ann := fmt.Sprintf(`{"f:metadata":{"f:annotations":{"f:%s":{}}}}`, RoleNameAnnotation)
	tests := []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		want    int64
		found   bool
	}{
		{name: "none"},
		{name: "one manager", entries: []metav1.ManagedFieldsEntry{entry(10, ann)}, want: 10, found: true},
		{name: "latest of two managers", entries: []metav1.ManagedFieldsEntry{entry(30, ann), entry(10, `{"f:metadata":{}}`), entry(20, ann)}, want: 30, found: true},
		{name: "another field only", entries: []metav1.ManagedFieldsEntry{entry(10, `{"f:metadata":{"f:annotations":{"f:other":{}}}}`)}},
		{name: "malformed", entries: []metav1.ManagedFieldsEntry{entry(10, `{`), {Time: at(5)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := fieldSetAt(tt.entries, "f:metadata", "f:annotations", "f:"+RoleNameAnnotation)
			if found != tt.found || (found && got.Unix() != tt.want) {
				t.Errorf("fieldSetAt = %v, %v; want %d, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestSelectsAndSelectorFix(t *testing.T) {
	on := map[string]string{InjectionLabel: InjectionOn}
	byLabel := &metav1.LabelSelector{MatchLabels: on}
	byExpr := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpExists}}}
	tests := []struct {
		name    string
		sel     *metav1.LabelSelector
		labels  map[string]string
		want    bool
		wantFix string
	}{
		{name: "no selector", want: true, wantFix: "so that it matches"},
		{name: "labels match", sel: byLabel, labels: on, want: true, wantFix: "kubectl label namespace ns " + InjectionLabel + "=on"},
		{name: "labels differ", sel: byLabel, labels: map[string]string{InjectionLabel: "off"}, wantFix: "kubectl label namespace ns " + InjectionLabel + "=on"},
		{name: "expression", sel: byExpr, labels: on, wantFix: "so that it matches team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selects(tt.sel, tt.labels); got != tt.want {
				t.Errorf("selects = %v, want %v", got, tt.want)
			}
			if fix := selectorFix("ns", tt.sel, "fallback"); !strings.Contains(fix, tt.wantFix) {
				t.Errorf("selectorFix = %q, want %q", fix, tt.wantFix)
			}
		})
	}
}

func TestSTSMeaning(t *testing.T) {
	apiErr := func(code string, kind error) error {
		return &cloud.APIError{Service: "sts", Action: "AssumeRoleWithOIDC", Code: code, Kind: kind}
	}
	tests := []struct {
		err         error
		wantMeaning string
	}{
		{apiErr("AuthenticationFail.NoPermission", cloud.ErrAuth), "trust policy"},
		{apiErr("AuthenticationFail.OIDCToken.Expired", cloud.ErrAuth), "clocks"},
		{apiErr("AuthenticationFail.OIDCToken.Invalid", cloud.ErrAuth), "rejected the token itself"},
		{apiErr("EntityNotExist.OIDCProvider", cloud.ErrNotFound), "does not know the OIDC provider"},
		{apiErr("EntityNotExist.Role", cloud.ErrNotFound), "role does not exist"},
		{apiErr("", cloud.ErrUnavailable), "could not be reached"},
		{errors.New("boom"), "no explanation"},
	}
	for _, tt := range tests {
		meaning, fix := stsMeaning(tt.err)
		if !strings.Contains(meaning, tt.wantMeaning) || fix == "" {
			t.Errorf("stsMeaning(%v) = %q, %q; want %q", tt.err, meaning, fix, tt.wantMeaning)
		}
	}
}

func TestChecklistOrder(t *testing.T) {
	d := &Diagnosis{
		Cluster: []Check{{ID: CheckRRSA, Step: 1}, {ID: CheckOIDCProvider, Step: 1, Status: CheckFailed}, {ID: CheckWebhook, Step: 4}},
		ServiceAccounts: []Report{{Checks: []Check{{ID: CheckServiceAccount, Step: 2}, {ID: CheckTrustPolicy, Step: 3, Status: CheckFailed},
			{ID: CheckInjection, Step: 4}, {ID: CheckPod, Step: 5}, {ID: CheckSTS, Step: 6}}}},
	}
	var ids []string
	for _, c := range d.Checklist(0) {
		ids = append(ids, string(c.ID))
	}
	if got := strings.Join(ids, ","); got != "rrsa,oidc-provider,service-account,trust-policy,webhook,injection,pod,sts" {
		t.Errorf("checklist order %s", got)
	}
	if d.Failures() != 2 || !d.ServiceAccounts[0].Failed() {
		t.Errorf("failures = %d", d.Failures())
	}
}
