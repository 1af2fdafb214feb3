package authconfig_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/authconfig"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// readmeConfig is the official README's "Full Configuration Format", key for key.
const readmeConfig = `# a unique-per-cluster identifier to prevent replay attacks (see above)
clusterID: my-dev-cluster.example.com

# default RAM role to assume for the official client
defaultRole: acs:ram::000000000000:role/KubernetesAdmin

# server listener configuration
server:
  # localhost port where the server will serve the /authenticate endpoint
  port: 21362 # (default)

  # state directory for generated TLS certificate and private keys
  stateDir: /var/ack-ram-authenticator # (default)

  # output path where a generated webhook kubeconfig will be stored.
  generateKubeconfig: /etc/kubernetes/ack-ram-authenticator.kubeconfig # (default)

  mapRoles:
  - roleARN: acs:ram::000000000000:role/KubernetesAdmin
    username: kubernetes-admin
    groups:
    - system:masters

  mapUsers:
  - userARN: acs:ram::000000000000:user/Alice
    username: alice
    groups:
    - system:masters
`

// exampleConfigMapConfig is the config.yaml of the official deploy/example.yaml ConfigMap:
// empty scrubbedAccounts and mapAccounts, backendMode CRD, no stsEndpoint.
const exampleConfigMapConfig = `# Replace <your-cluster-id> with actual id
clusterID: c0123456789abcdef
# server listener configuration
server:
  # localhost port where the server will serve the /authenticate endpoint
  port: 21362 # (default)

  # state directory for generated TLS certificate and private keys
  stateDir: /var/ack-ram-authenticator/

  # RAM Account IDs to scrub from server logs. (Defaults to empty list)
  scrubbedAccounts:

  # automatically map RAM ARN from these accounts to username.
  mapAccounts:

  # source mappings from this file (mapUsers, mapRoles, & mapAccounts)
  backendMode:
    - CRD
`

func TestOfficialREADMEConfig(t *testing.T) {
	cfg, err := authconfig.Parse([]byte(readmeConfig), "README")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cfg.Validate(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultRole != "acs:ram::000000000000:role/KubernetesAdmin" || cfg.Server.GenerateKubeconfig != "/etc/kubernetes/ack-ram-authenticator.kubeconfig" || len(rules) != 2 {
		t.Errorf("config = %+v, %d rules", cfg, len(rules))
	}
	// No allowedGroups: system:masters may be granted, as the README's mappings need.
	if !slices.Equal(cfg.AllowedGroups(), []string{mapper.GroupMasters}) {
		t.Errorf("allowed groups = %v", cfg.AllowedGroups())
	}
	if ep, err := cfg.STSEndpoint(nil); err != nil || ep != "sts.aliyuncs.com" {
		t.Errorf("STS endpoint = %q, %v; want the global endpoint", ep, err)
	}
}

func TestOfficialExampleConfigMap(t *testing.T) {
	cfg, err := authconfig.Parse([]byte(exampleConfigMapConfig), "ConfigMap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Validate(true, nil); err != nil {
		t.Fatal(err)
	}
	order, err := cfg.Order(true)
	if err != nil || !slices.Equal(order, []string{mapper.MapperCRD}) {
		t.Errorf("order = %v, %v", order, err)
	}
	if cfg.Server.StateDir != "/var/ack-ram-authenticator/" || cfg.Server.ScrubbedAccounts != nil || cfg.Server.MapAccounts != nil {
		t.Errorf("server = %+v", cfg.Server)
	}
}

// TestEveryOfficialKey loads every key of the official format with its documented meaning.
func TestEveryOfficialKey(t *testing.T) {
	dir := t.TempDir()
	cfg, err := authconfig.Parse([]byte(`
clusterID: c1
defaultRole: acs:ram::1:role/admin
server:
  port: 21999
  hostname: authn.example.com
  stateDir: `+dir+`/state
  generateKubeconfig: `+dir+`/kubeconfig.yaml
  kubeconfigPregenerated: true
  kubeconfig: `+dir+`/admin.kubeconfig
  backendMode: [MountedFile, ACKConfigMap, CRD, DynamicFile]
  dynamicfilepath: `+dir+`/mappings.json
  scrubbedAccounts: ["1234567890123456", 2234567890123456]
  mapRoles: [{rolearn: "acs:ram::1:role/a", username: a}]
  mapUsers: [{userarn: "acs:ram::1:user/b", username: b}]
  mapAccounts: ["1", 2]
  region: cn-beijing
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Port != 21999 || s.Hostname != "authn.example.com" || !s.KubeconfigPregenerated || s.Kubeconfig != dir+"/admin.kubeconfig" || s.DynamicFilePath != dir+"/mappings.json" {
		t.Errorf("server = %+v", s)
	}
	if !cfg.Scrubbed("1234567890123456") || !cfg.Scrubbed("2234567890123456") || cfg.Scrubbed("1") {
		t.Errorf("scrubbed = %v", s.ScrubbedAccounts)
	}
	if len(s.MapAccounts) != 2 || s.MapAccounts[1].AccountID != "2" {
		t.Errorf("mapAccounts = %+v (a bare number must be an account id)", s.MapAccounts)
	}
	rules, err := cfg.Validate(true, nil)
	if err != nil || len(rules) != 4 {
		t.Fatalf("Validate = %d rules, %v", len(rules), err)
	}
	if ep, _ := cfg.STSEndpoint(nil); ep != "sts.cn-beijing.aliyuncs.com" {
		t.Errorf("endpoint = %s, want the region's public endpoint", ep)
	}
}

func TestDefaultsAndAliases(t *testing.T) {
	cfg, err := authconfig.Parse([]byte("clusterID: c1\nserver:\n  mappers: [CRD, File]\n  allowedGroups: []\n  stsTimeout: 2s\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Port != 21362 || s.Address != "127.0.0.1" || s.StateDir != authconfig.DefaultStateDir || s.GenerateKubeconfig != authconfig.DefaultGenerateKubeconfig || s.STSTimeout.Duration != 2*time.Second || s.CacheSize != authconfig.DefaultCacheSize {
		t.Errorf("defaults: %+v", s)
	}
	if order, err := cfg.Order(true); err != nil || !slices.Equal(order, []string{"CRD", "MountedFile"}) {
		t.Errorf("mappers alias: %v %v", order, err)
	}
	if w := cfg.Warnings(); len(w) != 1 || !strings.Contains(w[0], `"File" is deprecated`) {
		t.Errorf("warnings = %q", w)
	}
	// allowedGroups: [] forbids system:masters.
	if g := cfg.AllowedGroups(); g == nil || len(g) != 0 {
		t.Errorf("allowedGroups: [] = %v, want empty", g)
	}
}

func TestSTSEndpoint(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	tests := []struct {
		name, yaml string
		env        func(string) (string, bool)
		want, err  string
	}{
		{name: "global", yaml: "{}", want: "sts.aliyuncs.com"},
		{name: "region", yaml: "{region: cn-shanghai}", want: "sts.cn-shanghai.aliyuncs.com"},
		{name: "explicit", yaml: "{region: cn-shanghai, stsEndpoint: 'sts-vpc.cn-shanghai.aliyuncs.com'}", want: "sts-vpc.cn-shanghai.aliyuncs.com"},
		{name: "environment endpoint", yaml: "{}", env: env("ALIBABA_CLOUD_STS_ENDPOINT", "127.0.0.1:8443"), want: "127.0.0.1:8443"},
		{name: "environment region", yaml: "{}", env: env("ALIBABA_CLOUD_REGION_ID", "cn-beijing"), want: "sts.cn-beijing.aliyuncs.com"},
		{name: "file wins over environment", yaml: "{region: cn-shanghai}", env: env("ALIBABA_CLOUD_STS_ENDPOINT", "127.0.0.1:8443"), want: "sts.cn-shanghai.aliyuncs.com"},
		{name: "scheme", yaml: "{stsEndpoint: 'https://sts.example.com'}", err: "without a scheme"},
		{name: "bad region", yaml: "{region: 'cn hangzhou'}", err: "is not a region id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := authconfig.Parse([]byte("clusterID: c\nserver: "+tc.yaml+"\n"), "t")
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.STSEndpoint(tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("STSEndpoint = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		kube       bool
		err        string
	}{
		{name: "typo with suggestion", yaml: "clusterID: c\nserver:\n  prot: 1\n", err: `line 3: unknown key "server.prot" (did you mean "server.port"?)`},
		{name: "official key misspelt", yaml: "clusterID: c\nserver:\n  backendmod: [CRD]\n", err: `line 3: unknown key "server.backendmod" (did you mean "server.backendMode"?)`},
		{name: "server key at the top", yaml: "clusterID: c\nstateDir: /x\n", err: `line 2: unknown key "stateDir" (did you mean "server.stateDir"? it belongs under server:)`},
		{name: "unknown top-level key", yaml: "clusterID: c\nsrever: {}\n", err: `line 2: unknown key "srever" (did you mean "server"?)`},
		{name: "far from anything", yaml: "clusterID: c\nserver: {zzzzzzzz: 1}\n", err: `unknown key "server.zzzzzzzz" (known keys: `},
		{name: "mapping entry key", yaml: "clusterID: c\nserver:\n  mapRoles:\n  - rolearn: acs:ram::1:role/a\n    grups: [x]\n", err: `line 5: unknown key "server.mapRoles[0].grups" (did you mean "server.mapRoles[0].groups"?)`},
		{name: "wrong type", yaml: "clusterID: c\nserver:\n  port: x\n", err: `line 3: server.port: want a whole number, got "x"`},
		{name: "bool", yaml: "clusterID: c\nserver:\n  kubeconfigPregenerated: maybe\n", err: `line 3: server.kubeconfigPregenerated: want true or false`},
		{name: "list wanted", yaml: "clusterID: c\nserver:\n  backendMode: CRD\n", err: `line 3: server.backendMode: want a list`},
		{name: "repeated key", yaml: "clusterID: c\nserver:\n  port: 1\n  Port: 2\n", err: `line 4: key "server.Port" repeats the one on line 3`},
		{name: "bad duration", yaml: "clusterID: c\nserver:\n  stsTimeout: soon\n", err: "line 3: server.stsTimeout: duration \"soon\""},
		{name: "account object typo", yaml: "clusterID: c\nserver:\n  mapAccounts:\n  - {accountID: '1', usrname: x}\n", err: `line 4: server.mapAccounts[0]: unknown field "usrname"`},
		{name: "not YAML", yaml: "clusterID: [", err: "not valid YAML"},
		{name: "missing cluster id", yaml: "server: {}\n", err: "clusterID is required"},
		{name: "dynamic file without path", yaml: "clusterID: c\nserver: {backendMode: [DynamicFile]}\n", err: "dynamicfilepath is not set"},
		{name: "path without dynamic file", yaml: "clusterID: c\nserver: {dynamicfilepath: /x}\n", err: "does not list DynamicFile"},
		{name: "both lists", yaml: "clusterID: c\nserver: {backendMode: [CRD], mappers: [CRD]}\n", kube: true, err: "set only backendMode"},
		{name: "CRD without kube", yaml: "clusterID: c\nserver: {backendMode: [CRD]}\n", err: "no Kubernetes configuration"},
		{name: "unknown backend", yaml: "clusterID: c\nserver: {backendMode: [EKSConfigMap]}\n", kube: true, err: `unknown backend "EKSConfigMap"`},
		{name: "bad hostname", yaml: "clusterID: c\nserver: {hostname: 'a b'}\n", err: "server.hostname"},
		{name: "port out of range", yaml: "clusterID: c\nserver: {port: 70000}\n", err: "server.port 70000"},
		{name: "empty allowed group", yaml: "clusterID: c\nserver: {allowedGroups: ['']}\n", err: "allowedGroups"},
		{name: "invalid mapping", yaml: "clusterID: c\nserver:\n  mapUsers: [{userARN: 'acs:ram::1:role/x', username: x}]\n", err: "mapUsers[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := authconfig.Parse([]byte(tc.yaml), "test")
			if err == nil {
				_, err = cfg.Validate(tc.kube, nil)
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.err)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	if _, err := authconfig.Load(""); err == nil || !strings.Contains(err.Error(), "-c/--config") {
		t.Errorf("empty path: %v", err)
	}
	if _, err := authconfig.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read configuration") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("ClusterId: cfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := authconfig.Load(p)
	if err != nil || cfg.ClusterID != "cfile" {
		t.Fatalf("Load (keys in any case, as viper reads them): %+v %v", cfg, err)
	}
	if _, err := authconfig.Parse(nil, "empty"); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestOrderDefault(t *testing.T) {
	cfg, err := authconfig.Parse([]byte("clusterID: c1\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kube bool
		want []string
	}{{false, []string{"MountedFile"}}, {true, []string{"MountedFile", "CRD"}}} {
		got, err := cfg.Order(tc.kube)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("kube=%v: %v %v, want %v", tc.kube, got, err, tc.want)
		}
	}
}
