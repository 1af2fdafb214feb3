package rrsa

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig"
)

// resolveClusterID returns the cluster id from -c, else discovers it from the current kube
// context, and says which source was used when -v is set.
func (o *rootOptions) resolveClusterID(ctx context.Context) (string, error) {
	if o.clusterID != "" {
		o.logf("Using cluster id %s from --cluster-id", o.clusterID)
		return o.clusterID, nil
	}
	loader := o.configFlags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return "", fmt.Errorf("no --cluster-id given and the kubeconfig could not be loaded: %w", err)
	}
	contextName := raw.CurrentContext
	if o.configFlags.Context != nil && *o.configFlags.Context != "" {
		contextName = *o.configFlags.Context
	}
	getConfigMap := func(ctx context.Context) (map[string]string, error) {
		kc, err := o.kubeClient()
		if err != nil {
			return nil, err
		}
		cm, err := kc.CoreV1().ConfigMaps(kubeconfig.ConfigMapNamespace).Get(ctx, kubeconfig.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, err
		}
		return cm.Data, nil
	}
	from := fmt.Sprintf("kube context %q", contextName)
	if contextName == "" {
		from = "the kubeconfig"
	}
	id, source, err := kubeconfig.DiscoverClusterID(ctx, raw, contextName, getConfigMap)
	if err != nil {
		return "", fmt.Errorf("no --cluster-id given and none could be discovered from %s: %w (or pass -c/--cluster-id)", from, err)
	}
	if id == "" {
		return "", fmt.Errorf("no --cluster-id given and none could be discovered from %s (pass -c/--cluster-id)", from)
	}
	o.logf("Using cluster id %s from %s", id, source)
	return id, nil
}

// session is what most subcommands need: the cluster id and cloud clients.
type session struct {
	clusterID string
	clients   *cloud.Clients
}

func (o *rootOptions) newSession(ctx context.Context) (*session, error) {
	id, err := o.resolveClusterID(ctx)
	if err != nil {
		return nil, err
	}
	clients, err := o.cloudClients(ctx)
	if err != nil {
		return nil, err
	}
	return &session{clusterID: id, clients: clients}, nil
}

// cluster fetches the cluster detail with a helpful error for unknown ids.
func (s *session) cluster(ctx context.Context) (*cloud.Cluster, error) {
	c, err := s.clients.CS.DescribeClusterDetail(ctx, s.clusterID)
	if err != nil {
		if errors.Is(err, cloud.ErrNotFound) {
			return nil, fmt.Errorf("cluster %s not found in this account and region: check -c/--cluster-id and --region-id: %w", s.clusterID, err)
		}
		return nil, fmt.Errorf("describe cluster %s: %w", s.clusterID, err)
	}
	return c, nil
}

// rrsaCluster fetches the cluster and insists RRSA is enabled.
func (s *session) rrsaCluster(ctx context.Context) (*cloud.Cluster, error) {
	c, err := s.cluster(ctx)
	if err != nil {
		return nil, err
	}
	if !c.RRSA.Enabled || c.RRSA.OIDCArn == "" || c.RRSA.Issuer == "" {
		return nil, fmt.Errorf("RRSA is not enabled for cluster %s: run `kubectl ack-rrsa enable -c %s` first", s.clusterID, s.clusterID)
	}
	return c, nil
}
