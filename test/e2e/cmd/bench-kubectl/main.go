// Command bench-kubectl times what a person waits for: whole `kubectl get --raw /version`
// processes against the e2e chain's real kube-apiserver, authenticated three ways:
//
//	static      a bearer token in the kubeconfig (a ServiceAccount token; no exec plugin)
//	cached      kubectl runs kubectl-ack_login, which answers from its token cache; the API
//	            server has the token's webhook answer cached too
//	fresh       kubectl-ack_login signs a new token every time (empty cache), so the API server
//	            asks ack-ram-authenticator, which asks the emulator's STS
//
// plus two references that tell what is ours: kubectl with the smallest possible exec plugin (a
// static Go binary printing a fixed ExecCredential), and kubectl-ack_login alone (cache hit).
// Runs are interleaved
// round-robin so background load hits every form alike. `make bench` runs it through
// hack/bench-kubectl.sh; the target is a cached-token overhead under 15% of the static form.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

func main() {
	n := flag.Int("n", 100, "timed runs per form")
	warmup := flag.Int("warmup", 5, "untimed runs per form first")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *n, *warmup); err != nil {
		fmt.Fprintf(os.Stderr, "bench-kubectl: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// form is one way to run the command, with its timings.
type form struct {
	name  string
	user  *harness.User
	prep  func() error // untimed, before every run
	bin   string
	args  []string
	times []time.Duration
}

func run(ctx context.Context, out io.Writer, n, warmup int) error {
	account := harness.RandomAccountID()
	const benchUser = "bench"
	s, err := harness.Start(ctx, harness.Options{
		AccountID: account,
		MapUsers:  []harness.StaticMapping{{ARN: "acs:ram::" + account + ":user/" + benchUser, Username: benchUser}},
	})
	if err != nil {
		return fmt.Errorf("start the chain: %w", err)
	}
	defer s.Close()
	forms, err := setup(ctx, s, benchUser)
	if err != nil {
		return err
	}
	for i := 0; i < warmup+n; i++ {
		for _, f := range forms {
			d, err := f.once(ctx)
			if err != nil {
				return err
			}
			if i >= warmup {
				f.times = append(f.times, d)
			}
		}
	}
	report(out, forms, n)
	return nil
}

func (f *form) once(ctx context.Context) (time.Duration, error) {
	if f.prep != nil {
		if err := f.prep(); err != nil {
			return 0, err
		}
	}
	r := f.user.Run(ctx, f.bin, f.args...)
	if err := r.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", f.name, err)
	}
	return r.Elapsed, nil
}

// setup writes the three kubeconfigs and primes the token cache.
func setup(ctx context.Context, s *harness.Stack, name string) ([]*form, error) {
	ru, err := s.CreateRAMUser(ctx, name)
	if err != nil {
		return nil, err
	}
	cached, err := s.NewUser(name+"-cached", ru.AccessKeyID, ru.AccessKeySecret)
	if err != nil {
		return nil, err
	}
	fresh, err := s.NewUser(name+"-fresh", ru.AccessKeyID, ru.AccessKeySecret)
	if err != nil {
		return nil, err
	}
	for _, u := range []*harness.User{cached, fresh} {
		if err := u.Run(ctx, "kubectl", "ack-login", "kubeconfig", "--cluster-id", s.ClusterID, "--mode", "token").Err(); err != nil {
			return nil, err
		}
	}
	static, err := staticKubeconfig(ctx, s, cached.Home)
	if err != nil {
		return nil, err
	}
	version := []string{"get", "--raw", "/version"}
	// The authenticator learns its static mappings at start; the first call also primes the cache.
	if err := cached.Kubectl(ctx, version...).Err(); err != nil {
		return nil, fmt.Errorf("the cached form does not authenticate: %w", err)
	}
	floor, err := floorKubeconfig(ctx, s, cached)
	if err != nil {
		return nil, err
	}
	freshCache := filepath.Join(fresh.Home, ".kube", "cache", "kubectl-ack")
	return []*form{
		{name: "static bearer token", user: cached, bin: "kubectl", args: append([]string{"--kubeconfig", static}, version...)},
		{name: "minimal exec plugin (fixed ExecCredential)", user: cached, bin: "kubectl", args: append([]string{"--kubeconfig", floor}, version...)},
		{name: "ack-login, cached token", user: cached, bin: "kubectl", args: version},
		{name: "ack-login, fresh token", user: fresh, bin: "kubectl", args: version,
			prep: func() error { return os.RemoveAll(freshCache) }},
		{name: "kubectl-ack_login alone, cached", user: cached, bin: "kubectl-ack_login",
			args: []string{"--cluster-id", s.ClusterID, "--mode", "token", "--api-version", "v1"}},
	}, nil
}

// staticKubeconfig writes a kubeconfig holding a ServiceAccount token, which kube-apiserver
// verifies itself.
func staticKubeconfig(ctx context.Context, s *harness.Stack, dir string) (string, error) {
	admin := s.Admin()
	if err := admin.Kubectl(ctx, "create", "serviceaccount", "bench-static", "-n", "default").Err(); err != nil {
		return "", err
	}
	r := admin.Kubectl(ctx, "create", "token", "bench-static", "-n", "default", "--duration", "2h")
	if err := r.Err(); err != nil {
		return "", err
	}
	tok := strings.TrimSpace(r.Stdout)
	if tok == "" {
		return "", errors.New("kubectl create token printed nothing")
	}
	path := filepath.Join(dir, "static.kubeconfig")
	return path, writeKubeconfig(path, s, fmt.Sprintf("{token: %q}", tok))
}

// writeKubeconfig writes a one-context kubeconfig for the chain's API server with user as the
// user entry's body (YAML flow style).
func writeKubeconfig(path string, s *harness.Stack, user string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {server: %q, certificate-authority: %q}
users:
- name: bench
  user: %s
contexts:
- name: bench
  context: {cluster: bench, user: bench}
current-context: bench
`, s.APIServerURL, s.APIServerCAFile, user)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// floorPlugin is the smallest exec plugin: it prints the ExecCredential in the file it is given.
const floorPlugin = `package main

import "os"

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
`

// floorKubeconfig builds the minimal exec plugin and a kubeconfig that runs it with the token
// kubectl-ack_login has cached for u, so kubectl's own cost of an exec plugin can be told apart
// from the plugin's.
func floorKubeconfig(ctx context.Context, s *harness.Stack, u *harness.User) (string, error) {
	dir := filepath.Join(u.Home, "floor")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for name, body := range map[string]string{"main.go": floorPlugin, "go.mod": "module floor\n\ngo 1.22\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return "", err
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", "floor-plugin", ".")
	build.Dir, build.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the minimal exec plugin: %w\n%s", err, out)
	}
	r := u.Run(ctx, "kubectl-ack_login", "--cluster-id", s.ClusterID, "--mode", "token", "--api-version", "v1")
	if err := r.Err(); err != nil {
		return "", err
	}
	cred := filepath.Join(dir, "credential.json")
	if err := os.WriteFile(cred, []byte(r.Stdout), 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(u.Home, "floor.kubeconfig")
	user := fmt.Sprintf("{exec: {apiVersion: client.authentication.k8s.io/v1, command: %q, args: [%q], interactiveMode: Never}}",
		filepath.Join(dir, "floor-plugin"), cred)
	return path, writeKubeconfig(path, s, user)
}

func pct(ds []time.Duration, p int) time.Duration { return ds[(len(ds)-1)*p/100] }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func report(out io.Writer, forms []*form, n int) {
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Fprintf(out, "kubectl get --raw /version, N=%d interleaved runs per form, %s/%s, %d CPUs, load %s\n\n",
		n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), load)
	fmt.Fprintln(out, "| form | median | p10 | p90 | overhead vs static (median) |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	var base time.Duration
	for i, f := range forms {
		sort.Slice(f.times, func(a, b int) bool { return f.times[a] < f.times[b] })
		med := pct(f.times, 50)
		over := "–"
		switch {
		case i == 0:
			base = med
		case f.bin == "kubectl":
			over = fmt.Sprintf("%+.1f ms (%+.1f%%)", float64((med-base).Microseconds())/1000, 100*float64(med-base)/float64(base))
		default:
			over = fmt.Sprintf("%.1f%% of static", 100*float64(med)/float64(base))
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", f.name, ms(med), ms(pct(f.times, 10)), ms(pct(f.times, 90)), over)
	}
	cached := pct(forms[2].times, 50)
	verdict := "met"
	if float64(cached-base) >= 0.15*float64(base) {
		verdict = "NOT met"
	}
	fmt.Fprintf(out, "\nTarget: cached-token overhead < 15%% of the static-token command: %s.\n", verdict)
}
