package crd

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

func TestRuleFromMapping(t *testing.T) {
	mk := func(name, a, user string, groups ...string) *v1alpha1.RAMIdentityMapping {
		return &v1alpha1.RAMIdentityMapping{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       v1alpha1.RAMIdentityMappingSpec{ARN: a, Username: user, Groups: groups},
			// A user-written status must never influence the rule.
			Status: v1alpha1.RAMIdentityMappingStatus{CanonicalARN: "acs:ram::1:role/evil"},
		}
	}
	tests := []struct {
		name    string
		in      *v1alpha1.RAMIdentityMapping
		want    mapper.Rule
		wantErr string
	}{
		{name: "role", in: mk("dev", "acs:ram::123:role/dev", "dev:{{SessionName}}", "devs"),
			want: mapper.Rule{Source: "crd:dev", ARN: "acs:ram::123:role/dev", Username: "dev:{{SessionName}}", Groups: []string{"devs"}}},
		{name: "glob", in: mk("all", " acs:ram::123:role/* ", "x"),
			want: mapper.Rule{Source: "crd:all", ARN: "acs:ram::123:role/*", Username: "x"}},
		{name: "empty arn", in: mk("e", "", "x"), wantErr: "spec.arn is required"},
		{name: "bad arn", in: mk("b", "arn:aws:iam::1:role/x", "x"), wantErr: `"b"`},
		{name: "bad template", in: mk("t", "acs:ram::123:role/dev", "{{Nope}}"), wantErr: "username"},
		{name: "no username", in: mk("u", "acs:ram::123:role/dev", ""), wantErr: "username is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RuleFromMapping(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != tt.want.Source || got.ARN != tt.want.ARN || got.Username != tt.want.Username || strings.Join(got.Groups, ",") != strings.Join(tt.want.Groups, ",") {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	rules, errs := RulesFromMappings([]*v1alpha1.RAMIdentityMapping{mk("ok", "acs:ram::1:user/a", "a"), mk("bad", "", "b")})
	if len(rules) != 1 || len(errs) != 1 {
		t.Fatalf("RulesFromMappings: %d rules, %d errors; want 1 and 1", len(rules), len(errs))
	}
}
