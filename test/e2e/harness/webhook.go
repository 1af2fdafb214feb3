package harness

// PodIdentityWebhookStandIn is what installing ack-pod-identity-webhook leaves in a cluster: its
// MutatingWebhookConfiguration (selecting namespaces labelled for injection) and its
// deployment. Nothing runs the webhook here, so failurePolicy Ignore keeps pod creation working;
// `kubectl ack-rrsa doctor` reads these objects. Apply it, then run kubectl with
// PodIdentityWebhookReady to report the deployment ready.
const PodIdentityWebhookStandIn = `apiVersion: admissionregistration.k8s.io/v1
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

// PodIdentityWebhookReady are the kubectl arguments that report the stand-in deployment ready
// through the status subresource (no controller runs in the harness).
var PodIdentityWebhookReady = []string{"-n", "kube-system", "patch", "deployment", "ack-pod-identity-webhook", "--subresource=status",
	"--type=merge", "-p", `{"status":{"replicas":1,"readyReplicas":1,"availableReplicas":1}}`}
