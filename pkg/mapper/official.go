package mapper

import "github.com/kubectl-ack/kubectl-ack/pkg/arn"

// OfficialReading is how the official add-on reads the ARNs of a backend: RAMIdentityMapping
// globs as unanchored regular expressions, everything else by exact comparison.
func OfficialReading(backend string) arn.Reading {
	if backend == MapperCRD {
		return arn.ReadingRegexp
	}
	return arn.ReadingExact
}

// OfficialDivergence reports whether r's ARN pattern matches other identities on the official
// add-on (reading it as that add-on's backend would) than here, with examples. Account rules
// and plain ARNs mean the same on both.
func OfficialDivergence(r Rule, backend string) (arn.Divergence, bool) {
	if r.ARN == "" {
		return arn.Divergence{}, false
	}
	return arn.CompareOfficial(r.ARN, OfficialReading(backend))
}
