package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	alicred "github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// envMap turns a map into an Options.Env lookup.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes content under dir, creating parents.
func writeFile(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeSTS records calls and returns deterministic temporary credentials.
type fakeSTS struct {
	mu       sync.Mutex
	now      func() time.Time
	lifetime time.Duration
	err      error
	calls    []fakeCall
}

type fakeCall struct {
	action, roleARN, session, endpoint, baseAK, providerARN, token string
	duration                                                       time.Duration
}

func newFakeSTS() *fakeSTS {
	return &fakeSTS{now: time.Now, lifetime: time.Hour}
}

func (f *fakeSTS) factory() func(cred alicred.Credential, ep cloud.Endpoints) (stsAPI, error) {
	return func(cred alicred.Credential, ep cloud.Endpoints) (stsAPI, error) {
		return &fakeSTSClient{f: f, cred: cred, endpoint: ep.STS}, nil
	}
}

func (f *fakeSTS) snapshot() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

type fakeSTSClient struct {
	f        *fakeSTS
	cred     alicred.Credential
	endpoint string
}

func (c *fakeSTSClient) creds(prefix string) cloud.STSCredentials {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	n := len(c.f.calls)
	return cloud.STSCredentials{
		AccessKeyID:     fmt.Sprintf("STS.%s.%d", prefix, n),
		AccessKeySecret: "sts-secret",
		SecurityToken:   "sts-token",
		Expiration:      c.f.now().Add(c.f.lifetime),
	}
}

func (c *fakeSTSClient) record(call fakeCall) error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.calls = append(c.f.calls, call)
	return c.f.err
}

func (c *fakeSTSClient) AssumeRole(_ context.Context, in cloud.AssumeRoleInput) (*cloud.AssumeRoleOutput, error) {
	m, err := c.cred.GetCredential()
	if err != nil {
		return nil, fmt.Errorf("base credential: %w", err)
	}
	if err := c.record(fakeCall{action: "AssumeRole", roleARN: in.RoleARN, session: in.SessionName, endpoint: c.endpoint,
		baseAK: *m.AccessKeyId, duration: in.Duration}); err != nil {
		return nil, err
	}
	name := in.RoleARN[strings.LastIndex(in.RoleARN, "/")+1:]
	return &cloud.AssumeRoleOutput{Credentials: c.creds(name)}, nil
}

func (c *fakeSTSClient) AssumeRoleWithOIDC(_ context.Context, in cloud.AssumeRoleWithOIDCInput) (*cloud.AssumeRoleWithOIDCOutput, error) {
	if c.cred != nil {
		return nil, fmt.Errorf("AssumeRoleWithOIDC must be anonymous")
	}
	if err := c.record(fakeCall{action: "AssumeRoleWithOIDC", roleARN: in.RoleARN, session: in.SessionName, endpoint: c.endpoint,
		providerARN: in.OIDCProviderARN, token: in.OIDCToken, duration: in.Duration}); err != nil {
		return nil, err
	}
	return &cloud.AssumeRoleWithOIDCOutput{Credentials: c.creds("oidc")}, nil
}

// fakeECS counts constructions of the ECS metadata provider.
type fakeECS struct {
	mu    sync.Mutex
	roles []string
}

func (f *fakeECS) factory(roleName string) (provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles = append(f.roles, roleName)
	return staticProvider{c: Credentials{AccessKeyID: "STS.ecs", AccessKeySecret: "ecs-secret", SecurityToken: "ecs-token"}}, nil
}

func (f *fakeECS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.roles)
}

// testResolver builds a resolver with fakes for the network-bound parts.
func testResolver(o Options, sts *fakeSTS, ecs *fakeECS) *resolver {
	r := newResolver(o)
	r.newSTS = sts.factory()
	r.newECS = ecs.factory
	return r
}

func lookupProcessEnv(k string) string { return os.Getenv(k) }
