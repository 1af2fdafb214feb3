package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/crd"
)

// maxReadable bounds the readable part of a derived name; the hash keeps names unique.
const maxReadable = 48

// DeriveName returns the object name used for a mapping of pattern when --name is absent:
// "<type>-<account>-<name>" in DNS-1123 form (wildcards spelled "any"/"q") plus the first 10 hex
// digits of the SHA-256 of the lower-cased canonical ARN. Every spelling of one identity (letter
// case, assumed-role vs role) derives the same name, so re-running add or import is idempotent.
func DeriveName(pattern string) string {
	key := canonicalKey(pattern)
	sum := sha256.Sum256([]byte(key))
	readable := strings.TrimPrefix(key, strings.ToLower(arn.Prefix))
	if acct, res, ok := strings.Cut(readable, ":"); ok {
		readable = res + "-" + acct
		if typ, name, ok := strings.Cut(res, "/"); ok {
			readable = typ + "-" + acct + "-" + name
		}
	}
	readable = strings.NewReplacer("*", "-any-", "?", "-q-").Replace(readable)
	var b strings.Builder
	dash := false
	for _, r := range readable {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := b.String()
	if len(s) > maxReadable {
		s = s[:maxReadable]
	}
	s = strings.Trim(s, "-")
	if s == "" {
		s = "mapping"
	}
	return s + "-" + hex.EncodeToString(sum[:])[:10]
}

// canonicalKey is the comparison key of an ARN or ARN pattern: its canonical form (assumed-role
// → role) lower-cased, as mapper matches case-insensitively. Globs that do not parse are
// compared as written, lower-cased.
func canonicalKey(pattern string) string {
	p := strings.TrimSpace(pattern)
	if c, err := arn.Canonicalize(p); err == nil {
		p = c
	}
	return strings.ToLower(p)
}

// normalizeARN validates an ARN or pattern given on the command line (flag names the flag for
// messages) and returns the form stored in spec.arn: an assumed-role ARN becomes its role ARN,
// and the note says so.
func normalizeARN(flag, s string) (stored, note string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", fmt.Errorf("%s is required, e.g. %s acs:ram::123456789012:role/dev", flag, flag)
	}
	if !arn.IsGlob(s) {
		if a, perr := arn.Parse(s); perr == nil && a.Type == arn.TypeAssumedRole {
			role := a.Canonical().String()
			return role, fmt.Sprintf("%s is an assumed-role ARN: mapping its role %s (every session of the role)", s, role), nil
		}
	}
	if err := arn.ValidatePattern(s); err != nil {
		return "", "", fmt.Errorf("%s: %w (want acs:ram::<account>:user/<name>, role/<name> or root; \"*\" and \"?\" are globs)", flag, err)
	}
	return s, "", nil
}

// validateName checks a user-given object name.
func validateName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("--name %q is not a valid object name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// validateSpec checks templates and reserved names the way ack-ram-authenticator will, so bad
// mappings are refused before they reach the cluster. Reserved ("system:") groups are refused
// unless listed in allowed; the returned warnings say that the server must allow them too.
func validateSpec(name string, spec v1alpha1.RAMIdentityMappingSpec, allowed []string) (warnings []string, err error) {
	if spec.Username == "" {
		return nil, fmt.Errorf("--username is required, e.g. --username 'dev:{{SessionName}}'")
	}
	if err := mapper.ValidateTemplate(spec.Username); err != nil {
		return nil, fmt.Errorf("--username: %w", err)
	}
	for _, g := range spec.Groups {
		if strings.TrimSpace(g) == "" {
			return nil, fmt.Errorf("--group: empty group name")
		}
		if err := mapper.ValidateTemplate(g); err != nil {
			return nil, fmt.Errorf("--group: %w", err)
		}
	}
	if err := mapper.CheckReserved(spec.Username, nil, nil); err != nil {
		return nil, fmt.Errorf("--username: %w; ack-ram-authenticator always refuses such usernames", err)
	}
	if err := mapper.CheckReserved(spec.Username, spec.Groups, allowed); err != nil {
		return nil, fmt.Errorf("--group: %w; pass --allow-reserved-group GROUP if this is intended (the authenticator must also list it in server.allowedGroups)", err)
	}
	for _, g := range spec.Groups {
		if strings.HasPrefix(strings.ToLower(g), mapper.ReservedPrefix) {
			warnings = append(warnings, fmt.Sprintf("group %q is reserved: ack-ram-authenticator grants it only when it is listed in server.allowedGroups", g))
		}
	}
	// Same check as the server's rule conversion, so nothing accepted here is dropped there.
	probe := v1alpha1.RAMIdentityMapping{Spec: spec}
	probe.Name = name
	if _, err := crd.RuleFromMapping(&probe); err != nil {
		return nil, err
	}
	return warnings, nil
}
