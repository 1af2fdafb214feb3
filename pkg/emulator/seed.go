package emulator

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Seed is the initial state of an emulator: accounts with their RAM users, access keys, roles and
// policies, and ACK clusters. It is read from YAML or JSON (field names are the JSON tags).
type Seed struct {
	// Accounts are the Alibaba Cloud accounts. The first account's first user with an access key is
	// the "admin" reported in Info.
	Accounts []AccountSeed `json:"accounts,omitempty"`
	// Clusters are the ACK clusters known to the CS API.
	Clusters []ClusterSeed `json:"clusters,omitempty"`
}

// AccountSeed declares one account.
type AccountSeed struct {
	// ID is the 16-digit account id (also called uid).
	ID string `json:"id"`
	// AccessKeys are root account access keys (identity type "Account").
	AccessKeys []AccessKey `json:"accessKeys,omitempty"`
	// Users are RAM users.
	Users []UserSeed `json:"users,omitempty"`
	// Roles are RAM roles.
	Roles []RoleSeed `json:"roles,omitempty"`
	// Policies are custom policies (system policies are built in).
	Policies []PolicySeed `json:"policies,omitempty"`
}

// UserSeed declares a RAM user.
type UserSeed struct {
	// Name is the user name (unique in the account, case-insensitive).
	Name string `json:"name"`
	// ID is the user id; generated when empty.
	ID string `json:"id,omitempty"`
	// AccessKeys are the user's long-lived access keys.
	AccessKeys []AccessKey `json:"accessKeys,omitempty"`
}

// AccessKey is an access key pair.
type AccessKey struct {
	// ID is the access key id (LTAI...).
	ID string `json:"id"`
	// Secret is the access key secret.
	Secret string `json:"secret"`
}

// RoleSeed declares a RAM role.
type RoleSeed struct {
	// Name is the role name (case-insensitive).
	Name string `json:"name"`
	// ID is the role id; generated when empty.
	ID string `json:"id,omitempty"`
	// Description is free text.
	Description string `json:"description,omitempty"`
	// TrustPolicy is the AssumeRolePolicyDocument JSON.
	TrustPolicy string `json:"trustPolicy"`
	// MaxSessionDuration is in seconds (3600..43200, default 3600).
	MaxSessionDuration int64 `json:"maxSessionDuration,omitempty"`
	// AttachedPolicies are attached at start.
	AttachedPolicies []PolicyRef `json:"attachedPolicies,omitempty"`
}

// PolicyRef names a policy.
type PolicyRef struct {
	// Name is the policy name.
	Name string `json:"name"`
	// Type is "System" or "Custom".
	Type string `json:"type"`
}

// PolicySeed declares a custom policy.
type PolicySeed struct {
	// Name is the policy name.
	Name string `json:"name"`
	// Type must be "Custom" (or empty).
	Type string `json:"type,omitempty"`
	// Document is the policy document JSON.
	Document string `json:"document"`
	// Description is free text.
	Description string `json:"description,omitempty"`
}

// ClusterSeed declares an ACK cluster. It is the same type as Cluster: the runtime-only fields
// (logs, add-ons) may be seeded too.
type ClusterSeed = Cluster

// Cluster is an ACK cluster as held by the emulator.
type Cluster struct {
	// ID is the cluster id: "c" + 32 hex digits.
	ID string `json:"id"`
	// AccountID owns the cluster; only its principals can see it.
	AccountID string `json:"accountId"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// RegionID such as cn-hangzhou.
	RegionID string `json:"regionId,omitempty"`
	// State is running, updating, ... (DescribeClusterDetail "state").
	State string `json:"state,omitempty"`
	// ClusterType defaults to ManagedKubernetes.
	ClusterType string `json:"clusterType,omitempty"`
	// Version is the Kubernetes version (current_version).
	Version string `json:"version,omitempty"`
	// APIServerURL is the public API server URL (master_url.api_server_endpoint).
	APIServerURL string `json:"apiServerURL,omitempty"`
	// IntranetAPIServerURL is the private URL; defaults to APIServerURL.
	IntranetAPIServerURL string `json:"intranetAPIServerURL,omitempty"`
	// APIServerCAFile is the CA of the API server serving certificate (kubeconfig
	// certificate-authority-data).
	APIServerCAFile string `json:"apiServerCAFile,omitempty"`
	// ClientCACertFile and ClientCAKeyFile sign user client certificates; generated when empty
	// (the emulator then writes them to its state or temporary directory and sets these paths).
	ClientCACertFile string `json:"clientCACertFile,omitempty"`
	// ClientCAKeyFile is the key of ClientCACertFile.
	ClientCAKeyFile string `json:"clientCAKeyFile,omitempty"`
	// ServiceAccountIssuer is the RRSA issuer when RRSA is enabled.
	ServiceAccountIssuer string `json:"serviceAccountIssuer,omitempty"`
	// ServiceAccountKeyFiles are PEM files with the service-account token verification keys; they
	// form the JWKS used by AssumeRoleWithOIDC.
	ServiceAccountKeyFiles []string `json:"serviceAccountKeyFiles,omitempty"`
	// RRSA is the RRSA state (meta_data.RRSAConfig).
	RRSA RRSAConfig `json:"rrsa"`
	// TaskDuration is how long a cluster task (enable/disable RRSA, add-on install) runs, by the
	// emulator's clock, whatever clients poll (default 2s).
	TaskDuration Duration `json:"taskDuration,omitempty"`
	// TaskPolls is kept for older seeds: without TaskDuration, a task runs one second per poll.
	TaskPolls int `json:"taskPolls,omitempty"`
	// FailNextTask makes the next task fail (then resets to false).
	FailNextTask bool `json:"failNextTask,omitempty"`
	// Addons are installed add-ons.
	Addons []AddonInstance `json:"addons,omitempty"`
	// Logs are cluster log lines (DescribeClusterLogs), oldest first.
	Logs []ClusterLog `json:"logs,omitempty"`
}

// RRSAConfig is the RRSA part of a cluster's meta_data.
type RRSAConfig struct {
	// Enabled reports whether RRSA is on.
	Enabled bool `json:"enabled"`
	// Issuer is the token issuer (defaults to the cluster's ServiceAccountIssuer).
	Issuer string `json:"issuer,omitempty"`
	// Audience defaults to sts.aliyuncs.com.
	Audience string `json:"audience,omitempty"`
	// OIDCName defaults to ack-rrsa-<clusterId>.
	OIDCName string `json:"oidcName,omitempty"`
	// OIDCArn defaults to acs:ram::<account>:oidc-provider/ack-rrsa-<clusterId>.
	OIDCArn string `json:"oidcArn,omitempty"`
}

// AddonInstance is an installed add-on.
type AddonInstance struct {
	// Name such as ack-pod-identity-webhook.
	Name string `json:"name"`
	// Version installed.
	Version string `json:"version,omitempty"`
	// State is "active" once installed.
	State string `json:"state,omitempty"`
	// Config is the add-on configuration JSON.
	Config string `json:"config,omitempty"`
}

// ClusterLog is one cluster log line.
type ClusterLog struct {
	// ID is a sequence number.
	ID int64 `json:"id"`
	// Created is RFC 3339.
	Created string `json:"created"`
	// Message is the log text; it starts with a level tag such as "[INFO]" or "[ERROR]".
	Message string `json:"message"`
}

// Duration is a time.Duration written in seeds as a Go duration string ("2s", "1m30s").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"2s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q: want a non-negative Go duration such as \"2s\"", s)
	}
	*d = Duration(v)
	return nil
}

// DefaultIssuer is the service account token issuer a cluster gets when its seed names none; the
// kube-apiserver of `make demo-up` uses the same one.
func DefaultIssuer(clusterID string) string { return "https://oidc-ack.emulator.invalid/" + clusterID }

// ParseSeed parses a YAML or JSON seed.
func ParseSeed(data []byte) (*Seed, error) {
	var s Seed
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("parse seed: %w", err)
	}
	return &s, nil
}

// LoadSeed reads and parses a seed file.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	s, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// DefaultSeed returns a fresh random seed: one account, an admin RAM user with one access key, and
// one running cluster in cn-hangzhou with RRSA disabled but ready to enable: the emulator gives
// it service-account signing keys (see Info.ServiceAccountKeyFile) and DefaultIssuer.
func DefaultSeed() (*Seed, error) {
	acct, err := randomDigits(16, "1")
	if err != nil {
		return nil, err
	}
	uid, err := randomDigits(17, "2")
	if err != nil {
		return nil, err
	}
	ak, err := newAccessKey("LTAI")
	if err != nil {
		return nil, err
	}
	cid, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	return &Seed{
		Accounts: []AccountSeed{{
			ID:    acct,
			Users: []UserSeed{{Name: "admin", ID: uid, AccessKeys: []AccessKey{ak}}},
		}},
		Clusters: []ClusterSeed{{
			ID:                   "c" + cid,
			AccountID:            acct,
			Name:                 "demo",
			RegionID:             "cn-hangzhou",
			State:                "running",
			APIServerURL:         "https://127.0.0.1:6443",
			ServiceAccountIssuer: DefaultIssuer("c" + cid),
		}},
	}, nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int, alphabet string) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String(), nil
}

func randomDigits(n int, prefix string) (string, error) {
	s, err := randomString(n-len(prefix), "0123456789")
	return prefix + s, err
}

func randomHex(nBytes int) (string, error) {
	return randomString(nBytes*2, "0123456789abcdef")
}

func newAccessKey(prefix string) (AccessKey, error) {
	id, err := randomString(20, alnum)
	if err != nil {
		return AccessKey{}, err
	}
	secret, err := randomString(30, alnum)
	if err != nil {
		return AccessKey{}, err
	}
	return AccessKey{ID: prefix + id, Secret: secret}, nil
}
