package emulator_test

import (
	"testing"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestRAMRoleLifecycle(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newRAM(t, in, adminCreds(in), nil)
	trust := trustRAM(in.AccountID)
	step := func(name string, err error, wantCode string) {
		t.Helper()
		if got := errCode(t, err); got != wantCode {
			t.Fatalf("%s: code = %q, want %q (err %v)", name, got, wantCode, err)
		}
	}

	cr, err := cl.CreateRole(&ram.CreateRoleRequest{RoleName: tea.String("app-role"), AssumeRolePolicyDocument: tea.String(trust),
		Description: tea.String("demo"), MaxSessionDuration: tea.Int64(7200)})
	step("CreateRole", err, "")
	if got := tea.StringValue(cr.Body.Role.Arn); got != "acs:ram::"+in.AccountID+":role/app-role" {
		t.Errorf("Arn = %q", got)
	}
	_, err = cl.CreateRole(&ram.CreateRoleRequest{RoleName: tea.String("APP-role"), AssumeRolePolicyDocument: tea.String(trust)})
	step("CreateRole duplicate", err, "EntityAlreadyExists.Role")
	if errStatus(err) != 409 {
		t.Errorf("duplicate status = %d, want 409", errStatus(err))
	}
	_, err = cl.CreateRole(&ram.CreateRoleRequest{RoleName: tea.String("bad"), AssumeRolePolicyDocument: tea.String(`{"Version":"1"`)})
	step("CreateRole malformed", err, "MalformedPolicyDocument")
	_, err = cl.CreateRole(&ram.CreateRoleRequest{RoleName: tea.String("bad"), AssumeRolePolicyDocument: tea.String(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)})
	step("CreateRole no principal", err, "MalformedPolicyDocument")

	gr, err := cl.GetRole(&ram.GetRoleRequest{RoleName: tea.String("app-role")})
	step("GetRole", err, "")
	if tea.StringValue(gr.Body.Role.AssumeRolePolicyDocument) != trust || tea.Int64Value(gr.Body.Role.MaxSessionDuration) != 7200 ||
		tea.StringValue(gr.Body.Role.RoleId) == "" || tea.StringValue(gr.Body.Role.Description) != "demo" {
		t.Errorf("GetRole = %s", gr.Body.Role.String())
	}
	newTrust := trustRAM("acs:ram::" + in.AccountID + ":user/admin")
	ur, err := cl.UpdateRole(&ram.UpdateRoleRequest{RoleName: tea.String("app-role"), NewAssumeRolePolicyDocument: tea.String(newTrust)})
	step("UpdateRole", err, "")
	if tea.StringValue(ur.Body.Role.AssumeRolePolicyDocument) != newTrust {
		t.Errorf("UpdateRole did not change the trust policy")
	}
	if r, _ := srv.Role(in.AccountID, "app-role"); r.AssumeRolePolicyDocument != newTrust {
		t.Errorf("state trust policy = %q", r.AssumeRolePolicyDocument)
	}
	_, err = cl.UpdateRole(&ram.UpdateRoleRequest{RoleName: tea.String("app-role"), NewAssumeRolePolicyDocument: tea.String("nope")})
	step("UpdateRole malformed", err, "MalformedPolicyDocument")
	_, err = cl.UpdateRole(&ram.UpdateRoleRequest{RoleName: tea.String("ghost"), NewAssumeRolePolicyDocument: tea.String(trust)})
	step("UpdateRole missing", err, "EntityNotExist.Role")

	// Policies.
	gp, err := cl.GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String("AliyunOSSReadOnlyAccess"), PolicyType: tea.String("System")})
	step("GetPolicy system", err, "")
	if tea.StringValue(gp.Body.Policy.PolicyType) != "System" || tea.StringValue(gp.Body.DefaultPolicyVersion.PolicyDocument) == "" {
		t.Errorf("GetPolicy = %s", gp.Body.String())
	}
	_, err = cl.GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String("mine"), PolicyType: tea.String("Custom")})
	step("GetPolicy missing", err, "EntityNotExist.Policy")
	doc1 := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`
	doc2 := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`
	_, err = cl.CreatePolicy(&ram.CreatePolicyRequest{PolicyName: tea.String("mine"), PolicyDocument: tea.String(doc1)})
	step("CreatePolicy", err, "")
	_, err = cl.CreatePolicy(&ram.CreatePolicyRequest{PolicyName: tea.String("mine"), PolicyDocument: tea.String(doc1)})
	step("CreatePolicy duplicate", err, "EntityAlreadyExists.Policy")
	_, err = cl.CreatePolicy(&ram.CreatePolicyRequest{PolicyName: tea.String("broken"), PolicyDocument: tea.String("{}")})
	step("CreatePolicy malformed", err, "MalformedPolicyDocument")
	pv, err := cl.CreatePolicyVersion(&ram.CreatePolicyVersionRequest{PolicyName: tea.String("mine"), PolicyDocument: tea.String(doc2), SetAsDefault: tea.Bool(true)})
	step("CreatePolicyVersion", err, "")
	if tea.StringValue(pv.Body.PolicyVersion.VersionId) != "v2" || !tea.BoolValue(pv.Body.PolicyVersion.IsDefaultVersion) {
		t.Errorf("CreatePolicyVersion = %s", pv.Body.String())
	}
	gp, err = cl.GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String("mine"), PolicyType: tea.String("Custom")})
	step("GetPolicy custom", err, "")
	if tea.StringValue(gp.Body.Policy.DefaultVersion) != "v2" || tea.StringValue(gp.Body.DefaultPolicyVersion.PolicyDocument) != doc2 {
		t.Errorf("GetPolicy after new version = %s", gp.Body.String())
	}

	// Attachments.
	attach := func(typ, name string) error {
		_, err := cl.AttachPolicyToRole(&ram.AttachPolicyToRoleRequest{PolicyType: tea.String(typ), PolicyName: tea.String(name), RoleName: tea.String("app-role")})
		return err
	}
	step("Attach custom", attach("Custom", "mine"), "")
	step("Attach system", attach("System", "AliyunCSFullAccess"), "")
	step("Attach again", attach("System", "AliyunCSFullAccess"), "EntityAlreadyExists.Role.Policy")
	step("Attach missing policy", attach("System", "NoSuchPolicy"), "EntityNotExist.Policy")
	lp, err := cl.ListPoliciesForRole(&ram.ListPoliciesForRoleRequest{RoleName: tea.String("app-role")})
	step("ListPoliciesForRole", err, "")
	var names []string
	for _, p := range lp.Body.Policies.Policy {
		names = append(names, tea.StringValue(p.PolicyType)+"/"+tea.StringValue(p.PolicyName))
	}
	if len(names) != 2 || names[0] != "Custom/mine" || names[1] != "System/AliyunCSFullAccess" {
		t.Errorf("ListPoliciesForRole = %v", names)
	}
	_, err = cl.DeleteRole(&ram.DeleteRoleRequest{RoleName: tea.String("app-role")})
	step("DeleteRole with policies", err, "DeleteConflict.Role.Policy")
	for _, p := range [][2]string{{"Custom", "mine"}, {"System", "AliyunCSFullAccess"}} {
		_, err = cl.DetachPolicyFromRole(&ram.DetachPolicyFromRoleRequest{PolicyType: tea.String(p[0]), PolicyName: tea.String(p[1]), RoleName: tea.String("app-role")})
		step("Detach "+p[1], err, "")
	}
	_, err = cl.DetachPolicyFromRole(&ram.DetachPolicyFromRoleRequest{PolicyType: tea.String("Custom"), PolicyName: tea.String("mine"), RoleName: tea.String("app-role")})
	step("Detach again", err, "EntityNotExist.Role.Policy")
	_, err = cl.DeleteRole(&ram.DeleteRoleRequest{RoleName: tea.String("app-role")})
	step("DeleteRole", err, "")
	_, err = cl.GetRole(&ram.GetRoleRequest{RoleName: tea.String("app-role")})
	step("GetRole deleted", err, "EntityNotExist.Role")
	if errStatus(err) != 404 {
		t.Errorf("GetRole deleted status = %d, want 404", errStatus(err))
	}
	if srv.Calls("ram", "CreateRole") != 4 {
		t.Errorf("CreateRole calls = %d, want 4", srv.Calls("ram", "CreateRole"))
	}
}
