package mapping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
)

func TestGetAndList(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dev", roleDev, "dev:{{SessionName}}", "devs", "viewers")
	f.create(t, "dev-upper", "acs:ram::1234567890:ROLE/DEV", "shouting")
	f.create(t, "bob", userBob, "bob")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		notWant  []string
		wantErr  []string
		check    func(t *testing.T, stdout string)
	}{
		{name: "list table", args: []string{"list"},
			want:    []string{"NAME", "ARN", "USERNAME", "GROUPS", "AGE", "dev ", "devs,viewers", "bob", "<none>"},
			notWant: []string{"CANONICAL-ARN", "USER-ID"}},
		{name: "ls alias", args: []string{"ls", "-o", "name"}, want: []string{resourceRef("bob")}},
		{name: "list wide", args: []string{"list", "-o", "wide"}, want: []string{"CANONICAL-ARN", "USER-ID"}},
		{name: "get without names lists", args: []string{"get"}, want: []string{"dev-upper", "bob"}},
		{name: "list name", args: []string{"list", "-o", "name"}, check: func(t *testing.T, out string) {
			lines := strings.Fields(out)
			want := []string{resourceRef("bob"), resourceRef("dev"), resourceRef("dev-upper")}
			if !slices.Equal(lines, want) {
				t.Errorf("-o name = %q, want %q", lines, want)
			}
		}},
		{name: "list json", args: []string{"list", "-o", "json"}, check: func(t *testing.T, out string) {
			var l v1alpha1.RAMIdentityMappingList
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatal(err)
			}
			if l.Kind != "RAMIdentityMappingList" || len(l.Items) != 3 || l.Items[0].Kind != "RAMIdentityMapping" {
				t.Errorf("unexpected list %+v", l)
			}
		}},
		{name: "list yaml", args: []string{"list", "-o", "yaml"}, want: []string{"kind: RAMIdentityMappingList", "username: shouting"}, notWant: []string{"managedFields"}},
		{name: "arn filter matches case and assumed-role variants", args: []string{"list", "--arn", "acs:ram::1234567890:assumed-role/dev/alice", "-o", "name"},
			want: []string{resourceRef("dev"), resourceRef("dev-upper")}, notWant: []string{"bob"}},
		{name: "arn filter with no hit", args: []string{"list", "--arn", "acs:ram::1:user/nobody"}, wantErr: []string{"No resources found"}},
		{name: "bad arn filter", args: []string{"list", "--arn", "nope"}, wantCode: 2, wantErr: []string{"--arn"}},
		{name: "get one json is the object", args: []string{"get", "dev", "-o", "json"}, check: func(t *testing.T, out string) {
			var m v1alpha1.RAMIdentityMapping
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			if m.Kind != "RAMIdentityMapping" || m.Name != "dev" || m.Spec.ARN != roleDev {
				t.Errorf("unexpected object %+v", m)
			}
		}},
		{name: "get two yaml is a list", args: []string{"get", "dev", "bob", "-o", "yaml"}, want: []string{"kind: RAMIdentityMappingList", "name: dev", "name: bob"}},
		{name: "get missing", args: []string{"get", "nope"}, wantCode: 1, wantErr: []string{`mapping "nope" not found`, "kubectl ack-map list"}},
		{name: "bad output", args: []string{"list", "-o", "xml"}, wantCode: 2, wantErr: []string{`unknown output format -o "xml"`, "table, wide, json, yaml, name"}},
		{name: "list takes no names", args: []string{"list", "dev"}, wantCode: 2, wantErr: []string{`unexpected argument "dev": "kubectl ack-map list" takes no arguments`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.wantCode, r)
			}
			contains(t, "stdout", r.stdout, tt.want...)
			contains(t, "stderr", r.stderr, tt.wantErr...)
			for _, nw := range tt.notWant {
				if strings.Contains(r.stdout, nw) {
					t.Errorf("stdout contains %q:\n%s", nw, r.stdout)
				}
			}
			if tt.check != nil {
				tt.check(t, r.stdout)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dev", roleDev, "dev", "a", "b")
	f.create(t, "dup1", userBob, "bob")
	f.create(t, "dup2", "acs:ram::1234567890:user/BOB", "bob2")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    []string
		wantUser   string
		wantGroups []string
	}{
		{name: "add and remove groups", args: []string{"update", "dev", "--add-group", "c", "--add-group", "a", "--remove-group", "b"},
			wantOut: []string{resourceRef("dev") + " configured"}, wantUser: "dev", wantGroups: []string{"a", "c"}},
		{name: "unchanged", args: []string{"update", "dev", "--add-group", "c"}, wantOut: []string{"unchanged"}, wantUser: "dev", wantGroups: []string{"a", "c"}},
		{name: "by assumed-role arn, replace groups and username", args: []string{"update", "--arn", "acs:ram::1234567890:assumed-role/DEV/s", "--username", "dev:{{SessionName}}", "-g", "x"},
			wantOut: []string{"configured"}, wantUser: "dev:{{SessionName}}", wantGroups: []string{"x"}},
		{name: "remove the last group", args: []string{"update", "dev", "--remove-group", "x"}, wantOut: []string{"configured"}, wantUser: "dev:{{SessionName}}"},
		{name: "template error", args: []string{"update", "dev", "--username", "{{Session}}"}, wantCode: 2, wantErr: []string{"unknown placeholder"}, wantUser: "dev:{{SessionName}}"},
		{name: "reserved group", args: []string{"update", "dev", "--add-group", "system:masters"}, wantCode: 2, wantErr: []string{"--allow-reserved-group"}, wantUser: "dev:{{SessionName}}"},
		{name: "client dry run", args: []string{"update", "dev", "--username", "dry", "--dry-run=client", "-o", "yaml"}, wantOut: []string{"username: dry"}, wantUser: "dev:{{SessionName}}"},
		{name: "server dry run", args: []string{"update", "dev", "--username", "dry", "--dry-run=server"}, wantOut: []string{"configured (server dry run)"}, wantUser: "dev:{{SessionName}}"},
		{name: "nothing to change", args: []string{"update", "dev"}, wantCode: 2, wantErr: []string{"nothing to change"}, wantUser: "dev:{{SessionName}}"},
		{name: "name and arn", args: []string{"update", "dev", "--arn", roleDev, "--username", "x"}, wantCode: 2, wantErr: []string{"one of them"}, wantUser: "dev:{{SessionName}}"},
		{name: "ambiguous arn", args: []string{"update", "--arn", userBob, "--username", "x"}, wantCode: 1, wantErr: []string{"2 mappings map", "dup1", "dup2"}, wantUser: "dev:{{SessionName}}"},
		{name: "unknown arn", args: []string{"update", "--arn", "acs:ram::1:role/none", "--username", "x"}, wantCode: 1, wantErr: []string{"no mapping maps", "ack-map add"}, wantUser: "dev:{{SessionName}}"},
		{name: "unknown name", args: []string{"update", "nope", "--username", "x"}, wantCode: 1, wantErr: []string{`"nope" not found`}, wantUser: "dev:{{SessionName}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.wantCode, r)
			}
			contains(t, "stdout", r.stdout, tt.wantOut...)
			contains(t, "stderr", r.stderr, tt.wantErr...)
			m := f.list(t)["dev"]
			if m.Spec.Username != tt.wantUser || !slices.Equal(m.Spec.Groups, tt.wantGroups) {
				t.Errorf("dev = %q %q, want %q %q", m.Spec.Username, m.Spec.Groups, tt.wantUser, tt.wantGroups)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		stdin    string
		args     []string
		wantCode int
		wantErr  []string
		wantLeft []string
		wantOut  []string
	}{
		{name: "not a terminal needs --yes", args: []string{"delete", "a"}, wantCode: 2, wantErr: []string{"stdin is not a terminal", "--yes"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		// No terminal and no -y: refused before anything is read (a missing name is not looked up).
		{name: "no terminal refuses before reading", args: []string{"delete", "nope"}, wantCode: 2, wantErr: []string{"stdin is not a terminal"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "terminal, answer no", terminal: true, stdin: "n\n", args: []string{"delete", "a"}, wantCode: 1, wantErr: []string{"Delete 1 mapping", "aborted"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "terminal, answer yes", terminal: true, stdin: "y\n", args: []string{"delete", "a"}, wantOut: []string{resourceRef("a") + " deleted"}, wantLeft: []string{"b", "c1", "c2"}},
		{name: "names with --yes", args: []string{"delete", "a", "b", "-y"}, wantLeft: []string{"c1", "c2"}},
		{name: "a missing name deletes nothing", args: []string{"delete", "a", "nope", "--yes"}, wantCode: 1, wantErr: []string{`"nope" not found`}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "by arn takes every spelling", args: []string{"delete", "--arn", "acs:ram::1:assumed-role/c/sess", "--yes"}, wantOut: []string{"c1 deleted", "c2 deleted"}, wantLeft: []string{"a", "b"}},
		{name: "unknown arn", args: []string{"delete", "--arn", "acs:ram::1:role/none", "--yes"}, wantCode: 1, wantErr: []string{"no mapping maps"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "server dry run", args: []string{"delete", "a", "--dry-run=server", "--yes"}, wantOut: []string{"deleted (server dry run)"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "client dry run", args: []string{"delete", "a", "--dry-run", "--yes"}, wantOut: []string{"deleted (dry run)"}, wantLeft: []string{"a", "b", "c1", "c2"}},
		{name: "nothing named", args: []string{"delete", "--yes"}, wantCode: 2, wantErr: []string{"give mapping names or --arn"}, wantLeft: []string{"a", "b", "c1", "c2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.create(t, "a", "acs:ram::1:user/a", "a")
			f.create(t, "b", "acs:ram::1:user/b", "b")
			f.create(t, "c1", "acs:ram::1:role/c", "c")
			f.create(t, "c2", "acs:ram::1:ROLE/C", "c")
			f.terminal = tt.terminal
			r := f.run(t, tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.wantCode, r)
			}
			contains(t, "stdout", r.stdout, tt.wantOut...)
			contains(t, "stderr", r.stderr, tt.wantErr...)
			var left []string
			for n := range f.list(t) {
				left = append(left, n)
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left %q, want %q", left, tt.wantLeft)
			}
		})
	}
}
