package emulator_test

import (
	"strings"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

// AssumeRoleWithOIDC checks tokens against the RAM OIDC provider, which enabling RRSA creates:
// without it the call fails as on the real service, and a changed issuer URL or client ID list
// is what counts.
func TestAssumeRoleWithOIDCUsesTheRAMProvider(t *testing.T) {
	e := startOIDC(t)
	name := e.provider[strings.LastIndex(e.provider, "/")+1:]
	seeded, ok := e.srv.OIDCProvider(e.in.AccountID, name)
	if !ok || seeded.IssuerURL != testIssuer || strings.Join(seeded.ClientIDs, ",") != "sts.aliyuncs.com" || seeded.ARN() != e.provider {
		t.Fatalf("provider of the seeded RRSA cluster = %+v, %v", seeded, ok)
	}
	now := time.Now()
	token := signJWT(t, e.key, jwt.Claims{Issuer: testIssuer, Subject: "system:serviceaccount:apps:web",
		Audience: jwt.Audience{"sts.aliyuncs.com"}, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))})
	tests := []struct {
		name     string
		change   func(p *emulator.OIDCProvider) bool // false deletes the provider
		wantCode string
	}{
		{name: "as created", change: func(*emulator.OIDCProvider) bool { return true }},
		{name: "deleted", change: func(*emulator.OIDCProvider) bool { return false }, wantCode: "EntityNotExist.OIDCProvider"},
		{name: "other issuer URL", change: func(p *emulator.OIDCProvider) bool { p.IssuerURL = "https://other.example"; return true },
			wantCode: "AuthenticationFail.OIDCToken.Invalid"},
		{name: "client ID removed", change: func(p *emulator.OIDCProvider) bool { p.ClientIDs = []string{"other"}; return true },
			wantCode: "AuthenticationFail.OIDCToken.Invalid"},
		{name: "client ID among others", change: func(p *emulator.OIDCProvider) bool {
			p.ClientIDs = []string{"other", "sts.aliyuncs.com"}
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := seeded
			p.ClientIDs = append([]string(nil), seeded.ClientIDs...)
			if tt.change(&p) {
				if err := e.srv.SetOIDCProvider(p); err != nil {
					t.Fatal(err)
				}
			} else if err := e.srv.DeleteOIDCProvider(e.in.AccountID, name); err != nil {
				t.Fatal(err)
			}
			_, err := newSTS(t, e.in, creds{}, nil).AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
				RoleArn: tea.String(e.roleARN), OIDCProviderArn: tea.String(e.provider),
				OIDCToken: tea.String(token), RoleSessionName: tea.String("pod-session"),
			})
			if got := errCode(t, err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
		})
	}
}
