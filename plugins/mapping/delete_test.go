package mapping

import (
	"context"
	"io"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt/prompttest"
)

// Ctrl-C at the delete prompt cancels the context with cli.ErrInterrupted (cli.Execute catches
// SIGINT): the command must end at once, delete nothing and exit 130, not wait for a line on
// stdin.
func TestDeleteConfirmationInterrupted(t *testing.T) {
	f := newFixture(t)
	f.create(t, "a", "acs:ram::1:user/a", "a")
	stdin, typist := io.Pipe()
	t.Cleanup(func() { _ = typist.Close() })
	errOut := prompttest.NewWriter()
	cmd := NewRootCommand(genericiooptions.IOStreams{In: terminalInput{stdin}, Out: io.Discard, ErrOut: errOut})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	code := make(chan int, 1)
	go func() {
		code <- cli.ExecuteContext(ctx, cmd, []string{"--kubeconfig", f.env.Kubeconfig, "delete", "a"}, errOut)
	}()
	select {
	case <-errOut.Prompted():
	case <-time.After(30 * time.Second):
		t.Fatalf("no prompt; stderr:\n%s", errOut)
	}
	cancel(cli.ErrInterrupted)
	select {
	case c := <-code:
		if c != cli.ExitInterrupted {
			t.Fatalf("exit %d, want 130; stderr:\n%s", c, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("delete still waits for an answer after the interrupt")
	}
	contains(t, "stderr", errOut.String(), "Interrupted: aborted: nothing was deleted")
	if _, ok := f.list(t)["a"]; !ok {
		t.Fatal("mapping a was deleted")
	}
}
