// Command ack-ram-authenticator is the Kubernetes token webhook for Alibaba Cloud RAM identities.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-ack/kubectl-ack/authenticator/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
