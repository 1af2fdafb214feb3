package authenticator_test

import (
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
)

// TestConfigSTSGateAndNegativeCache: the gate and the cache of refused tokens have defaults,
// take the configured values, and refuse negative ones.
func TestConfigSTSGateAndNegativeCache(t *testing.T) {
	tests := []struct {
		name    string
		server  string
		want    authenticator.CacheConfig
		wantErr string
	}{
		{name: "defaults", want: authenticator.CacheConfig{Size: authenticator.DefaultCacheSize, NegativeSize: authenticator.DefaultNegativeCacheSize,
			Gate: authenticator.GateConfig{Rate: authenticator.DefaultSTSRate, Burst: authenticator.DefaultSTSBurst, Concurrency: authenticator.DefaultSTSConcurrency}}},
		{name: "configured", server: "cacheSize: 10, negativeCacheSize: 5, stsRate: 2.5, stsBurst: 7, stsConcurrency: 3",
			want: authenticator.CacheConfig{Size: 10, NegativeSize: 5, Gate: authenticator.GateConfig{Rate: 2.5, Burst: 7, Concurrency: 3}}},
		{name: "negative rate", server: "stsRate: -1", wantErr: "server.stsRate -1 must not be negative"},
		{name: "negative burst", server: "stsBurst: -2", wantErr: "server.stsBurst -2"},
		{name: "negative concurrency", server: "stsConcurrency: -3", wantErr: "server.stsConcurrency -3"},
		{name: "negative negative cache", server: "negativeCacheSize: -4", wantErr: "server.negativeCacheSize -4"},
		{name: "negative cache size", server: "cacheSize: -5", wantErr: "server.cacheSize -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "clusterID: c1\nserver: {stsEndpoint: sts.example.com"
			if tc.server != "" {
				yaml += ", " + tc.server
			}
			cfg, err := authenticator.ParseConfig([]byte(yaml+"}\n"), "test")
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.Validate(false, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := authenticator.CacheConfigFor(cfg, nil); got.Size != tc.want.Size || got.NegativeSize != tc.want.NegativeSize || got.Gate != tc.want.Gate {
				t.Errorf("CacheConfig = %+v, want %+v", got, tc.want)
			}
		})
	}
}
