package mapping

import (
	"context"
	"io"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/pkg/prompt/prompttest"
)

// Ctrl-C at the delete prompt cancels the context (main catches SIGINT): the command must end
// at once, delete nothing and exit 1, not wait for a line on stdin.
func TestDeleteConfirmationInterrupted(t *testing.T) {
	f := newFixture(t)
	f.create(t, "a", "acs:ram::1:user/a", "a")
	stdin, typist := io.Pipe()
	t.Cleanup(func() { _ = typist.Close() })
	errOut := prompttest.NewWriter()
	cmd := newRootCommand(genericiooptions.IOStreams{In: stdin, Out: io.Discard, ErrOut: errOut},
		hooks{stdinIsTerminal: func() bool { return true }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, cmd, []string{"--kubeconfig", f.env.Kubeconfig, "delete", "a"}, errOut) }()
	select {
	case <-errOut.Prompted():
	case <-time.After(30 * time.Second):
		t.Fatalf("no prompt; stderr:\n%s", errOut)
	}
	cancel()
	select {
	case c := <-code:
		if c != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", c, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("delete still waits for an answer after the interrupt")
	}
	contains(t, "stderr", errOut.String(), "aborted: nothing was deleted", "context canceled")
	if _, ok := f.list(t)["a"]; !ok {
		t.Fatal("mapping a was deleted")
	}
}
