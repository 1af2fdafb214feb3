package rrsa

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// doctorEnv is the healthy setup: RRSA on, role app-role trusting demo/web (written by
// associate-role, which also annotated the service account and labelled the namespace), the
// webhook add-on's objects, and a pod demo/web-1 of deployment web carrying the injection.
// Nothing runs the webhook in the test cluster: its MutatingWebhookConfiguration and
// deployment (ready, through the status subresource) and the injected pod are API objects.
type doctorEnv struct {
	f    *fixture
	kc   kubernetes.Interface
	kube []string
	rs   *appsv1.ReplicaSet
}

func newDoctorEnv(t *testing.T) *doctorEnv {
	t.Helper()
	f := newFixture(t, nil)
	env, kc := realKube(t, f)
	e := &doctorEnv{f: f, kc: kc, kube: []string{"--kubeconfig", env.Kubeconfig}}
	ctx := context.Background()
	if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.mustRun(t, append([]string{"associate-role", "-r", "app-role", "-n", "demo", "-s", "web", "--create-role-if-not-exist", "--annotate-service-account", "-y"}, e.kube...)...)
	// Another annotation, as service accounts often carry: the API server keeps recording when
	// its annotations change (an object whose managed fields all go stops being tracked).
	e.patch(t, "serviceaccount", "web", `{"metadata":{"annotations":{"example.com/owner":"team-web"}}}`)
	installWebhookObjects(t, kc)
	dep := createObject(t, kc.AppsV1().Deployments("demo").Create, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: podTemplate("web", "web")}})
	e.rs = createObject(t, kc.AppsV1().ReplicaSets("demo").Create, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: dep.Spec.Selector, Template: podTemplate("web", "web")}})
	e.createPod(t, "web-1", "acs:ram::"+f.accountID+":role/app-role")
	return e
}

func podTemplate(sa, app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}
}

func createObject[T any](t *testing.T, create func(context.Context, T, metav1.CreateOptions) (T, error), obj T) T {
	t.Helper()
	out, err := create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// installWebhookObjects creates what installing ack-pod-identity-webhook leaves in a cluster:
// its MutatingWebhookConfiguration, selecting namespaces labelled for injection, and its
// deployment, reported ready.
func installWebhookObjects(t *testing.T, kc kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	createObject(t, kc.AdmissionregistrationV1().MutatingWebhookConfigurations().Create, &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: rrsa.WebhookName},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name: "pod-identity.alibabacloud.com",
			ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{
				Namespace: rrsa.WebhookNamespace, Name: rrsa.WebhookName, Path: ptr.To("/mutate")}},
			Rules: []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{rrsa.InjectionLabel: rrsa.InjectionOn}},
			// Nothing serves it here: pod creation must not wait for it.
			FailurePolicy: ptr.To(admissionv1.Ignore), SideEffects: ptr.To(admissionv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}},
	})
	dep := createObject(t, kc.AppsV1().Deployments(rrsa.WebhookNamespace).Create, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: rrsa.WebhookName},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": rrsa.WebhookName}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": rrsa.WebhookName}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "webhook", Image: "registry.example/ack-pod-identity-webhook:0.4.0"}}}}},
	})
	dep.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1, ObservedGeneration: dep.Generation}
	if _, err := kc.AppsV1().Deployments(rrsa.WebhookNamespace).UpdateStatus(ctx, dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createPod creates a pod of deployment web; with roleARN it carries what the webhook injects.
func (e *doctorEnv) createPod(t *testing.T, name, roleARN string) {
	t.Helper()
	spec := podTemplate("web", "web").Spec
	if roleARN != "" {
		c := &spec.Containers[0]
		c.Env = []corev1.EnvVar{{Name: rrsa.EnvRoleARN, Value: roleARN}, {Name: rrsa.EnvOIDCProviderARN, Value: e.f.oidcArn},
			{Name: rrsa.EnvOIDCTokenFile, Value: rrsa.TokenFile}}
		c.VolumeMounts = []corev1.VolumeMount{{Name: "rrsa-oidc-token", MountPath: rrsa.TokenMountPath, ReadOnly: true}}
		spec.Volumes = []corev1.Volume{{Name: "rrsa-oidc-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: rrsa.Audience, ExpirationSeconds: ptr.To[int64](3600), Path: "token"}}}}}}}
	}
	createObject(t, e.kc.CoreV1().Pods("demo").Create, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: e.rs.Name, UID: e.rs.UID, Controller: ptr.To(true)}}},
		Spec: spec})
}

// patch applies a merge patch to a namespace or a service account of namespace demo.
func (e *doctorEnv) patch(t *testing.T, kind, name, patch string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if kind == "namespace" {
		_, err = e.kc.CoreV1().Namespaces().Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	} else {
		_, err = e.kc.CoreV1().ServiceAccounts("demo").Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (e *doctorEnv) doctor(t *testing.T, args ...string) result {
	t.Helper()
	return e.f.run(t, "", append(append([]string{"doctor"}, args...), e.kube...)...)
}

// marked returns the checklist lines that start with mark.
func marked(out, mark string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, mark+" ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// fixAfter returns the fix line that follows line in out.
func fixAfter(out, line string) string {
	_, rest, _ := strings.Cut(out, line+"\n")
	for _, l := range strings.Split(rest, "\n") {
		if fix, ok := strings.CutPrefix(l, "    fix: "); ok {
			return fix
		}
		if !strings.HasPrefix(l, "    ") {
			break
		}
	}
	return ""
}

// statement is a trust statement for the test's cluster with the given conditions.
func (e *doctorEnv) statement(aud, sub, subOp string) string {
	eq := map[string]string{"oidc:aud": aud, "oidc:iss": e.f.issuer}
	cond := map[string]any{"StringEquals": eq}
	if subOp == "StringEquals" {
		eq["oidc:sub"] = sub
	} else {
		cond[subOp] = map[string]string{"oidc:sub": sub}
	}
	b, _ := json.Marshal(map[string]any{"Version": "1", "Statement": []any{map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow",
		"Principal": map[string]any{"Federated": []string{e.f.oidcArn}}, "Condition": cond}}})
	return string(b)
}

func TestDoctor(t *testing.T) {
	e := newDoctorEnv(t)
	f := e.f
	assumed := "acs:ram::" + f.accountID + ":assumed-role/app-role/" + rrsa.DefaultDoctorSession

	t.Run("healthy", func(t *testing.T) {
		r := e.doctor(t, "--pod", "demo/web-1")
		if r.err != nil {
			t.Fatalf("doctor failed on the healthy setup: %v\n%s", r.err, r.stdout)
		}
		for _, mark := range []string{"✘", "!", "-"} {
			if lines := marked(r.stdout, mark); len(lines) > 0 {
				t.Errorf("%s lines on the healthy setup: %q", mark, lines)
			}
		}
		if n := len(marked(r.stdout, "✔")); n != 10 {
			t.Errorf("%d ✔ lines, want 10 (every check and the pod):\n%s", n, r.stdout)
		}
		if !strings.HasSuffix(strings.TrimSpace(r.stdout), assumed) {
			t.Errorf("the output does not end with the assumed role's ARN %s:\n%s", assumed, r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, "STS.") {
			t.Errorf("credentials printed:\n%s%s", r.stdout, r.stderr)
		}
	})

	role := f.trustPolicy(t, "app-role")
	provider, ok := f.srv.OIDCProvider(f.accountID, "ack-rrsa-"+f.clusterID)
	if !ok {
		t.Fatal("enabling RRSA created no OIDC provider")
	}
	setPolicy := func(doc string) func(t *testing.T) func() {
		return func(t *testing.T) func() {
			if err := f.srv.SetRoleTrustPolicy(f.accountID, "app-role", doc); err != nil {
				t.Fatal(err)
			}
			return func() { _ = f.srv.SetRoleTrustPolicy(f.accountID, "app-role", role) }
		}
	}
	annotate := func(key, value string) func(t *testing.T) func() {
		return func(t *testing.T) func() {
			e.patch(t, "serviceaccount", "web", `{"metadata":{"annotations":{"`+key+`":`+value+`}}}`)
			return func() {
				restore := `null`
				if key == rrsa.RoleNameAnnotation {
					restore = `"app-role"`
				}
				e.patch(t, "serviceaccount", "web", `{"metadata":{"annotations":{"`+key+`":`+restore+`}}}`)
			}
		}
	}
	tests := []struct {
		name      string
		breakIt   func(t *testing.T) (restore func())
		args      []string
		wantFound string
		wantAlso  string
		wantFix   string
	}{
		{name: "missing annotation", breakIt: annotate(rrsa.RoleNameAnnotation, "null"),
			wantFound: "✘ Service account: demo/web has no pod-identity.alibabacloud.com/role-name annotation",
			wantFix:   "kubectl -n demo annotate serviceaccount web --overwrite pod-identity.alibabacloud.com/role-name=<role name>"},
		{name: "role missing", breakIt: annotate(rrsa.RoleNameAnnotation, `"ghost-role"`),
			wantFound: "✘ RAM role: RAM role ghost-role does not exist",
			wantFix:   "kubectl ack-rrsa associate-role -r ghost-role -n demo -s web --create-role-if-not-exist -c " + f.clusterID},
		{name: "policy for another namespace", breakIt: setPolicy(e.statement(rrsa.Audience, "system:serviceaccount:other:web", "StringEquals")),
			wantFound: `✘ Trust policy: no statement lets system:serviceaccount:demo:web in; the closest, statement 1, differs: oidc:sub "system:serviceaccount:other:web" names namespace "other", not "demo"`,
			wantFix:   `kubectl ack-rrsa associate-role -r app-role -n demo -s web (adds the statement system:serviceaccount:demo:web needs), or in statement 1: set oidc:sub to "system:serviceaccount:demo:web"`},
		{name: "wildcard under StringEquals", breakIt: setPolicy(e.statement(rrsa.Audience, "system:serviceaccount:demo:*", "StringEquals")),
			wantFound: `differs: oidc:sub "system:serviceaccount:demo:*" is a pattern under StringEquals`,
			wantFix:   "or in statement 1: move oidc:sub from StringEquals to StringLike"},
		{name: "wrong audience", breakIt: setPolicy(e.statement("sts.example.com", "system:serviceaccount:demo:web", "StringEquals")),
			wantFound: `differs: oidc:aud is "sts.example.com"; RRSA tokens carry the audience "sts.aliyuncs.com"`,
			wantFix:   `or in statement 1: set oidc:aud to "sts.aliyuncs.com"`},
		{name: "provider missing", breakIt: func(t *testing.T) func() {
			if err := f.srv.DeleteOIDCProvider(f.accountID, provider.Name); err != nil {
				t.Fatal(err)
			}
			return func() { _ = f.srv.SetOIDCProvider(provider) }
		}, wantFound: "✘ OIDC provider: RAM has no OIDC provider ack-rrsa-" + f.clusterID + ", the one the cluster reports (" + f.oidcArn + ")",
			wantFix: "re-create it: aliyun ims CreateOIDCProvider --OIDCProviderName ack-rrsa-" + f.clusterID + " --IssuerUrl " + f.issuer + " --ClientIds sts.aliyuncs.com"},
		{name: "RRSA disabled", breakIt: func(t *testing.T) func() {
			if err := f.srv.UpdateCluster(f.clusterID, func(c *emulator.Cluster) { c.RRSA = emulator.RRSAConfig{} }); err != nil {
				t.Fatal(err)
			}
			return func() {
				_ = f.srv.UpdateCluster(f.clusterID, func(c *emulator.Cluster) { c.RRSA = emulator.RRSAConfig{Enabled: true} })
			}
		}, wantFound: "✘ RRSA enabled: RRSA is not enabled on cluster " + f.clusterID,
			wantFix: "kubectl ack-rrsa enable -c " + f.clusterID},
		{name: "webhook absent (namespace unlabelled)", breakIt: func(t *testing.T) func() {
			e.patch(t, "namespace", "demo", `{"metadata":{"labels":{"`+rrsa.InjectionLabel+`":null}}}`)
			return func() { e.patch(t, "namespace", "demo", `{"metadata":{"labels":{"`+rrsa.InjectionLabel+`":"on"}}}`) }
		}, wantFound: "✘ Namespace injection: namespace demo is not labelled pod-identity.alibabacloud.com/injection=on, so the webhook leaves its pods alone",
			wantFix: "kubectl label namespace demo pod-identity.alibabacloud.com/injection=on"},
		{name: "pod older than the annotation", args: []string{"--pod", "demo/web-old"}, breakIt: func(t *testing.T) func() {
			e.createPod(t, "web-old", "")
			// Annotated (again) after the pod was created: the webhook never saw the pod with it.
			e.patch(t, "serviceaccount", "web", `{"metadata":{"annotations":{"`+rrsa.RoleNameAnnotation+`":null}}}`)
			e.patch(t, "serviceaccount", "web", `{"metadata":{"annotations":{"`+rrsa.RoleNameAnnotation+`":"app-role"}}}`)
			return func() { _ = e.kc.CoreV1().Pods("demo").Delete(context.Background(), "web-old", metav1.DeleteOptions{}) }
		}, wantFound: "✘ Pod demo/web-old: not injected: it was created at ",
			wantAlso: "not after service account demo/web was annotated",
			wantFix:  "kubectl -n demo rollout restart deployment/web"},
		{name: "max session too short", breakIt: annotate(rrsa.TokenExpirationAnnotation, `"7200"`),
			wantFound: "✘ Max session duration: role app-role allows sessions of 3600 s, shorter than the 7200 s token lifetime set by pod-identity.alibabacloud.com/service-account-token-expiration on service account demo/web",
			wantFix:   "aliyun ram UpdateRole --RoleName app-role --NewMaxSessionDuration 7200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(tt.breakIt(t))
			args := tt.args
			if args == nil {
				args = []string{"-n", "demo", "-s", "web"}
			}
			r := e.doctor(t, args...)
			if code := cli.Code(r.err); code != cli.ExitFailure {
				t.Errorf("exit code %d (%v), want 1", code, r.err)
			}
			failed := marked(r.stdout, "✘")
			if len(failed) != 1 || !strings.Contains(failed[0], tt.wantFound) || !strings.Contains(failed[0], tt.wantAlso) {
				t.Fatalf("✘ lines = %q, want exactly one with %q:\n%s", failed, tt.wantFound, r.stdout)
			}
			if fix := fixAfter(r.stdout, failed[0]); !strings.Contains(fix, tt.wantFix) {
				t.Errorf("fix = %q, want %q", fix, tt.wantFix)
			}
		})
	}
}

// The other ways to choose what to check, on the healthy setup of TestDoctor plus a broken
// service account: -o json, -l and -A (one summary line per annotated service account).
func TestDoctorOutputsAndSelections(t *testing.T) {
	e := newDoctorEnv(t)
	f := e.f
	assumed := "acs:ram::" + f.accountID + ":assumed-role/app-role/" + rrsa.DefaultDoctorSession
	createObject(t, e.kc.CoreV1().ServiceAccounts("demo").Create, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "lost",
		Annotations: map[string]string{rrsa.RoleNameAnnotation: "ghost-role"}}})
	createObject(t, e.kc.CoreV1().ServiceAccounts("demo").Create, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "typo",
		Annotations: map[string]string{rrsa.RoleNameAnnotation: "acs:ram::1:role/app-role"}}})

	t.Run("json", func(t *testing.T) {
		r := e.doctor(t, "-n", "demo", "-s", "web", "-o", "json")
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.stdout)
		}
		var d rrsa.Diagnosis
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		if !d.OK || d.ClusterID != f.clusterID || len(d.Cluster) != 3 || len(d.ServiceAccounts) != 1 {
			t.Fatalf("diagnosis = %+v", d)
		}
		sa := d.ServiceAccounts[0]
		if sa.Role != "app-role" || sa.RoleSource != "annotation" || sa.AssumedRoleARN != assumed || len(sa.Checks) != 6 {
			t.Errorf("service account report = %+v", sa)
		}
		for _, c := range d.Checklist(0) {
			if c.Status != rrsa.CheckPassed || c.Found == "" || c.Fix != "" {
				t.Errorf("check %+v", c)
			}
		}
	})

	t.Run("selector", func(t *testing.T) {
		r := e.doctor(t, "-n", "demo", "-l", "app=web", "-r", "acs:ram::"+f.accountID+":role/app-role")
		if r.err != nil || len(marked(r.stdout, "!")) > 0 || !strings.Contains(r.stdout, "✔ Pod demo/web-1: injected") ||
			!strings.Contains(r.stdout, "RAM role app-role (from the -r flag)") || !strings.HasSuffix(strings.TrimSpace(r.stdout), assumed) {
			t.Fatalf("err %v, stdout:\n%s", r.err, r.stdout)
		}
		r = e.doctor(t, "-n", "demo", "-l", "app=none")
		if r.err == nil || !strings.Contains(r.err.Error(), `no pod matches selector "app=none" in namespace demo`) {
			t.Errorf("no match: %v", r.err)
		}
	})

	t.Run("completion", func(t *testing.T) {
		r := e.f.runArgs(t, "", append([]string{"__complete", "doctor"}, append(e.kube, "-n", "demo", "-s", "")...)...)
		if r.err != nil || !strings.Contains(r.stdout, "lost\n") || !strings.Contains(r.stdout, "typo\n") || !strings.Contains(r.stdout, "web\n") {
			t.Errorf("service account completion: %v\n%s", r.err, r.stdout)
		}
		r = e.f.runArgs(t, "", append([]string{"__complete", "doctor"}, append(e.kube, "-n", "de")...)...)
		if r.err != nil || !strings.Contains(r.stdout, "demo\n") {
			t.Errorf("namespace completion: %v\n%s", r.err, r.stdout)
		}
	})

	t.Run("all namespaces", func(t *testing.T) {
		r := e.doctor(t, "-A")
		if code := cli.Code(r.err); code != cli.ExitFailure {
			t.Errorf("exit code %d (%v), want 1", code, r.err)
		}
		want := []string{
			"✘ demo/lost → ghost-role: RAM role: RAM role ghost-role does not exist",
			`✘ demo/typo → app-role: Service account: demo/typo annotation pod-identity.alibabacloud.com/role-name="acs:ram::1:role/app-role" is not a RAM role name, so the webhook ignores it`,
			"✔ demo/web → app-role: pods get " + assumed,
		}
		var got []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, " → ") {
				got = append(got, l)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("summary lines:\n%s\nwant:\n%s\nstdout:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stdout)
		}
		if !strings.Contains(r.stdout, "2 of 3 service accounts have a problem") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
	})
}

// Choosing what to check is a usage error (exit 2) before anything is called.
func TestDoctorUsage(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "nothing chosen", args: []string{"-n", "demo"}, wantErr: "choose what to check"},
		{name: "two choices", args: []string{"-s", "web", "--pod", "demo/web-1"}, wantErr: "choose what to check"},
		{name: "-A with -n", args: []string{"-A", "-n", "demo"}, wantErr: "leave out -n and -r"},
		{name: "pod in two namespaces", args: []string{"--pod", "a/web", "-n", "b"}, wantErr: "names namespace a but -n is b"},
		{name: "bad role ARN", args: []string{"-s", "web", "-r", "acs:ram::x:user/y"}, wantErr: "-r/--role-name takes a role name or a role ARN"},
		{name: "unknown output", args: []string{"-s", "web", "-o", "yaml"}, wantErr: `unknown output format -o "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", append([]string{"doctor"}, tt.args...)...)
			if code := cli.Code(r.err); code != cli.ExitUsage || !strings.Contains(r.err.Error(), tt.wantErr) {
				t.Fatalf("err = %v (exit %d), want usage error with %q", r.err, code, tt.wantErr)
			}
			if n := len(f.srv.AllCalls()); n != 0 {
				t.Errorf("the cloud was called: %v", f.srv.AllCalls())
			}
		})
	}
}
