// Command kubectl-ack_map is the `kubectl ack-map` plugin: manage RAMIdentityMappings, explain
// which mapping a RAM identity hits, and move mappings between the authenticator's static
// configuration and the cluster.
package main

import (
	"context"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/plugins/mapping"
)

func main() {
	root := mapping.NewRootCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	os.Exit(cli.Execute(context.Background(), root, os.Args[1:], os.Stderr))
}
