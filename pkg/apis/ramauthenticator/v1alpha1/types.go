package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// RAMIdentityMapping maps a RAM identity (user, role, root, or a glob over them) to a
// Kubernetes username and groups.
//
// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ramim;ramims,categories=ack
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="ARN",type=string,JSONPath=`.spec.arn`
// +kubebuilder:printcolumn:name="Username",type=string,JSONPath=`.spec.username`
// +kubebuilder:printcolumn:name="Canonical ARN",type=string,JSONPath=`.status.canonicalARN`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RAMIdentityMapping struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec RAMIdentityMappingSpec `json:"spec"`
	// Status is written by ack-ram-authenticator; values set by users are ignored.
	// +optional
	Status RAMIdentityMappingStatus `json:"status,omitempty"`
}

// RAMIdentityMappingSpec is the desired mapping.
type RAMIdentityMappingSpec struct {
	// ARN of a RAM user, role or account root, e.g. acs:ram::123456789012:role/dev.
	// `*` and `?` are anchored globs.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^acs:ram::`
	ARN string `json:"arn"`
	// Username in Kubernetes; may use {{AccountID}}, {{SessionName}}, {{SessionNameRaw}},
	// {{UserID}} and {{AccessKeyID}}.
	// +kubebuilder:validation:MinLength=1
	Username string `json:"username"`
	// Groups in Kubernetes; may use the same templates as Username.
	// +optional
	Groups []string `json:"groups,omitempty"`
	// AllowAnyAccount must be true when arn has a wildcard (`*` or `?`) in its account id, which
	// matches identities of every Alibaba Cloud account; without it such a mapping is refused.
	// +optional
	AllowAnyAccount bool `json:"allowAnyAccount,omitempty"`
}

// RAMIdentityMappingStatus is observed state written by the authenticator.
type RAMIdentityMappingStatus struct {
	// CanonicalARN is spec.arn in canonical form, as the authenticator matches it.
	// +optional
	CanonicalARN string `json:"canonicalARN,omitempty"`
	// UserID is the RAM principal id last seen authenticating through this mapping.
	// +optional
	UserID string `json:"userID,omitempty"`
}

// RAMIdentityMappingList is a list of RAMIdentityMapping.
//
// +kubebuilder:object:root=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type RAMIdentityMappingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []RAMIdentityMapping `json:"items"`
}
