// Command kubectl-ack_login is the `kubectl ack-login` plugin: the exec
// credential plugin for ACK clusters, the kubeconfig writer that uses it,
// and whoami.
package main

import (
	"context"
	"os"

	"github.com/kubectl-ack/kubectl-ack/plugins/login"
)

func main() {
	// login.Main installs the interrupt handler itself, and only for the
	// commands that need it: starting signal delivery costs the credential
	// path, which kubectl runs before every command, a measurable share of
	// its start-up time.
	os.Exit(login.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
