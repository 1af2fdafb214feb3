package rrsa

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// contextNamePattern matches ACK kubeconfig context names, "<account id>-<cluster id>".
var contextNamePattern = regexp.MustCompile(`^[0-9]+-(c[0-9a-f]{32})$`)

// discoverClusterID finds the ACK cluster id for a kube context: from the --cluster-id argument of
// an exec credential plugin (kubectl-ack_login, ack-ram-tool), from an ACK-style context name, or
// from the ack-cluster-profile ConfigMap (getConfigMap may return nil data when absent).
// It returns the id and a description of where it came from.
func discoverClusterID(ctx context.Context, raw clientcmdapi.Config, contextName string, getConfigMap func(context.Context) (map[string]string, error)) (string, string, error) {
	if contextName == "" {
		return "", "", fmt.Errorf("the kubeconfig has no current context: pass --context NAME or run `kubectl config use-context NAME`")
	}
	kctx, ok := raw.Contexts[contextName]
	if !ok {
		return "", "", fmt.Errorf("kube context %q not found in the kubeconfig", contextName)
	}
	if user, ok := raw.AuthInfos[kctx.AuthInfo]; ok && user.Exec != nil {
		args := user.Exec.Args
		for i, a := range args {
			if v, ok := strings.CutPrefix(a, "--cluster-id="); ok && v != "" {
				return v, fmt.Sprintf("the exec credential plugin arguments of user %q", kctx.AuthInfo), nil
			}
			if (a == "--cluster-id" || a == "-c") && i+1 < len(args) && args[i+1] != "" {
				return args[i+1], fmt.Sprintf("the exec credential plugin arguments of user %q", kctx.AuthInfo), nil
			}
		}
	}
	if m := contextNamePattern.FindStringSubmatch(contextName); m != nil {
		return m[1], fmt.Sprintf("the kube context name %q", contextName), nil
	}
	data, err := getConfigMap(ctx)
	if err != nil {
		return "", "", err
	}
	if id := strings.TrimSpace(data["clusterid"]); id != "" {
		return id, "ConfigMap kube-system/ack-cluster-profile in the current cluster", nil
	}
	return "", "", fmt.Errorf("no exec credential --cluster-id argument, no ACK-style context name and no ConfigMap kube-system/ack-cluster-profile")
}
