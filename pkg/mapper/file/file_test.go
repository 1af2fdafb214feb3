package file_test

import (
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/file"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func TestMapper(t *testing.T) {
	// The official README's mapUsers entry, in its spelling.
	rules, err := mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::000000000000:user/Alice", Username: "alice", Groups: []string{"system:masters"}}}}.Rules()
	if err != nil {
		t.Fatal(err)
	}
	m := file.New(rules)
	if m.Name() != mapper.MapperMountedFile || len(m.Rules()) != 1 {
		t.Fatalf("Name %q, %d rules", m.Name(), len(m.Rules()))
	}
	tests := []struct {
		arn  string
		want string
	}{
		{"acs:ram::000000000000:user/alice", "alice"},
		{"acs:ram::000000000000:user/bob", ""},
	}
	for _, tc := range tests {
		res, ok, err := m.Map(token.Identity{AccountID: "000000000000", ARN: tc.arn, CanonicalARN: tc.arn})
		if err != nil || ok != (tc.want != "") || ok && res.Username != tc.want {
			t.Errorf("Map(%s) = %+v, %v, %v; want %q", tc.arn, res, ok, err, tc.want)
		}
	}
}
