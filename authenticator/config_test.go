package authenticator_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
)

func TestConfigDefaultsAndKeys(t *testing.T) {
	cfg, err := authenticator.ParseConfig([]byte(`
clusterID: c123
server:
  region: cn-beijing
  mapRoles:
  - roleARN: acs:ram::1234567890123456:role/dev
    username: dev:{{SessionName}}
    groups: [devs]
  mapUsers:
  - userARN: acs:ram::1234567890123456:user/alice
    username: alice
  mapAccounts:
  - "1234567890123456"
  allowedGroups: [system:masters]
  mappers: [CRD, MountedFile]
  stsTimeout: 2s
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Port != 21362 || s.Address != "127.0.0.1" || s.StateDir != authenticator.DefaultStateDir || s.GenerateKubeconfig != authenticator.DefaultGenerateKubeconfig || s.STSTimeout.Duration != 2*time.Second {
		t.Errorf("defaults: %+v", s)
	}
	rules, err := cfg.Validate(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Errorf("rules = %d, want 3", len(rules))
	}
	if ep, _ := cfg.STSEndpoint(); ep != "sts-vpc.cn-beijing.aliyuncs.com" {
		t.Errorf("endpoint = %s, want the region's VPC endpoint", ep)
	}
	if order, _ := cfg.MapperOrder(true); !slices.Equal(order, []string{"CRD", "MountedFile"}) {
		t.Errorf("mappers = %v", order)
	}
}

func TestMapperOrderDefault(t *testing.T) {
	cfg, err := authenticator.ParseConfig([]byte("clusterID: c1\nserver: {stsEndpoint: sts.example.com}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kube bool
		want []string
	}{{false, []string{"MountedFile"}}, {true, []string{"MountedFile", "CRD"}}} {
		got, err := cfg.MapperOrder(tc.kube)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("kube=%v: %v %v, want %v", tc.kube, got, err, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		kube    bool
		wantErr string
	}{
		{name: "unknown top-level key", yaml: "clusterID: c\nsrever: {}\n", wantErr: `unknown field "srever"`},
		{name: "unknown server key", yaml: "clusterID: c\nserver: {prot: 1}\n", wantErr: `unknown field "prot"`},
		{name: "wrong type", yaml: "clusterID: c\nserver: {port: x}\n", wantErr: "server.port of type int"},
		{name: "not YAML", yaml: "clusterID: [", wantErr: "configuration test"},
		{name: "missing cluster id", yaml: "server: {stsEndpoint: sts.example.com}\n", wantErr: "clusterID is required"},
		{name: "no STS endpoint", yaml: "clusterID: c\n", wantErr: "set server.region"},
		{name: "endpoint with scheme", yaml: "clusterID: c\nserver: {stsEndpoint: 'https://sts.example.com'}\n", wantErr: "without scheme"},
		{name: "bad region", yaml: "clusterID: c\nserver: {region: 'cn hangzhou'}\n", wantErr: "is not a region id"},
		{name: "port out of range", yaml: "clusterID: c\nserver: {port: 70000, stsEndpoint: s.example.com}\n", wantErr: "server.port 70000"},
		{name: "bad address", yaml: "clusterID: c\nserver: {address: 'not an address', stsEndpoint: s.example.com}\n", wantErr: "server.address"},
		{name: "unknown mapper", yaml: "clusterID: c\nserver: {mappers: [EKSConfigMap], stsEndpoint: s.example.com}\n", wantErr: `unknown mapper "EKSConfigMap"`},
		{name: "mapper twice", yaml: "clusterID: c\nserver: {mappers: [MountedFile, MountedFile], stsEndpoint: s.example.com}\n", wantErr: "twice"},
		{name: "CRD without kube config", yaml: "clusterID: c\nserver: {mappers: [CRD], stsEndpoint: s.example.com}\n", wantErr: "pass --kubeconfig"},
		{name: "bad duration", yaml: "clusterID: c\nserver: {stsTimeout: soon, stsEndpoint: s.example.com}\n", wantErr: "Go duration"},
		{name: "role ARN in mapUsers", yaml: "clusterID: c\nserver:\n  stsEndpoint: s.example.com\n  mapUsers: [{userARN: 'acs:ram::1234567890123456:role/x', username: x}]\n", wantErr: "mapUsers[0]"},
		{name: "unknown template", yaml: "clusterID: c\nserver:\n  stsEndpoint: s.example.com\n  mapRoles: [{roleARN: 'acs:ram::1234567890123456:role/x', username: '{{Nope}}'}]\n", wantErr: "unknown placeholder"},
		{name: "empty allowed group", yaml: "clusterID: c\nserver: {allowedGroups: [''], stsEndpoint: s.example.com}\n", wantErr: "allowedGroups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := authenticator.ParseConfig([]byte(tc.yaml), "test")
			if err == nil {
				_, err = cfg.Validate(tc.kube)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	if _, err := authenticator.LoadConfig(""); err == nil || !strings.Contains(err.Error(), "-c/--config") {
		t.Errorf("empty path: %v", err)
	}
	if _, err := authenticator.LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read configuration") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("clusterID: cfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := authenticator.LoadConfig(p)
	if err != nil || cfg.ClusterID != "cfile" {
		t.Fatalf("LoadConfig: %+v %v", cfg, err)
	}
}
