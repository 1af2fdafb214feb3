// Command kubectl-ack_map is the `kubectl ack-map` plugin: manage RAMIdentityMappings, explain
// which mapping a RAM identity hits, and move mappings between the authenticator's static
// configuration and the cluster.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubectl-ack/kubectl-ack/plugins/mapping"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mapping.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
