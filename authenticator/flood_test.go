package authenticator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// stsRequests counts every STS GetCallerIdentity request the emulator receives, accepted or not,
// from its request log (emulator.Server.Calls counts accepted calls only).
type stsRequests struct{ n atomic.Int64 }

func (c *stsRequests) Enabled(context.Context, slog.Level) bool { return true }
func (c *stsRequests) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *stsRequests) WithGroup(string) slog.Handler            { return c }
func (c *stsRequests) Handle(_ context.Context, r slog.Record) error {
	var service, action string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "service":
			service = a.Value.String()
		case "action":
			action = a.Value.String()
		}
		return true
	})
	if service == emulator.ServiceSTS && action == token.Action {
		c.n.Add(1)
	}
	return nil
}

// tokenVariant re-encodes tok with fn applied to its decoded JSON: the way anyone holding a token
// can make new ones without a key.
func tokenVariant(t *testing.T, tok string, fn func(headers map[string]string)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(tok, token.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ClusterID string            `json:"clusterId"`
		Method    string            `json:"method"`
		Path      string            `json:"path"`
		Query     map[string]string `json:"query"`
		Headers   map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	fn(m.Headers)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return token.Prefix + base64.StdEncoding.EncodeToString(b)
}

// floodTokens returns n distinct tokens, none of which is valid for a new identity: variants of
// valid (another user-agent: unsigned), valid with a wrong signature, tokens signed with unknown
// access keys, and tokens that fail the local checks (expired).
func floodTokens(t *testing.T, n int, valid, cluster string, now time.Time) []string {
	toks := make([]string, 0, n)
	for i := 0; len(toks) < n; i++ {
		var tok string
		switch i % 4 {
		case 0:
			tok = tokenVariant(t, valid, func(h map[string]string) { h["user-agent"] = "flood/" + strconv.Itoa(i) })
		case 1:
			sig := fmt.Sprintf("%064x", i)
			tok = tokenVariant(t, valid, func(h map[string]string) {
				a := h["Authorization"]
				h["Authorization"] = a[:strings.LastIndex(a, "=")+1] + sig
			})
		case 2:
			tok = signAt(t, now, cluster, fmt.Sprintf("LTAIflood%08d", i), "not-a-secret", "")
		default:
			tok = signAt(t, now.Add(-token.ServerValidity-time.Duration(i)*time.Second), cluster, "LTAIexpired", "x", "")
		}
		toks = append(toks, tok)
	}
	return toks
}

// TestFloodCostsAtMostTheGateBudget: while a valid identity is in use, a flood of 10,000 distinct
// bad or unsigned-variant tokens costs at most the STS gate's budget (burst + rate × duration) in
// STS calls, counted at the emulator; every other flood token is answered 429 and counted in
// sts_gate_rejections_total on /metrics; the valid identity is always accepted and never needs a
// second STS call, even though the identity cache holds only two entries and the cache of refused
// tokens fills up many times over.
func TestFloodCostsAtMostTheGateBudget(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	counter := &stsRequests{}
	srv := emulatortest.Start(t, emulatortest.WithLogger(slog.New(counter)))
	info := srv.Info()
	cfg := baseConfig(t, info)
	cfg.Server.MapUsers = []mapper.UserMapping{{UserARN: "acs:ram::" + info.AccountID + ":user/" + info.UserName, Username: "valid-user"}}
	cfg.Server.CacheSize, cfg.Server.NegativeCacheSize = 2, 8
	cfg.Server.STSRate, cfg.Server.STSBurst, cfg.Server.STSConcurrency = 2, 20, 4
	s, err := authenticator.NewServer(cfg, authenticator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	captureKlog(t, "0") // 10,000 denials are logged; keep them out of the test output
	review := func(tok string) (int, review) {
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/authenticate", bytes.NewReader(reviewBody(authenticator.APIVersionV1, tok))))
		var rv review
		if err := json.Unmarshal(rec.Body.Bytes(), &rv); err != nil {
			t.Errorf("answer %d is not JSON: %s", rec.Code, rec.Body.String())
		}
		return rec.Code, rv
	}

	now := time.Now()
	valid := signAt(t, now, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")
	if code, rv := review(valid); code != http.StatusOK || rv.Status.User.Username != "valid-user" {
		t.Fatalf("valid token: %d %+v", code, rv.Status)
	}
	flood := floodTokens(t, 10000, valid, info.ClusterID, now)
	acceptedBefore, requestsBefore := srv.Calls(emulator.ServiceSTS, token.Action), counter.n.Load()

	var throttled, validOK, validBad, variantsOK atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(flood)); i = next.Add(1) - 1 {
				code, rv := review(flood[i])
				if code == http.StatusTooManyRequests {
					throttled.Add(1)
				}
				if i%4 == 0 && rv.Status.Authenticated {
					variantsOK.Add(1)
				}
				// The valid identity keeps being used during the flood.
				if i%10 == 0 {
					if code, rv := review(valid); code == http.StatusOK && rv.Status.Authenticated {
						validOK.Add(1)
					} else {
						validBad.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	stsRequests := counter.n.Load() - requestsBefore
	budget := int64(cfg.Server.STSBurst) + int64(math.Ceil(cfg.Server.STSRate*elapsed.Seconds()))
	t.Logf("flood of %d tokens in %v: %d STS requests (budget %d), %d answered 429", len(flood), elapsed, stsRequests, budget, throttled.Load())
	if stsRequests > budget || stsRequests == 0 {
		t.Errorf("the flood cost %d STS requests, want 1..%d (the gate's budget)", stsRequests, budget)
	}
	if got := srv.Calls(emulator.ServiceSTS, token.Action) - acceptedBefore; got != 0 {
		t.Errorf("STS accepted %d calls during the flood, want 0: the valid identity and its unsigned variants need no second call", got)
	}
	if validBad.Load() != 0 || validOK.Load() != 1000 {
		t.Errorf("valid token during the flood: %d accepted, %d not, want 1000 accepted", validOK.Load(), validBad.Load())
	}
	if variantsOK.Load() != 2500 {
		t.Errorf("%d of 2500 user-agent variants of the valid token were accepted, want all (from the cache)", variantsOK.Load())
	}
	if throttled.Load() == 0 {
		t.Error("no flood token was answered 429: the gate never closed")
	}
	if n := s.Auth.Cache().Len(); n != 1 {
		t.Errorf("identity cache holds %d entries, want the 1 valid identity", n)
	}
	if n := s.Auth.Cache().RefusedLen(); n == 0 || n > 8 {
		t.Errorf("cache of refused tokens holds %d entries, want 1..8", n)
	}
	assertGateMetric(t, s.Handler, throttled.Load())
}

// assertGateMetric checks that /metrics counts want gate rejections in total.
func assertGateMetric(t *testing.T, h http.Handler, want int64) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	re := regexp.MustCompile(`(?m)^ack_ram_authenticator_sts_gate_rejections_total\{reason="(rate|concurrency)"\} (\d+)$`)
	var total int64
	ms := re.FindAllStringSubmatch(rec.Body.String(), -1)
	for _, m := range ms {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		total += n
	}
	if len(ms) != 2 || total != want {
		t.Errorf("/metrics has %d sts_gate_rejections_total series summing to %d, want both reasons summing to %d", len(ms), total, want)
	}
}
