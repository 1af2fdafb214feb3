package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClaimDir(t *testing.T) {
	write := func(t *testing.T, dir, name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string
	}{
		{name: "missing directory", prepare: func(t *testing.T, dir string) { _ = os.Remove(dir) }},
		{name: "empty directory", prepare: func(*testing.T, string) {}},
		{name: "left by a stopped stack", prepare: func(t *testing.T, dir string) {
			write(t, dir, envFileName, "export A=b\n")
			write(t, dir, pidFileName, "999999999\n")
		}},
		{name: "a live stack", prepare: func(t *testing.T, dir string) {
			write(t, dir, envFileName, "export A=b\n")
			write(t, dir, pidFileName, strconv.Itoa(os.Getpid()))
		}, wantErr: "already up"},
		{name: "somebody else's directory", prepare: func(t *testing.T, dir string) { write(t, dir, "notes.txt", "keep me") },
			wantErr: "not a demo stack's directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "up")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, dir)
			err := claimDir(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("claimDir = %v, want %q", err, tt.wantErr)
				}
				return
			}
			entries, rerr := os.ReadDir(dir)
			if err != nil || rerr != nil || len(entries) != 0 {
				t.Fatalf("claimDir = %v; dir has %v (%v)", err, entries, rerr)
			}
		})
	}
}

func TestTimerCountsTheBuild(t *testing.T) {
	started := time.Now().Add(-3 * time.Second)
	tm := newTimer(strconv.FormatInt(started.UnixNano(), 10))
	if up := tm.upLine(); !strings.Contains(up, "(after 3s of building)") {
		t.Errorf("upLine = %q", up)
	}
	if done := tm.doneLine(); !strings.Contains(done, "in all: 3s building") {
		t.Errorf("doneLine = %q", done)
	}
	plain := newTimer("")
	_ = plain.upLine()
	if done := plain.doneLine(); !strings.Contains(done, "build time not included") {
		t.Errorf("without the script: %q", done)
	}
}
