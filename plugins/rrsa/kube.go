package rrsa

import (
	"context"
	"encoding/json"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// Names the ack-pod-identity-webhook add-on looks for.
const (
	roleNameAnnotation = "pod-identity.alibabacloud.com/role-name"
	injectionLabel     = "pod-identity.alibabacloud.com/injection"
	injectionOn        = "on"
)

// annotateServiceAccount creates the service account if missing, points it at the role and labels
// its namespace so the pod identity webhook injects credentials into its pods.
func (o *rootOptions) annotateServiceAccount(ctx context.Context, ns, sa, roleName string) error {
	kc, err := o.kubeClient()
	if err != nil {
		return err
	}
	if _, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %q does not exist in the current cluster: create it (kubectl create namespace %s) and re-run", ns, ns)
		}
		return fmt.Errorf("get namespace %q: %w", ns, err)
	}
	nsPatch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{injectionLabel: injectionOn}}})
	if _, err := kc.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, nsPatch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label namespace %q with %s=%s: %w", ns, injectionLabel, injectionOn, err)
	}
	// The webhook reads one role per service account: say so when this moves it off another role.
	if cur, err := kc.CoreV1().ServiceAccounts(ns).Get(ctx, sa, metav1.GetOptions{}); err == nil {
		if prev := cur.Annotations[roleNameAnnotation]; prev != "" && prev != roleName {
			fmt.Fprintf(o.streams.ErrOut, "Warning: service account %s/%s pointed at RAM role %q and now points at %q; pods started from now on get %q's credentials. RAM role %q still trusts it: `kubectl ack-rrsa disassociate-role -r %s -n %s -s %s` removes that.\n",
				ns, sa, prev, roleName, roleName, prev, prev, ns, sa)
		}
	}
	saPatch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{roleNameAnnotation: roleName}}})
	_, err = kc.CoreV1().ServiceAccounts(ns).Patch(ctx, sa, types.MergePatchType, saPatch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		_, err = kc.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Annotations: map[string]string{roleNameAnnotation: roleName}},
		}, metav1.CreateOptions{})
		if err == nil {
			fmt.Fprintf(o.streams.Out, "Created service account %s/%s\n", ns, sa)
		}
	}
	if err != nil {
		return fmt.Errorf("annotate service account %s/%s with %s=%s: %w", ns, sa, roleNameAnnotation, roleName, err)
	}
	fmt.Fprintf(o.streams.Out, "Annotated service account %s/%s with %s=%s and labelled namespace %s with %s=%s\n",
		ns, sa, roleNameAnnotation, roleName, ns, injectionLabel, injectionOn)
	return nil
}

// serviceAccountToken mints a short-lived token for ns/sa with the STS audience through the
// TokenRequest API of the current cluster.
func (o *rootOptions) serviceAccountToken(ctx context.Context, ns, sa string) (string, error) {
	kc, err := o.kubeClient()
	if err != nil {
		return "", err
	}
	// 600 s is the shortest lifetime the API server accepts; the token is used once, right away.
	expiry := int64(600)
	tr, err := kc.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{rrsa.Audience}, ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("service account %s/%s not found in the current cluster: %w", ns, sa, err)
		}
		return "", fmt.Errorf("request a token for service account %s/%s: %w", ns, sa, err)
	}
	return tr.Status.Token, nil
}
