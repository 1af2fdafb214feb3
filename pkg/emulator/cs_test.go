package emulator_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	cs "github.com/alibabacloud-go/cs-20151215/v4/client"
	"github.com/alibabacloud-go/tea/tea"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func rrsaOf(t *testing.T, metaData string) map[string]any {
	t.Helper()
	var meta map[string]any
	if err := json.Unmarshal([]byte(metaData), &meta); err != nil {
		t.Fatalf("meta_data is not JSON: %v", err)
	}
	r, _ := meta["RRSAConfig"].(map[string]any)
	return r
}

func TestDescribeClusters(t *testing.T) {
	seed := seedWith(t)
	base := seed.Clusters[0]
	for i := range 4 {
		c := base
		c.ID = fmt.Sprintf("c%032x", i+1)
		c.Name = fmt.Sprintf("extra-%d", i)
		if i == 3 {
			c.RegionID = "cn-beijing"
		}
		seed.Clusters = append(seed.Clusters, c)
	}
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)

	d, err := cl.DescribeClusterDetail(tea.String(in.ClusterID))
	if err != nil {
		t.Fatalf("DescribeClusterDetail: %v", err)
	}
	b := d.Body
	if tea.StringValue(b.ClusterId) != in.ClusterID || tea.StringValue(b.State) != "running" ||
		tea.StringValue(b.ClusterType) != "ManagedKubernetes" || tea.StringValue(b.RegionId) != "cn-hangzhou" {
		t.Errorf("detail = %s", b.String())
	}
	if r := rrsaOf(t, tea.StringValue(b.MetaData)); r == nil || r["enabled"] != false {
		t.Errorf("RRSAConfig = %v, want disabled", r)
	}
	var master map[string]string
	if err := json.Unmarshal([]byte(tea.StringValue(b.MasterUrl)), &master); err != nil || master["api_server_endpoint"] != "https://127.0.0.1:6443" {
		t.Errorf("master_url = %q (%v)", tea.StringValue(b.MasterUrl), err)
	}

	_, err = cl.DescribeClusterDetail(tea.String("c" + strings.Repeat("f", 32)))
	if errCode(t, err) != "ErrorClusterNotFound" || errStatus(err) != 404 {
		t.Errorf("unknown cluster: %v", err)
	}
	// Another account's principal cannot see the cluster.
	_, otherKey, err := srv.CreateUser("1999999999999999", "stranger")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newCS(t, in, creds{id: otherKey.ID, secret: otherKey.Secret}, nil).DescribeClusterDetail(tea.String(in.ClusterID))
	if errCode(t, err) != "ErrorClusterNotFound" {
		t.Errorf("other account: %v", err)
	}

	tests := []struct {
		region     string
		page, size int64
		wantIDs    int
		wantTotal  int32
	}{
		{"cn-hangzhou", 1, 2, 2, 4},
		{"cn-hangzhou", 2, 2, 2, 4},
		{"cn-hangzhou", 3, 2, 0, 4},
		{"cn-beijing", 1, 10, 1, 1},
		{"", 1, 100, 5, 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d/%d", tt.region, tt.page, tt.size), func(t *testing.T) {
			req := &cs.DescribeClustersV1Request{PageNumber: tea.Int64(tt.page), PageSize: tea.Int64(tt.size)}
			if tt.region != "" {
				req.RegionId = tea.String(tt.region)
			}
			resp, err := cl.DescribeClustersV1(req)
			if err != nil {
				t.Fatalf("DescribeClustersV1: %v", err)
			}
			if len(resp.Body.Clusters) != tt.wantIDs || tea.Int32Value(resp.Body.PageInfo.TotalCount) != tt.wantTotal {
				t.Errorf("got %d clusters, total %d; want %d, %d", len(resp.Body.Clusters), tea.Int32Value(resp.Body.PageInfo.TotalCount), tt.wantIDs, tt.wantTotal)
			}
		})
	}
}

// taskState returns the state of a task as DescribeTaskInfo reports it.
func taskState(t *testing.T, cl *cs.Client, id string) *cs.DescribeTaskInfoResponseBody {
	t.Helper()
	resp, err := cl.DescribeTaskInfo(tea.String(id))
	if err != nil {
		t.Fatalf("DescribeTaskInfo: %v", err)
	}
	return resp.Body
}

// runTask polls a task a few times (it must stay running: polls do not move it), then moves the
// clock past its duration and returns the final state.
func runTask(t *testing.T, cl *cs.Client, clock *emulatortest.Clock, id string, d time.Duration) *cs.DescribeTaskInfoResponseBody {
	t.Helper()
	for range 3 {
		if st := tea.StringValue(taskState(t, cl, id).State); st != "running" {
			t.Fatalf("task %s is %q before its time", id, st)
		}
	}
	clock.Advance(d)
	return taskState(t, cl, id)
}

func TestModifyClusterRRSA(t *testing.T) {
	seed := seedWith(t)
	seed.Clusters[0].TaskDuration = emulator.Duration(time.Minute)
	clock := emulatortest.NewClock()
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed), emulatortest.WithManualClock(clock))
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)

	mr, err := cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(true)})
	if err != nil {
		t.Fatalf("ModifyCluster: %v", err)
	}
	taskID := tea.StringValue(mr.Body.TaskId)
	if !strings.HasPrefix(taskID, "T-") {
		t.Fatalf("task id %q", taskID)
	}
	if c, _ := srv.Cluster(in.ClusterID); c.State != "updating" {
		t.Errorf("state during task = %q, want updating", c.State)
	}
	_, err = cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(true)})
	if errCode(t, err) != "ErrorClusterStatus" {
		t.Errorf("second modify while updating: %v", err)
	}
	task := runTask(t, cl, clock, taskID, time.Minute)
	if tea.StringValue(task.State) != "success" {
		t.Errorf("task state %q a minute later, want success", tea.StringValue(task.State))
	}
	d, err := cl.DescribeClusterDetail(tea.String(in.ClusterID))
	if err != nil {
		t.Fatal(err)
	}
	r := rrsaOf(t, tea.StringValue(d.Body.MetaData))
	wantArn := "acs:ram::" + in.AccountID + ":oidc-provider/ack-rrsa-" + in.ClusterID
	if tea.StringValue(d.Body.State) != "running" || r["enabled"] != true || r["oidc_arn"] != wantArn ||
		r["oidc_name"] != "ack-rrsa-"+in.ClusterID || r["audience"] != "sts.aliyuncs.com" || r["issuer"] != emulator.DefaultIssuer(in.ClusterID) {
		t.Errorf("after enable: state %q RRSAConfig %v", tea.StringValue(d.Body.State), r)
	}

	// A failing disable task leaves RRSA on and logs the error.
	if err := srv.UpdateCluster(in.ClusterID, func(c *emulator.Cluster) { c.FailNextTask = true }); err != nil {
		t.Fatal(err)
	}
	mr, err = cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	task = runTask(t, cl, clock, tea.StringValue(mr.Body.TaskId), time.Minute)
	// "fail" is the state ack-ram-tool recognises as a failed task.
	if tea.StringValue(task.State) != "fail" || task.Error == nil || tea.StringValue(task.Error.Message) == "" {
		t.Errorf("failing task = %s", task.String())
	}
	if c, _ := srv.Cluster(in.ClusterID); !c.RRSA.Enabled || c.State != "running" || c.FailNextTask {
		t.Errorf("after failed disable: %+v", c)
	}
	logs, err := cl.DescribeClusterLogs(tea.String(in.ClusterID))
	if err != nil {
		t.Fatalf("DescribeClusterLogs: %v", err)
	}
	if len(logs.Body) != 4 || !strings.HasPrefix(tea.StringValue(logs.Body[0].ClusterLog), "[ERROR]") {
		t.Errorf("logs = %v", logs.Body)
	}

	// Disable for real.
	mr, err = cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if task = runTask(t, cl, clock, tea.StringValue(mr.Body.TaskId), time.Minute); tea.StringValue(task.State) != "success" {
		t.Errorf("disable task = %s", task.String())
	}
	if c, _ := srv.Cluster(in.ClusterID); c.RRSA.Enabled {
		t.Errorf("RRSA still enabled")
	}
	_, err = cl.DescribeTaskInfo(tea.String("T-nope"))
	if errStatus(err) != 404 {
		t.Errorf("unknown task: %v", err)
	}
}

func TestUserKubeconfig(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	tests := []struct {
		name     string
		minutes  int64
		private  bool
		wantCode string
	}{
		{"temporary", 60, false, ""},
		{"private", 15, true, ""},
		{"too short", 14, false, "InvalidParameter"},
		{"too long", 4321, false, "InvalidParameter"},
	}
	ca, _ := srv.ClientCA(in.ClusterID)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := cl.DescribeClusterUserKubeconfig(tea.String(in.ClusterID), &cs.DescribeClusterUserKubeconfigRequest{
				TemporaryDurationMinutes: tea.Int64(tt.minutes), PrivateIpAddress: tea.Bool(tt.private)})
			if got := errCode(t, err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			exp, err := time.Parse("2006-01-02T15:04:05Z", tea.StringValue(resp.Body.Expiration))
			if err != nil || time.Until(exp) > time.Duration(tt.minutes)*time.Minute || time.Until(exp) < time.Duration(tt.minutes-1)*time.Minute {
				t.Errorf("expiration %q (%v)", tea.StringValue(resp.Body.Expiration), err)
			}
			var kc struct {
				Users []struct {
					User map[string]string `json:"user"`
				} `json:"users"`
				Clusters []struct {
					Cluster map[string]string `json:"cluster"`
				} `json:"clusters"`
				CurrentContext string `json:"current-context"`
			}
			if err := yaml.Unmarshal([]byte(tea.StringValue(resp.Body.Config)), &kc); err != nil || len(kc.Users) != 1 {
				t.Fatalf("kubeconfig: %v", err)
			}
			if kc.Clusters[0].Cluster["server"] != "https://127.0.0.1:6443" || kc.CurrentContext != in.AccountID+"-"+in.ClusterID {
				t.Errorf("kubeconfig cluster/context: %v %q", kc.Clusters, kc.CurrentContext)
			}
			certPEM, _ := base64.StdEncoding.DecodeString(kc.Users[0].User["client-certificate-data"])
			block, _ := pem.Decode(certPEM)
			if block == nil {
				t.Fatal("no client certificate")
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != in.UserID || len(cert.Subject.Organization) != 0 {
				t.Errorf("subject = %v, want CN %s", cert.Subject, in.UserID)
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("client cert does not verify with the cluster client CA: %v", err)
			}
		})
	}
}

func TestAddons(t *testing.T) {
	clock := emulatortest.NewClock()
	srv := emulatortest.Start(t, emulatortest.WithManualClock(clock))
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	li, err := cl.ListClusterAddonInstances(tea.String(in.ClusterID))
	if err != nil || len(li.Body.Addons) != 0 {
		t.Fatalf("ListClusterAddonInstances before: %v %v", li, err)
	}
	_, err = cl.InstallClusterAddons(tea.String(in.ClusterID), &cs.InstallClusterAddonsRequest{Body: []*cs.InstallClusterAddonsRequestBody{{Name: tea.String("nope")}}})
	if errCode(t, err) != "AddonNotFound" {
		t.Errorf("unknown add-on: %v", err)
	}
	_, err = cl.InstallClusterAddons(tea.String(in.ClusterID), &cs.InstallClusterAddonsRequest{Body: []*cs.InstallClusterAddonsRequestBody{{Name: tea.String("ack-pod-identity-webhook")}}})
	if err != nil {
		t.Fatalf("InstallClusterAddons: %v", err)
	}
	if c, _ := srv.Cluster(in.ClusterID); c.State != "updating" {
		t.Errorf("state = %q during install", c.State)
	}
	clock.Advance(time.Minute)
	li, err = cl.ListClusterAddonInstances(tea.String(in.ClusterID))
	if err != nil || len(li.Body.Addons) != 1 || tea.StringValue(li.Body.Addons[0].Name) != "ack-pod-identity-webhook" ||
		tea.StringValue(li.Body.Addons[0].State) != "active" {
		t.Fatalf("ListClusterAddonInstances after: %v %v", li, err)
	}
	av, err := cl.DescribeClusterAddonsVersion(tea.String(in.ClusterID))
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := av.Body["ack-pod-identity-webhook"].(map[string]any)
	if entry == nil || entry["version"] == "" {
		t.Errorf("DescribeClusterAddonsVersion = %v", av.Body)
	}
}
