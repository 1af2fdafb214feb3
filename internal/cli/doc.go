// Package cli is the light command-line kit shared by kubectl ack-login, ack-rrsa, ack-map and
// ack-ram-authenticator, so the three plugins behave as one tool: the same -v (verbosity, as
// kubectl's -v), --version and `version -o json`, --dry-run=none|client|server, one -o flag with
// one wording for a bad value, one confirmation policy (no terminal and no -y: refuse before
// doing anything), "did you mean" for commands and misplaced arguments, usage lines that say
// "kubectl ack-…", and one mapping of errors to exit codes (0 ok, 1 error, 2 usage,
// 130 interrupted).
//
// It lives in internal/ rather than pkg/ because it is built on cobra, and pkg/ is a library
// that never imports cobra. It links nothing heavier than cobra, pflag, x/term and
// sigs.k8s.io/yaml, so the login plugin can use it without growing its start-up; the Kubernetes
// parts (kube context hints, cli-runtime printers) are in internal/cli/kube.
package cli
