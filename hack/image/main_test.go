package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// staticBinary builds a tiny static Go program to stand in for the authenticator.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main(){}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GO111MODULE=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build stand-in binary: %v\n%s", err, b)
	}
	return out
}

func TestBuildThenCheck(t *testing.T) {
	bin := staticBinary(t)
	out := filepath.Join(t.TempDir(), "img.tar")
	if err := build(bin, out, "example.com/a/b:v1", "amd64", Spec{Version: "v1", Commit: "abc"}); err != nil {
		t.Fatal(err)
	}
	if err := check(out); err != nil {
		t.Fatalf("check of a freshly built image failed: %v", err)
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "notelf")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, bin, ref, want string }{
		{"not an ELF binary", script, "a/b:c", "not a linux ELF"},
		{"missing binary", filepath.Join(dir, "nope"), "a/b:c", "read binary"},
		{"bad reference", staticBinary(t), "UPPER/Case:?", "image name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "img.tar")
			err := build(tc.bin, out, tc.ref, "amd64", Spec{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
			if _, statErr := os.Stat(out); statErr == nil {
				t.Fatal("a failed build left an output file behind")
			}
		})
	}
}

func TestCheckRejectsNonImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar")
	if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := check(p); err == nil {
		t.Fatal("check accepted a file that is not an image")
	}
}
