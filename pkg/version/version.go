// Package version holds build information stamped by the linker.
package version

import "fmt"

// These are set with -ldflags "-X github.com/kubectl-ack/kubectl-ack/pkg/version.Version=...".
// They are written once at link time and never changed, so they hold no runtime state.
var (
	Version = "v0.0.0-dev"
	Commit  = "unknown"
	Date    = "unknown"
)

// String returns a one-line description of the build, e.g. "v1.2.3 (commit abc1234, built 2026-11-22)".
func String() string {
	return fmt.Sprintf("%s (commit %s, built %s)", Version, Commit, Date)
}
