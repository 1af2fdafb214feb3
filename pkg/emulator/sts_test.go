package emulator_test

import (
	"strings"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestGetCallerIdentityShapes(t *testing.T) {
	seed := seedWith(t, emulator.RoleSeed{Name: "dev-role", TrustPolicy: trustRAM("acs:ram::ACCT:root")})
	acct := seed.Accounts[0].ID
	seed.Accounts[0].Roles[0].TrustPolicy = trustRAM("acs:ram::" + acct + ":root")
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	in := srv.Info()
	rootKey, err := srv.CreateRootAccessKey(acct)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := newSTS(t, in, adminCreds(in), nil).AssumeRole(&sts.AssumeRoleRequest{
		RoleArn: tea.String("acs:ram::" + acct + ":role/dev-role"), RoleSessionName: tea.String("alice@example.com"),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	role, _ := srv.Role(acct, "dev-role")
	c := ar.Body.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "STS.") || *c.SecurityToken == "" {
		t.Fatalf("unexpected credentials %+v", c)
	}
	if got := *ar.Body.AssumedRoleUser.AssumedRoleId; got != role.RoleID+":alice@example.com" {
		t.Errorf("AssumedRoleId = %q", got)
	}
	exp, err := time.Parse("2006-01-02T15:04:05Z", *c.Expiration)
	if err != nil || time.Until(exp) < 59*time.Minute || time.Until(exp) > 61*time.Minute {
		t.Errorf("Expiration = %q (%v), want about one hour from now", *c.Expiration, err)
	}
	tests := []struct {
		name                                     string
		creds                                    creds
		wantType, wantARN, wantPrincipal, wantID string
	}{
		{"ram user", adminCreds(in), "RAMUser", "acs:ram::" + acct + ":user/admin", in.UserID, in.UserID},
		{"root", creds{id: rootKey.ID, secret: rootKey.Secret}, "Account", "acs:ram::" + acct + ":root", acct, acct},
		{"assumed role", creds{id: *c.AccessKeyId, secret: *c.AccessKeySecret, token: *c.SecurityToken}, "AssumedRoleUser",
			"acs:ram::" + acct + ":assumed-role/dev-role/alice@example.com", role.RoleID + ":alice@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := newSTS(t, in, tt.creds, nil).GetCallerIdentity()
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			b := resp.Body
			if tea.StringValue(b.IdentityType) != tt.wantType || tea.StringValue(b.Arn) != tt.wantARN ||
				tea.StringValue(b.PrincipalId) != tt.wantPrincipal || tea.StringValue(b.UserId) != tt.wantID ||
				tea.StringValue(b.AccountId) != acct {
				t.Errorf("got %s", b.String())
			}
			if tt.wantType == "AssumedRoleUser" && tea.StringValue(b.RoleId) != role.RoleID {
				t.Errorf("RoleId = %q, want %q", tea.StringValue(b.RoleId), role.RoleID)
			}
		})
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	seed := seedWith(t,
		emulator.RoleSeed{Name: "only-bob", TrustPolicy: trustRAM("acs:ram::ACCT:user/bob")},
		emulator.RoleSeed{Name: "open", TrustPolicy: trustRAM("ACCT")},
	)
	acct := seed.Accounts[0].ID
	for i := range seed.Accounts[0].Roles {
		r := &seed.Accounts[0].Roles[i]
		r.TrustPolicy = strings.ReplaceAll(r.TrustPolicy, "ACCT", acct)
	}
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	in := srv.Info()
	_, bobKey, err := srv.CreateUser(acct, "bob")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		creds    creds
		role     string
		duration int64
		session  string
		wantCode string
	}{
		{"trusted user", creds{id: bobKey.ID, secret: bobKey.Secret}, "only-bob", 900, "s1", ""},
		{"untrusted user", adminCreds(in), "only-bob", 0, "s1", "NoPermission"},
		{"account principal", adminCreds(in), "open", 0, "s1", ""},
		{"missing role", adminCreds(in), "nope", 0, "s1", "EntityNotExist.Role"},
		{"duration too long", adminCreds(in), "open", 7200, "s1", "InvalidParameter.DurationSeconds"},
		{"duration too short", adminCreds(in), "open", 600, "s1", "InvalidParameter.DurationSeconds"},
		{"bad session name", adminCreds(in), "open", 0, "a", "InvalidParameter.RoleSessionName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &sts.AssumeRoleRequest{RoleArn: tea.String("acs:ram::" + acct + ":role/" + tt.role), RoleSessionName: tea.String(tt.session)}
			if tt.duration != 0 {
				req.DurationSeconds = tea.Int64(tt.duration)
			}
			_, err := newSTS(t, in, tt.creds, nil).AssumeRole(req)
			if got := errCode(t, err); got != tt.wantCode {
				t.Errorf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
		})
	}
}

// TestCredentialsGoRAMRoleARN drives credentials-go's own STS AssumeRole call (RPC with a form
// body) and uses the resulting credential with the SDK.
func TestCredentialsGoRAMRoleARN(t *testing.T) {
	seed := seedWith(t, emulator.RoleSeed{Name: "ops"})
	acct := seed.Accounts[0].ID
	seed.Accounts[0].Roles[0].TrustPolicy = trustRAM("acs:ram::" + acct + ":root")
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	in := srv.Info()
	cred, err := credentials.NewCredential(new(credentials.Config).
		SetType("ram_role_arn").
		SetAccessKeyId(in.AccessKeyID).SetAccessKeySecret(in.AccessKeySecret).
		SetRoleArn("acs:ram::" + acct + ":role/ops").SetRoleSessionName("cred-go").
		SetSTSEndpoint(in.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cred.GetCredential()
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if !strings.HasPrefix(tea.StringValue(m.AccessKeyId), "STS.") {
		t.Fatalf("AccessKeyId = %q, want an STS key", tea.StringValue(m.AccessKeyId))
	}
	cfg := sdkConfig(t, in, creds{}, nil)
	cfg.Credential = cred
	cl, err := sts.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.GetCallerIdentity()
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := tea.StringValue(resp.Body.Arn); got != "acs:ram::"+acct+":assumed-role/ops/cred-go" {
		t.Errorf("Arn = %q", got)
	}
	if srv.Calls("sts", "AssumeRole") != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", srv.Calls("sts", "AssumeRole"))
	}
}
