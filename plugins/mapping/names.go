package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
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
	key := arn.CanonicalKey(pattern)
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
	if err := validateUsername(spec.Username); err != nil {
		return nil, err
	}
	if err := validateGroups(spec.Groups, allowed); err != nil {
		return nil, err
	}
	for _, g := range spec.Groups {
		if isReserved(g) {
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

// validateUsername checks a username template: present, well-formed, not reserved.
func validateUsername(username string) error {
	if username == "" {
		return fmt.Errorf("--username is required, e.g. --username 'dev:{{SessionName}}'")
	}
	if err := mapper.ValidateTemplate(username); err != nil {
		return fmt.Errorf("--username: %w", err)
	}
	if err := mapper.CheckReserved(username, nil, nil); err != nil {
		return fmt.Errorf("--username: %w; ack-ram-authenticator always refuses such usernames", err)
	}
	return nil
}

// validateGroups checks group templates: non-empty, well-formed, and reserved ("system:") ones
// only when allowed.
func validateGroups(groups, allowed []string) error {
	for _, g := range groups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("--group: empty group name")
		}
		if err := mapper.ValidateTemplate(g); err != nil {
			return fmt.Errorf("--group: %w", err)
		}
		if isReserved(g) && !slices.Contains(allowed, g) {
			return fmt.Errorf("--group: %w: group %q starts with %q and is not in the allowed groups; pass --allow-reserved-group GROUP if this is intended (the authenticator must also list it in server.allowedGroups)",
				mapper.ErrReserved, g, mapper.ReservedPrefix)
		}
	}
	return nil
}

// isReserved reports whether a group starts with "system:", in any letter case, as the
// authenticator compares it.
func isReserved(g string) bool {
	return strings.HasPrefix(strings.ToLower(g), mapper.ReservedPrefix)
}

// objectName accepts a mapping named as kubectl names objects: NAME, RESOURCE/NAME or
// RESOURCE.GROUP/NAME, where RESOURCE is the singular, plural, kind or a short name of
// RAMIdentityMapping. So what 'list -o name' prints
// (ramidentitymapping.ramauthenticator.k8s.alibabacloud/NAME) can be given to get, update and
// delete. It returns NAME.
func objectName(arg string) (string, error) {
	res, name, ok := strings.Cut(arg, "/")
	if !ok {
		return arg, nil
	}
	if !isMappingResource(res) {
		return "", fmt.Errorf("%q names a %s, not a RAMIdentityMapping: give NAME or %s", arg, res, resourceRef("NAME"))
	}
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q: want %s/NAME with one name after the %q", arg, res, "/")
	}
	return name, nil
}

// objectNames is objectName for every argument, dropping repeats.
func objectNames(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		n, err := objectName(a)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return dedupe(out), nil
}

// isMappingResource reports whether res spells the RAMIdentityMapping resource as kubectl
// accepts it: ramidentitymapping(s) or a short name (ramim, ramims), letter case ignored, alone
// or followed by ".<group>" or ".<version>.<group>".
func isMappingResource(res string) bool {
	r := strings.ToLower(res)
	group := "." + v1alpha1.GroupName
	if base, ok := strings.CutSuffix(r, group); ok {
		r = strings.TrimSuffix(base, "."+v1alpha1.SchemeGroupVersion.Version)
	}
	switch r {
	case "ramidentitymapping", "ramidentitymappings", "ramim", "ramims":
		return true
	}
	return false
}
