package kubefile

import (
	"regexp"
	"strings"
)

// clusterIDPattern is an ACK cluster id: "c" followed by 32 hex digits.
var clusterIDPattern = regexp.MustCompile(`^c[0-9a-f]{32}$`)

// contextNamePattern is the ACK kubeconfig context name "<account id>-<cluster id>".
var contextNamePattern = regexp.MustCompile(`^[0-9]+-(c[0-9a-f]{32})$`)

// IsClusterID reports whether s looks like an ACK cluster id.
func IsClusterID(s string) bool { return clusterIDPattern.MatchString(s) }

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
	if m := contextNamePattern.FindStringSubmatch(name); m != nil {
		return m[1], true
	}
	return "", false
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
