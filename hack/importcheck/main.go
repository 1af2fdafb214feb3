// Command importcheck enforces the house's import rules (ARCHITECTURE.md) on the packages
// `go list` reports, and exits 1 naming every package that breaks one. `make lint` runs it.
//
// The rules, on each package's transitive non-test imports:
//   - pkg/... never imports cobra: pkg/ is a library, commands live in plugins/ and authenticator/;
//   - plugins/... and authenticator/... never import each other;
//   - only cmd/ack-emulator, the emulator's own packages and hack/ tools link pkg/emulator;
//   - cmd/kubectl-ack_login links no Kubernetes module (k8s.io/..., controller-runtime):
//     kubectl runs it before every command, and Go runs every linked package's init.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/kubectl-ack/kubectl-ack"

// pkgInfo is one package and its transitive non-test imports.
type pkgInfo struct {
	Path string
	Deps []string
}

// rule forbids packages matching applies from depending on packages matching forbidden.
type rule struct {
	name      string
	applies   func(path string) bool
	forbidden func(dep string) bool
}

func under(prefix string) func(string) bool {
	full := module + "/" + prefix
	return func(p string) bool { return p == full || strings.HasPrefix(p, full+"/") }
}

func anyOf(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if f(p) {
				return true
			}
		}
		return false
	}
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

func isKubernetes(dep string) bool {
	return strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/controller-runtime")
}

var rules = []rule{
	{"pkg/ must not import cobra (pkg/ is a library; commands live in plugins/ and authenticator/)",
		under("pkg"), func(d string) bool { return d == "github.com/spf13/cobra" }},
	{"plugins/ must not import authenticator/", under("plugins"), under("authenticator")},
	{"authenticator/ must not import plugins/", under("authenticator"), under("plugins")},
	{"only cmd/ack-emulator, the emulator's packages and hack/ tools may link pkg/emulator",
		not(anyOf(under("cmd/ack-emulator"), under("pkg/emulator"), under("hack"))), under("pkg/emulator")},
	{"cmd/kubectl-ack_login must not link Kubernetes modules (start-up cost at every kubectl call)",
		under("cmd/kubectl-ack_login"), isKubernetes},
}

// check returns one line per broken rule and package.
func check(pkgs []pkgInfo) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !r.applies(p.Path) {
				continue
			}
			for _, d := range p.Deps {
				if r.forbidden(d) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", strings.TrimPrefix(p.Path, module+"/"), d, r.name))
					break
				}
			}
		}
	}
	return out
}

func list() ([]pkgInfo, error) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var pkgs []pkgInfo
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			pkgs = append(pkgs, pkgInfo{Path: f[0], Deps: f[1:]})
		}
	}
	return pkgs, sc.Err()
}

func main() {
	pkgs, err := list()
	if err != nil {
		fmt.Fprintln(os.Stderr, "importcheck:", err)
		os.Exit(2)
	}
	if bad := check(pkgs); len(bad) > 0 {
		fmt.Fprintln(os.Stderr, "importcheck: forbidden imports (see ARCHITECTURE.md):")
		for _, l := range bad {
			fmt.Fprintln(os.Stderr, "  "+l)
		}
		os.Exit(1)
	}
	fmt.Printf("importcheck: %d packages follow the import rules\n", len(pkgs))
}
