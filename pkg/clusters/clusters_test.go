package clusters_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fleet starts an emulator with the fleet and returns a CS client signed as its admin.
func fleet(t *testing.T) (*emulator.Server, *cloud.CS) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) { c.Fleet = true }))
	in := srv.Info()
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", in.AccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", in.AccessKeySecret)
	cred, err := newCredential(in)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cloud.NewCS(cred, cloud.Endpoints{RegionID: in.RegionID, CS: in.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cs
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestResolve(t *testing.T) {
	srv, cs := fleet(t)
	in := srv.Info()
	byName := map[string]string{}
	for _, c := range emulator.FleetClusters(in.AccountID) {
		byName[c.RegionID+"/"+c.Name] = c.ID
	}
	tests := []struct {
		name, ref, region string
		wantID            string
		wantAmbiguous     []string // candidate ids
		wantNotFound      string   // substring of the error
	}{
		{name: "unique name", ref: "prod-api", wantID: byName["cn-hangzhou/prod-api"]},
		{name: "id", ref: in.ClusterID, wantID: in.ClusterID},
		{name: "other case", ref: "Staging", wantID: byName["cn-shanghai/staging"]},
		{name: "name in two regions", ref: "prod-web",
			wantAmbiguous: []string{byName["cn-beijing/prod-web"], byName["cn-hangzhou/prod-web"]}},
		{name: "region narrows a shared name", ref: "prod-web", region: "cn-beijing", wantID: byName["cn-beijing/prod-web"]},
		{name: "typo suggests", ref: "prod-wbe", wantNotFound: `no cluster named "prod-wbe" in any region; did you mean "prod-web"`},
		{name: "prefix suggests", ref: "prod", wantNotFound: `did you mean "prod-api", "prod-web"?`},
		{name: "nothing close", ref: "zzzzzzzz", wantNotFound: "(8 clusters there)"},
		{name: "empty region", ref: "prod-api", region: "eu-west-1", wantNotFound: "in region eu-west-1; these credentials see no clusters there"},
		{name: "unknown id", ref: "c" + strings.Repeat("0", 32), wantNotFound: "no cluster with id c000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := clusters.Resolve(ctxT(t), cs, clusters.Scope{RegionID: tt.region}, tt.ref)
			var amb *clusters.AmbiguousError
			var nf *clusters.NotFoundError
			switch {
			case tt.wantID != "":
				if err != nil || c.ClusterID != tt.wantID {
					t.Fatalf("Resolve = %+v, %v; want %s", c, err, tt.wantID)
				}
			case tt.wantAmbiguous != nil:
				if !errors.As(err, &amb) {
					t.Fatalf("err = %v, want AmbiguousError", err)
				}
				var ids []string
				for _, c := range amb.Candidates {
					ids = append(ids, c.ClusterID)
					if !strings.Contains(err.Error(), c.ClusterID+"  "+c.RegionID) {
						t.Errorf("message lacks %s with its region: %v", c.ClusterID, err)
					}
				}
				if !slices.Equal(ids, tt.wantAmbiguous) {
					t.Fatalf("candidates %v, want %v (sorted by region)", ids, tt.wantAmbiguous)
				}
			default:
				if !errors.As(err, &nf) || !strings.Contains(err.Error(), tt.wantNotFound) {
					t.Fatalf("err = %v, want NotFoundError with %q", err, tt.wantNotFound)
				}
			}
		})
	}
	// An exact name costs one filtered call, not a walk over every page.
	before := srv.Calls("cs", "DescribeClustersV1")
	if _, err := clusters.Resolve(ctxT(t), cs, clusters.Scope{}, "prod-api"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("cs", "DescribeClustersV1") - before; n != 1 {
		t.Errorf("exact name took %d DescribeClustersV1 calls, want 1", n)
	}
}

func TestListAllAndMatchName(t *testing.T) {
	_, cs := fleet(t)
	all, err := clusters.All(ctxT(t), cs, clusters.Scope{})
	if err != nil || len(all) != 8 {
		t.Fatalf("All = %d clusters, %v; want 8", len(all), err)
	}
	bj, err := clusters.All(ctxT(t), cs, clusters.Scope{RegionID: "cn-beijing"})
	if err != nil || len(bj) != 2 {
		t.Fatalf("All(cn-beijing) = %d clusters, %v; want 2", len(bj), err)
	}
	var prod []string
	for _, c := range all {
		if clusters.MatchName("PROD-*", c.Name) {
			prod = append(prod, c.Name)
		}
	}
	slices.Sort(prod)
	if !slices.Equal(prod, []string{"prod-api", "prod-web", "prod-web"}) {
		t.Fatalf("prod-* matched %v", prod)
	}
}

func TestSuggest(t *testing.T) {
	list := func(names ...string) []cloud.Cluster {
		var out []cloud.Cluster
		for _, n := range names {
			out = append(out, cloud.Cluster{Name: n})
		}
		return out
	}
	tests := []struct {
		name, ref string
		have      []cloud.Cluster
		n         int
		want      []string
	}{
		{"transposition", "stagign", list("staging", "prod"), 3, []string{"staging"}},
		{"duplicates once", "prod-wbe", list("prod-web", "prod-web"), 3, []string{"prod-web"}},
		{"limit", "a", list("aa", "ab", "ac", "ad"), 2, []string{"aa", "ab"}},
		{"far", "zz", list("analytics"), 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clusters.Suggest(tt.ref, tt.have, tt.n); !slices.Equal(got, tt.want) {
				t.Fatalf("Suggest(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}
