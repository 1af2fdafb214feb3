package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPathsNamesTheMakeTarget(t *testing.T) {
	full := t.TempDir()
	for _, b := range []string{"ack-emulator", "etcd"} {
		if err := os.WriteFile(filepath.Join(full, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(full, "not-executable"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name         string
		bin, kubeBin string
		project      []string
		kube         []string
		want         []string // substrings of the error; none means success
	}{
		{"all present", full, full, []string{"ack-emulator"}, []string{"etcd"}, nil},
		{"project binary missing", empty, full, []string{"ack-emulator"}, []string{"etcd"}, []string{"ack-emulator not found", "run `make build`"}},
		{"kube binary missing", full, empty, []string{"ack-emulator"}, []string{"etcd"}, []string{"etcd not found", "run `make kube-bins`"}},
		{"not executable", full, full, []string{"not-executable"}, nil, []string{"not-executable not found"}},
		{"both missing", empty, empty, []string{"ack-emulator"}, []string{"kube-apiserver"}, []string{"make build", "make kube-bins"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvBinDir, tc.bin)
			t.Setenv(EnvKubeBinDir, tc.kubeBin)
			p, err := FindPaths(tc.project, tc.kube)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if p.Bin != tc.bin || p.KubeBin != tc.kubeBin || !isRepo(p.Repo) {
					t.Fatalf("paths = %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for %v / %v", tc.project, tc.kube)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDisplayCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"/x/bin/kubectl", []string{"get", "ns"}, "kubectl get ns"},
		{"kubectl", []string{"ack-map", "add", "--username", "dev:{{SessionName}}"}, "kubectl ack-map add --username 'dev:{{SessionName}}'"},
		{"kubectl", []string{"-o", "jsonpath={.a}", ""}, "kubectl -o 'jsonpath={.a}' ''"},
		{"kubectl", []string{"it's"}, `kubectl 'it'\''s'`},
	} {
		if got := displayCommand(tc.name, tc.args); got != tc.want {
			t.Errorf("displayCommand(%q, %q) = %q, want %q", tc.name, tc.args, got, tc.want)
		}
	}
}

func TestChildEnvDropsCloudAndProxySettings(t *testing.T) {
	for _, kv := range [][2]string{
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIreal"}, {"HTTPS_PROXY", "http://proxy"}, {"KUBECONFIG", "/real"},
		{"KUBECTL_ACK_ROLE_ARN", "acs:ram::1:role/x"}, {"E2E_KEEP_ME", "yes"},
	} {
		t.Setenv(kv[0], kv[1])
	}
	env := strings.Join(childEnv("HOME=/h"), "\n")
	for _, gone := range []string{"LTAIreal", "http://proxy", "KUBECONFIG=", "KUBECTL_ACK_ROLE_ARN"} {
		if strings.Contains(env, gone) {
			t.Errorf("child environment keeps %q", gone)
		}
	}
	for _, kept := range []string{"E2E_KEEP_ME=yes", "HOME=/h", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"} {
		if !strings.Contains(env, kept) {
			t.Errorf("child environment lacks %q", kept)
		}
	}
}
