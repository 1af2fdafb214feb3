// Command kubectl-ack_rrsa is the `kubectl ack-rrsa` plugin: RAM Roles for Service Accounts for
// ACK clusters.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-ack/kubectl-ack/plugins/rrsa"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := rrsa.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
