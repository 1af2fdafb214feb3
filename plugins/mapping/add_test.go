package mapping

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
)

const (
	roleDev  = "acs:ram::1234567890:role/dev"
	userBob  = "acs:ram::1234567890:user/bob"
	rootARN  = "acs:ram::1234567890:root"
	opsGlob  = "acs:ram::1234567890:role/ops-*"
	otherRol = "acs:ram::1234567890:role/other"
)

// TestAdd runs add scenarios in order against one cluster: each step sees what the previous
// ones created, which is how duplicate detection is exercised.
func TestAdd(t *testing.T) {
	f := newFixture(t)
	devName := DeriveName(roleDev)
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    []string
		wantSpec   map[string]v1alpha1.RAMIdentityMappingSpec // objects that must exist after the step
		wantAbsent []string
		wantCount  int
	}{
		{name: "role", args: []string{"add", "--arn", roleDev, "--username", "dev:{{SessionName}}", "-g", "devs", "-g", "devs"},
			wantOut:   []string{resourceRef(devName) + " created"},
			wantSpec:  map[string]v1alpha1.RAMIdentityMappingSpec{devName: {ARN: roleDev, Username: "dev:{{SessionName}}", Groups: []string{"devs"}}},
			wantCount: 1},
		{name: "same again is unchanged", args: []string{"add", "--arn", roleDev, "--username", "dev:{{SessionName}}", "-g", "devs"},
			wantOut: []string{devName + " unchanged"}, wantCount: 1},
		{name: "case variant refused", args: []string{"add", "--arn", "ACS:RAM::1234567890:ROLE/DEV", "--username", "x"},
			wantCode: 1, wantErr: []string{"already maps", devName, "--overwrite"}, wantCount: 1},
		{name: "assumed-role variant refused", args: []string{"add", "--arn", "acs:ram::1234567890:assumed-role/dev/alice", "--username", "x"},
			wantCode: 1, wantErr: []string{"assumed-role ARN", "already maps", devName}, wantCount: 1},
		{name: "explicit other name for the same ARN refused", args: []string{"add", "--arn", roleDev, "--username", "y", "--name", "dev-two"},
			wantCode: 1, wantErr: []string{"already maps"}, wantAbsent: []string{"dev-two"}, wantCount: 1},
		{name: "overwrite with assumed-role spelling replaces in place", args: []string{"add", "--arn", "acs:ram::1234567890:assumed-role/Dev/alice", "--username", "dev2:{{SessionNameRaw}}", "--overwrite"},
			wantOut:   []string{devName + " configured"},
			wantSpec:  map[string]v1alpha1.RAMIdentityMappingSpec{devName: {ARN: "acs:ram::1234567890:role/Dev", Username: "dev2:{{SessionNameRaw}}"}},
			wantCount: 1},
		{name: "explicit name", args: []string{"add", "--arn", userBob, "--username", "bob", "--name", "bob"},
			wantOut: []string{resourceRef("bob") + " created"}, wantSpec: map[string]v1alpha1.RAMIdentityMappingSpec{"bob": {ARN: userBob, Username: "bob"}}, wantCount: 2},
		{name: "name taken by another identity", args: []string{"add", "--arn", otherRol, "--username", "o", "--name", "bob"},
			wantCode: 1, wantErr: []string{`"bob" already exists for a different identity`}, wantSpec: map[string]v1alpha1.RAMIdentityMappingSpec{"bob": {ARN: userBob, Username: "bob"}}, wantCount: 2},
		{name: "glob gets a valid derived name", args: []string{"add", "--arn", opsGlob, "--username", "ops:{{SessionName}}"},
			wantOut: []string{DeriveName(opsGlob) + " created"}, wantCount: 3},
		{name: "root", args: []string{"add", "--arn", rootARN, "--username", "root-{{AccountID}}", "-o", "name"},
			wantOut: []string{resourceRef(DeriveName(rootARN))}, wantCount: 4},
		{name: "aws ARN refused", args: []string{"add", "--arn", "arn:aws:iam::1:role/x", "--username", "x"},
			wantCode: 2, wantErr: []string{"--arn", `must start with "acs:ram::"`}, wantCount: 4},
		{name: "unknown type refused", args: []string{"add", "--arn", "acs:ram::1:group/x", "--username", "x"},
			wantCode: 2, wantErr: []string{"unknown resource type"}, wantCount: 4},
		{name: "missing ARN", args: []string{"add", "--username", "x"}, wantCode: 2, wantErr: []string{"--arn is required"}, wantCount: 4},
		{name: "missing username", args: []string{"add", "--arn", otherRol}, wantCode: 2, wantErr: []string{"--username is required"}, wantCount: 4},
		{name: "unknown placeholder", args: []string{"add", "--arn", otherRol, "--username", "{{Nope}}"},
			wantCode: 2, wantErr: []string{"--username", "unknown placeholder {{Nope}}"}, wantCount: 4},
		{name: "unterminated group template", args: []string{"add", "--arn", otherRol, "--username", "o", "-g", "g-{{AccountID"},
			wantCode: 2, wantErr: []string{"--group", "unterminated"}, wantCount: 4},
		{name: "empty group", args: []string{"add", "--arn", otherRol, "--username", "o", "-g", " "},
			wantCode: 2, wantErr: []string{"empty group"}, wantCount: 4},
		{name: "reserved username", args: []string{"add", "--arn", otherRol, "--username", "System:admin"},
			wantCode: 2, wantErr: []string{"reserved name", "always refuses"}, wantCount: 4},
		{name: "reserved group needs allowing", args: []string{"add", "--arn", otherRol, "--username", "o", "-g", "system:masters"},
			wantCode: 2, wantErr: []string{"reserved name", "--allow-reserved-group"}, wantCount: 4},
		{name: "reserved group allowed warns", args: []string{"add", "--arn", otherRol, "--username", "o", "-g", "system:masters", "--allow-reserved-group", "system:masters"},
			wantOut: []string{"created"}, wantErr: []string{"Warning:", "server.allowedGroups"}, wantCount: 5},
		{name: "bad explicit name", args: []string{"add", "--arn", "acs:ram::1:role/z", "--username", "z", "--name", "Not_Valid"},
			wantCode: 2, wantErr: []string{"--name", "not a valid object name"}, wantCount: 5},
		{name: "bad dry-run value", args: []string{"add", "--arn", "acs:ram::1:role/z", "--username", "z", "--dry-run=maybe"},
			wantCode: 2, wantErr: []string{"--dry-run"}, wantCount: 5},
		{name: "client dry run creates nothing", args: []string{"add", "--arn", "acs:ram::1:role/z", "--username", "z", "--dry-run=client", "-o", "yaml"},
			wantOut:    []string{"kind: RAMIdentityMapping", "arn: acs:ram::1:role/z", "name: " + DeriveName("acs:ram::1:role/z")},
			wantAbsent: []string{DeriveName("acs:ram::1:role/z")}, wantCount: 5},
		{name: "server dry run creates nothing", args: []string{"add", "--arn", "acs:ram::1:role/z", "--username", "z", "--dry-run=server"},
			wantOut: []string{"created (server dry run)"}, wantAbsent: []string{DeriveName("acs:ram::1:role/z")}, wantCount: 5},
		{name: "server dry run of an overwrite changes nothing", args: []string{"add", "--arn", roleDev, "--username", "changed", "--overwrite", "--dry-run=server", "-o", "json"},
			wantOut:   []string{`"username": "changed"`},
			wantSpec:  map[string]v1alpha1.RAMIdentityMappingSpec{devName: {ARN: "acs:ram::1234567890:role/Dev", Username: "dev2:{{SessionNameRaw}}"}},
			wantCount: 5},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := f.run(t, "", s.args...)
			if r.code != s.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", r.code, s.wantCode, r)
			}
			contains(t, "stdout", r.stdout, s.wantOut...)
			contains(t, "stderr", r.stderr, s.wantErr...)
			got := f.list(t)
			if len(got) != s.wantCount {
				t.Errorf("%d mappings in the cluster, want %d", len(got), s.wantCount)
			}
			for name, want := range s.wantSpec {
				m, ok := got[name]
				if !ok {
					t.Errorf("mapping %q missing", name)
					continue
				}
				if !specEqual(m.Spec, want) {
					t.Errorf("mapping %q spec = %+v, want %+v", name, m.Spec, want)
				}
			}
			for _, name := range s.wantAbsent {
				if _, ok := got[name]; ok {
					t.Errorf("mapping %q exists, want none", name)
				}
			}
		})
	}
}

func TestDeriveName(t *testing.T) {
	long := "acs:ram::1234567890:role/" + strings.Repeat("very-long-role-name-", 10)
	tests := []struct {
		in, samAs, prefix string
	}{
		{in: roleDev, samAs: "ACS:RAM::1234567890:Role/DEV", prefix: "role-1234567890-dev-"},
		{in: roleDev, samAs: "acs:ram::1234567890:assumed-role/dev/session", prefix: "role-1234567890-dev-"},
		{in: userBob, samAs: " " + userBob + " ", prefix: "user-1234567890-bob-"},
		{in: rootARN, samAs: "acs:ram::1234567890:ROOT", prefix: "root-1234567890-"},
		{in: opsGlob, samAs: "acs:ram::1234567890:role/OPS-*", prefix: "role-1234567890-ops-any-"},
		{in: "acs:ram::*:role/a?c", samAs: "acs:ram::*:ROLE/A?C", prefix: "role-any-a-q-c-"},
		{in: "acs:ram::1:role/path/with.dots_and_UNDERSCORE", samAs: "acs:ram::1:role/PATH/with.dots_and_underscore", prefix: "role-1-path-with-dots-and-underscore-"},
		{in: long, samAs: strings.ToUpper(long), prefix: "role-1234567890-very-long"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n := DeriveName(tt.in)
			if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
				t.Fatalf("DeriveName(%q) = %q: %v", tt.in, n, errs)
			}
			if len(n) > 63 {
				t.Errorf("DeriveName(%q) = %q is longer than 63 characters", tt.in, n)
			}
			if !strings.HasPrefix(n, tt.prefix) {
				t.Errorf("DeriveName(%q) = %q, want prefix %q", tt.in, n, tt.prefix)
			}
			if o := DeriveName(tt.samAs); o != n {
				t.Errorf("DeriveName(%q) = %q, differs from DeriveName(%q) = %q", tt.samAs, o, tt.in, n)
			}
			if prev, dup := seen[n]; dup && prev != tt.in {
				t.Errorf("%q and %q both derive %q", prev, tt.in, n)
			}
			seen[n] = tt.in
		})
	}
	if DeriveName("acs:ram::1:role/a-b") == DeriveName("acs:ram::1:role/a.b") {
		t.Error("different ARNs with the same readable part must differ in the hash")
	}
}

// TestAddOutputYAMLIsTheObject checks that -o yaml prints a decodable object, so it can be piped
// into kubectl apply.
func TestAddOutputYAMLIsTheObject(t *testing.T) {
	f := newFixture(t)
	r := f.ok(t, "add", "--arn", userBob, "--username", "bob", "-g", "a", "-g", "b", "-o", "yaml")
	var got v1alpha1.RAMIdentityMapping
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &got); err != nil {
		t.Fatalf("decode -o yaml: %v\n%s", err, r.stdout)
	}
	if got.Kind != "RAMIdentityMapping" || got.APIVersion != v1alpha1.SchemeGroupVersion.String() || got.UID == "" || got.Name != DeriveName(userBob) || !slices.Equal(got.Spec.Groups, []string{"a", "b"}) {
		t.Fatalf("unexpected object %+v", got)
	}
	if strings.Contains(r.stdout, "managedFields") {
		t.Error("managed fields are printed")
	}
}
