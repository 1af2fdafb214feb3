package login

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// newFleetFixture is a fixture whose emulator serves the fleet: eight clusters in four regions,
// "prod-web" in two of them, and three clusters that are not running.
func newFleetFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t, emulatortest.WithConfig(func(c *emulator.Config) { c.Fleet = true }))
}

// fleetID returns the id of the fleet cluster with that region and name.
func (f *fixture) fleetID(t *testing.T, region, name string) string {
	t.Helper()
	for _, c := range emulator.FleetClusters(f.info.AccountID) {
		if c.RegionID == region && c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no fleet cluster %s/%s", region, name)
	return ""
}

func TestClustersOutputs(t *testing.T) {
	f := newFleetFixture(t)
	webBJ := f.fleetID(t, "cn-beijing", "prod-web")
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, r result)
	}{
		{"table", nil, func(t *testing.T, r result) {
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 9 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "RRSA") {
				t.Fatalf("table:\n%s", r.stdout)
			}
			for _, want := range []string{webBJ + "   cn-beijing", "updating", "initial", "failed", "on"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("table lacks %q:\n%s", want, r.stdout)
				}
			}
			// Columns line up: every row has its id where the header has ID.
			col := strings.Index(lines[0], "ID")
			for _, l := range lines[1:] {
				if l[col] != 'c' || l[col-1] != ' ' {
					t.Errorf("misaligned row %q", l)
				}
			}
		}},
		{"wide region", []string{"--region", "cn-beijing", "-o", "wide"}, func(t *testing.T, r result) {
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 3 || !strings.Contains(lines[0], "INTRANET API SERVER") || !strings.Contains(lines[1], "https://127.0.0.1:6443") {
				t.Fatalf("wide:\n%s", r.stdout)
			}
		}},
		{"json", []string{"-o", "json"}, func(t *testing.T, r result) {
			var items []clusterItem
			if err := json.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 8 {
				t.Fatalf("json (%v):\n%s", err, r.stdout)
			}
			rrsa := 0
			for _, it := range items {
				if it.RRSAEnabled {
					rrsa++
				}
				if it.ClusterID == "" || it.RegionID == "" || it.State == "" || it.Version == "" || it.ClusterType == "" {
					t.Errorf("incomplete item %+v", it)
				}
			}
			if rrsa != 2 {
				t.Errorf("%d items with RRSA on, want 2", rrsa)
			}
		}},
		{"yaml", []string{"-o", "yaml", "--region", "ap-southeast-1"}, func(t *testing.T, r result) {
			var items []clusterItem
			if err := yaml.Unmarshal([]byte(r.stdout), &items); err != nil || len(items) != 1 || items[0].State != "failed" {
				t.Fatalf("yaml (%v):\n%s", err, r.stdout)
			}
		}},
		{"name", []string{"-o", "name", "--all-regions"}, func(t *testing.T, r result) {
			if strings.Count(r.stdout, "prod-web\n") != 2 || strings.Count(r.stdout, "\n") != 8 {
				t.Fatalf("names:\n%s", r.stdout)
			}
		}},
		{"empty region", []string{"--region", "eu-west-1"}, func(t *testing.T, r result) {
			if r.stdout != "" || !strings.Contains(r.stderr, "No clusters found in region eu-west-1.") {
				t.Fatalf("%+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.mustRun(t, append([]string{"clusters"}, tt.args...)...)
			tt.check(t, r)
		})
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"clusters", "--region", "cn-hangzhou", "--all-regions"}, "exclude each other"},
		{[]string{"clusters", "-o", "xml"}, `unknown output format -o "xml": use one of table, wide, json, yaml, name`},
	} {
		if r := f.run(t, bad.args...); r.code != 2 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("%v: %+v, want %q", bad.args, r, bad.want)
		}
	}
}

// callRecorder records, at every write, how many DescribeClustersV1 calls the emulator had
// answered, so a test can tell whether rows were printed before the last page was fetched.
type callRecorder struct {
	srv *emulator.Server
	mu  sync.Mutex
	buf bytes.Buffer
	at  []int // calls seen at each written line
}

func (c *callRecorder) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.srv.Calls(emulator.ServiceCS, "DescribeClustersV1")
	for range bytes.Count(p, []byte("\n")) {
		c.at = append(c.at, n)
	}
	return c.buf.Write(p)
}

func TestClustersTableStreamsPagesWithProgressOnTerminal(t *testing.T) {
	const n = 130 // two pages of 100
	acct := "1234567890123456"
	seed := &emulator.Seed{Accounts: []emulator.AccountSeed{{
		ID:    acct,
		Users: []emulator.UserSeed{{Name: "admin", AccessKeys: []emulator.AccessKey{{ID: "LTAI5tStreamTestKey0001", Secret: "stream-secret-0123456789abcdef"}}}},
	}}}
	for i := range n {
		seed.Clusters = append(seed.Clusters, emulator.ClusterSeed{ID: fmt.Sprintf("c%032x", i+1), AccountID: acct, Name: fmt.Sprintf("c-%03d", i)})
	}
	f := newFixture(t, emulatortest.WithSeed(seed))
	out := &callRecorder{srv: f.srv}
	var errb bytes.Buffer
	terminal := func(w io.Writer) bool { return w == &errb }
	code := run(context.Background(), []string{"clusters"}, Streams{In: strings.NewReader(""), Out: out, ErrOut: &errb}, hooks{terminal: terminal})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if len(out.at) != n+1 {
		t.Fatalf("%d lines, want header + %d rows", len(out.at), n)
	}
	if out.at[0] != 1 || out.at[100] != 1 || out.at[n] != 2 {
		t.Fatalf("calls seen when lines were written: first %d, 100th row %d, last %d; want 1, 1, 2 (rows of page 1 before page 2 is fetched)",
			out.at[0], out.at[100], out.at[n])
	}
	if !strings.Contains(errb.String(), "listing clusters in any region: 100 of 130") || !strings.HasSuffix(errb.String(), "\r\x1b[K") {
		t.Fatalf("progress on the terminal: %q", errb.String())
	}

	// Not a terminal: no progress at all.
	r := f.mustRun(t, "clusters")
	if r.stderr != "" {
		t.Fatalf("stderr without a terminal: %q", r.stderr)
	}
}
