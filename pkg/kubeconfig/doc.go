// Package kubeconfig connects kubeconfig contexts to ACK clusters.
//
// DiscoverClusterID finds which ACK cluster a kube context points at, for
// commands that take the cluster from the current context (RRSA). It works
// on client-go's clientcmd api.Config because its callers already load the
// kubeconfig with client-go.
//
// Writing exec kubeconfigs (generation, merge, backup, atomic write) lives
// in the subpackage kubefile, which depends on neither client-go nor
// apimachinery so that kubectl-ack_login, which runs before every kubectl
// command, does not pay their start-up cost.
package kubeconfig
