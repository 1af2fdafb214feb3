// Package kube is the Kubernetes half of the CLI kit, for the plugins that link client-go
// (ack-rrsa, ack-map): one "no usable kube context" hint, -o jsonpath= and custom-columns= for
// any printed value, and completion of namespaces and service accounts from the current
// context. The login plugin links none of it.
package kube

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoContext says that no kube context is usable, and how to get one.
var ErrNoContext = errors.New("no usable kube context: pass --kubeconfig FILE and/or --context NAME, set KUBECONFIG, " +
	"or write a context with 'kubectl ack-login kubeconfig --cluster NAME' (then 'kubectl config use-context NAME')")

// RESTConfig loads the client configuration the kubectl flags select. A kubeconfig that is
// missing or empty, has no current context, or names a context that does not exist is refused
// with ErrNoContext and the detail, instead of falling back to localhost:8080 and a bare
// "connection refused".
func RESTConfig(f *genericclioptions.ConfigFlags) (*rest.Config, error) {
	loader := f.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("%w (reading the kubeconfig: %v)", ErrNoContext, err)
	}
	name := raw.CurrentContext
	if f.Context != nil && *f.Context != "" {
		name = *f.Context
	}
	explicitServer := f.APIServer != nil && *f.APIServer != ""
	switch {
	case explicitServer:
	case name == "":
		return nil, fmt.Errorf("%w (the kubeconfig %s has no current context)", ErrNoContext, describe(loader))
	case raw.Contexts[name] == nil:
		return nil, fmt.Errorf("%w (context %q is not in the kubeconfig %s)", ErrNoContext, name, describe(loader))
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) || clientcmd.IsConfigurationInvalid(err) {
			return nil, fmt.Errorf("%w (%v)", ErrNoContext, err)
		}
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// describe names the kubeconfig files the loader read, for the hint.
func describe(loader clientcmd.ClientConfig) string {
	if l, ok := loader.(interface {
		ConfigAccess() clientcmd.ConfigAccess
	}); ok {
		files := l.ConfigAccess().GetLoadingPrecedence()
		if len(files) > 0 {
			return strings.Join(files, ":")
		}
	}
	return "in use"
}
