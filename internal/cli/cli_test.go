package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// testTree is a small command tree shaped like the plugins': a runnable leaf with -o, a group
// with a leaf, and the version command.
func testTree(out *bytes.Buffer, level *int, run func(context.Context) error) *cobra.Command {
	root := &cobra.Command{Use: "kubectl-ack_test", Short: "test"}
	AddVerbosityFlags(root.PersistentFlags(), level)
	o := NewOutput(FormatText, FormatText, FormatJSON)
	whoami := &cobra.Command{Use: "whoami", RunE: func(c *cobra.Command, _ []string) error {
		if err := o.Validate(); err != nil {
			return err
		}
		if run != nil {
			return run(c.Context())
		}
		fmt.Fprintf(out, "format=%s level=%d\n", o.Format, *level)
		return nil
	}}
	o.AddFlags(whoami)
	cache := &cobra.Command{Use: "cache", Short: "cache"}
	cache.AddCommand(&cobra.Command{Use: "clear", RunE: func(*cobra.Command, []string) error { return nil }})
	root.AddCommand(whoami, cache, NewVersionCommand(out, "kubectl ack-test"))
	Setup(root, "kubectl ack-test", "v1.2.3")
	root.SetOut(out)
	root.SetErr(out)
	return root
}

func TestExecuteConventions(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStderr bool
	}{
		{name: "ok", args: []string{"whoami"}, code: 0, stdout: []string{"format=text level=0"}, noStderr: true},
		{name: "kubectl -v=N", args: []string{"whoami", "-v=4"}, stdout: []string{"level=4"}},
		{name: "bare -v is 1", args: []string{"-v", "whoami"}, stdout: []string{"level=1"}},
		{name: "--verbose is -v=1", args: []string{"whoami", "--verbose"}, stdout: []string{"level=1"}},
		{name: "bad -v", args: []string{"whoami", "-v=x"}, code: 2, stderr: []string{"-v takes a level"}},
		{name: "mistyped command", args: []string{"whoam"}, code: 2, stderr: []string{`unknown command "whoam" for "kubectl ack-test"`, "Did you mean this?\n\twhoami"}},
		{name: "mistyped sub-command", args: []string{"cache", "claer"}, code: 2, stderr: []string{`unknown command "claer" for "kubectl ack-test cache"`, "clear"}},
		{name: "group alone shows help", args: []string{"cache"}, code: 0, stdout: []string{"kubectl ack-test cache [command]"}},
		{name: "positional arg on a flags-only command", args: []string{"whoami", "c123"}, code: 2, stderr: []string{`unexpected argument "c123"`, `"kubectl ack-test whoami" takes no arguments`}},
		{name: "flag name without dashes", args: []string{"whoami", "output"}, code: 2, stderr: []string{"did you mean --output?"}},
		{name: "mistyped flag", args: []string{"whoami", "--outptu", "json"}, code: 2, stderr: []string{"unknown flag: --outptu", "Did you mean --output?", "kubectl ack-test whoami --help"}},
		{name: "bad -o", args: []string{"whoami", "-o", "xml"}, code: 2, stderr: []string{`unknown output format -o "xml": use one of text, json`}},
		{name: "usage line names kubectl", args: []string{"whoami", "--help"}, stdout: []string{"kubectl ack-test whoami [flags]"}},
		{name: "--version", args: []string{"--version"}, stdout: []string{"kubectl ack-test v1.2.3"}},
		{name: "version -o json", args: []string{"version", "-o", "json"}, stdout: []string{`"name": "kubectl ack-test"`}},
		{name: "version bad -o", args: []string{"version", "-o", "table"}, code: 2, stderr: []string{`unknown output format -o "table"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			level := 0
			root := testTree(&out, &level, nil)
			code := ExecuteContext(context.Background(), root, tt.args, &errOut)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stdout %q stderr %q", code, tt.code, out.String(), errOut.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout %q lacks %q", out.String(), s)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr %q lacks %q", errOut.String(), s)
				}
			}
			if tt.noStderr && errOut.Len() > 0 {
				t.Errorf("stderr %q, want nothing", errOut.String())
			}
		})
	}
}

func TestVersionJSONFields(t *testing.T) {
	var out, errOut bytes.Buffer
	level := 0
	if code := ExecuteContext(context.Background(), testTree(&out, &level, nil), []string{"version", "-o", "json"}, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var v VersionInfo
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v: %q", err, out.String())
	}
	if v.Name != "kubectl ack-test" || v.Version == "" {
		t.Errorf("version info %+v", v)
	}
}

func TestInterruptedExitsWith130(t *testing.T) {
	tests := []struct {
		name string
		err  func(ctx context.Context) error
		want string
	}{
		{"bare cancellation", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, "Interrupted.\n"},
		{"wrapped", func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("wait for task T (it keeps running in the cloud): %w", context.Cause(ctx))
		}, "Interrupted: wait for task T (it keeps running in the cloud): interrupted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(ErrInterrupted)
			var out, errOut bytes.Buffer
			level := 0
			code := ExecuteContext(ctx, testTree(&out, &level, tt.err), []string{"whoami"}, &errOut)
			if code != ExitInterrupted || errOut.String() != tt.want {
				t.Fatalf("code %d stderr %q, want 130 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

func TestCodeAndReport(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int
		printed string
	}{
		{"nil", nil, 0, ""},
		{"plain", errors.New("boom"), 1, "Error: boom\n"},
		{"usage", UsageErrorf("bad %s", "x"), 2, "Error: bad x\n"},
		{"wrapped usage", fmt.Errorf("ctx: %w", UsageErrorf("bad")), 2, "Error: ctx: bad\n"},
		{"command-specific", WithCode(3, errors.New("not mapped")), 3, "Error: not mapped\n"},
		{"silent", Silent(3), 3, ""},
		{"cobra required flag", errors.New(`required flag(s) "arn" not set`), 2, "Error: required flag(s) \"arn\" not set\n"},
		{"interrupted cause", fmt.Errorf("x: %w", ErrInterrupted), 130, "Interrupted: x: interrupted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := Report(&b, tt.err, false); got != tt.code || b.String() != tt.printed {
				t.Fatalf("Report = %d %q, want %d %q", got, b.String(), tt.code, tt.printed)
			}
		})
	}
}

func TestOutputValidate(t *testing.T) {
	allowed := []string{FormatTable, FormatWide, FormatJSON, FormatYAML, FormatName, FormatJSONPath, FormatCustomColumns}
	tests := []struct {
		format  string
		wantErr string
		name    string
		tmpl    string
		data    bool
	}{
		{format: "table", name: "table"},
		{format: "json", name: "json", data: true},
		{format: "jsonpath={.items[*].metadata.name}", name: "jsonpath", tmpl: "{.items[*].metadata.name}", data: true},
		{format: "custom-columns=NAME:.metadata.name", name: "custom-columns", tmpl: "NAME:.metadata.name", data: true},
		{format: "jsonpath", wantErr: `unknown output format -o "jsonpath"`},
		{format: "jsonpath=", wantErr: "needs a template"},
		{format: "json=x", wantErr: `unknown output format -o "json=x"`},
		{format: "env", wantErr: "use one of table, wide, json, yaml, name, jsonpath=, custom-columns="},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			o := NewOutput(FormatTable, allowed...)
			o.Format = tt.format
			err := o.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsUsage(err) {
					t.Fatalf("Validate(%q) = %v, want usage error with %q", tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%q) = %v", tt.format, err)
			}
			if o.Name() != tt.name || o.Template() != tt.tmpl || o.IsData() != tt.data {
				t.Errorf("Name %q Template %q IsData %v", o.Name(), o.Template(), o.IsData())
			}
		})
	}
}

func TestDryRunFlag(t *testing.T) {
	tests := []struct {
		args    []string
		server  bool
		want    DryRun
		wantErr string
	}{
		{args: nil, want: DryRunNone},
		{args: []string{"--dry-run"}, want: DryRunClient},
		{args: []string{"--dry-run=client"}, want: DryRunClient},
		{args: []string{"--dry-run=true"}, want: DryRunClient},
		{args: []string{"--dry-run=none"}, want: DryRunNone},
		{args: []string{"--dry-run=server"}, server: true, want: DryRunServer},
		{args: []string{"--dry-run=server"}, wantErr: "no server-side dry run"},
		{args: []string{"--dry-run=maybe"}, wantErr: "use none, client or server"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+fmt.Sprint(tt.server), func(t *testing.T) {
			var d DryRun
			cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
			AddDryRunFlag(cmd, &d, tt.server)
			Setup(cmd, "kubectl ack-x", "v0")
			var errOut bytes.Buffer
			code := ExecuteContext(context.Background(), cmd, tt.args, &errOut)
			if tt.wantErr != "" {
				if code != ExitUsage || !strings.Contains(errOut.String(), tt.wantErr) {
					t.Fatalf("code %d stderr %q, want 2 and %q", code, errOut.String(), tt.wantErr)
				}
				return
			}
			if code != 0 || d != tt.want {
				t.Fatalf("code %d dry-run %q, want %q (stderr %q)", code, d, tt.want, errOut.String())
			}
		})
	}
}

func TestConfirmer(t *testing.T) {
	yes := func() bool { return true }
	no := func() bool { return false }
	tests := []struct {
		name  string
		c     Confirmer
		input string
		want  error
		code  int
	}{
		{name: "-y", c: Confirmer{Yes: true, IsTerminal: no}, want: nil},
		{name: "no terminal", c: Confirmer{IsTerminal: no}, want: ErrNoTerminal, code: ExitUsage},
		{name: "terminal yes", c: Confirmer{IsTerminal: yes}, input: "y\n", want: nil},
		{name: "terminal no", c: Confirmer{IsTerminal: yes}, input: "n\n", want: ErrDeclined, code: ExitFailure},
		{name: "terminal EOF", c: Confirmer{IsTerminal: yes}, input: "", want: ErrDeclined, code: ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q bytes.Buffer
			tt.c.In, tt.c.Out = strings.NewReader(tt.input), &q
			err := tt.c.Confirm(context.Background(), "Delete it?")
			if !errors.Is(err, tt.want) || (err != nil && Code(err) != tt.code) {
				t.Fatalf("Confirm = %v (code %d), want %v (code %d)", err, Code(err), tt.want, tt.code)
			}
			if tt.name == "no terminal" && q.Len() != 0 {
				t.Errorf("asked %q without a terminal", q.String())
			}
		})
	}
}
