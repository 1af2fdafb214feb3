package mapper

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		name       string
		configured []string
		crd        bool
		want       string
		wantErr    string
	}{
		{name: "default with CRD", crd: true, want: "MountedFile,CRD"},
		{name: "default without CRD", want: "MountedFile"},
		{name: "configured, any case", configured: []string{"crd", "mountedfile"}, crd: true, want: "CRD,MountedFile"},
		{name: "CRD without config", configured: []string{"CRD"}, wantErr: "no Kubernetes configuration"},
		{name: "unknown", configured: []string{"EKSConfigMap"}, crd: true, wantErr: `unknown backend "EKSConfigMap"`},
		{name: "deprecated spellings", configured: []string{"File", "ConfigMap"}, crd: true, want: "MountedFile,ACKConfigMap"},
		{name: "all four", configured: []string{"DynamicFile", "ACKConfigMap", "CRD", "MountedFile"}, crd: true, want: "DynamicFile,ACKConfigMap,CRD,MountedFile"},
		{name: "ConfigMap without config", configured: []string{"ACKConfigMap"}, wantErr: "no Kubernetes configuration"},
		{name: "deprecated twice", configured: []string{"File", "MountedFile"}, wantErr: "lists MountedFile twice"},
		{name: "twice", configured: []string{"CRD", "Crd"}, crd: true, wantErr: "lists CRD twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Order(tt.configured, tt.crd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tt.want {
				t.Fatalf("Order = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

type failingStage struct{}

func (failingStage) Name() string { return "broken" }
func (failingStage) Map(token.Identity) (*Result, bool, error) {
	return nil, false, errors.New("not loaded")
}

func TestDecide(t *testing.T) {
	id := token.Identity{AccountID: "123", ARN: "acs:ram::123:assumed-role/dev/alice", CanonicalARN: "acs:ram::123:role/dev", SessionName: "alice"}
	file := RuleStage{StageName: MapperMountedFile, Rules: []Rule{{Source: SourceMapRoles, ARN: "acs:ram::123:role/*", Username: "glob"}}}
	crd := RuleStage{StageName: MapperCRD, Rules: []Rule{{Source: "crd:dev", ARN: "acs:ram::123:role/dev", Username: "dev:{{SessionName}}"}}}
	reserved := RuleStage{StageName: MapperCRD, Rules: []Rule{{Source: "crd:x", ARN: "acs:ram::123:role/dev", Username: "x", Groups: []string{"system:masters"}}}}
	tests := []struct {
		name      string
		stages    []Stage
		allowed   []string
		wantStage string
		wantUser  string
		wantErr   string
	}{
		// Order decides before specificity: the first stage's glob wins over a later exact rule.
		{name: "first stage wins", stages: []Stage{file, crd}, wantStage: MapperMountedFile, wantUser: "glob"},
		{name: "order reversed", stages: []Stage{crd, file}, wantStage: MapperCRD, wantUser: "dev:alice"},
		{name: "error does not fall through", stages: []Stage{failingStage{}, crd}, wantStage: "broken", wantErr: "not loaded"},
		{name: "reserved group refused", stages: []Stage{reserved}, wantStage: MapperCRD, wantUser: "x", wantErr: "reserved name"},
		{name: "reserved group allowed", stages: []Stage{reserved}, allowed: []string{"system:masters"}, wantStage: MapperCRD, wantUser: "x"},
		{name: "none", stages: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.stages, id, tt.allowed)
			if d.Stage != tt.wantStage {
				t.Errorf("stage = %q, want %q", d.Stage, tt.wantStage)
			}
			if tt.wantUser != "" && (d.Result == nil || d.Result.Username != tt.wantUser) {
				t.Errorf("result = %+v, want user %q", d.Result, tt.wantUser)
			}
			if tt.wantErr != "" {
				if d.Err == nil || !strings.Contains(d.Err.Error(), tt.wantErr) || d.Mapped() {
					t.Fatalf("err = %v (mapped %v), want %q", d.Err, d.Mapped(), tt.wantErr)
				}
				return
			}
			if d.Err != nil {
				t.Fatal(d.Err)
			}
			if d.Mapped() != (tt.wantUser != "") {
				t.Errorf("Mapped() = %v", d.Mapped())
			}
		})
	}
}

func TestDeprecatedNames(t *testing.T) {
	got := DeprecatedNames([]string{"File", "CRD", "configmap"})
	if len(got) != 2 || !strings.Contains(got[0], `"File" is deprecated: use "MountedFile"`) || !strings.Contains(got[1], `use "ACKConfigMap"`) {
		t.Fatalf("DeprecatedNames = %q", got)
	}
	if got := DeprecatedNames([]string{"MountedFile", "DynamicFile"}); len(got) != 0 {
		t.Fatalf("current names reported as deprecated: %q", got)
	}
}
