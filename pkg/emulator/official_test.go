package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	cs "github.com/alibabacloud-go/cs-20151215/v4/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// addonVersion returns the DescribeClusterAddonsVersion entry of an add-on, read through the
// fields ack-ram-tool reads (name, version, next_version).
func addonVersion(t *testing.T, cl *cs.Client, clusterID, name string) (gotName, version string) {
	t.Helper()
	av, err := cl.DescribeClusterAddonsVersion(tea.String(clusterID))
	if err != nil {
		t.Fatalf("DescribeClusterAddonsVersion: %v", err)
	}
	entry, _ := av.Body[name].(map[string]any)
	if entry == nil {
		t.Fatalf("no entry for %s in %v", name, av.Body)
	}
	if entry["component_name"] != name {
		t.Errorf("component_name = %v", entry["component_name"])
	}
	gotName, _ = entry["name"].(string)
	version, _ = entry["version"].(string)
	return gotName, version
}

// A task finishes when its time has come, however the client watches: ack-ram-tool waits for
// install-helper-addon by polling DescribeClusterAddonsVersion only.
func TestTasksProgressWithTimeWhateverIsPolled(t *testing.T) {
	clock := emulatortest.NewClock()
	seed := seedWith(t)
	seed.Clusters[0].TaskDuration = emulator.Duration(90 * time.Second)
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed), emulatortest.WithManualClock(clock))
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	const addon = "ack-pod-identity-webhook"
	if name, v := addonVersion(t, cl, in.ClusterID, addon); name != addon || v != "" {
		t.Fatalf("before install: name %q version %q, want not installed", name, v)
	}
	if _, err := cl.InstallClusterAddons(tea.String(in.ClusterID), &cs.InstallClusterAddonsRequest{
		Body: []*cs.InstallClusterAddonsRequestBody{{Name: tea.String(addon)}}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, v := addonVersion(t, cl, in.ClusterID, addon); v != "" {
			t.Fatalf("installed after polls alone, before the task's time")
		}
	}
	clock.Advance(89 * time.Second)
	if c, _ := srv.Cluster(in.ClusterID); c.State != "updating" {
		t.Fatalf("cluster %q before the task is due", c.State)
	}
	clock.Advance(time.Second)
	if _, v := addonVersion(t, cl, in.ClusterID, addon); v == "" {
		t.Fatal("not installed once the task is due")
	}
	if c, _ := srv.Cluster(in.ClusterID); c.State != "running" {
		t.Errorf("cluster %q after the task", c.State)
	}
	tasks, err := cl.DescribeClusterTasks(tea.String(in.ClusterID), &cs.DescribeClusterTasksRequest{})
	if err != nil || len(tasks.Body.Tasks) != 1 || tea.StringValue(tasks.Body.Tasks[0].State) != "success" ||
		tea.StringValue(tasks.Body.Tasks[0].TaskType) != "cluster_addon_install" {
		t.Fatalf("DescribeClusterTasks = %v, %v", tasks, err)
	}
}

func TestDescribeClusterTasks(t *testing.T) {
	clock := emulatortest.NewClock()
	srv := emulatortest.Start(t, emulatortest.WithManualClock(clock))
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	var ids []string
	for _, enable := range []bool{true, false, true} {
		mr, err := cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(enable)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tea.StringValue(mr.Body.TaskId))
		if len(ids) < 3 {
			clock.Advance(time.Minute)
		}
	}
	resp, err := cl.DescribeClusterTasks(tea.String(in.ClusterID), &cs.DescribeClusterTasksRequest{PageSize: tea.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	b := resp.Body
	if len(b.Tasks) != 2 || tea.Int64Value(b.PageInfo.TotalCount) != 3 ||
		tea.StringValue(b.Tasks[0].TaskId) != ids[2] || tea.StringValue(b.Tasks[0].State) != "running" ||
		tea.StringValue(b.Tasks[1].TaskId) != ids[1] || tea.StringValue(b.Tasks[1].State) != "success" {
		t.Errorf("tasks = %s", resp.Body.String())
	}
	if _, err := cl.DescribeClusterTasks(tea.String("c"+strings.Repeat("0", 32)), &cs.DescribeClusterTasksRequest{}); errCode(t, err) != "ErrorClusterNotFound" {
		t.Errorf("unknown cluster: %v", err)
	}
}

// The deprecated DescribeClusters (GET /clusters), which ack-ram-tool's `rrsa demo` lists with.
func TestDescribeClustersDeprecated(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	resp, err := cl.DescribeClusters(&cs.DescribeClustersRequest{})
	if err != nil || len(resp.Body) != 1 || tea.StringValue(resp.Body[0].ClusterId) != in.ClusterID ||
		tea.StringValue(resp.Body[0].ClusterType) != "ManagedKubernetes" || !strings.Contains(tea.StringValue(resp.Body[0].MetaData), "RRSAConfig") {
		t.Fatalf("DescribeClusters = %v, %v", resp, err)
	}
	resp, err = cl.DescribeClusters(&cs.DescribeClustersRequest{Name: tea.String("no-such-name")})
	if err != nil || len(resp.Body) != 0 {
		t.Errorf("filtered by name: %v, %v", resp, err)
	}
}

// DescribeClusterUserKubeconfig answers carry the API server's CA, as the real API's do.
func TestKubeconfigCarriesCA(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newCS(t, in, adminCreds(in), nil)
	resp, err := cl.DescribeClusterUserKubeconfig(tea.String(in.ClusterID), &cs.DescribeClusterUserKubeconfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Clusters []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
	}
	if err := yaml.Unmarshal([]byte(tea.StringValue(resp.Body.Config)), &kc); err != nil || len(kc.Clusters) != 1 {
		t.Fatalf("kubeconfig: %v", err)
	}
	caPEM, err := base64.StdEncoding.DecodeString(kc.Clusters[0].Cluster["certificate-authority-data"])
	c, _ := srv.Cluster(in.ClusterID)
	want, ferr := os.ReadFile(c.APIServerCAFile)
	if err != nil || ferr != nil || len(caPEM) == 0 || string(caPEM) != string(want) || !strings.Contains(string(caPEM), "BEGIN CERTIFICATE") {
		t.Errorf("certificate-authority-data = %q (%v, %v)", caPEM, err, ferr)
	}
	if _, err := time.Parse(time.RFC3339, tea.StringValue(resp.Body.Expiration)); err != nil {
		t.Errorf("expiration %q is not RFC 3339, which ack-ram-tool parses: %v", tea.StringValue(resp.Body.Expiration), err)
	}
}

// With the default seed, RRSA works end to end once enabled: the cluster has signing keys and an
// issuer, and a token signed with the key file Info names is accepted by AssumeRoleWithOIDC.
func TestDefaultSeedIsRRSAReady(t *testing.T) {
	clock := emulatortest.NewClock()
	srv := emulatortest.Start(t, emulatortest.WithManualClock(clock))
	in := srv.Info()
	if in.ServiceAccountIssuer != emulator.DefaultIssuer(in.ClusterID) || in.ServiceAccountKeyFile == "" {
		t.Fatalf("info = %+v", in)
	}
	cl := newCS(t, in, adminCreds(in), nil)
	if _, err := cl.ModifyCluster(tea.String(in.ClusterID), &cs.ModifyClusterRequest{EnableRrsa: tea.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	c, _ := srv.Cluster(in.ClusterID)
	if !c.RRSA.Enabled {
		t.Fatal("RRSA not enabled")
	}
	sub := "system:serviceaccount:default:app"
	trust, _ := json.Marshal(map[string]any{"Version": "1", "Statement": []any{map[string]any{
		"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Federated": []string{c.RRSA.OIDCArn}},
		"Condition": map[string]any{"StringEquals": map[string]string{"oidc:aud": "sts.aliyuncs.com", "oidc:iss": c.RRSA.Issuer, "oidc:sub": sub}},
	}}})
	role, err := srv.CreateRole(in.AccountID, "app", string(trust))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newSTS(t, in, creds{}, nil).AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
		RoleArn: tea.String(role.ARN), OIDCProviderArn: tea.String(c.RRSA.OIDCArn), RoleSessionName: tea.String("ready"),
		OIDCToken: tea.String(signWithKeyFile(t, in.ServiceAccountKeyFile, in.ServiceAccountIssuer, sub, clock.Now())),
	})
	if err != nil || !strings.HasPrefix(tea.StringValue(resp.Body.Credentials.AccessKeyId), "STS.") {
		t.Fatalf("AssumeRoleWithOIDC = %v, %v", resp, err)
	}
}

// signWithKeyFile signs a service account token with a PEM private key file, as kube-apiserver
// does with --service-account-signing-key-file.
func signWithKeyFile(t *testing.T, keyFile, issuer, sub string, now time.Time) string {
	t.Helper()
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := emulator.ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: issuer, Subject: sub, Audience: jwt.Audience{"sts.aliyuncs.com"},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ack-ram-tool writes trust policies as indented JSON with sorted keys (json.MarshalIndent with a
// one-space prefix and indent) and reads them back into generic maps: both must round-trip.
func TestOfficialTrustDocumentRoundTrip(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	cl := newRAM(t, in, adminCreds(in), nil)
	doc := map[string]any{"Version": "1", "Statement": []any{map[string]any{
		"Action": "sts:AssumeRole", "Effect": "Allow",
		"Principal": map[string]any{"Federated": []string{"acs:ram::" + in.AccountID + ":oidc-provider/ack-rrsa-" + in.ClusterID}},
		"Condition": map[string]any{"StringEquals": map[string]string{"oidc:aud": "sts.aliyuncs.com", "oidc:iss": "https://x", "oidc:sub": "system:serviceaccount:a:b"}},
	}}}
	b, err := json.MarshalIndent(doc, " ", " ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateRole(&ram.CreateRoleRequest{RoleName: tea.String("official"), AssumeRolePolicyDocument: tea.String(string(b)), Description: tea.String("")}); err != nil {
		t.Fatalf("CreateRole with the official tool's document: %v", err)
	}
	gr, err := cl.GetRole(&ram.GetRoleRequest{RoleName: tea.String("official")})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(tea.StringValue(gr.Body.Role.AssumeRolePolicyDocument)), &back); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(doc)
	got, _ := json.Marshal(back)
	if string(got) != string(want) || tea.StringValue(gr.Body.Role.RoleId) == "" || tea.Int64Value(gr.Body.Role.MaxSessionDuration) != 3600 {
		t.Errorf("GetRole = %s", gr.Body.Role.String())
	}
}
