// Command kubectl-ack_login is the `kubectl ack-login` plugin: the exec
// credential plugin for ACK clusters, the kubeconfig writer that uses it,
// and whoami.
package main

import (
	"context"
	"os"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/plugins/login"
)

func main() {
	ctx := context.Background()
	streams := login.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// kubectl's credential request, before every kubectl command, is served without cobra
	// and without a signal handler: both would cost a measurable share of its start-up.
	if code, ok := login.ServeCredentialRequest(ctx, os.Args[1:], streams); ok {
		os.Exit(code)
	}
	os.Exit(cli.Execute(ctx, login.NewRootCommand(streams), os.Args[1:], os.Stderr))
}
