package kubeconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
)

// ConfigMapNamespace, ConfigMapName and ConfigMapKey locate the cluster id
// that ACK stores in every cluster.
const (
	ConfigMapNamespace = "kube-system"
	ConfigMapName      = "ack-cluster-profile"
	ConfigMapKey       = "clusterid"
)

// ErrNoClusterID is returned (wrapped) when no source names the cluster.
var ErrNoClusterID = errors.New("no ACK cluster id found")

// DiscoverClusterID finds the ACK cluster id of a kube context, trying in
// order:
//
//  1. the --cluster-id (-c) argument of the context user's exec credential
//     plugin when that is kubectl-ack_login or ack-ram-tool credential-plugin;
//  2. an ACK-style context name "<account id>-<cluster id>";
//  3. getConfigMap, which should return the data of ConfigMap
//     kube-system/ack-cluster-profile (nil data when it does not exist).
//
// contextName "" means rawConfig.CurrentContext. getConfigMap may be nil to
// skip step 3. It returns the id and a human description of its source.
func DiscoverClusterID(ctx context.Context, rawConfig clientcmdapi.Config, contextName string,
	getConfigMap func(context.Context) (map[string]string, error)) (id, source string, err error) {
	if contextName == "" {
		contextName = rawConfig.CurrentContext
	}
	if contextName == "" {
		return "", "", errors.New("the kubeconfig has no current context: pass --context NAME or run `kubectl config use-context NAME`")
	}
	kctx, ok := rawConfig.Contexts[contextName]
	if !ok || kctx == nil {
		return "", "", fmt.Errorf("kube context %q not found in the kubeconfig", contextName)
	}
	if user, ok := rawConfig.AuthInfos[kctx.AuthInfo]; ok && user != nil && user.Exec != nil {
		if id, ok := kubefile.ClusterIDFromExecArgs(user.Exec.Command, user.Exec.Args); ok {
			return id, fmt.Sprintf("the exec credential plugin arguments of user %q (context %q)", kctx.AuthInfo, contextName), nil
		}
	}
	if id, ok := kubefile.ClusterIDFromContextName(contextName); ok {
		return id, fmt.Sprintf("the kube context name %q", contextName), nil
	}
	if getConfigMap != nil {
		data, err := getConfigMap(ctx)
		if err != nil {
			return "", "", fmt.Errorf("read ConfigMap %s/%s: %w", ConfigMapNamespace, ConfigMapName, err)
		}
		if id := strings.TrimSpace(data[ConfigMapKey]); id != "" {
			return id, fmt.Sprintf("ConfigMap %s/%s in the cluster of context %q", ConfigMapNamespace, ConfigMapName, contextName), nil
		}
	}
	return "", "", fmt.Errorf("%w for context %q: no exec credential --cluster-id argument, no ACK-style context name (<account id>-<cluster id>) and no ConfigMap %s/%s; pass --cluster-id",
		ErrNoClusterID, contextName, ConfigMapNamespace, ConfigMapName)
}
