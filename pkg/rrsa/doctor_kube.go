package rrsa

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Where ack-pod-identity-webhook runs. The add-on's objects carry its name; when its
// MutatingWebhookConfiguration names its service, the deployment is looked up by that name.
const (
	WebhookName      = "ack-pod-identity-webhook"
	WebhookNamespace = "kube-system"
)

// webhookFacts is what the webhook check found.
type webhookFacts struct {
	// configs are the add-on's MutatingWebhookConfigurations (nil when none or unknown).
	configs []admissionv1.MutatingWebhookConfiguration
	failed  bool
}

// isPodIdentityWebhook tells the add-on's MutatingWebhookConfiguration by its name or the
// service it calls.
func isPodIdentityWebhook(m *admissionv1.MutatingWebhookConfiguration) bool {
	if strings.Contains(m.Name, WebhookName) {
		return true
	}
	for _, h := range m.Webhooks {
		if s := h.ClientConfig.Service; s != nil && s.Name == WebhookName {
			return true
		}
	}
	return false
}

// webhookDeployment is the namespace and name of the deployment serving the configurations.
func webhookDeployment(configs []admissionv1.MutatingWebhookConfiguration) (string, string) {
	for _, m := range configs {
		for _, h := range m.Webhooks {
			if s := h.ClientConfig.Service; s != nil {
				return s.Namespace, s.Name
			}
		}
	}
	return WebhookNamespace, WebhookName
}

// checkWebhook checks that the add-on is installed (its MutatingWebhookConfiguration) and
// running (its deployment has ready replicas).
func (d *Doctor) checkWebhook(ctx context.Context) (Check, webhookFacts) {
	c := Check{ID: CheckWebhook, Step: 4, Title: "Pod identity webhook"}
	list, err := d.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return c.warn(fmt.Sprintf("cannot list MutatingWebhookConfigurations: %v", err),
			"allow list mutatingwebhookconfigurations.admissionregistration.k8s.io to check the webhook"), webhookFacts{}
	}
	var f webhookFacts
	for _, m := range list.Items {
		if isPodIdentityWebhook(&m) {
			f.configs = append(f.configs, m)
		}
	}
	install := d.command("install-helper-addon")
	if len(f.configs) == 0 {
		f.failed = true
		return c.fail(WebhookName+" is not installed: no MutatingWebhookConfiguration calls it", install), f
	}
	ns, name := webhookDeployment(f.configs)
	dep, err := d.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		f.failed = true
		return c.fail(fmt.Sprintf("MutatingWebhookConfiguration %s exists but deployment %s/%s does not", f.configs[0].Name, ns, name), install), f
	case err != nil:
		return c.warn(fmt.Sprintf("cannot read deployment %s/%s: %v", ns, name, err), "allow get deployments in namespace "+ns+" to check the webhook"), f
	}
	ready, want := readyReplicas(dep)
	status := fmt.Sprintf("deployment %s/%s has %d/%d replicas ready", ns, name, ready, want)
	switch {
	case ready == 0:
		f.failed = true
		return c.fail(status+": pods created now get nothing injected", fmt.Sprintf("kubectl -n %s describe deployment %s (and its pods' events) shows why it does not run", ns, name)), f
	case ready < want:
		return c.warn(status, fmt.Sprintf("kubectl -n %s describe deployment %s", ns, name)), f
	}
	return c.pass(fmt.Sprintf("MutatingWebhookConfiguration %s, %s", f.configs[0].Name, status)), f
}

func readyReplicas(dep *appsv1.Deployment) (ready, want int32) {
	want = 1
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	return dep.Status.ReadyReplicas, want
}

// checkInjection checks that the webhook acts on the service account's pods: the namespace
// (or every pod checked) is labelled for injection, and the webhook's namespace selector
// selects the namespace.
func (d *Doctor) checkInjection(ctx context.Context, cf *clusterFacts, s DoctorTarget, f *subjectFacts) Check {
	c := Check{ID: CheckInjection, Step: 4, Title: "Namespace injection"}
	ns, err := d.Kube.CoreV1().Namespaces().Get(ctx, s.Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return c.fail("namespace "+s.Namespace+" does not exist", "kubectl create namespace "+s.Namespace)
	case err != nil:
		return c.warn(fmt.Sprintf("cannot read namespace %s: %v", s.Namespace, err), "allow get namespaces to check the injection label")
	}
	f.namespace = ns
	label := fmt.Sprintf("%s=%s", InjectionLabel, InjectionOn)
	fix := fmt.Sprintf("kubectl label namespace %s %s", s.Namespace, label)
	if ns.Labels[InjectionLabel] != InjectionOn && !allPodsLabelled(s.Pods) {
		return c.fail(fmt.Sprintf("namespace %s is not labelled %s, so the webhook leaves its pods alone", s.Namespace, label), fix)
	}
	for _, m := range cf.webhook.configs {
		for _, h := range m.Webhooks {
			if selects(h.NamespaceSelector, ns.Labels) {
				return c.pass(fmt.Sprintf("namespace %s is labelled %s and MutatingWebhookConfiguration %s selects it", s.Namespace, label, m.Name))
			}
		}
	}
	if len(cf.webhook.configs) > 0 {
		sel := cf.webhook.configs[0].Webhooks[0].NamespaceSelector
		return c.fail(fmt.Sprintf("MutatingWebhookConfiguration %s does not select namespace %s (namespaceSelector %s)", cf.webhook.configs[0].Name, s.Namespace, metav1.FormatLabelSelector(sel)),
			selectorFix(s.Namespace, sel, fix))
	}
	return c.pass(fmt.Sprintf("namespace %s is labelled %s", s.Namespace, label))
}

func allPodsLabelled(pods []corev1.Pod) bool {
	for _, p := range pods {
		if p.Labels[InjectionLabel] != InjectionOn {
			return false
		}
	}
	return len(pods) > 0
}

// selects reports whether a webhook's namespace selector (nil: every namespace) selects a
// namespace with these labels.
func selects(sel *metav1.LabelSelector, nsLabels map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(nsLabels))
}

// selectorFix is the label command that makes sel select the namespace, when sel is only
// matchLabels; otherwise it says what to match.
func selectorFix(ns string, sel *metav1.LabelSelector, fallback string) string {
	if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) == 0 {
		return fmt.Sprintf("label namespace %s so that it matches %s (%s)", ns, metav1.FormatLabelSelector(sel), fallback)
	}
	var kv []string
	for k, v := range sel.MatchLabels {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return fmt.Sprintf("kubectl label namespace %s %s", ns, strings.Join(kv, " "))
}
