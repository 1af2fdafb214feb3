package kubefile

import (
	"strings"
)

// IsClusterID reports whether s looks like an ACK cluster id: "c"
// followed by 32 lower-case hex digits. (Checked by hand rather than with
// a package-level regexp: compiling one costs every start of
// kubectl-ack_login.)
func IsClusterID(s string) bool {
	if len(s) != 33 || s[0] != 'c' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ContextName returns the ACK convention context name "<accountID>-<clusterID>".
func ContextName(accountID, clusterID string) string {
	if accountID == "" {
		return clusterID
	}
	return accountID + "-" + clusterID
}

// ClusterIDFromContextName extracts the cluster id from an ACK-style context
// name "<account id>-<cluster id>".
func ClusterIDFromContextName(name string) (string, bool) {
	account, id, ok := strings.Cut(name, "-")
	if !ok || account == "" || !IsClusterID(id) {
		return "", false
	}
	for i := 0; i < len(account); i++ {
		if account[i] < '0' || account[i] > '9' {
			return "", false
		}
	}
	return id, true
}

// ClusterIDFromExecArgs returns the --cluster-id (or -c) argument of an exec
// credential plugin that is kubectl-ack_login (also run as `kubectl
// ack-login`) or ack-ram-tool's credential-plugin. Other commands are not
// trusted to use the flag with the same meaning.
func ClusterIDFromExecArgs(command string, args []string) (string, bool) {
	// Split on both separators: a kubeconfig written on Windows may be read
	// elsewhere.
	base := command
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	base = strings.TrimSuffix(strings.ToLower(base), ".exe")
	switch {
	case base == "kubectl-ack_login", base == "kubectl-ack-login":
	case base == "ack-ram-tool" && containsArg(args, "credential-plugin"):
	case base == "kubectl" && len(args) > 0 && (args[0] == "ack-login" || args[0] == "ack_login"):
	default:
		return "", false
	}
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--cluster-id="); ok && v != "" {
			return v, true
		}
		if v, ok := strings.CutPrefix(a, "-c="); ok && v != "" {
			return v, true
		}
		if (a == "--cluster-id" || a == "-c") && i+1 < len(args) && args[i+1] != "" && !strings.HasPrefix(args[i+1], "-") {
			return args[i+1], true
		}
	}
	return "", false
}

func containsArg(args []string, s string) bool {
	for _, a := range args {
		if a == s {
			return true
		}
	}
	return false
}
