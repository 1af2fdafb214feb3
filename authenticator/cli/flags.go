package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
)

// overrides are the flags that override configuration file values. A flag counts only when it
// is given, so the file's value (then the default) applies otherwise, as with the official
// add-on's viper bindings.
type overrides struct {
	kubeconfig  string
	stsEndpoint string
	stsCAFile   string
	region      string
	address     string
	port        int
	stsTimeout  time.Duration

	stateDir           string
	generateKubeconfig string
	pregenerated       bool
	backendMode        []string
}

func (ov *overrides) addSTSFlags(fs *pflag.FlagSet) {
	fs.StringVar(&ov.kubeconfig, "kubeconfig", "", "kubeconfig for the CRD and ACKConfigMap backends (overrides server.kubeconfig; default: the in-cluster configuration in a pod)")
	fs.StringVar(&ov.stsEndpoint, "sts-endpoint", "", "STS endpoint host[:port], always HTTPS (overrides server.stsEndpoint; env ALIBABA_CLOUD_STS_ENDPOINT when neither is set)")
	fs.StringVar(&ov.stsCAFile, "sts-ca-file", "", "PEM CA bundle trusted for STS in addition to the system pool (overrides server.stsCAFile)")
	fs.StringVar(&ov.region, "region", "", "region whose public STS endpoint sts.<region>.aliyuncs.com is used (overrides server.region)")
	fs.DurationVar(&ov.stsTimeout, "sts-timeout", 0, "timeout of one STS call (overrides server.stsTimeout, default 5s)")
}

// addServerFlags adds the official server flags (same names and meaning) and ours.
func (ov *overrides) addServerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&ov.stateDir, "state-dir", authenticator.DefaultStateDir, "directory of the serving certificate and key (overrides server.stateDir)")
	fs.StringVar(&ov.generateKubeconfig, "generate-kubeconfig", authenticator.DefaultGenerateKubeconfig, "where the webhook kubeconfig for kube-apiserver is written (overrides server.generateKubeconfig)")
	fs.BoolVar(&ov.pregenerated, "kubeconfig-pregenerated", false, "the webhook kubeconfig was written by 'init': require it and write none (overrides server.kubeconfigPregenerated)")
	fs.StringSliceVar(&ov.backendMode, "backend-mode", nil, "ordered backends to get mappings from, the first match wins: MountedFile, ACKConfigMap, CRD, DynamicFile (overrides server.backendMode)")
	fs.StringVarP(&ov.address, "bind", "b", authenticator.DefaultAddress, "IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (overrides server.address)")
	fs.StringVar(&ov.address, "address", authenticator.DefaultAddress, "same as --bind")
	fs.IntVar(&ov.port, "port", authenticator.DefaultPort, "port to listen on (overrides server.port)")
}

// apply copies given flags over the file's values.
func (ov *overrides) apply(fs *pflag.FlagSet, c *authenticator.Config) {
	changed := func(name string) bool { return fs.Lookup(name) != nil && fs.Changed(name) }
	s := &c.Server
	if changed("sts-endpoint") {
		s.STSEndpoint = ov.stsEndpoint
	}
	if changed("sts-ca-file") {
		s.STSCAFile = ov.stsCAFile
	}
	if changed("region") {
		s.Region = ov.region
		if !changed("sts-endpoint") {
			// An explicit region on the command line wins over an endpoint in the file.
			s.STSEndpoint = ""
		}
	}
	if changed("sts-timeout") {
		s.STSTimeout.Duration = ov.stsTimeout
	}
	if changed("address") || changed("bind") {
		s.Address = ov.address
	}
	if changed("port") {
		s.Port = ov.port
	}
	if changed("state-dir") {
		s.StateDir = ov.stateDir
	}
	if changed("generate-kubeconfig") {
		s.GenerateKubeconfig = ov.generateKubeconfig
	}
	if changed("kubeconfig-pregenerated") {
		s.KubeconfigPregenerated = ov.pregenerated
	}
	if changed("backend-mode") {
		s.BackendMode, s.Mappers = ov.backendMode, nil
	}
	if changed("kubeconfig") {
		s.Kubeconfig = ov.kubeconfig
	}
}

// kubeConfig returns the Kubernetes client configuration: server.kubeconfig (or --kubeconfig),
// else the in-cluster configuration when allowed and available, else nil.
func kubeConfig(c *authenticator.Config, inCluster bool) (*rest.Config, error) {
	if path := c.Server.Kubeconfig; path != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s (--kubeconfig / server.kubeconfig): %w", path, err)
		}
		return rc, nil
	}
	if inCluster && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster Kubernetes configuration: %w", err)
		}
		return rc, nil
	}
	return nil, nil
}
