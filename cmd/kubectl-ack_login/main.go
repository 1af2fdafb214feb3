// Command kubectl-ack_login is the `kubectl ack-login` plugin: the exec
// credential plugin for ACK clusters, the kubeconfig writer that uses it,
// and whoami.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-ack/kubectl-ack/plugins/login"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := login.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
