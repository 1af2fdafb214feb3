package harness

import "syscall"

// sysProcAttr puts a child in its own process group (so stop reaches its children too) and,
// on Linux, has the kernel kill it if the test process dies without cleaning up (a go test
// -timeout panic or a signal skips deferred calls).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
