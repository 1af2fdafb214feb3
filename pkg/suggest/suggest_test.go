package suggest_test

import (
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/suggest"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"port", "port", 0}, {"prot", "port", 2}, {"backendmod", "backendmode", 1},
		{"", "abc", 3}, {"kitten", "sitting", 3}, {"héllo", "hello", 1},
	}
	for _, tc := range tests {
		if got := suggest.Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
