package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	m := module + "/"
	tests := []struct {
		name string
		pkg  pkgInfo
		want string
	}{
		{"pkg with cobra", pkgInfo{m + "pkg/rrsa", []string{"github.com/spf13/cobra"}}, "pkg/ must not import cobra"},
		{"plugin with authenticator", pkgInfo{m + "plugins/mapping", []string{m + "authenticator"}}, "plugins/ must not import authenticator/"},
		{"authenticator with plugin", pkgInfo{m + "authenticator/cli", []string{m + "plugins/rrsa"}}, "authenticator/ must not import plugins/"},
		{"plugin with emulator", pkgInfo{m + "plugins/rrsa", []string{m + "pkg/emulator"}}, "may link pkg/emulator"},
		{"login with client-go", pkgInfo{m + "cmd/kubectl-ack_login", []string{"k8s.io/client-go/rest"}}, "must not link Kubernetes"},
		{"emulator binary", pkgInfo{m + "cmd/ack-emulator", []string{m + "pkg/emulator"}}, ""},
		{"emulatortest", pkgInfo{m + "pkg/emulator/emulatortest", []string{m + "pkg/emulator"}}, ""},
		{"loadtest", pkgInfo{m + "hack/loadtest", []string{m + "pkg/emulator"}}, ""},
		{"rrsa plugin with client-go", pkgInfo{m + "cmd/kubectl-ack_rrsa", []string{"k8s.io/client-go/rest"}}, ""},
		{"prefix is not a folder", pkgInfo{m + "pkgx/a", []string{"github.com/spf13/cobra"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check([]pkgInfo{tt.pkg})
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("check = %v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("check = %v, want one line with %q", got, tt.want)
			}
		})
	}
}
