// Command krewcheck validates the krew manifests GoReleaser generated in dist/krew and the
// templates in krew/ rendered against the snapshot archives in dist/. See internal/krewcheck.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubectl-ack/kubectl-ack/internal/krewcheck"
)

func main() {
	dist := flag.String("dist", "dist", "GoReleaser dist directory (archives, krew/, metadata.json)")
	templates := flag.String("templates", "krew", "directory of krew manifest templates")
	flag.Parse()
	if err := run(*dist, *templates); err != nil {
		fmt.Fprintln(os.Stderr, "krewcheck:", err)
		os.Exit(1)
	}
}

func run(dist, templates string) error {
	var meta struct {
		Version string `json:"version"` // archives are named with the version, not the git tag
	}
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return fmt.Errorf("read release metadata (run make release-snapshot first): %w", err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Join(dist, "metadata.json"), err)
	}
	var failed int
	check := func(label string, data []byte, name string) {
		errs := krewcheck.Validate(data, name, dist)
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, "  ", label, e)
		}
		if len(errs) > 0 {
			failed++
			return
		}
		fmt.Printf("ok  %s %s\n", label, name)
	}
	generated, _ := filepath.Glob(filepath.Join(dist, "krew", "*.yaml"))
	tmpls, _ := filepath.Glob(filepath.Join(templates, "*.yaml"))
	if len(generated) != 3 || len(tmpls) != 3 {
		return fmt.Errorf("want 3 generated manifests and 3 templates, found %d and %d", len(generated), len(tmpls))
	}
	for _, g := range generated {
		data, err := os.ReadFile(g)
		if err != nil {
			return err
		}
		check("generated", data, filepath.Base(g))
	}
	tag := "v" + trimV(meta.Version)
	for _, t := range tmpls {
		data, err := os.ReadFile(t)
		if err != nil {
			return err
		}
		out, err := krewcheck.Render(data, tag, dist)
		if err != nil {
			fmt.Fprintln(os.Stderr, "   template", filepath.Base(t), err)
			failed++
			continue
		}
		check("template", out, filepath.Base(t))
	}
	if failed > 0 {
		return fmt.Errorf("%d manifest(s) invalid", failed)
	}
	return nil
}

func trimV(s string) string {
	if len(s) > 0 && s[0] == 'v' {
		return s[1:]
	}
	return s
}
