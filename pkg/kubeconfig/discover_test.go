package kubeconfig

import (
	"context"
	"errors"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const testID = "c0123456789abcdef0123456789abcdef"

func configWith(contextName string, exec *clientcmdapi.ExecConfig) clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["k"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Exec: exec}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: "k", AuthInfo: "u"}
	cfg.CurrentContext = contextName
	return *cfg
}

func TestDiscoverClusterID(t *testing.T) {
	noCM := func(context.Context) (map[string]string, error) { return nil, nil }
	cmCalls := 0
	countingCM := func(context.Context) (map[string]string, error) {
		cmCalls++
		return map[string]string{"clusterid": "cffffffffffffffffffffffffffffffff"}, nil
	}
	tests := []struct {
		name       string
		cfg        clientcmdapi.Config
		ctxName    string
		cm         func(context.Context) (map[string]string, error)
		wantID     string
		wantSource string
		wantErr    string
		wantCM     int
	}{
		{name: "kubectl-ack_login exec arg", ctxName: "dev",
			cfg: configWith("dev", &clientcmdapi.ExecConfig{Command: "/usr/local/bin/kubectl-ack_login", Args: []string{"--mode", "token", "--cluster-id", testID}}),
			cm:  countingCM, wantID: testID, wantSource: "exec credential plugin"},
		{name: "current context when name empty", ctxName: "",
			cfg: configWith("dev", &clientcmdapi.ExecConfig{Command: "kubectl-ack_login", Args: []string{"-c", testID}}),
			cm:  noCM, wantID: testID, wantSource: `context "dev"`},
		{name: "ack-ram-tool credential-plugin with =", ctxName: "dev",
			cfg: configWith("dev", &clientcmdapi.ExecConfig{Command: "ack-ram-tool", Args: []string{"credential-plugin", "get-token", "--cluster-id=" + testID}}),
			cm:  noCM, wantID: testID, wantSource: "exec credential plugin"},
		{name: "kubectl ack-login", ctxName: "dev",
			cfg: configWith("dev", &clientcmdapi.ExecConfig{Command: "kubectl", Args: []string{"ack-login", "--cluster-id", testID}}),
			cm:  noCM, wantID: testID, wantSource: "exec credential plugin"},
		{name: "foreign plugin --cluster-id ignored, context name used", ctxName: "1234567890123456-" + testID,
			cfg: configWith("1234567890123456-"+testID, &clientcmdapi.ExecConfig{Command: "aws", Args: []string{"--cluster-id", "other"}}),
			cm:  noCM, wantID: testID, wantSource: "context name"},
		{name: "context name", ctxName: "1234567890123456-" + testID,
			cfg: configWith("1234567890123456-"+testID, nil), cm: noCM, wantID: testID, wantSource: "context name"},
		{name: "context name with bad id falls to config map", ctxName: "123-cXYZ",
			cfg: configWith("123-cXYZ", nil), cm: countingCM, wantID: "cffffffffffffffffffffffffffffffff", wantSource: "ack-cluster-profile", wantCM: 1},
		{name: "nothing", ctxName: "dev", cfg: configWith("dev", nil), cm: noCM, wantErr: "no exec credential"},
		{name: "nil config map func", ctxName: "dev", cfg: configWith("dev", nil), cm: nil, wantErr: "pass --cluster-id"},
		{name: "config map error", ctxName: "dev", cfg: configWith("dev", nil),
			cm: func(context.Context) (map[string]string, error) { return nil, errors.New("forbidden") }, wantErr: "forbidden"},
		{name: "unknown context", ctxName: "nope", cfg: configWith("dev", nil), cm: noCM, wantErr: "not found"},
		{name: "no current context", ctxName: "", cfg: *clientcmdapi.NewConfig(), cm: noCM, wantErr: "the kubeconfig has no current context: pass --context NAME"},
		{name: "foreign plugin -c ignored", ctxName: "dev",
			cfg: configWith("dev", &clientcmdapi.ExecConfig{Command: "/usr/bin/other-plugin", Args: []string{"-c", testID}}), cm: noCM, wantErr: "no exec credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmCalls = 0
			id, src, err := DiscoverClusterID(context.Background(), tt.cfg, tt.ctxName, tt.cm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || id != tt.wantID || !strings.Contains(src, tt.wantSource) {
				t.Fatalf("got %q %q %v; want %q %q", id, src, err, tt.wantID, tt.wantSource)
			}
			if cmCalls != tt.wantCM {
				t.Fatalf("config map lookups = %d, want %d", cmCalls, tt.wantCM)
			}
		})
	}
}

func TestDiscoverClusterIDNoneIsErrNoClusterID(t *testing.T) {
	_, _, err := DiscoverClusterID(context.Background(), configWith("dev", nil), "dev", nil)
	if !errors.Is(err, ErrNoClusterID) {
		t.Fatalf("err = %v, want ErrNoClusterID", err)
	}
}
