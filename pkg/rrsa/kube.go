package rrsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Names the ack-pod-identity-webhook add-on looks for.
const (
	// RoleNameAnnotation on a service account names the RAM role its pods get.
	RoleNameAnnotation = "pod-identity.alibabacloud.com/role-name"
	// InjectionLabel set to InjectionOn on a namespace turns the webhook on for its pods.
	InjectionLabel = "pod-identity.alibabacloud.com/injection"
	InjectionOn    = "on"
)

// Permission is one Kubernetes permission an RRSA step needs.
type Permission struct {
	Verb, Resource, Namespace, Name string
}

// String says the permission in words: "patch serviceaccounts web in namespace app".
func (p Permission) String() string {
	s := p.Verb + " " + p.Resource
	if p.Name != "" {
		s += " " + p.Name
	}
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	}
	return s
}

// AnnotatePermissions are what AnnotateServiceAccount needs.
func AnnotatePermissions(ns, sa string) []Permission {
	return []Permission{
		{Verb: "get", Resource: "namespaces", Name: ns},
		{Verb: "patch", Resource: "namespaces", Name: ns},
		{Verb: "get", Resource: "serviceaccounts", Namespace: ns, Name: sa},
		{Verb: "patch", Resource: "serviceaccounts", Namespace: ns, Name: sa},
		{Verb: "create", Resource: "serviceaccounts", Namespace: ns},
	}
}

// UnannotatePermissions are what RemoveRoleAnnotation needs.
func UnannotatePermissions(ns, sa string) []Permission {
	return []Permission{
		{Verb: "get", Resource: "serviceaccounts", Namespace: ns, Name: sa},
		{Verb: "patch", Resource: "serviceaccounts", Namespace: ns, Name: sa},
	}
}

// ErrAccessDenied is wrapped by AccessDeniedError.
var ErrAccessDenied = errors.New("not allowed by the cluster's RBAC")

// AccessDeniedError lists the permissions the current user lacks.
type AccessDeniedError struct {
	// User is the user name the API server knows the caller by ("" when it would not say).
	User    string
	Missing []Permission
}

// Error names the missing permissions.
func (e *AccessDeniedError) Error() string {
	names := make([]string, len(e.Missing))
	for i, p := range e.Missing {
		names[i] = p.String()
	}
	who := "the current user"
	if e.User != "" {
		who = fmt.Sprintf("user %q", e.User)
	}
	return fmt.Sprintf("%s may not %s: %v", who, strings.Join(names, ", "), ErrAccessDenied)
}

// Is makes errors.Is(err, ErrAccessDenied) true.
func (e *AccessDeniedError) Is(target error) bool { return target == ErrAccessDenied }

// CheckAccess asks the API server (SelfSubjectAccessReview) whether the current user has every
// permission, and returns an *AccessDeniedError naming the missing ones. Any other error means
// the cluster could not answer (unreachable, not authenticated...).
func CheckAccess(ctx context.Context, kc kubernetes.Interface, perms []Permission) error {
	var missing []Permission
	for _, p := range perms {
		review, err := kc.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: p.Verb, Resource: p.Resource, Namespace: p.Namespace, Name: p.Name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("ask the cluster whether the current user may %s: %w", p, err)
		}
		if !review.Status.Allowed {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return &AccessDeniedError{User: whoAmI(ctx, kc), Missing: missing}
	}
	return nil
}

// whoAmI returns the user name the API server knows the caller by (SelfSubjectReview), or "".
func whoAmI(ctx context.Context, kc kubernetes.Interface) string {
	r, err := kc.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return r.Status.UserInfo.Username
}

// ErrNamespaceNotFound reports that the service account's namespace does not exist.
var ErrNamespaceNotFound = errors.New("namespace not found")

// CheckNamespace reports ErrNamespaceNotFound when ns does not exist.
func CheckNamespace(ctx context.Context, kc kubernetes.Interface, ns string) error {
	_, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("namespace %q does not exist in the current cluster: %w", ns, ErrNamespaceNotFound)
	case err != nil:
		return fmt.Errorf("get namespace %q: %w", ns, err)
	}
	return nil
}

// AnnotateResult says what AnnotateServiceAccount did.
type AnnotateResult struct {
	// Created says the service account did not exist and was created.
	Created bool
	// PreviousRole is the role the annotation named before, when it named another one.
	PreviousRole string
}

// AnnotateServiceAccount labels namespace ns for pod identity injection and points service
// account ns/sa at roleName, creating the service account when it does not exist.
func AnnotateServiceAccount(ctx context.Context, kc kubernetes.Interface, ns, sa, roleName string) (AnnotateResult, error) {
	var res AnnotateResult
	nsPatch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{InjectionLabel: InjectionOn}}})
	if _, err := kc.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, nsPatch, metav1.PatchOptions{}); err != nil {
		return res, fmt.Errorf("label namespace %q with %s=%s: %w", ns, InjectionLabel, InjectionOn, err)
	}
	if cur, err := kc.CoreV1().ServiceAccounts(ns).Get(ctx, sa, metav1.GetOptions{}); err == nil {
		if prev := cur.Annotations[RoleNameAnnotation]; prev != roleName {
			res.PreviousRole = prev
		}
	}
	saPatch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{RoleNameAnnotation: roleName}}})
	_, err := kc.CoreV1().ServiceAccounts(ns).Patch(ctx, sa, types.MergePatchType, saPatch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		_, err = kc.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Annotations: map[string]string{RoleNameAnnotation: roleName}},
		}, metav1.CreateOptions{})
		res.Created = err == nil
	}
	if err != nil {
		return res, fmt.Errorf("annotate service account %s/%s with %s=%s: %w", ns, sa, RoleNameAnnotation, roleName, err)
	}
	return res, nil
}

// AnnotationOutcome is what RemoveRoleAnnotation found and did.
type AnnotationOutcome string

// Outcomes of RemoveRoleAnnotation.
const (
	AnnotationRemoved    AnnotationOutcome = "removed"    // the annotation named the role and is gone
	AnnotationAbsent     AnnotationOutcome = "absent"     // no annotation (or no service account)
	AnnotationNamesOther AnnotationOutcome = "other-role" // the annotation names another role: kept
	AnnotationChanged    AnnotationOutcome = "changed"    // it changed between read and write: kept
)

// annotationPath is RoleNameAnnotation as a JSON pointer.
const annotationPath = "/metadata/annotations/pod-identity.alibabacloud.com~1role-name"

// RemoveRoleAnnotation removes the role annotation of service account ns/sa if it still names
// roleName, and reports what it found (one of the Annotation* outcomes) with the role the
// annotation names. The removal is guarded by a JSON patch test, so an annotation changed
// meanwhile by someone else is kept.
func RemoveRoleAnnotation(ctx context.Context, kc kubernetes.Interface, ns, sa, roleName string) (outcome AnnotationOutcome, named string, err error) {
	cur, err := kc.CoreV1().ServiceAccounts(ns).Get(ctx, sa, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return AnnotationAbsent, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("get service account %s/%s: %w", ns, sa, err)
	}
	named = cur.Annotations[RoleNameAnnotation]
	switch {
	case named == "":
		return AnnotationAbsent, "", nil
	case named != roleName:
		return AnnotationNamesOther, named, nil
	}
	patch, _ := json.Marshal([]map[string]any{
		{"op": "test", "path": annotationPath, "value": roleName},
		{"op": "remove", "path": annotationPath},
	})
	_, err = kc.CoreV1().ServiceAccounts(ns).Patch(ctx, sa, types.JSONPatchType, patch, metav1.PatchOptions{})
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsNotFound(err):
		return AnnotationChanged, named, nil
	case err != nil:
		return "", named, fmt.Errorf("remove annotation %s from service account %s/%s: %w", RoleNameAnnotation, ns, sa, err)
	}
	return AnnotationRemoved, named, nil
}

// ServiceAccountToken mints a short-lived token for ns/sa with the STS audience through the
// TokenRequest API, as the pod identity webhook's projected volume would get.
func ServiceAccountToken(ctx context.Context, kc kubernetes.Interface, ns, sa string) (string, error) {
	// 600 s is the shortest lifetime the API server accepts; the token is used once, right away.
	expiry := int64(600)
	tr, err := kc.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{Audience}, ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("service account %s/%s not found in the current cluster: %w", ns, sa, err)
		}
		return "", fmt.Errorf("request a token for service account %s/%s: %w", ns, sa, err)
	}
	return tr.Status.Token, nil
}
