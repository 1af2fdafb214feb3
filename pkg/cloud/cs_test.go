package cloud

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestCSDescribeClusters(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	cs := env.cl.CS
	c, err := cs.DescribeClusterDetail(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatalf("DescribeClusterDetail: %v", err)
	}
	want, _ := env.srv.Cluster(env.info.ClusterID)
	if c.ClusterID != want.ID || c.Name != want.Name || c.RegionID != want.RegionID || c.State != "running" ||
		c.ClusterType != want.ClusterType || c.Version != want.Version || c.APIServerEndpoint != want.APIServerURL ||
		c.IntranetAPIServerEndpoint == "" || c.RRSA.Enabled || c.MetaData == nil {
		t.Fatalf("cluster = %+v, want %+v", *c, want)
	}
	if _, err := cs.DescribeClusterDetail(ctx, "c00000000000000000000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DescribeClusterDetail(missing) = %v, want ErrNotFound", err)
	}

	list, err := cs.DescribeClusters(ctx, env.info.RegionID)
	if err != nil {
		t.Fatalf("DescribeClusters: %v", err)
	}
	if len(list) != 1 || list[0].ClusterID != env.info.ClusterID || list[0].APIServerEndpoint != want.APIServerURL {
		t.Fatalf("DescribeClusters = %+v", list)
	}
	if all, err := cs.DescribeClusters(ctx, ""); err != nil || len(all) != 1 {
		t.Fatalf("DescribeClusters(all regions) = %+v, %v", all, err)
	}
	if other, err := cs.DescribeClusters(ctx, "eu-central-1"); err != nil || len(other) != 0 {
		t.Fatalf("DescribeClusters(other region) = %+v, %v", other, err)
	}
}

func TestCSDescribeClustersPaging(t *testing.T) {
	const n = 105 // more than one page of describeClustersPageSize
	acct := "1234567890123456"
	seed := &emulator.Seed{Accounts: []emulator.AccountSeed{{
		ID:    acct,
		Users: []emulator.UserSeed{{Name: "admin", AccessKeys: []emulator.AccessKey{{ID: "LTAI5tPagingTestKey0001", Secret: "paging-secret-0123456789abcdef"}}}},
	}}}
	for i := range n {
		seed.Clusters = append(seed.Clusters, emulator.ClusterSeed{ID: "c" + strings.Repeat("0", 28) + fourHex(i), AccountID: acct})
	}
	env := newTestEnv(t, emulatortest.WithSeed(seed))
	list, err := env.cl.CS.DescribeClusters(ctxT(t), "")
	if err != nil {
		t.Fatalf("DescribeClusters: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range list {
		seen[c.ClusterID] = true
	}
	if len(list) != n || len(seen) != n {
		t.Fatalf("DescribeClusters returned %d clusters (%d distinct), want %d", len(list), len(seen), n)
	}
	if calls := env.srv.Calls("cs", "DescribeClustersV1"); calls != 2 {
		t.Fatalf("DescribeClustersV1 called %d times, want 2 pages", calls)
	}
}

func fourHex(i int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[i>>12&15], digits[i>>8&15], digits[i>>4&15], digits[i&15]})
}

func TestCSRRSATaskAndLogs(t *testing.T) {
	clock := emulatortest.NewClock()
	env := newTestEnv(t, emulatortest.WithManualClock(clock))
	ctx := ctxT(t)
	cs := env.cl.CS
	taskID, err := cs.ModifyClusterRRSA(ctx, env.info.ClusterID, true)
	if err != nil || taskID == "" {
		t.Fatalf("ModifyClusterRRSA = %q, %v", taskID, err)
	}
	task := pollTask(t, env, clock, taskID)
	if task.State != TaskStateSuccess || task.Error != "" || task.ClusterID != env.info.ClusterID {
		t.Fatalf("task = %+v, want success", *task)
	}
	c, err := cs.DescribeClusterDetail(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatal(err)
	}
	wantArn := "acs:ram::" + env.info.AccountID + ":oidc-provider/ack-rrsa-" + env.info.ClusterID
	if !c.RRSA.Enabled || c.RRSA.Issuer == "" || c.RRSA.Issuer != c.RRSA.Issuers[0] || c.RRSA.Audience != "sts.aliyuncs.com" ||
		c.RRSA.OIDCName != "ack-rrsa-"+env.info.ClusterID || c.RRSA.OIDCArn != wantArn || c.State != "running" {
		t.Fatalf("RRSA after enable = %+v (state %s)", c.RRSA, c.State)
	}

	// A failing task reports its error and a log line at error level.
	if err := env.srv.UpdateCluster(env.info.ClusterID, func(c *emulator.Cluster) { c.FailNextTask = true }); err != nil {
		t.Fatal(err)
	}
	taskID, err = cs.ModifyClusterRRSA(ctx, env.info.ClusterID, false)
	if err != nil {
		t.Fatalf("ModifyClusterRRSA(false): %v", err)
	}
	if task = pollTask(t, env, clock, taskID); task.Succeeded() || task.Error == "" {
		t.Fatalf("task = %+v, want failed with an error", *task)
	}
	logs, err := cs.DescribeClusterLogs(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatalf("DescribeClusterLogs: %v", err)
	}
	if len(logs) < 3 {
		t.Fatalf("logs = %+v, want at least start/success/failure lines", logs)
	}
	for i := 1; i < len(logs); i++ {
		if logs[i].Created.Before(logs[i-1].Created) {
			t.Fatalf("logs not oldest first: %+v", logs)
		}
	}
	if last := logs[len(logs)-1]; last.Level != "error" || !strings.Contains(last.Message, "Failed") || last.Created.IsZero() {
		t.Fatalf("last log = %+v, want the failure at error level", last)
	}
	if logs[0].Level != "info" {
		t.Fatalf("first log = %+v, want info", logs[0])
	}

	if _, err := cs.DescribeTaskInfo(ctx, "T-doesnotexist"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DescribeTaskInfo(missing) = %v, want ErrNotFound", err)
	}
	if _, err := cs.ModifyClusterRRSA(ctx, "c00000000000000000000000000000000", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ModifyClusterRRSA(missing) = %v, want ErrNotFound", err)
	}
	if _, err := cs.DescribeClusterLogs(ctx, "c00000000000000000000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DescribeClusterLogs(missing) = %v, want ErrNotFound", err)
	}
}

// pollTask polls DescribeTaskInfo until the task finishes; the emulator finishes a task after a
// fixed number of polls, so no waiting is needed.
// pollTask polls a task, moving the emulator's clock a second per poll, until it is done.
func pollTask(t *testing.T, env *testEnv, clock *emulatortest.Clock, id string) *Task {
	t.Helper()
	for range 50 {
		clock.Advance(time.Second)
		task, err := env.cl.CS.DescribeTaskInfo(ctxT(t), id)
		if err != nil {
			t.Fatalf("DescribeTaskInfo: %v", err)
		}
		if task.TaskID != id {
			t.Fatalf("task id = %q, want %q", task.TaskID, id)
		}
		if task.Done() {
			return task
		}
	}
	t.Fatalf("task %s did not finish after 50 polls", id)
	return nil
}

func TestCSUserKubeconfig(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	before := time.Now()
	kc, err := env.cl.CS.DescribeClusterUserKubeconfig(ctx, env.info.ClusterID, false, 60)
	if err != nil {
		t.Fatalf("DescribeClusterUserKubeconfig: %v", err)
	}
	if !strings.Contains(kc.Config, "client-certificate-data") || !strings.Contains(kc.Config, "client-key-data") {
		t.Fatalf("kubeconfig lacks client credentials:\n%s", kc.Config)
	}
	if d := kc.Expiration.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expiration in %v, want about 60m", d)
	}
	if _, err := env.cl.CS.DescribeClusterUserKubeconfig(ctx, env.info.ClusterID, true, 5); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DescribeClusterUserKubeconfig(5 minutes) = %v, want ErrInvalid", err)
	}
	if _, err := env.cl.CS.DescribeClusterUserKubeconfig(ctx, "c00000000000000000000000000000000", false, 60); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DescribeClusterUserKubeconfig(missing) = %v, want ErrNotFound", err)
	}
}

func TestCSAddons(t *testing.T) {
	clock := emulatortest.NewClock()
	env := newTestEnv(t, emulatortest.WithManualClock(clock))
	ctx := ctxT(t)
	cs := env.cl.CS
	before, err := cs.ListClusterAddonInstances(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatalf("ListClusterAddonInstances: %v", err)
	}
	for _, a := range before {
		if a.Name == "ack-pod-identity-webhook" {
			t.Fatalf("webhook installed before the test: %+v", before)
		}
	}
	taskID, err := cs.InstallClusterAddons(ctx, env.info.ClusterID, []AddonInstall{{Name: "ack-pod-identity-webhook", Version: "0.2.1", Config: `{"a":1}`}})
	if err != nil || taskID == "" {
		t.Fatalf("InstallClusterAddons = %q, %v", taskID, err)
	}
	if task := pollTask(t, env, clock, taskID); task.State != TaskStateSuccess {
		t.Fatalf("install task = %+v", *task)
	}
	after, err := cs.ListClusterAddonInstances(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatalf("ListClusterAddonInstances: %v", err)
	}
	var found *AddonInstance
	for i := range after {
		if after[i].Name == "ack-pod-identity-webhook" {
			found = &after[i]
		}
	}
	if found == nil || found.Version != "0.2.1" || found.State != "active" {
		t.Fatalf("addons after install = %+v", after)
	}
	versions, err := cs.DescribeClusterAddonsVersion(ctx, env.info.ClusterID)
	if err != nil {
		t.Fatalf("DescribeClusterAddonsVersion: %v", err)
	}
	v, ok := versions["ack-pod-identity-webhook"]
	if !ok || v.Name != "ack-pod-identity-webhook" || v.Version != "0.2.1" || v.NextVersion == "" || !v.CanUpgrade {
		t.Fatalf("versions = %+v", versions)
	}

	tests := []struct {
		name   string
		addons []AddonInstall
		want   error
	}{
		{"already installed", []AddonInstall{{Name: "ack-pod-identity-webhook"}}, ErrAlreadyExists},
		{"unknown add-on", []AddonInstall{{Name: "no-such-addon"}}, ErrNotFound},
		{"bad config", []AddonInstall{{Name: "metrics-server", Config: "{"}}, ErrInvalid},
		{"nothing", nil, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cs.InstallClusterAddons(ctx, env.info.ClusterID, tt.addons); !errors.Is(err, tt.want) {
				t.Fatalf("InstallClusterAddons = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := cs.ListClusterAddonInstances(ctx, "c00000000000000000000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ListClusterAddonInstances(missing) = %v, want ErrNotFound", err)
	}
	if _, err := cs.DescribeClusterAddonsVersion(ctx, "c00000000000000000000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DescribeClusterAddonsVersion(missing) = %v, want ErrNotFound", err)
	}
}

func TestCSDescribeClusterTasks(t *testing.T) {
	clock := emulatortest.NewClock()
	env := newTestEnv(t, emulatortest.WithManualClock(clock))
	ctx := ctxT(t)
	if tasks, err := env.cl.CS.DescribeClusterTasks(ctx, env.info.ClusterID); err != nil || len(tasks) != 0 {
		t.Fatalf("before any task: %+v, %v", tasks, err)
	}
	first, err := env.cl.CS.ModifyClusterRRSA(ctx, env.info.ClusterID, true)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	second, err := env.cl.CS.ModifyClusterRRSA(ctx, env.info.ClusterID, false)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := env.cl.CS.DescribeClusterTasks(ctx, env.info.ClusterID)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("tasks = %+v, %v", tasks, err)
	}
	if tasks[0].TaskID != second || tasks[0].State != TaskStateRunning || tasks[0].Done() ||
		tasks[1].TaskID != first || !tasks[1].Succeeded() || !tasks[0].Created.After(tasks[1].Created) || tasks[1].Updated.IsZero() {
		t.Errorf("tasks = %+v", tasks)
	}
	if _, err := env.cl.CS.DescribeClusterTasks(ctx, "c00000000000000000000000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing cluster: %v", err)
	}
}

func TestCSDescribeClustersPagesStreams(t *testing.T) {
	env := newTestEnv(t, emulatortest.WithConfig(func(c *emulator.Config) { c.Fleet = true }))
	ctx := ctxT(t)
	var pages []ClusterPage
	err := env.cl.CS.DescribeClustersPages(ctx, ClusterQuery{PageSize: 3}, func(p ClusterPage) error {
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatalf("DescribeClustersPages: %v", err)
	}
	var seen []int
	for _, p := range pages {
		if p.TotalCount != 8 {
			t.Fatalf("page %d total %d, want 8", p.PageNumber, p.TotalCount)
		}
		seen = append(seen, p.Seen)
	}
	if len(pages) != 3 || !slices.Equal(seen, []int{3, 6, 8}) {
		t.Fatalf("pages seen %v, want [3 6 8]", seen)
	}

	tests := []struct {
		name  string
		q     ClusterQuery
		names []string
	}{
		{"region", ClusterQuery{RegionID: "cn-beijing"}, []string{"prod-web", "batch"}},
		{"name", ClusterQuery{Name: "prod-web"}, []string{"prod-web", "prod-web"}},
		{"id", ClusterQuery{ClusterID: env.info.ClusterID}, []string{"demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			err := env.cl.CS.DescribeClustersPages(ctx, tt.q, func(p ClusterPage) error {
				for _, c := range p.Clusters {
					names = append(names, c.Name)
				}
				return nil
			})
			if err != nil || !slices.Equal(names, tt.names) {
				t.Fatalf("names %v, %v; want %v", names, err, tt.names)
			}
		})
	}

	// An error from the callback stops the walk: no further page is fetched.
	before := env.srv.Calls("cs", "DescribeClustersV1")
	stop := errors.New("stop")
	err = env.cl.CS.DescribeClustersPages(ctx, ClusterQuery{PageSize: 2}, func(ClusterPage) error { return stop })
	if !errors.Is(err, stop) || env.srv.Calls("cs", "DescribeClustersV1") != before+1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, env.srv.Calls("cs", "DescribeClustersV1")-before)
	}
}
