// Command kubectl-ack_rrsa is the `kubectl ack-rrsa` plugin: RAM Roles for Service Accounts for
// ACK clusters.
package main

import (
	"context"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/plugins/rrsa"
)

func main() {
	root := rrsa.NewRootCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	os.Exit(cli.Execute(context.Background(), root, os.Args[1:], os.Stderr))
}
