package rrsa_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

const (
	tProvider = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
	tIssuer   = "https://oidc.example.test/c1"
	tForeign  = `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}`
)

// ramEnv is an emulator and a real RAM client for its admin.
type ramEnv struct {
	srv     *emulator.Server
	ram     *cloud.RAM
	account string
}

func newRAMEnv(t *testing.T, roles ...emulator.RoleSeed) *ramEnv {
	t.Helper()
	seed, err := emulator.DefaultSeed()
	if err != nil {
		t.Fatal(err)
	}
	seed.Accounts[0].Roles = roles
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	in := srv.Info()
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").
		SetAccessKeyId(in.AccessKeyID).SetAccessKeySecret(in.AccessKeySecret))
	if err != nil {
		t.Fatal(err)
	}
	ram, err := cloud.NewRAM(cred, cloud.Endpoints{RAM: in.Endpoint, RegionID: in.RegionID})
	if err != nil {
		t.Fatal(err)
	}
	return &ramEnv{srv: srv, ram: ram, account: in.AccountID}
}

func (e *ramEnv) doc(t *testing.T, role string) string {
	t.Helper()
	r, ok := e.srv.Role(e.account, role)
	if !ok {
		t.Fatalf("role %s missing", role)
	}
	return r.AssumeRolePolicyDocument
}

func associate(ns, sa string) func(*rrsa.Policy) (*rrsa.Policy, bool, error) {
	return func(p *rrsa.Policy) (*rrsa.Policy, bool, error) {
		return rrsa.Merge(p, rrsa.Statement{OIDCProviderARN: tProvider, Issuer: tIssuer, Namespace: ns, ServiceAccount: sa})
	}
}

func disassociate(ns, sa string) func(*rrsa.Policy) (*rrsa.Policy, bool, error) {
	return func(p *rrsa.Policy) (*rrsa.Policy, bool, error) { return rrsa.Remove(p, tProvider, tIssuer, ns, sa) }
}

func plan(t *testing.T, ed rrsa.TrustEditor, ch rrsa.TrustChange) *rrsa.Plan {
	t.Helper()
	p, err := ed.Plan(context.Background(), ch)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

func TestTrustEditorCreateUpdateNoop(t *testing.T) {
	env := newRAMEnv(t)
	ed := rrsa.TrustEditor{Roles: env.ram}
	ctx := context.Background()
	if _, err := ed.Plan(ctx, rrsa.TrustChange{Role: "app", Edit: associate("default", "app")}); !errors.Is(err, rrsa.ErrRoleNotFound) {
		t.Fatalf("missing role without CreateIfMissing: %v", err)
	}
	p := plan(t, ed, rrsa.TrustChange{Role: "app", Edit: associate("default", "app"), CreateIfMissing: true, Description: "d"})
	if p.Exists || !p.Changed || p.CurrentDoc != "" {
		t.Fatalf("plan for a new role: %+v", p)
	}
	res, err := ed.Apply(ctx, p)
	if err != nil || !res.Created {
		t.Fatalf("Apply: %+v %v", res, err)
	}
	if r, _ := env.srv.Role(env.account, "app"); r.Description != "d" || !rrsa.Equal(r.AssumeRolePolicyDocument, p.NewDoc) {
		t.Errorf("created role: %+v", r)
	}
	p = plan(t, ed, rrsa.TrustChange{Role: "app", Edit: associate("default", "worker")})
	if d, _ := p.Diff(); !strings.Contains(d, "+") || !p.Exists {
		t.Errorf("diff of an update: %q", d)
	}
	if res, err := ed.Apply(ctx, p); err != nil || !res.Updated {
		t.Fatalf("Apply update: %+v %v", res, err)
	}
	updates := env.srv.Calls("ram", "UpdateRole")
	p = plan(t, ed, rrsa.TrustChange{Role: "app", Edit: associate("default", "worker")})
	if res, err := ed.Apply(ctx, p); err != nil || p.Changed || res.Updated || env.srv.Calls("ram", "UpdateRole") != updates {
		t.Errorf("no-op change wrote: %+v %v", res, err)
	}
}

// Removing the last statement never reaches RAM as an empty policy (which RAM refuses) and never
// replaces it with something that trusts more: without DeleteIfEmpty it stops and says so, with
// it the role's policies are detached and the role is deleted.
func TestTrustEditorLastStatement(t *testing.T) {
	only := `{"Version":"1","Statement":[` + rrsaStatement(t, "default", "app") + `]}`
	env := newRAMEnv(t, emulator.RoleSeed{Name: "app", TrustPolicy: only,
		AttachedPolicies: []emulator.PolicyRef{{Name: "AliyunOSSReadOnlyAccess", Type: "System"}}})
	ed := rrsa.TrustEditor{Roles: env.ram}
	ctx := context.Background()
	_, err := ed.Plan(ctx, rrsa.TrustChange{Role: "app", Edit: disassociate("default", "app")})
	var last *rrsa.LastStatementError
	if !errors.As(err, &last) || !errors.Is(err, rrsa.ErrLastStatement) || len(last.Attached) != 1 || last.Attached[0].Name != "AliyunOSSReadOnlyAccess" {
		t.Fatalf("Plan = %v, want a LastStatementError listing the attached policy", err)
	}
	if env.srv.Calls("ram", "UpdateRole") != 0 || !rrsa.Equal(env.doc(t, "app"), only) {
		t.Fatal("the policy was written")
	}
	p := plan(t, ed, rrsa.TrustChange{Role: "app", Edit: disassociate("default", "app"), DeleteIfEmpty: true})
	if !p.DeleteRole || len(p.Detach) != 1 {
		t.Fatalf("plan: %+v", p)
	}
	res, err := ed.Apply(ctx, p)
	if err != nil || !res.Deleted || len(res.Detached) != 1 {
		t.Fatalf("Apply: %+v %v", res, err)
	}
	if _, ok := env.srv.Role(env.account, "app"); ok {
		t.Error("role still exists")
	}
	if env.srv.Calls("ram", "UpdateRole") != 0 {
		t.Error("UpdateRole was called")
	}
}

func rrsaStatement(t *testing.T, ns, sa string) string {
	t.Helper()
	p, _, err := rrsa.Merge(rrsa.NewPolicy(), rrsa.Statement{OIDCProviderARN: tProvider, Issuer: tIssuer, Namespace: ns, ServiceAccount: sa})
	if err != nil {
		t.Fatal(err)
	}
	return string(p.Statement[0])
}

// racingStore is RAM with another writer that replaces the trust policy just before the n-th
// GetRole (counting from 1) or right after UpdateRole.
type racingStore struct {
	rrsa.RoleStore
	env         *ramEnv
	t           *testing.T
	beforeGet   int
	afterUpdate bool
	gets        int
	doc         string
}

func (s *racingStore) GetRole(ctx context.Context, name string) (*cloud.Role, error) {
	s.gets++
	if s.gets == s.beforeGet {
		s.race(name)
	}
	return s.RoleStore.GetRole(ctx, name)
}

func (s *racingStore) UpdateRole(ctx context.Context, name, doc string) (*cloud.Role, error) {
	r, err := s.RoleStore.UpdateRole(ctx, name, doc)
	if s.afterUpdate {
		s.race(name)
	}
	return r, err
}

func (s *racingStore) race(name string) {
	if err := s.env.srv.SetRoleTrustPolicy(s.env.account, name, s.doc); err != nil {
		s.t.Error(err)
	}
}

func TestTrustEditorConcurrentModification(t *testing.T) {
	start := `{"Version":"1","Statement":[` + tForeign + `]}`
	other := `{"Version":"1","Statement":[` + tForeign + `,{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1:root"]}}]}`
	tests := []struct {
		name   string
		store  func(env *ramEnv, t *testing.T) *racingStore
		wantIn string
	}{
		{name: "between read and write", wantIn: "nothing was written", store: func(env *ramEnv, t *testing.T) *racingStore {
			return &racingStore{RoleStore: env.ram, env: env, t: t, beforeGet: 2, doc: other}
		}},
		{name: "after write", wantIn: "no longer has our change", store: func(env *ramEnv, t *testing.T) *racingStore {
			return &racingStore{RoleStore: env.ram, env: env, t: t, afterUpdate: true, doc: other}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRAMEnv(t, emulator.RoleSeed{Name: "app", TrustPolicy: start})
			ed := rrsa.TrustEditor{Roles: tt.store(env, t)}
			verify := func(p *rrsa.Policy) bool {
				return rrsa.Contains(p, rrsa.Statement{OIDCProviderARN: tProvider, Issuer: tIssuer, Namespace: "default", ServiceAccount: "app"})
			}
			p := plan(t, ed, rrsa.TrustChange{Role: "app", Edit: associate("default", "app"), Verify: verify})
			_, err := ed.Apply(context.Background(), p)
			if !errors.Is(err, rrsa.ErrConcurrentModification) || !strings.Contains(err.Error(), tt.wantIn) || !strings.Contains(err.Error(), "re-run") {
				t.Fatalf("Apply = %v", err)
			}
			if doc := env.doc(t, "app"); !rrsa.Equal(doc, other) {
				t.Errorf("the other writer's policy was overwritten: %s", doc)
			}
		})
	}
}
