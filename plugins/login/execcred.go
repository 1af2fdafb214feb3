package login

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ExecCredential API versions (client.authentication.k8s.io).
const (
	APIVersionV1      = "client.authentication.k8s.io/v1"
	APIVersionV1beta1 = "client.authentication.k8s.io/v1beta1"
	// EnvExecInfo is set by client-go for exec plugins; its apiVersion is
	// the one the answer must use.
	EnvExecInfo = "KUBERNETES_EXEC_INFO"
)

// execCredential is the ExecCredential object kubectl reads from stdout.
// The plugin defines it with encoding/json instead of importing
// k8s.io/client-go/pkg/apis/clientauthentication, whose scheme registration
// would run at every start of this binary. v1 and v1beta1 share this shape.
type execCredential struct {
	Kind       string      `json:"kind"`
	APIVersion string      `json:"apiVersion"`
	Spec       execSpec    `json:"spec"`
	Status     *execStatus `json:"status,omitempty"`
}

type execSpec struct {
	Interactive bool `json:"interactive"`
}

type execStatus struct {
	ExpirationTimestamp   string `json:"expirationTimestamp,omitempty"`
	Token                 string `json:"token,omitempty"`
	ClientCertificateData string `json:"clientCertificateData,omitempty"`
	ClientKeyData         string `json:"clientKeyData,omitempty"`
}

// marshalExecCredential renders the credential kubectl expects.
func marshalExecCredential(apiVersion string, exp time.Time, st execStatus) ([]byte, error) {
	if !exp.IsZero() {
		st.ExpirationTimestamp = exp.UTC().Format(time.RFC3339)
	}
	return json.Marshal(execCredential{Kind: "ExecCredential", APIVersion: apiVersion, Status: &st})
}

// normalizeAPIVersion accepts "v1", "v1beta1" or the full group/version.
func normalizeAPIVersion(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "v1", APIVersionV1:
		return APIVersionV1, nil
	case "v1beta1", APIVersionV1beta1:
		return APIVersionV1beta1, nil
	}
	return "", fmt.Errorf("unsupported ExecCredential API version %q: use v1 or v1beta1", s)
}

// negotiateAPIVersion picks the answer's apiVersion: the one kubectl asked
// for in KUBERNETES_EXEC_INFO (it rejects any other), else --api-version,
// else v1beta1, which every client-go since 1.11 accepts.
func negotiateAPIVersion(execInfo, flag string) (string, error) {
	if strings.TrimSpace(execInfo) != "" {
		var info struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal([]byte(execInfo), &info); err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvExecInfo, err)
		}
		if info.APIVersion != "" {
			v, err := normalizeAPIVersion(info.APIVersion)
			if err != nil {
				return "", fmt.Errorf("%s asks for %w", EnvExecInfo, err)
			}
			return v, nil
		}
	}
	if flag != "" {
		v, err := normalizeAPIVersion(flag)
		return v, usage(err)
	}
	return APIVersionV1beta1, nil
}
