package emulator_test

import (
	"encoding/json"
	"slices"
	"testing"

	cs "github.com/alibabacloud-go/cs-20151215/v4/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// TestFleetAcrossRegionsPagingAndStates lists a fleet with the real CS client: every region,
// one region, small pages, names used twice and clusters that are not running.
func TestFleetAcrossRegionsPagingAndStates(t *testing.T) {
	// Config.Fleet (ack-emulator serve --fleet) adds the fleet to the default seed.
	srv := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) { c.Fleet = true }))
	in := srv.Info()
	// The ids are derived from the account, so a restarted emulator serves the same fleet.
	for _, f := range emulator.FleetClusters(in.AccountID) {
		if c, ok := srv.Cluster(f.ID); !ok || c.Name != f.Name || c.RegionID != f.RegionID {
			t.Fatalf("fleet cluster %s (%s/%s) not served as such: %+v", f.ID, f.RegionID, f.Name, c)
		}
	}
	cl := newCS(t, in, adminCreds(in), nil)

	list := func(region string, page, size int64) *cs.DescribeClustersV1ResponseBody {
		t.Helper()
		req := &cs.DescribeClustersV1Request{PageNumber: tea.Int64(page), PageSize: tea.Int64(size)}
		if region != "" {
			req.RegionId = tea.String(region)
		}
		resp, err := cl.DescribeClustersV1(req)
		if err != nil {
			t.Fatalf("DescribeClustersV1(%q, %d, %d): %v", region, page, size, err)
		}
		return resp.Body
	}
	type row struct{ name, region, state string }
	var all []row
	for page := int64(1); ; page++ {
		b := list("", page, 3)
		if tea.Int32Value(b.PageInfo.TotalCount) != 8 {
			t.Fatalf("total_count %d, want 8", tea.Int32Value(b.PageInfo.TotalCount))
		}
		if len(b.Clusters) == 0 {
			break
		}
		for _, c := range b.Clusters {
			all = append(all, row{tea.StringValue(c.Name), tea.StringValue(c.RegionId), tea.StringValue(c.State)})
		}
	}
	if len(all) != 8 {
		t.Fatalf("pages of 3 gave %d clusters, want 8: %v", len(all), all)
	}
	for _, want := range []row{
		{"demo", "cn-hangzhou", "running"}, {"prod-web", "cn-hangzhou", "running"}, {"prod-web", "cn-beijing", "running"},
		{"batch", "cn-beijing", "updating"}, {"dev-new", "cn-shanghai", "initial"}, {"analytics", "ap-southeast-1", "failed"},
	} {
		if !slices.Contains(all, want) {
			t.Errorf("listing lacks %+v: %v", want, all)
		}
	}
	if b := list("cn-beijing", 1, 10); len(b.Clusters) != 2 || tea.Int32Value(b.PageInfo.TotalCount) != 2 {
		t.Errorf("cn-beijing: %d clusters, total %d; want 2", len(b.Clusters), tea.Int32Value(b.PageInfo.TotalCount))
	}
	var rrsaOn int
	for _, c := range list("", 1, 100).Clusters {
		if r := rrsaOf(t, tea.StringValue(c.MetaData)); r["enabled"] == true {
			rrsaOn++
		}
	}
	if rrsaOn != 2 {
		t.Errorf("%d clusters with RRSA on, want 2", rrsaOn)
	}
}

// TestAddAndDeleteClusterAtRunTime covers the Go and admin API that tests use to make clusters
// appear and disappear while a client is running.
func TestAddAndDeleteClusterAtRunTime(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	id := "c" + "0123456789abcdef0123456789abcdef"
	code, b := adminDo(t, in, "POST", "/_emulator/clusters", in.AdminToken, map[string]any{"id": id, "name": "late", "regionId": "cn-shenzhen"})
	var added emulator.Cluster
	if err := json.Unmarshal(b, &added); code != 200 || err != nil || added.AccountID != in.AccountID || added.State != "running" {
		t.Fatalf("add: %d %s", code, b)
	}
	if code, _ := adminDo(t, in, "POST", "/_emulator/clusters", in.AdminToken, map[string]any{"id": id}); code != 409 {
		t.Errorf("duplicate add: %d, want 409", code)
	}
	resp, err := cl.DescribeClustersV1(&cs.DescribeClustersV1Request{RegionId: tea.String("cn-shenzhen")})
	if err != nil || len(resp.Body.Clusters) != 1 || tea.StringValue(resp.Body.Clusters[0].Name) != "late" {
		t.Fatalf("added cluster not listed: %v %v", resp, err)
	}
	if _, err := cl.DescribeClusterUserKubeconfig(tea.String(id), &cs.DescribeClusterUserKubeconfigRequest{}); err != nil {
		t.Fatalf("kubeconfig of the added cluster: %v", err)
	}

	if code, b := adminDo(t, in, "DELETE", "/_emulator/clusters/"+id, in.AdminToken, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, _ := adminDo(t, in, "DELETE", "/_emulator/clusters/"+id, in.AdminToken, nil); code != 404 {
		t.Errorf("second delete: %d, want 404", code)
	}
	if _, err := cl.DescribeClusterDetail(tea.String(id)); errCode(t, err) != "ErrorClusterNotFound" {
		t.Errorf("deleted cluster detail: %v", err)
	}
	resp, err = cl.DescribeClustersV1(&cs.DescribeClustersV1Request{})
	if err != nil || len(resp.Body.Clusters) != 1 || tea.StringValue(resp.Body.Clusters[0].ClusterId) != in.ClusterID {
		t.Fatalf("after delete: %v %v", resp, err)
	}
}
