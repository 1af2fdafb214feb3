package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// Role assumption goes through pkg/cloud's STS client instead of
// credentials-go's RAMRoleARN and OIDC providers because those (1) do not
// report when the credentials expire, which the token cache needs, (2) take
// no context, (3) keep their cache without a lock, and (4) silently read the
// process environment for empty fields, which defeats Options.Env. Using
// pkg/cloud also means one STS endpoint setting (Options.Endpoints) covers
// every call, so tests can point it at the emulator.

// defaultSessionDuration is the STS session length requested when the
// profile does not say.
const defaultSessionDuration = time.Hour

// roleSpec describes one role assumption.
type roleSpec struct {
	arn, session, policy, externalID string
	duration                         time.Duration
}

func (s roleSpec) withDefaults() roleSpec {
	if s.duration <= 0 {
		s.duration = defaultSessionDuration
	}
	if s.session == "" {
		s.session = DefaultRoleSessionName
	}
	return s
}

// assumeRole returns a Resolved that assumes spec.arn with base's credentials.
// Source and IdentityKey are left for the caller to fill.
func (r *resolver) assumeRole(base *Resolved, spec roleSpec, ep cloud.Endpoints) (*Resolved, error) {
	spec = spec.withDefaults()
	if spec.arn == "" {
		return nil, errors.New("role ARN is empty")
	}
	client, err := r.newSTS(base.Credential, ep)
	if err != nil {
		return nil, fmt.Errorf("create STS client: %w", err)
	}
	fetch := func(ctx context.Context) (Credentials, error) {
		out, err := client.AssumeRole(ctx, cloud.AssumeRoleInput{
			RoleARN:     spec.arn,
			SessionName: spec.session,
			Duration:    spec.duration,
			Policy:      spec.policy,
			ExternalID:  spec.externalID,
		})
		if err != nil {
			return Credentials{}, fmt.Errorf("assume role %s: %w", spec.arn, err)
		}
		return fromSTS(out.Credentials), nil
	}
	p := newRefreshing(fetch, r.now)
	return newDynamic(p, "ram_role_arn", "", ""), nil
}

// oidcSpec describes an AssumeRoleWithOIDC source (RRSA).
type oidcSpec struct {
	roleARN, providerARN, tokenFile, session string
	duration                                 time.Duration
}

// oidc returns a Resolved that exchanges the OIDC token in tokenFile for STS
// credentials. The token file is re-read on every refresh because the
// kubelet rotates projected service-account tokens.
func (r *resolver) oidc(spec oidcSpec, ep cloud.Endpoints) (*Resolved, error) {
	if spec.duration <= 0 {
		spec.duration = defaultSessionDuration
	}
	if spec.session == "" {
		spec.session = DefaultRoleSessionName
	}
	client, err := r.newSTS(nil, ep) // AssumeRoleWithOIDC is anonymous
	if err != nil {
		return nil, fmt.Errorf("create STS client: %w", err)
	}
	fetch := func(ctx context.Context) (Credentials, error) {
		raw, err := os.ReadFile(spec.tokenFile)
		if err != nil {
			return Credentials{}, fmt.Errorf("read OIDC token file: %w", err)
		}
		tok := strings.TrimSpace(string(raw))
		if tok == "" {
			return Credentials{}, fmt.Errorf("OIDC token file %s is empty", spec.tokenFile)
		}
		out, err := client.AssumeRoleWithOIDC(ctx, cloud.AssumeRoleWithOIDCInput{
			RoleARN:         spec.roleARN,
			OIDCProviderARN: spec.providerARN,
			OIDCToken:       tok,
			SessionName:     spec.session,
			Duration:        spec.duration,
		})
		if err != nil {
			return Credentials{}, fmt.Errorf("assume role %s with OIDC: %w", spec.roleARN, err)
		}
		return fromSTS(out.Credentials), nil
	}
	return newDynamic(newRefreshing(fetch, r.now), "oidc_role_arn", "", ""), nil
}

func fromSTS(c cloud.STSCredentials) Credentials {
	return Credentials{
		AccessKeyID:     c.AccessKeyID,
		AccessKeySecret: c.AccessKeySecret,
		SecurityToken:   c.SecurityToken,
		Expiration:      c.Expiration,
	}
}

// stsEndpointFor applies a profile's sts_region / enable_vpc when the caller
// did not configure an STS endpoint or region explicitly.
func stsEndpointFor(ep cloud.Endpoints, stsRegion string, vpc bool) cloud.Endpoints {
	if ep.STS != "" || stsRegion == "" {
		return ep
	}
	prefix := "sts"
	if vpc || ep.VPC {
		prefix = "sts-vpc"
	}
	ep.STS = prefix + "." + stsRegion + ".aliyuncs.com"
	return ep
}

// Whoami asks STS GetCallerIdentity who r's credentials belong to, at the
// STS endpoint in ep. It is the library half of `kubectl ack-login whoami`.
func Whoami(ctx context.Context, r *Resolved, ep cloud.Endpoints) (*cloud.CallerIdentity, error) {
	if r == nil || r.Credential == nil {
		return nil, errors.New("whoami: no resolved credentials")
	}
	client, err := cloud.NewSTS(r.Credential, ep)
	if err != nil {
		return nil, fmt.Errorf("whoami: create STS client: %w", err)
	}
	id, err := client.GetCallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("whoami with credentials from %s: %w", r.Source, err)
	}
	return id, nil
}
