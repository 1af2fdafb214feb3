// Command ack-ram-authenticator is the Kubernetes token webhook for Alibaba Cloud RAM identities.
package main

import (
	"context"
	"os"

	"github.com/kubectl-ack/kubectl-ack/authenticator/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
