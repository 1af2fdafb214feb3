package dynamicfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/dynamicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func eventually(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		<-tick.C
	}
}

// replace writes content next to path and renames it over path, as editors and kubelet do.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		roles    int
		err      string
	}{
		// The official add-on's DynamicFile JSON, in its spelling.
		{name: "official JSON", in: `{"mapRoles":[{"rolearn":"acs:ram::1:role/a","username":"a","groups":["g"]}],"mapUsers":[],"mapAccounts":["1"]}`, roles: 1},
		{name: "YAML", in: "mapRoles:\n- roleARN: acs:ram::1:role/a\n  username: a\n", roles: 1},
		{name: "empty file", in: "  \n", roles: 0},
		{name: "unknown key", in: `{"mapRole":[]}`, err: `unknown field "mapRole"`},
		{name: "broken JSON", in: `{"mapRoles":[`, err: "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dynamicfile.Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(c.MapRoles) != tc.roles {
				t.Fatalf("Parse = %+v, %v; want %d roles", c, err, tc.roles)
			}
		})
	}
}

// TestMapperReloads runs the DynamicFile backend on a real file: it loads the file, applies an
// edit (written by rename, as editors do) without a restart, keeps the last good mappings when an
// edit is invalid and says why, recovers when the file is fixed, and maps nobody once the file is
// removed.
func TestMapperReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mappings.json")
	replace(t, path, `{"mapUsers":[{"userarn":"acs:ram::1:user/alice","username":"alice"}]}`)
	m := dynamicfile.New(path, nil)
	// A long poll: every reload below must come from the change notification.
	m.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	id := token.Identity{AccountID: "1", ARN: "acs:ram::1:user/alice", CanonicalARN: "acs:ram::1:user/alice", UserID: "u1"}
	user := func() string {
		res, ok, err := m.Map(id)
		switch {
		case err != nil:
			return "error: " + err.Error()
		case !ok:
			return "unmapped"
		}
		return res.Username
	}
	want := func(what, u string) {
		t.Helper()
		eventually(t, what, func() string {
			if got := user(); got != u {
				return got
			}
			return ""
		})
	}
	want("initial load", "alice")

	replace(t, path, `{"mapUsers":[{"userarn":"acs:ram::1:user/alice","username":"alice-v2"}]}`)
	want("edit applies", "alice-v2")

	replace(t, path, `{"mapUsers":[{"userarn":"acs:ram::1:user/alice","username":"{{Nope}}"}]}`)
	eventually(t, "invalid edit noticed", func() string {
		if m.LastError() == nil {
			return "no error recorded"
		}
		return ""
	})
	if !strings.Contains(m.LastError().Error(), "unknown placeholder") {
		t.Errorf("LastError = %v, want the reason", m.LastError())
	}
	if got := user(); got != "alice-v2" {
		t.Fatalf("after an invalid edit: %s, want the last good mapping", got)
	}

	// An in-place write (no rename) is noticed too.
	if err := os.WriteFile(path, []byte(`{"mapUsers":[{"userarn":"acs:ram::1:user/alice","username":"alice-v3"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want("fixed file applies", "alice-v3")
	if m.LastError() != nil {
		t.Errorf("LastError after a good load = %v", m.LastError())
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	want("removed file maps nobody", "unmapped")
}

// TestMapperPolls covers the safety net for file systems without notifications: a file created
// after start in a directory that did not exist yet is found by the poll.
func TestMapperPolls(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	path := filepath.Join(dir, "mappings.yaml")
	var seen []int
	obs := make(chan int, 8)
	m := dynamicfile.New(path, func(_ string, rules []mapper.Rule) { obs <- len(rules) })
	m.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "synced while the file is missing", func() string {
		if !m.HasSynced() {
			return "not synced"
		}
		return ""
	})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	replace(t, path, "mapAccounts: ['1']\n")
	eventually(t, "file found by polling", func() string {
		if len(m.Rules()) != 1 {
			return "no rules"
		}
		return ""
	})
	for len(obs) > 0 {
		seen = append(seen, <-obs)
	}
	if len(seen) != 2 || seen[0] != 0 || seen[1] != 1 {
		t.Errorf("observer saw rule counts %v, want [0 1]", seen)
	}
}
