package cli

import (
	"k8s.io/component-base/featuregate"
)

// The official add-on's feature gates (--feature-gates), accepted so its DaemonSet args work.
const (
	// gateConfiguredInitDirectories makes "init" write into server.stateDir and
	// server.generateKubeconfig instead of the current directory.
	gateConfiguredInitDirectories featuregate.Feature = "ConfiguredInitDirectories"
	// gateRAMIdentityMappingCRD is accepted without effect, as on the official add-on: list CRD
	// in server.backendMode to use RAMIdentityMapping objects.
	gateRAMIdentityMappingCRD featuregate.Feature = "RAMIdentityMappingCRD"
	// gateSSORoleMatch matched CloudSSO roles with generated suffixes on the official add-on;
	// it is accepted but not supported here (map the roles with a glob instead).
	gateSSORoleMatch featuregate.Feature = "SSORoleMatch"
)

func newFeatureGates() featuregate.MutableFeatureGate {
	g := featuregate.NewFeatureGate()
	// Add only fails for a gate added twice with a different spec.
	_ = g.Add(map[featuregate.Feature]featuregate.FeatureSpec{
		gateConfiguredInitDirectories: {Default: false, PreRelease: featuregate.Alpha},
		gateRAMIdentityMappingCRD:     {Default: false, PreRelease: featuregate.Alpha},
		gateSSORoleMatch:              {Default: false, PreRelease: featuregate.Alpha},
	})
	return g
}

// gateWarnings says which enabled gates change nothing here.
func gateWarnings(g featuregate.FeatureGate) []string {
	var w []string
	if g.Enabled(gateRAMIdentityMappingCRD) {
		w = append(w, "feature gate RAMIdentityMappingCRD has no effect (as on the official add-on): list CRD in server.backendMode or --backend-mode to use RAMIdentityMapping objects")
	}
	if g.Enabled(gateSSORoleMatch) {
		w = append(w, "feature gate SSORoleMatch is not supported and has no effect: map CloudSSO roles with a glob such as acs:ram::<account>:role/aliyunreservedsso-<name>*")
	}
	return w
}
