package textdist

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"whoami", "whoami", 0},
		{"whoam", "whoami", 1},
		{"kubeconfg", "kubeconfig", 1},
		{"verison", "version", 2},
		{"kitten", "sitting", 3},
		{"集群一", "集群二", 1}, // one rune, not three bytes
		{"intention", "execution", 5},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
