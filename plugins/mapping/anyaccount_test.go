package mapping

import (
	"strings"
	"testing"
)

// TestAnyAccountMappings: an ARN with a wildcard account id needs --allow-any-account (or
// allowAnyAccount: true in a config file); add warns about the widened scope, explain shows it,
// and import/export keep the opt-in.
func TestAnyAccountMappings(t *testing.T) {
	f := newFixture(t)
	const anyAuditor = "acs:ram::*:role/auditor"
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    []string
		wantNotOut []string
		wantNotErr []string
		wantCount  int
	}{
		{name: "wildcard account refused", args: []string{"add", "--arn", anyAuditor, "--username", "auditor"},
			wantCode: 2, wantErr: []string{"wildcard in its account id", "accounts you do not control", "--allow-any-account"}},
		{name: "question mark account refused", args: []string{"add", "--arn", "acs:ram::12345678?0:user/x", "--username", "x"},
			wantCode: 2, wantErr: []string{"--allow-any-account"}},
		{name: "client dry run shows the opt-in", args: []string{"add", "--arn", anyAuditor, "--username", "auditor", "--allow-any-account", "--dry-run=client", "-o", "yaml"},
			wantOut: []string{"allowAnyAccount: true", "arn: " + anyAuditor}, wantErr: []string{"Warning:", "ANY Alibaba Cloud account"}},
		{name: "opt-in creates it and warns", args: []string{"add", "--arn", anyAuditor, "--username", "auditor:{{AccountID}}", "--allow-any-account"},
			wantOut: []string{"created"}, wantErr: []string{"Warning: " + anyAuditor + " matches identities of ANY Alibaba Cloud account"}, wantCount: 1},
		{name: "flag on one account has no effect", args: []string{"add", "--arn", "acs:ram::1234567890:role/dev", "--username", "dev", "--allow-any-account"},
			wantOut: []string{"created"}, wantErr: []string{"Note: --allow-any-account has no effect"}, wantNotErr: []string{"Warning"}, wantCount: 2},
		{name: "explain shows the scope", args: []string{"explain", "--arn", "acs:ram::5555:assumed-role/auditor/s"},
			wantOut: []string{"RAMIdentityMapping " + DeriveName(anyAuditor), "Scope:          ANY Alibaba Cloud account (allowAnyAccount)", "Username:       auditor:5555"}, wantCount: 2},
		{name: "explain json", args: []string{"explain", "--arn", "acs:ram::5555:role/auditor", "-o", "json"},
			wantOut: []string{`"anyAccount": true`}, wantCount: 2},
		{name: "explain of a one-account rule shows no scope line", args: []string{"explain", "--arn", "acs:ram::1234567890:role/dev"},
			wantOut: []string{"Matched by:"}, wantNotOut: []string{"Scope:"}, wantCount: 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := f.run(t, "", s.args...)
			if r.code != s.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", r.code, s.wantCode, r)
			}
			contains(t, "stdout", r.stdout, s.wantOut...)
			contains(t, "stderr", r.stderr, s.wantErr...)
			lacks(t, "stdout", r.stdout, s.wantNotOut...)
			lacks(t, "stderr", r.stderr, s.wantNotErr...)
			if got := len(f.list(t)); got != s.wantCount {
				t.Errorf("%d mappings, want %d", got, s.wantCount)
			}
		})
	}
	got := f.list(t)
	if m := got[DeriveName(anyAuditor)]; !m.Spec.AllowAnyAccount {
		t.Errorf("stored spec %+v lacks allowAnyAccount", m.Spec)
	}
	if m := got[DeriveName("acs:ram::1234567890:role/dev")]; m.Spec.AllowAnyAccount {
		t.Errorf("one-account mapping stored with allowAnyAccount: %+v", m.Spec)
	}

	// export writes the opt-in and import needs it.
	r := f.ok(t, "export")
	contains(t, "export", r.stdout, "roleARN: "+anyAuditor, "allowAnyAccount: true")
	exported := writeFile(t, "export.yaml", r.stdout)
	refused := writeFile(t, "refused.yaml", strings.ReplaceAll(r.stdout, "allowAnyAccount: true", ""))
	f.reset(t)
	if r := f.run(t, "", "import", "--from-config", refused); r.code == 0 || !strings.Contains(r.stderr, "allowAnyAccount: true") {
		t.Fatalf("import without the opt-in: %s", r)
	}
	f.ok(t, "import", "--from-config", exported)
	if m := f.list(t)[DeriveName(anyAuditor)]; !m.Spec.AllowAnyAccount {
		t.Errorf("imported spec %+v lacks allowAnyAccount", m.Spec)
	}
}

func lacks(t *testing.T, what, s string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(s, u) {
			t.Errorf("%s has %q:\n%s", what, u, s)
		}
	}
}
