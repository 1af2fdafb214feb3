// Package v1alpha1 contains the RAMIdentityMapping API, compatible with the ACK
// ack-ram-authenticator add-on: a cluster-scoped object mapping a RAM ARN (or glob) to a
// Kubernetes username and groups.
//
// +k8s:deepcopy-gen=package
// +groupName=ramauthenticator.k8s.alibabacloud
// +kubebuilder:object:generate=true
package v1alpha1
