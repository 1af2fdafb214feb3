package token_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func FuzzParse(f *testing.F) {
	valid := signAt(f, testNow, "")
	f.Add(valid)
	f.Add(signAt(f, testNow, testSTS))
	f.Add(valid[:len(valid)/2])
	f.Add(token.Prefix)
	f.Add("")
	f.Add(encode(`{"clusterId":"c","method":"POST","path":"/","query":{"ACKClusterId":"c"},"headers":{}}`))
	f.Add(encode(`{"clusterId":"c","clusterId":"c"}`))
	f.Add(encode(`{"headers":{"a":{"b":1}}}`))
	f.Add(encode(strings.Replace(rawJSON(f, valid), `"x-acs-action"`, `"X-ACS-ACTION":"x","x-acs-action"`, 1)))
	f.Fuzz(func(t *testing.T, tok string) {
		req, err := token.Parse(tok, testCluster, testNow)
		if err != nil {
			var pe *token.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, token.ErrInvalidToken) || pe.Reason == "" {
				t.Fatalf("rejection is not a *ParseError: %T %v", err, err)
			}
			if req != nil {
				t.Fatal("non-nil request with an error")
			}
			return
		}
		if req.ClusterID != testCluster || req.Query["ACKClusterId"] != testCluster || len(req.Query) != 1 {
			t.Fatalf("accepted a token for another cluster: %+v", req)
		}
		if req.Method != "POST" || req.Path != "/" {
			t.Fatalf("accepted method/path %s %s", req.Method, req.Path)
		}
		if req.Headers["x-acs-action"] != token.Action || req.Headers["x-acs-version"] != token.APIVersion ||
			!strings.HasPrefix(req.Headers["authorization"], token.Algorithm+" ") || req.AccessKeyID == "" {
			t.Fatalf("accepted token without the required headers: %+v", req.Headers)
		}
		if req.Date.Before(testNow.Add(-token.ServerValidity)) || req.Date.After(testNow.Add(token.MaxClockSkew)) {
			t.Fatalf("accepted date %v", req.Date)
		}
		if len(tok) > token.MaxTokenBytes {
			t.Fatalf("accepted %d bytes", len(tok))
		}
	})
}

func BenchmarkSign(b *testing.B) {
	in := token.SignInput{ClusterID: testCluster, AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testSTS, Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := token.Sign(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	tok := signAt(b, testNow, testSTS)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Parse(tok, testCluster, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
