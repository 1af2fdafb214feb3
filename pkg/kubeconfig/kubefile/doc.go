// Package kubefile reads, edits and writes kubeconfig files without
// k8s.io/apimachinery or client-go.
//
// It exists because kubectl-ack_login runs before every kubectl command and
// Go runs the init functions of every package linked into a binary, whether
// the code path uses them or not: linking client-go's clientcmd (and with it
// the apimachinery scheme machinery) measurably slows every credential
// lookup, and cli-runtime's ConfigFlags roughly quadruples the binary's start
// time and memory. This package therefore works on the kubeconfig as a
// generic YAML document, which also means fields it does not know about
// (extensions, proxy-url, future fields) survive a merge untouched.
//
// File selection follows kubectl (client-go's clientcmd.PathOptions): an
// explicit --kubeconfig file wins, else the KUBECONFIG list (entries are
// merged first-file-wins and each change is written to the file that already
// defines the entry, new entries to the first existing file, or the last one
// when none exists), else ~/.kube/config.
package kubefile
