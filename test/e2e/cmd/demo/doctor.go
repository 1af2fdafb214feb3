package main

import (
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// webhookStandIn is what installing ack-pod-identity-webhook leaves in a cluster: its
// MutatingWebhookConfiguration (selecting namespaces labelled for injection) and its
// deployment. Nothing runs the webhook here, so failurePolicy Ignore keeps pod creation working;
// doctor reads these objects.
const webhookStandIn = `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: ack-pod-identity-webhook
webhooks:
- name: pod-identity.alibabacloud.com
  clientConfig:
    service: {namespace: kube-system, name: ack-pod-identity-webhook, path: /mutate}
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  namespaceSelector:
    matchLabels: {pod-identity.alibabacloud.com/injection: "on"}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ack-pod-identity-webhook
  namespace: kube-system
spec:
  replicas: 1
  selector:
    matchLabels: {app: ack-pod-identity-webhook}
  template:
    metadata:
      labels: {app: ack-pod-identity-webhook}
    spec:
      containers:
      - {name: webhook, image: registry.example/ack-pod-identity-webhook:0.4.0}
`

// doctor shows `kubectl ack-rrsa doctor` on the working association, then breaks it (the
// namespace loses its injection label) and lets doctor find the cause and the fix.
func (d *demo) doctor(ops *harness.User) error {
	d.say("doctor checks every piece a pod needs to get its role; first, stand-ins for the ack-pod-identity-webhook add-on (nothing runs it here)")
	if r := ops.RunInput(d.ctx, []byte(webhookStandIn), "kubectl", "apply", "-f", "-"); r.Err() != nil {
		return r.Err()
	}
	if _, err := d.ok(ops, "kubectl", "-n", "kube-system", "patch", "deployment", "ack-pod-identity-webhook", "--subresource=status",
		"--type=merge", "-p", `{"status":{"replicas":1,"readyReplicas":1,"availableReplicas":1}}`); err != nil {
		return err
	}
	if _, err := d.ok(ops, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app"); err != nil {
		return err
	}
	d.say("break it: the namespace loses its injection label, so new pods would get nothing")
	if _, err := d.ok(ops, "kubectl", "label", "namespace", "demo", "pod-identity.alibabacloud.com/injection-"); err != nil {
		return err
	}
	fix := "kubectl label namespace demo pod-identity.alibabacloud.com/injection=on"
	r := ops.Run(d.ctx, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app")
	if r.ExitCode != 1 || !strings.Contains(r.Stdout, "✘ Namespace injection: namespace demo is not labelled") || !strings.Contains(r.Stdout, "fix: "+fix) {
		return fmt.Errorf("doctor should have found the missing label, exit 1, and shown %q:\n%s", fix, r)
	}
	d.say("doctor exits 1 and names the fix; apply it and check again")
	if _, err := d.ok(ops, strings.Fields(fix)[0], strings.Fields(fix)[1:]...); err != nil {
		return err
	}
	_, err := d.ok(ops, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app")
	return err
}
