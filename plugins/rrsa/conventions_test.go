package rrsa

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

// execute runs the plugin as main does (cli.ExecuteContext: errors printed once, exit codes)
// and returns the exit code, stdout and stderr.
func execute(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	code = cli.ExecuteContext(ctx, root, args, &errOut)
	return code, out.String(), errOut.String()
}

// The conventions every plugin shares (issue 18): usage lines that say "kubectl ack-rrsa",
// "did you mean", stray arguments refused with a hint, --version and version -o json, -v as a
// level, exit code 2 for command-line mistakes. None of these reach the cloud.
func TestCommandLineConventions(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "usage line", args: []string{"associate-role", "--help"}, stdout: []string{"kubectl ack-rrsa associate-role [flags]", "--dry-run string[=\"client\"]"}},
		{name: "root help", args: []string{"--help"}, stdout: []string{"kubectl ack-rrsa [command]", "130 interrupted"}},
		{name: "--version", args: []string{"--version"}, stdout: []string{"kubectl ack-rrsa v"}},
		{name: "version -o json", args: []string{"version", "-o", "json"}, stdout: []string{`"name": "kubectl ack-rrsa"`, `"version": "v`}},
		{name: "version -o yaml", args: []string{"version", "-o", "yaml"}, stdout: []string{"name: kubectl ack-rrsa"}},
		{name: "mistyped command", args: []string{"asociate-role"}, code: 2,
			stderr: []string{`unknown command "asociate-role" for "kubectl ack-rrsa"`, "Did you mean this?\n\tassociate-role"}},
		{name: "stray argument", args: []string{"status", "c0123"}, code: 2,
			stderr: []string{`unexpected argument "c0123": "kubectl ack-rrsa status" takes no arguments, only flags`}},
		{name: "flag name without dashes", args: []string{"list-associations", "role-name"}, code: 2, stderr: []string{"did you mean --role-name?"}},
		{name: "mistyped flag", args: []string{"associate-role", "--role-nam", "r"}, code: 2, stderr: []string{"unknown flag: --role-nam", "Did you mean --role-name?"}},
		{name: "missing required flag", args: []string{"associate-role", "-r", "r", "-n", "default"}, code: 2, stderr: []string{`required flag(s) "service-account" not set`}},
		{name: "-v is a level", args: []string{"status", "-v=x"}, code: 2, stderr: []string{"-v takes a level"}},
		{name: "-v is not --version", args: []string{"-v"}, stdout: []string{"Available Commands"}},
		{name: "--dry-run is not a bool", args: []string{"associate-role", "-r", "r", "-n", "d", "-s", "s", "--dry-run=maybe"}, code: 2, stderr: []string{"use none, client or server"}},
		{name: "bad --log-level", args: []string{"status", "--log-level", "loud"}, code: 2, stderr: []string{`invalid --log-level "loud"`}},
		{name: "unknown add-on", args: []string{"setup-addon", "-a", "nope"}, code: 2, stderr: []string{`unknown add-on "nope"; known add-ons: ack-erdma-controller, kritis-validation-hook`}},
		{name: "bad role name", args: []string{"list-associations", "-r", "acs:ram::1:role/r"}, code: 2, stderr: []string{"use -r r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := execute(context.Background(), "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tt.code != 0 && strings.Count(stderr, "Error: ") != 1 {
				t.Errorf("the error is not printed exactly once:\n%s", stderr)
			}
		})
	}
}

// -v is kubectl's level: 1 (bare -v, --verbose, ack-ram-tool's --log-level debug) says where the
// cluster id and the credentials came from; 0 says nothing.
func TestVerbosity(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		flags []string
		want  bool
	}{
		{nil, false},
		{[]string{"-v"}, true},
		{[]string{"-v=0"}, false},
		{[]string{"-v=4"}, true},
		{[]string{"--verbose"}, true},
		{[]string{"--log-level", "debug"}, true},
		{[]string{"--log-level", "info"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			r := f.run(t, "", append([]string{"status"}, tt.flags...)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := strings.Contains(r.stderr, "Using cluster id "+f.clusterID+" from --cluster-id") &&
				strings.Contains(r.stderr, "Using credentials from")
			if got != tt.want {
				t.Errorf("diagnostics shown = %v, want %v; stderr:\n%s", got, tt.want, r.stderr)
			}
		})
	}
}

// Ctrl-C while waiting for a cluster task exits 130 and says the task keeps running in the cloud.
func TestInterruptedWaitExits130(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].TaskDuration = emulator.Duration(time.Hour)
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	type outcome struct {
		code           int
		stdout, stderr string
	}
	done := make(chan outcome, 1)
	go func() {
		code, stdout, stderr := execute(ctx, "", append([]string{"enable", "-y", "--poll-interval", "10ms"}, f.endpointArgs()...)...)
		done <- outcome{code, stdout, stderr}
	}()
	deadline := time.After(30 * time.Second)
	for f.srv.Calls("cs", "DescribeTaskInfo") < 2 {
		select {
		case o := <-done:
			t.Fatalf("enable ended before the interrupt: %+v", o)
		case <-deadline:
			t.Fatal("the task was never polled")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel(cli.ErrInterrupted) // what cli.Execute does on SIGINT
	var o outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("enable did not stop after the interrupt")
	}
	if o.code != cli.ExitInterrupted || !strings.Contains(o.stderr, "Interrupted: ") || !strings.Contains(o.stderr, "keeps running in the cloud") ||
		!strings.Contains(o.stderr, "kubectl ack-rrsa status -c "+f.clusterID) {
		t.Fatalf("exit %d, stderr:\n%s\nwant 130 and a note that the task keeps running", o.code, o.stderr)
	}
}

// complete runs cobra's hidden __complete command as the shell completion scripts do and
// returns the suggested values (without descriptions).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, stdout, stderr := execute(context.Background(), "", append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue // the directive line
		}
		value, _, _ := strings.Cut(line, "\t")
		out = append(out, value)
	}
	return out
}

// Flag values that need no cluster complete from what the plugin knows.
func TestCompleteFlagValues(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"status", "-o", ""}, []string{"text", "json", "yaml", "jsonpath="}},
		{[]string{"list-associations", "-o", ""}, []string{"table", "wide", "json", "yaml", "name", "jsonpath=", "custom-columns="}},
		{[]string{"list-addons", "-o", "j"}, []string{"json", "jsonpath="}},
		{[]string{"assume-role", "-o", ""}, []string{"text", "json", "yaml", "env", "jsonpath="}},
		{[]string{"version", "-o", ""}, []string{"text", "json", "yaml"}},
		{[]string{"setup-addon", "--addon-name", ""}, []string{"ack-erdma-controller", "kritis-validation-hook"}},
		{[]string{"setup-addon", "-a", "kr"}, []string{"kritis-validation-hook"}},
		{[]string{"status", "--credential-type", ""}, []string{"auto", "env", "aliyun-cli", "credentials-file", "ecs-metadata", "imds", "ecs-role"}},
		// A bare --dry-run means client, so its value is completed after "=" (no server: RAM has
		// no server-side dry run).
		{[]string{"associate-role", "--dry-run="}, []string{"none", "client"}},
		{[]string{"disassociate-role", "--dry-run=n"}, []string{"none"}},
		{[]string{"enable", "--dry-run="}, []string{"none", "client"}},
		{[]string{"status", "--log-level", ""}, []string{"debug", "info", "warn", "error"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := complete(t, tt.args...)
			// The shell filters by the typed prefix; cobra passes fixed lists whole.
			var filtered []string
			prefix := tt.args[len(tt.args)-1]
			if _, value, ok := strings.Cut(prefix, "="); ok {
				prefix = value
			}
			for _, g := range got {
				if strings.HasPrefix(g, prefix) {
					filtered = append(filtered, g)
				}
			}
			if !slices.Equal(filtered, tt.want) {
				t.Errorf("completions %v, want %v", filtered, tt.want)
			}
		})
	}
}

// -n, -s and --service-account complete from the kube context (a real kube-apiserver): -s lists
// the service accounts of the -n namespace.
func TestCompleteFromKubeContext(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	env := kubetest.Start(t)
	kc, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ns := range []string{"team-a", "team-b"} {
		if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sa := range []string{"api", "app"} {
		if _, err := kc.CoreV1().ServiceAccounts("team-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kube := []string{"--kubeconfig", env.Kubeconfig}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"associate-role", "-n", "team-"}, []string{"team-a", "team-b"}},
		{[]string{"disassociate-role", "--namespace", "team-b"}, []string{"team-b"}},
		{[]string{"associate-role", "-n", "team-a", "-s", "a"}, []string{"api", "app"}},
		{[]string{"disassociate-role", "-n", "team-a", "-s", "ap"}, []string{"api", "app"}},
		{[]string{"associate-role", "-n", "team-b", "-s", ""}, nil},
		{[]string{"assume-role", "--service-account", "team-"}, []string{"team-a/", "team-b/"}},
		{[]string{"assume-role", "--service-account", "team-a/ap"}, []string{"team-a/api", "team-a/app"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := complete(t, append(append([]string{}, kube...), tt.args...)...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions %v, want %v", got, tt.want)
			}
		})
	}
	// Without a usable context nothing is suggested (and nothing hangs).
	if got := complete(t, "associate-role", "--kubeconfig", env.Kubeconfig+".missing", "-n", ""); len(got) != 0 {
		t.Errorf("completions without a context: %v", got)
	}
}

// The table commands print -o wide, name, jsonpath= and custom-columns= (with --no-headers),
// status and assume-role -o jsonpath= and yaml.
func TestOutputFormats(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y")
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "team", "-s", "*", "-y")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list-associations", "-r", "app-role", "-o", "name"}, "default/app\nteam/*\n"},
		{[]string{"list-associations", "-r", "app-role", "--no-headers"}, "default   app   exact\nteam      *     pattern\n"},
		{[]string{"list-associations", "-r", "app-role", "-o", "jsonpath={.serviceAccounts[*].name}"}, "app *\n"},
		{[]string{"list-associations", "-r", "app-role", "-o", "custom-columns=NS:.namespace,SA:.name"}, "NS        SA\ndefault   app\nteam      *\n"},
		{[]string{"list-addons", "-o", "name"}, "ack-erdma-controller\nkritis-validation-hook\n"},
		{[]string{"list-addons", "-o", "custom-columns=ADDON:.name,NS:.namespace", "--no-headers"}, "ack-erdma-controller     ack-erdma-controller\nkritis-validation-hook   kube-system\n"},
		{[]string{"list-addons", "-o", "jsonpath={[*].serviceAccount}"}, "ack-erdma-controller kritis\n"},
		{[]string{"status", "-o", "jsonpath={.oidcProviderArn}"}, f.oidcArn + "\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := f.mustRun(t, tt.args...)
			if r.stdout != tt.want {
				t.Errorf("stdout %q, want %q", r.stdout, tt.want)
			}
		})
	}
	wide := f.mustRun(t, "list-associations", "-r", "app-role", "-o", "wide").stdout
	if !strings.Contains(wide, "OIDC SUBJECT") || !strings.Contains(wide, "system:serviceaccount:team:*") {
		t.Errorf("-o wide:\n%s", wide)
	}
	wide = f.mustRun(t, "list-addons", "-o", "wide").stdout
	if !strings.Contains(wide, "POLICY") || !strings.Contains(wide, "ack-addon-policy-kritis-validation-hook") || !strings.Contains(wide, "cr:ListInstance") {
		t.Errorf("list-addons -o wide:\n%s", wide)
	}

	// assume-role's data formats are for scripts: in full.
	tok := f.saToken(t, "default", "app")
	roleARN := "acs:ram::" + f.accountID + ":role/app-role"
	r := f.run(t, tok, "assume-role", "-r", roleARN, "-p", f.oidcArn, "-t", "-", "-o", "yaml")
	if r.err != nil || !strings.Contains(r.stdout, "securityToken: CAIS") || strings.Contains(r.stdout, "****") {
		t.Errorf("-o yaml: %v\n%s", r.err, r.stdout)
	}
	r = f.run(t, tok, "assume-role", "-r", roleARN, "-p", f.oidcArn, "-t", "-", "-o", "jsonpath={.accessKeyId}")
	if r.err != nil || !strings.HasPrefix(r.stdout, "STS.") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("-o jsonpath: %v\n%q", r.err, r.stdout)
	}
	var st statusOutput
	if err := json.Unmarshal([]byte(f.mustRun(t, "status", "-o", "json").stdout), &st); err != nil || st.ClusterID != f.clusterID {
		t.Errorf("status -o json: %v %+v", err, st)
	}
}

// --dry-run on the commands that change the cluster or RAM says what would be done and changes
// nothing; it needs neither -y nor a terminal.
func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) { s.Clusters[0].RRSA.Enabled = true })
	tests := []struct {
		args   []string
		stderr []string
	}{
		{[]string{"disable", "--dry-run"}, []string{"Dry run: RRSA would be disabled for cluster " + f.clusterID}},
		{[]string{"install-helper-addon", "--dry-run=client"}, []string{"Dry run: add-on ack-pod-identity-webhook would be installed"}},
		{[]string{"setup-addon", "-a", "kritis-validation-hook", "--dry-run"}, []string{
			`Dry run: RAM policy "ack-addon-policy-kritis-validation-hook" would be created`,
			`Dry run: RAM role "kritis-validation-hook-` + f.clusterID + `" will be created with this trust policy`,
			`Dry run: custom policy "ack-addon-policy-kritis-validation-hook" would be attached`}},
		{[]string{"associate-role", "-r", "x-role", "-n", "app", "-s", "web", "--create-role-if-not-exist", "--annotate-service-account", "--dry-run"}, []string{
			"Dry run: service account app/web would be annotated"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
		})
	}
	calls := f.srv.AllCalls()
	for _, write := range []string{"ModifyCluster", "InstallClusterAddons"} {
		if calls["cs"][write] != 0 {
			t.Errorf("cs %s called on a dry run", write)
		}
	}
	for _, write := range []string{"CreateRole", "UpdateRole", "CreatePolicy", "CreatePolicyVersion", "AttachPolicyToRole"} {
		if calls["ram"][write] != 0 {
			t.Errorf("ram %s called on a dry run", write)
		}
	}
	if c, _ := f.srv.Cluster(f.clusterID); !c.RRSA.Enabled {
		t.Error("the dry run disabled RRSA")
	}
}
