package mapper_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/crd"
)

// TestAnyAccountNeedsOptIn: an ARN pattern with a wildcard account id is refused by the one
// rule check that the static configuration, RAMIdentityMappings and ack-map share, unless the
// mapping sets allowAnyAccount; then it matches identities of other accounts.
func TestAnyAccountNeedsOptIn(t *testing.T) {
	tests := []struct {
		name       string
		arn        string
		allow      bool
		wantErr    bool
		wantAny    bool
		wantsMatch string // canonical ARN of another account the rule must then match
	}{
		{name: "star account refused", arn: "acs:ram::*:role/admin", wantErr: true},
		{name: "question mark in the account refused", arn: "acs:ram::12?:user/bob", wantErr: true},
		{name: "account prefix glob refused", arn: "acs:ram::1234*:root", wantErr: true},
		{name: "star account with opt-in", arn: "acs:ram::*:role/admin", allow: true, wantAny: true, wantsMatch: "acs:ram::999:role/admin"},
		{name: "question mark with opt-in", arn: "acs:ram::12?:user/bob", allow: true, wantAny: true, wantsMatch: "acs:ram::129:user/bob"},
		{name: "name glob needs no opt-in", arn: "acs:ram::123:role/*"},
		{name: "opt-in on a fixed account is harmless", arn: "acs:ram::123:role/admin", allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isRole := strings.Contains(tc.arn, ":role/")
			var sc mapper.StaticConfig
			if isRole {
				sc.MapRoles = []mapper.RoleMapping{{RoleARN: tc.arn, Username: "u", AllowAnyAccount: tc.allow}}
			} else {
				sc.MapUsers = []mapper.UserMapping{{UserARN: tc.arn, Username: "u", AllowAnyAccount: tc.allow}}
			}
			// The static file's key is allowAnyAccount.
			b, err := json.Marshal(sc)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"allowAnyAccount":true`) != tc.allow {
				t.Errorf("config JSON %s: allowAnyAccount not written as such", b)
			}
			static, staticErr := sc.Rules()
			m := &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "m"},
				Spec: v1alpha1.RAMIdentityMappingSpec{ARN: tc.arn, Username: "u", AllowAnyAccount: tc.allow}}
			crdRule, crdErr := crd.RuleFromMapping(m)
			for where, err := range map[string]error{"static config": staticErr, "RAMIdentityMapping": crdErr} {
				if tc.wantErr {
					if !errors.Is(err, mapper.ErrAnyAccount) || !strings.Contains(err.Error(), "allowAnyAccount: true") || !strings.Contains(err.Error(), tc.arn) {
						t.Errorf("%s: error %v, want ErrAnyAccount naming the pattern and the opt-in", where, err)
					}
				} else if err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
			if tc.wantErr {
				return
			}
			for _, r := range []mapper.Rule{static[0], crdRule} {
				if r.AnyAccount() != tc.wantAny {
					t.Errorf("%s: AnyAccount() = %v, want %v", r.Source, r.AnyAccount(), tc.wantAny)
				}
				if tc.wantsMatch == "" {
					continue
				}
				id := userID
				id.CanonicalARN, id.AccountID = tc.wantsMatch, strings.Split(tc.wantsMatch, ":")[3]
				if _, ok, err := mapper.Match([]mapper.Rule{r}, id); !ok || err != nil {
					t.Errorf("%s does not match %s of another account: %v", r.ARN, tc.wantsMatch, err)
				}
			}
		})
	}
}
