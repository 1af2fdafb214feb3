package cloud

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

// GetOIDCProvider through the real SDK's signed call: the provider enabling RRSA creates, a
// changed one, and a deleted one.
func TestRAMGetOIDCProvider(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	name := "ack-rrsa-" + env.info.ClusterID
	if _, err := env.cl.RAM.GetOIDCProvider(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before RRSA is enabled: %v, want ErrNotFound", err)
	}
	if err := env.srv.UpdateCluster(env.info.ClusterID, func(c *emulator.Cluster) { c.RRSA.Enabled = true }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		change  func() error
		want    *OIDCProvider
		wantErr error
	}{
		{name: "created by enabling RRSA", change: func() error { return nil }, want: &OIDCProvider{
			Name: name, ARN: "acs:ram::" + env.info.AccountID + ":oidc-provider/" + name,
			IssuerURL: env.info.ServiceAccountIssuer, ClientIDs: []string{"sts.aliyuncs.com"}}},
		{name: "changed client IDs and fingerprints", change: func() error {
			return env.srv.SetOIDCProvider(emulator.OIDCProvider{AccountID: env.info.AccountID, Name: name,
				IssuerURL: "https://other.example", ClientIDs: []string{"a", "b"}, Fingerprints: []string{"f1"}})
		}, want: &OIDCProvider{Name: name, ARN: "acs:ram::" + env.info.AccountID + ":oidc-provider/" + name,
			IssuerURL: "https://other.example", ClientIDs: []string{"a", "b"}, Fingerprints: []string{"f1"}}},
		{name: "deleted", change: func() error { return env.srv.DeleteOIDCProvider(env.info.AccountID, name) }, wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			got, err := env.cl.RAM.GetOIDCProvider(ctx, name)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.CreateDate == "" || got.UpdateDate == "" {
				t.Errorf("dates missing: %+v", got)
			}
			got.CreateDate, got.UpdateDate, got.Description = "", "", ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GetOIDCProvider = %+v, want %+v", got, tt.want)
			}
		})
	}
	if n := env.srv.Calls("ram", "GetOIDCProvider"); n != 4 {
		t.Errorf("the emulator counted %d GetOIDCProvider calls, want 4", n)
	}
}

func TestIMSEndpoint(t *testing.T) {
	tests := []struct {
		ep   Endpoints
		want string
	}{
		{Endpoints{}, "ims.aliyuncs.com"},
		{Endpoints{VPC: true}, "ims.vpc-proxy.aliyuncs.com"},
		{Endpoints{RAM: "127.0.0.1:8443"}, "127.0.0.1:8443"},
		{Endpoints{RAM: "ram.example.internal"}, "ram.example.internal"},
	}
	for _, tt := range tests {
		if got := imsEndpoint(tt.ep.RAMEndpoint()); got != tt.want {
			t.Errorf("imsEndpoint(%+v) = %q, want %q", tt.ep, got, tt.want)
		}
	}
}
