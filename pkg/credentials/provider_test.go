package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRefreshingProvider(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		advance   time.Duration
		wantFetch int // cumulative fetches after this retrieve
		failNext  bool
		wantErr   bool
	}
	cases := []struct {
		name     string
		lifetime time.Duration // 0 = no expiration
		steps    []step
	}{
		{name: "one hour credentials refresh 15 minutes early", lifetime: time.Hour, steps: []step{
			{0, 1, false, false}, {30 * time.Minute, 1, false, false}, {14*time.Minute + 59*time.Second, 1, false, false}, {time.Second, 2, false, false},
		}},
		{name: "short-lived credentials use half their lifetime", lifetime: 20 * time.Minute, steps: []step{
			{0, 1, false, false}, {9 * time.Minute, 1, false, false}, {time.Minute, 2, false, false},
		}},
		{name: "no expiration refetches after ttl", lifetime: 0, steps: []step{
			{0, 1, false, false}, {4 * time.Minute, 1, false, false}, {time.Minute, 2, false, false},
		}},
		{name: "failed refresh serves still-valid cache", lifetime: time.Hour, steps: []step{
			{0, 1, false, false}, {50 * time.Minute, 2, true, false}, {9*time.Minute + 30*time.Second, 3, true, true},
		}},
		{name: "first fetch failure is an error", lifetime: time.Hour, steps: []step{
			{0, 1, true, true}, {0, 2, false, false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: start}
			var fetches int
			var fail bool
			p := newRefreshing(func(context.Context) (Credentials, error) {
				fetches++
				if fail {
					return Credentials{}, errors.New("sts down")
				}
				c := Credentials{AccessKeyID: fmt.Sprintf("AK%d", fetches), AccessKeySecret: "s", SecurityToken: "t"}
				if tc.lifetime > 0 {
					c.Expiration = clk.now().Add(tc.lifetime)
				}
				return c, nil
			}, clk.now)
			for i, s := range tc.steps {
				clk.advance(s.advance)
				fail = s.failNext
				c, err := p.retrieve(context.Background())
				if (err != nil) != s.wantErr {
					t.Fatalf("step %d: err = %v, wantErr %v", i, err, s.wantErr)
				}
				if fetches != s.wantFetch {
					t.Fatalf("step %d: fetches = %d, want %d", i, fetches, s.wantFetch)
				}
				if err == nil && c.AccessKeyID == "" {
					t.Fatalf("step %d: empty credentials", i)
				}
			}
		})
	}
}

func TestRefreshingProviderConcurrentSingleFetch(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int32
	p := newRefreshing(func(ctx context.Context) (Credentials, error) {
		fetches.Add(1)
		<-release
		return Credentials{AccessKeyID: "AK", AccessKeySecret: "s", Expiration: time.Now().Add(time.Hour)}, nil
	}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.retrieve(context.Background())
			errs <- err
		}()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestRefreshingProviderHonoursContextWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	p := newRefreshing(func(ctx context.Context) (Credentials, error) {
		close(started)
		<-release
		return Credentials{AccessKeyID: "AK", AccessKeySecret: "s"}, nil
	}, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.retrieve(context.Background())
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.retrieve(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(release)
	<-done
}

// TestAssumedRoleRefreshesThroughResolved checks the whole path: a role
// source refetches from STS once its credentials near expiry.
func TestAssumedRoleRefreshesThroughResolved(t *testing.T) {
	clk := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	sts := newFakeSTS()
	sts.now = clk.now
	o := Options{Env: envMap(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}), HomeDir: t.TempDir(), RoleARN: roleA}
	r := testResolver(o, sts, &fakeECS{})
	r.now = clk.now
	res, err := r.resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c1, err := res.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.now().Add(time.Hour); !c1.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", c1.Expiration, want)
	}
	clk.advance(40 * time.Minute)
	if c, _ := res.Get(ctx); c.AccessKeyID != c1.AccessKeyID {
		t.Errorf("refreshed too early: %s -> %s", c1.AccessKeyID, c.AccessKeyID)
	}
	clk.advance(6 * time.Minute)
	c2, err := res.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c2.AccessKeyID == c1.AccessKeyID {
		t.Errorf("not refreshed 14 minutes before expiry")
	}
	if n := len(sts.snapshot()); n != 2 {
		t.Errorf("STS calls = %d, want 2", n)
	}
}

func TestIdentityKey(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".aliyun/config.json", cliJSON("a",
		`{"name":"a","mode":"AK","access_key_id":"LTAIa","access_key_secret":"s"}`,
		`{"name":"b","mode":"AK","access_key_id":"LTAIa","access_key_secret":"s"}`))
	envA := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIa", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s1"}
	envA2 := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIa", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s2"}
	envB := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIb", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s1"}
	key := func(o Options) string {
		t.Helper()
		o.HomeDir = home
		if o.Env == nil {
			o.Env = envMap(nil)
		}
		res, err := testResolver(o, newFakeSTS(), &fakeECS{}).resolve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res.IdentityKey
	}
	base := key(Options{Env: envMap(envA)})
	cases := []struct {
		name string
		o    Options
		same bool
	}{
		{"same source again", Options{Env: envMap(envA)}, true},
		{"secret rotation keeps the key", Options{Env: envMap(envA2)}, true},
		{"different access key", Options{Env: envMap(envB)}, false},
		{"role on top", Options{Env: envMap(envA), RoleARN: roleA}, false},
		{"cli profile with same key id", Options{ProfileName: "a"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := key(tc.o); (got == base) != tc.same {
				t.Errorf("key %s vs base %s: same=%v, want %v", got, base, got == base, tc.same)
			}
		})
	}
	if a, b := key(Options{ProfileName: "a"}), key(Options{ProfileName: "b"}); a == b {
		t.Error("profiles a and b share an IdentityKey")
	}
	if a, b := key(Options{Env: envMap(envA), RoleARN: roleA}), key(Options{Env: envMap(envA), RoleARN: roleB}); a == b {
		t.Error("different --role-arn share an IdentityKey")
	}
}

func TestAddFlags(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{"--profile-file=/x.json", "--profile-name=p", "--ignore-env-credentials", "--ignore-aliyun-cli-credentials",
		"--role-arn=" + roleA, "--role-session-name=s", "--credential-type=env"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{ProfileFile: "/x.json", ProfileName: "p", IgnoreEnv: true, IgnoreAliyunCLI: true, RoleARN: roleA, RoleSessionName: "s", CredentialType: "env"}
	if fmt.Sprint(o) != fmt.Sprint(want) {
		t.Errorf("parsed %+v, want %+v", o, want)
	}
	for flag, env := range map[string]string{
		"profile-file": EnvAckRAMToolProfileFile, "profile-name": EnvAckRAMToolProfileName, "ignore-env-credentials": EnvAckRAMToolIgnoreEnv,
		"ignore-aliyun-cli-credentials": EnvAckRAMToolIgnoreAliyunCLI, "role-arn": EnvRoleARN, "role-session-name": EnvRoleSessionName, "credential-type": EnvAckRAMToolCredentialType,
	} {
		f := fs.Lookup(flag)
		if f == nil {
			t.Errorf("flag --%s not registered", flag)
			continue
		}
		if !strings.Contains(f.Usage, env) {
			t.Errorf("--%s usage %q does not mention %s", flag, f.Usage, env)
		}
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	o := Options{ProfileName: "flag", CredentialType: "aliyun-cli", Env: envMap(map[string]string{EnvProfileName: "env", EnvCredentialType: "env"})}
	e := o.effective()
	if e.ProfileName != "flag" || e.CredentialType != TypeAliyunCLI {
		t.Errorf("effective = %+v", e)
	}
}

func TestCredentialsStringRedacts(t *testing.T) {
	c := Credentials{AccessKeyID: "LTAI", AccessKeySecret: "SECRET-x", SecurityToken: "TOKEN-x"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "SECRET-x") || strings.Contains(s, "TOKEN-x") || !strings.Contains(s, "LTAI") {
			t.Errorf("formatted credentials %q", s)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "a b  c", want: []string{"a", "b", "c"}},
		{in: `cmd "two words" 'single $x' esc\ aped ""`, want: []string{"cmd", "two words", "single $x", "esc aped", ""}},
		{in: `"unterminated`, wantErr: true},
		{in: `trailing\`, wantErr: true},
	}
	for _, tc := range cases {
		got, err := splitCommand(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("splitCommand(%q) err = %v", tc.in, err)
			continue
		}
		if !tc.wantErr && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("splitCommand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSTSEndpointFor(t *testing.T) {
	cases := []struct {
		ep     cloud.Endpoints
		region string
		vpc    bool
		want   string
	}{
		{cloud.Endpoints{}, "", false, "sts.cn-hangzhou.aliyuncs.com"},
		{cloud.Endpoints{}, "cn-beijing", false, "sts.cn-beijing.aliyuncs.com"},
		{cloud.Endpoints{}, "cn-beijing", true, "sts-vpc.cn-beijing.aliyuncs.com"},
		{cloud.Endpoints{STS: "127.0.0.1:1"}, "cn-beijing", false, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		if got := stsEndpointFor(tc.ep, tc.region, tc.vpc).STSEndpoint(); got != tc.want {
			t.Errorf("stsEndpointFor(%+v, %q, %v) = %q, want %q", tc.ep, tc.region, tc.vpc, got, tc.want)
		}
	}
}

// TestResolveNeverConstructsECSByDefault runs the real Options.Resolve (no
// hooks) on an empty environment: nothing may reach for instance metadata.
func TestResolveNeverConstructsECSByDefault(t *testing.T) {
	o := Options{Env: envMap(nil), HomeDir: t.TempDir()}
	_, err := o.Resolve(context.Background())
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v, want ErrNoCredentials", err)
	}
	if strings.Contains(err.Error(), "100.100.100.200") {
		t.Fatalf("error mentions the metadata address: %v", err)
	}
}

// TestRealECSProviderHonoursDisable uses the real credentials-go constructor:
// TestMain set ALIBABA_CLOUD_ECS_METADATA_DISABLED=true in the process
// environment, so construction fails before any request could be made.
func TestRealECSProviderHonoursDisable(t *testing.T) {
	if v := strings.ToLower(lookupProcessEnv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")); v != "true" {
		t.Fatalf("TestMain must set ALIBABA_CLOUD_ECS_METADATA_DISABLED=true, got %q", v)
	}
	o := Options{Env: envMap(nil), HomeDir: t.TempDir(), CredentialType: TypeECSMetadata}
	_, err := o.Resolve(context.Background())
	if err == nil {
		t.Fatal("Resolve succeeded with ECS metadata disabled")
	}
	assertErr(t, err, []string{"ECS instance metadata", "--credential-type ecs-metadata"})
}
