package mapping

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
)

// sharedEnv is the control plane (with the CRD) shared by the tests of this package; tests run
// sequentially and start from an empty mapping set (see fixture).
var sharedEnv *kubetest.Env

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		_ = os.Unsetenv(k)
	}
	_ = os.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	env, err := kubetest.StartEnv(kubetest.WithCRD())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sharedEnv = env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop kube-apiserver:", err)
		return 1
	}
	return code
}

// fixture drives the command tree in-process against one control plane.
type fixture struct {
	env *kubetest.Env
	cs  versioned.Interface
	// terminal makes stdin count as a terminal for confirmations.
	terminal bool
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// newFixture uses the shared control plane, emptied of mappings.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return fixtureFor(t, sharedEnv, true)
}

func fixtureFor(t *testing.T, env *kubetest.Env, reset bool) *fixture {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	cs, err := versioned.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{env: env, cs: cs}
	if reset {
		f.reset(t)
	}
	return f
}

// reset deletes every mapping and waits until the list is empty.
func (f *fixture) reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	c := f.cs.RamauthenticatorV1alpha1().RAMIdentityMappings()
	if err := c.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatalf("delete mappings: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := c.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mappings left after delete", len(l.Items))
		}
		// Polled with a deadline; without finalizers the first pass normally sees an empty list.
		<-time.After(20 * time.Millisecond)
	}
}

// run executes the root command with args (plus --kubeconfig) and stdin.
func (f *fixture) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	if f.terminal {
		in = terminalInput{in}
	}
	cmd := NewRootCommand(genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut})
	// The kubeconfig goes first (cobra finds the subcommand past known persistent flags), except
	// for __complete, whose last argument is the word being completed.
	full := append([]string{"--kubeconfig", f.env.Kubeconfig}, args...)
	if len(args) > 0 && args[0] == cobra.ShellCompRequestCmd {
		full = append([]string{args[0], "--kubeconfig", f.env.Kubeconfig}, args[1:]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := cli.ExecuteContext(ctx, cmd, full, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs args and fails the test unless they exit 0.
func (f *fixture) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := f.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("%v: %s", args, r)
	}
	return r
}

// list returns the mappings in the cluster, by name.
func (f *fixture) list(t *testing.T) map[string]v1alpha1.RAMIdentityMapping {
	t.Helper()
	l, err := f.cs.RamauthenticatorV1alpha1().RAMIdentityMappings().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]v1alpha1.RAMIdentityMapping{}
	for _, it := range l.Items {
		m[it.Name] = it
	}
	return m
}

// create stores a mapping directly (bypassing ack-map's checks, as kubectl apply would).
func (f *fixture) create(t *testing.T, name, a, user string, groups ...string) {
	t.Helper()
	obj := &v1alpha1.RAMIdentityMapping{Spec: v1alpha1.RAMIdentityMappingSpec{ARN: a, Username: user, Groups: groups}}
	obj.Name = name
	if _, err := f.cs.RamauthenticatorV1alpha1().RAMIdentityMappings().Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// contains fails unless s holds every want.
func contains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// terminalInput is a stdin that says it is a terminal, as a wrapped pseudo-terminal would.
type terminalInput struct{ io.Reader }

func (terminalInput) IsTerminal() bool { return true }

func discardStreams() genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
}
