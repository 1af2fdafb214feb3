package rrsa

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/pkg/prompt/prompttest"
)

func TestConfirm(t *testing.T) {
	tests := []struct {
		name string
		// stdin nil means a terminal nobody types into.
		stdin      io.Reader
		yes        bool
		cancel     bool
		wantErr    error
		wantCancel bool
	}{
		{name: "yes flag skips the prompt", yes: true},
		{name: "y", stdin: strings.NewReader("y\n")},
		{name: "YES", stdin: strings.NewReader(" YES \n")},
		{name: "n", stdin: strings.NewReader("n\n"), wantErr: errAborted},
		{name: "empty line", stdin: strings.NewReader("\n"), wantErr: errAborted},
		{name: "end of input", stdin: strings.NewReader(""), wantErr: errAborted},
		// Ctrl-C cancels the context (main catches SIGINT): the prompt must give up at once.
		{name: "interrupt while waiting", cancel: true, wantErr: errAborted, wantCancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := tt.stdin
			if stdin == nil {
				r, w := io.Pipe()
				t.Cleanup(func() { _ = w.Close() })
				stdin = r
			}
			errOut := prompttest.NewWriter()
			o := &rootOptions{streams: genericiooptions.IOStreams{In: stdin, Out: io.Discard, ErrOut: errOut}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- o.confirm(ctx, tt.yes, "Do it?") }()
			if tt.cancel {
				select {
				case <-errOut.Prompted():
				case <-time.After(10 * time.Second):
					t.Fatal("no prompt written")
				}
				cancel()
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("confirm did not return")
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("confirm = %v, want %v", err, tt.wantErr)
			}
			if got := errors.Is(err, context.Canceled); got != tt.wantCancel {
				t.Fatalf("confirm = %v: cancellation reported %v, want %v", err, got, tt.wantCancel)
			}
			if tt.yes && errOut.String() != "" {
				t.Fatalf("prompted despite -y: %q", errOut.String())
			}
		})
	}
}

func TestValidateOutputNamesFormats(t *testing.T) {
	tests := []struct {
		output  string
		allowed []string
		wantErr string
	}{
		{output: "", allowed: []string{"", "json", "yaml"}},
		{output: "json", allowed: []string{"", "json", "yaml"}},
		{output: "xml", allowed: []string{"", "json", "yaml"}, wantErr: `unsupported output format -o "xml": use one of json, yaml`},
		{output: "wide", allowed: []string{"", "table", "json", "yaml"}, wantErr: `unsupported output format -o "wide": use one of table, json, yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			err := validateOutput(tt.output, tt.allowed...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("validateOutput(%q) = %v, want %q", tt.output, err, tt.wantErr)
			}
		})
	}
}
