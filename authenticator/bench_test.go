package authenticator_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// benchServer is a configured server (not listening) with one verified, cached token.
func benchServer(b *testing.B) (*authenticator.Server, string) {
	b.Helper()
	srv := emulatortest.Start(b)
	info := srv.Info()
	cfg := baseConfig(b, info)
	cfg.Server.MapUsers = []mapper.UserMapping{{UserARN: "acs:ram::" + info.AccountID + ":user/" + info.UserName, Username: "admin-{{UserID}}", Groups: []string{"devs"}}}
	s, err := authenticator.NewServer(cfg, authenticator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		b.Fatal(err)
	}
	if o := s.Auth.Authenticate(context.Background(), tok); o.User == nil {
		b.Fatalf("warm-up denied: %s", o.Reason)
	}
	return s, tok
}

// BenchmarkVerifyCached is the cached verification and mapping path (no HTTP).
func BenchmarkVerifyCached(b *testing.B) {
	s, tok := benchServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if o := s.Auth.Authenticate(ctx, tok); o.User == nil {
				b.Errorf("denied: %s", o.Reason)
				return
			}
		}
	})
}

// BenchmarkHandlerCached is the HTTP handler (JSON decode, verify from cache, map, encode)
// without the network.
func BenchmarkHandlerCached(b *testing.B) {
	s, tok := benchServer(b)
	body := reviewBody(authenticator.APIVersionV1, tok)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			s.Handler.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", bytes.NewReader(body)))
			if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`"authenticated":true`)) {
				b.Errorf("answer %d %s", rec.Code, rec.Body.String())
				return
			}
		}
	})
}

// BenchmarkVerifyUncached signs a new token per iteration: local checks plus one STS call to
// the emulator over HTTPS each time.
func BenchmarkVerifyUncached(b *testing.B) {
	srv := emulatortest.Start(b)
	info := srv.Info()
	cfg := baseConfig(b, info)
	cfg.Server.MapAccounts = []mapper.AccountMapping{{AccountID: info.AccountID}}
	// This measures one verification, not the STS gate, which would rightly refuse most of b.N
	// new tokens at the default rate (the gate has its own tests).
	cfg.Server.STSRate, cfg.Server.STSBurst = 1e9, 1<<30
	s, err := authenticator.NewServer(cfg, authenticator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Distinct tokens need distinct signing seconds (or keys): one key per iteration.
	toks := make([]string, b.N)
	for i := range toks {
		_, k, err := srv.CreateUser(info.AccountID, "bench"+itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		if toks[i], _, err = token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: k.ID, AccessKeySecret: k.Secret}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if o := s.Auth.Authenticate(ctx, toks[i]); o.User == nil {
			b.Fatalf("denied: %s", o.Reason)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = digits[i%10]
		i /= 10
	}
	return string(buf[n:])
}
