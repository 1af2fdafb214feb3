package kube

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

// completionTimeout bounds the API calls of a shell completion: a slow cluster must not freeze
// the user's prompt.
const completionTimeout = 5 * time.Second

// CompleteNamespaces completes namespace names from the current kube context.
func CompleteNamespaces(f *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return listNames(cmd.Context(), f, prefix, func(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
			l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return objectNames(l)
		})
	}
}

// CompleteServiceAccounts completes service account names in the namespace namespace()
// returns (the value of the command's -n flag; "" means "default").
func CompleteServiceAccounts(f *genericclioptions.ConfigFlags, namespace func() string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ns := namespace()
		if ns == "" {
			ns = "default"
		}
		return listNames(cmd.Context(), f, prefix, func(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
			l, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			return objectNames(l)
		})
	}
}

func listNames(ctx context.Context, f *genericclioptions.ConfigFlags, prefix string, list func(context.Context, kubernetes.Interface) ([]string, error)) ([]cobra.Completion, cobra.ShellCompDirective) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	cfg, err := RESTConfig(f)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, err := list(ctx, cs)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]cobra.Completion, 0, len(names))
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// objectNames returns the names of the items of a list object.
func objectNames(list runtime.Object) ([]string, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		o, err := meta.Accessor(it)
		if err != nil {
			return nil, err
		}
		names = append(names, o.GetName())
	}
	return names, nil
}
