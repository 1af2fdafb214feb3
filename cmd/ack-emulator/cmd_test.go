package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

func TestServePrintsInfoAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--state-dir", dir, "--log-level", "warn"}, pw, &stderr)
		_ = pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read info line: %v (stderr %s)", err, stderr.String())
	}
	var in emulator.Info
	if err := json.Unmarshal([]byte(line), &in); err != nil {
		t.Fatalf("info line %q: %v", line, err)
	}
	if !strings.HasPrefix(in.Endpoint, "127.0.0.1:") || in.AccessKeyID == "" || in.AccessKeySecret == "" ||
		in.AccountID == "" || !strings.HasPrefix(in.ClusterID, "c") || in.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("info = %+v", in)
	}
	caPEM, err := os.ReadFile(in.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", "https://"+in.Endpoint+"/_emulator/info", nil)
	req.Header.Set(emulator.AdminHeader, in.AdminToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("admin info over TLS with caFile: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("admin info status %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "info.json")); err != nil {
		t.Errorf("info.json: %v", err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d, stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	if strings.Contains(stderr.String(), in.AccessKeySecret) {
		t.Error("stderr contains the access key secret")
	}
}

func TestServeBadSeed(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"serve", "--seed", filepath.Join(t.TempDir(), "missing.yaml")}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--seed") || stdout.Len() != 0 {
		t.Errorf("code %d stdout %q stderr %q", code, stdout.String(), stderr.String())
	}
}
