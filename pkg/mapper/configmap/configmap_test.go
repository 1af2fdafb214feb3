package configmap_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		data     map[string]string
		want     mapper.StaticConfig
		warnings string
		err      string
		noMaps   bool
	}{
		{
			// The aws-auth spelling the official add-on's "add" writes.
			name: "official spelling",
			data: map[string]string{
				"mapRoles":    "- rolearn: acs:ram::000000000000:role/KubernetesAdmin\n  username: kubernetes-admin\n  groups:\n  - system:masters\n",
				"mapUsers":    "- userarn: acs:ram::000000000000:user/Alice\n  username: alice\n",
				"mapAccounts": "- \"000000000000\"\n",
			},
			want: mapper.StaticConfig{
				MapRoles:    []mapper.RoleMapping{{RoleARN: "acs:ram::000000000000:role/KubernetesAdmin", Username: "kubernetes-admin", Groups: []string{"system:masters"}}},
				MapUsers:    []mapper.UserMapping{{UserARN: "acs:ram::000000000000:user/Alice", Username: "alice"}},
				MapAccounts: []mapper.AccountMapping{{AccountID: "000000000000"}},
			},
		},
		{
			name: "our spelling",
			data: map[string]string{"mapRoles": "- roleARN: acs:ram::1:role/a\n  username: a\n"},
			want: mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{RoleARN: "acs:ram::1:role/a", Username: "a"}}},
		},
		{
			name:     "misspelt key warns",
			data:     map[string]string{"maproles": "- rolearn: x\n", "mapUsers": "[]"},
			want:     mapper.StaticConfig{MapUsers: []mapper.UserMapping{}},
			warnings: "data.maproles is not a mapping key",
		},
		{name: "unknown entry key", data: map[string]string{"mapRoles": "- rolearn: x\n  grups: [a]\n"}, err: `data.mapRoles: unknown field "grups"`},
		{name: "not YAML", data: map[string]string{"mapUsers": "- [\n"}, err: "data.mapUsers"},
		{name: "empty", data: map[string]string{}, noMaps: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := configmap.Parse(tc.data)
			if tc.warnings != "" && !strings.Contains(strings.Join(warnings, "\n"), tc.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tc.warnings)
			}
			switch {
			case tc.noMaps:
				if !errors.Is(err, configmap.ErrNoMappings) {
					t.Fatalf("err = %v, want ErrNoMappings", err)
				}
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tc.want):
				t.Errorf("Parse = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	c := mapper.StaticConfig{
		MapRoles:    []mapper.RoleMapping{{RoleARN: "acs:ram::1:role/a", Username: "a:{{SessionName}}", Groups: []string{"g"}}},
		MapUsers:    []mapper.UserMapping{{UserARN: "acs:ram::1:user/b", Username: "b"}, {UserARN: "acs:ram::*:user/c", Username: "c", AllowAnyAccount: true}},
		MapAccounts: []mapper.AccountMapping{{AccountID: "2"}, {AccountID: "3", Username: "x-{{AccountID}}"}},
	}
	data, err := configmap.Encode(c, map[string]string{"other": "kept", "mapUsers": "replaced"})
	if err != nil {
		t.Fatal(err)
	}
	if data["other"] != "kept" || !strings.Contains(data["mapRoles"], "rolearn: acs:ram::1:role/a") || !strings.Contains(data["mapUsers"], "userarn:") || !strings.Contains(data["mapAccounts"], "- \"2\"") {
		t.Fatalf("Encode wrote %q", data)
	}
	delete(data, "other")
	back, _, err := configmap.Parse(data)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip = %+v, %v\nwant %+v", back, err, c)
	}
	// Empty lists drop their keys instead of writing "[]" or "null".
	data, err = configmap.Encode(mapper.StaticConfig{}, map[string]string{"mapRoles": "x"})
	if err != nil || len(data) != 0 {
		t.Fatalf("Encode(empty) = %q, %v", data, err)
	}
}
