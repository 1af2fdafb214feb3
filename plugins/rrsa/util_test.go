package rrsa

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
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
		// noTerminal: stdin is not a terminal (else it is one).
		noTerminal bool
	}{
		{name: "yes flag skips the prompt", yes: true},
		{name: "y", stdin: strings.NewReader("y\n")},
		{name: "YES", stdin: strings.NewReader(" YES \n")},
		{name: "n", stdin: strings.NewReader("n\n"), wantErr: cli.ErrDeclined},
		{name: "empty line", stdin: strings.NewReader("\n"), wantErr: cli.ErrDeclined},
		{name: "end of input", stdin: strings.NewReader(""), wantErr: cli.ErrDeclined},
		// Ctrl-C cancels the context (main catches SIGINT): the prompt must give up at once.
		{name: "interrupt while waiting", cancel: true, wantErr: cli.ErrDeclined, wantCancel: true},
		// No terminal: refused without asking, even when an answer could be read (issue 18).
		{name: "no terminal", stdin: strings.NewReader("y\n"), noTerminal: true, wantErr: cli.ErrNoTerminal},
		{name: "no terminal, -y", stdin: strings.NewReader(""), noTerminal: true, yes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := tt.stdin
			if stdin == nil {
				r, w := io.Pipe()
				t.Cleanup(func() { _ = w.Close() })
				stdin = r
			}
			if !tt.noTerminal {
				stdin = terminalInput{stdin}
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
			if (tt.yes || tt.noTerminal) && errOut.String() != "" {
				t.Fatalf("prompted despite -y or without a terminal: %q", errOut.String())
			}
		})
	}
}

// A bad -o is reported with the one wording of every plugin, names the formats the command
// prints, and is a usage error (exit code 2) found before any cloud call.
func TestBadOutputFormat(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status", "-o", "xml"}, `unknown output format -o "xml": use one of text, json, yaml, jsonpath=`},
		{[]string{"list-associations", "-r", "r", "-o", "env"}, `unknown output format -o "env": use one of table, wide, json, yaml, name, jsonpath=, custom-columns=`},
		{[]string{"list-addons", "-o", "jsonpath"}, `unknown output format -o "jsonpath"`},
		{[]string{"list-addons", "-o", "jsonpath="}, `-o jsonpath needs a template`},
		{[]string{"assume-role", "-r", "r", "--service-account", "a/b", "-o", "table"}, `unknown output format -o "table": use one of text, json, yaml, env, jsonpath=`},
		{[]string{"version", "-o", "wide"}, `unknown output format -o "wide": use one of text, json, yaml`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || r.code != cli.ExitUsage {
				t.Fatalf("err = %v (exit %d), want %q and exit 2", r.err, r.code, tt.want)
			}
			if calls := f.srv.AllCalls(); len(calls["cs"])+len(calls["ram"]) > 0 {
				t.Fatalf("cloud calls before the usage error: %v", calls)
			}
		})
	}
}
