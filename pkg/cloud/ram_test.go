package cloud

import (
	"errors"
	"sort"
	"testing"
)

const trustDoc = `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`
const trustDoc2 = `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com","fc.aliyuncs.com"]}}]}`
const policyDoc = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`
const policyDoc2 = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject","oss:ListObjects"],"Resource":"*"}]}`

func TestRAMRoleLifecycle(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	ram := env.cl.RAM

	if _, err := ram.GetRole(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRole(missing) = %v, want ErrNotFound", err)
	}
	created, err := ram.CreateRole(ctx, CreateRoleInput{Name: "app", AssumeRolePolicyDocument: trustDoc, Description: "test role", MaxSessionDuration: 7200})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	wantARN := "acs:ram::" + env.info.AccountID + ":role/app"
	if created.Name != "app" || created.ARN != wantARN || created.RoleID == "" || created.Description != "test role" ||
		created.MaxSessionDuration != 7200 || created.CreateDate == "" || created.AssumeRolePolicyDocument == "" {
		t.Fatalf("created = %+v", *created)
	}
	if _, err := ram.CreateRole(ctx, CreateRoleInput{Name: "app", AssumeRolePolicyDocument: trustDoc}); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("CreateRole(dup) = %v, want ErrAlreadyExists", err)
	}
	if _, err := ram.CreateRole(ctx, CreateRoleInput{Name: "bad", AssumeRolePolicyDocument: "{not json"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CreateRole(malformed) = %v, want ErrInvalid", err)
	}
	got, err := ram.GetRole(ctx, "app")
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if got.RoleID != created.RoleID || got.ARN != wantARN || !sameJSON(t, got.AssumeRolePolicyDocument, trustDoc) {
		t.Fatalf("GetRole = %+v", *got)
	}
	updated, err := ram.UpdateRole(ctx, "app", trustDoc2)
	if err != nil {
		t.Fatalf("UpdateRole: %v", err)
	}
	if !sameJSON(t, updated.AssumeRolePolicyDocument, trustDoc2) || updated.RoleID != created.RoleID {
		t.Fatalf("UpdateRole = %+v", *updated)
	}
	if got, err = ram.GetRole(ctx, "app"); err != nil || !sameJSON(t, got.AssumeRolePolicyDocument, trustDoc2) {
		t.Fatalf("GetRole after update = %+v, %v", got, err)
	}
	if _, err := ram.UpdateRole(ctx, "missing", trustDoc2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateRole(missing) = %v, want ErrNotFound", err)
	}

	// Policies.
	p, err := ram.CreatePolicy(ctx, "read-oss", policyDoc, "read objects")
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	if p.Name != "read-oss" || p.Type != PolicyTypeCustom || p.DefaultVersion == "" {
		t.Fatalf("CreatePolicy = %+v", *p)
	}
	if _, err := ram.CreatePolicy(ctx, "read-oss", policyDoc, ""); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("CreatePolicy(dup) = %v, want ErrAlreadyExists", err)
	}
	if _, err := ram.CreatePolicy(ctx, "broken", "[]", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CreatePolicy(malformed) = %v, want ErrInvalid", err)
	}
	gp, err := ram.GetPolicy(ctx, "read-oss", PolicyTypeCustom)
	if err != nil || !sameJSON(t, gp.Document, policyDoc) || gp.Description != "read objects" {
		t.Fatalf("GetPolicy = %+v, %v", gp, err)
	}
	if err := ram.CreatePolicyVersion(ctx, "read-oss", policyDoc2, true); err != nil {
		t.Fatalf("CreatePolicyVersion: %v", err)
	}
	gp2, err := ram.GetPolicy(ctx, "read-oss", PolicyTypeCustom)
	if err != nil || !sameJSON(t, gp2.Document, policyDoc2) || gp2.DefaultVersion == gp.DefaultVersion {
		t.Fatalf("GetPolicy after new default version = %+v (before %q), %v", gp2, gp.DefaultVersion, err)
	}
	if err := ram.CreatePolicyVersion(ctx, "missing", policyDoc2, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreatePolicyVersion(missing) = %v, want ErrNotFound", err)
	}
	sys, err := ram.GetPolicy(ctx, "AliyunOSSReadOnlyAccess", PolicyTypeSystem)
	if err != nil || sys.Type != PolicyTypeSystem || sys.Document == "" {
		t.Fatalf("GetPolicy(system) = %+v, %v", sys, err)
	}
	if _, err := ram.GetPolicy(ctx, "nope", PolicyTypeCustom); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetPolicy(missing) = %v, want ErrNotFound", err)
	}

	// Attachments.
	if err := ram.AttachPolicyToRole(ctx, PolicyTypeCustom, "read-oss", "app"); err != nil {
		t.Fatalf("AttachPolicyToRole(custom): %v", err)
	}
	if err := ram.AttachPolicyToRole(ctx, PolicyTypeSystem, "AliyunOSSReadOnlyAccess", "app"); err != nil {
		t.Fatalf("AttachPolicyToRole(system): %v", err)
	}
	if err := ram.AttachPolicyToRole(ctx, PolicyTypeCustom, "read-oss", "app"); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("AttachPolicyToRole(dup) = %v, want ErrAlreadyExists", err)
	}
	if err := ram.AttachPolicyToRole(ctx, PolicyTypeCustom, "read-oss", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AttachPolicyToRole(missing role) = %v, want ErrNotFound", err)
	}
	if got := policyNames(t, env, "app"); len(got) != 2 || got[0] != "AliyunOSSReadOnlyAccess/System" || got[1] != "read-oss/Custom" {
		t.Fatalf("ListPoliciesForRole = %v", got)
	}
	if err := ram.DeleteRole(ctx, "app"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DeleteRole(with policies) = %v, want ErrInvalid (delete conflict)", err)
	}
	if err := ram.DetachPolicyFromRole(ctx, PolicyTypeCustom, "read-oss", "app"); err != nil {
		t.Fatalf("DetachPolicyFromRole: %v", err)
	}
	if got := policyNames(t, env, "app"); len(got) != 1 || got[0] != "AliyunOSSReadOnlyAccess/System" {
		t.Fatalf("ListPoliciesForRole after detach = %v", got)
	}
	if err := ram.DetachPolicyFromRole(ctx, PolicyTypeCustom, "read-oss", "app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DetachPolicyFromRole(not attached) = %v, want ErrNotFound", err)
	}
	if err := ram.DetachPolicyFromRole(ctx, PolicyTypeSystem, "AliyunOSSReadOnlyAccess", "app"); err != nil {
		t.Fatalf("DetachPolicyFromRole(system): %v", err)
	}
	if _, err := ram.ListPoliciesForRole(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ListPoliciesForRole(missing) = %v, want ErrNotFound", err)
	}
	if err := ram.DeleteRole(ctx, "app"); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	if _, err := ram.GetRole(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRole after delete = %v, want ErrNotFound", err)
	}
	if err := ram.DeleteRole(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteRole(missing) = %v, want ErrNotFound", err)
	}
}

func policyNames(t *testing.T, env *testEnv, role string) []string {
	t.Helper()
	ps, err := env.cl.RAM.ListPoliciesForRole(ctxT(t), role)
	if err != nil {
		t.Fatalf("ListPoliciesForRole: %v", err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"/"+p.Type)
	}
	sort.Strings(out)
	return out
}
