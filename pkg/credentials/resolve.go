package credentials

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	alicred "github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// Resolved is the outcome of Resolve: a credential plus where it came from.
type Resolved struct {
	// Credential signs Alibaba Cloud SDK requests (pass it to pkg/cloud). It
	// refreshes temporary credentials itself before they expire.
	Credential alicred.Credential
	// Source describes the source for humans, e.g.
	// `aliyun CLI profile "default" (~/.aliyun/config.json, mode AK)`.
	Source string
	// IdentityKey is a stable, non-secret key for the identity source (a
	// SHA-256 over source kind, file, profile, access key id, role ARN), for
	// keying caches. Different sources or roles give different keys.
	IdentityKey string
	// Static reports whether Credential can sign without any network call
	// (an access key or a stored STS token).
	Static bool

	p provider
}

// Get returns the current credentials, fetching or refreshing temporary ones
// when needed.
func (r *Resolved) Get(ctx context.Context) (Credentials, error) {
	if r == nil || r.p == nil {
		return Credentials{}, errors.New("credentials: Get on an empty Resolved")
	}
	c, err := r.p.retrieve(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("get credentials from %s: %w", r.Source, err)
	}
	return c, nil
}

// Resolve finds credentials following the documented precedence:
//
//  1. --profile-file, when set, is the only file consulted (".json": aliyun
//     CLI config, else credentials INI) and environment credentials are skipped;
//  2. environment variables (unless --ignore-env-credentials): access key
//     (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/ALIBABA_CLOUD_SECURITY_TOKEN and the
//     ALICLOUD_* / ALIBABACLOUD_* aliases; with ALIBABA_CLOUD_ROLE_ARN the role
//     is assumed with that key), then the RRSA trio ALIBABA_CLOUD_ROLE_ARN +
//     ALIBABA_CLOUD_OIDC_PROVIDER_ARN + ALIBABA_CLOUD_OIDC_TOKEN_FILE, then
//     ALIBABA_CLOUD_CREDENTIALS_URI, then ALIBABA_CLOUD_ECS_METADATA (role name);
//  3. the aliyun CLI config ~/.aliyun/config.json (unless
//     --ignore-aliyun-cli-credentials), profile from --profile-name, then
//     ALIBABA_CLOUD_PROFILE, then the file's "current";
//  4. the credentials INI file ~/.alibabacloud/credentials, section from
//     --profile-name, then ALIBABA_CLOUD_PROFILE, then "default".
//
// ECS instance metadata is used only when asked for. --credential-type
// restricts resolution to one source. --role-arn assumes a role on top of
// the result. A source that is present but broken is an error (it is not
// skipped), so a typo never silently selects another identity.
func (o Options) Resolve(ctx context.Context) (*Resolved, error) {
	return newResolver(o).resolve(ctx)
}

// stsAPI is the part of pkg/cloud's STS client this package needs.
type stsAPI interface {
	AssumeRole(ctx context.Context, in cloud.AssumeRoleInput) (*cloud.AssumeRoleOutput, error)
	AssumeRoleWithOIDC(ctx context.Context, in cloud.AssumeRoleWithOIDCInput) (*cloud.AssumeRoleWithOIDCOutput, error)
}

// resolver carries one resolution; its hooks let tests observe and replace
// network-bound constructors.
type resolver struct {
	o      Options // effective options (env applied)
	lookup func(string) (string, bool)
	home   string
	now    func() time.Time
	// newSTS builds the STS client; cred is nil for anonymous calls.
	newSTS func(cred alicred.Credential, ep cloud.Endpoints) (stsAPI, error)
	// newECS builds the ECS metadata provider. Tests replace it so no test
	// can reach the metadata address.
	newECS func(roleName string) (provider, error)
	tried  []string
}

func newResolver(o Options) *resolver {
	e := o.effective()
	return &resolver{
		o:      e,
		lookup: e.lookup(),
		home:   o.HomeDir,
		now:    time.Now,
		newSTS: func(cred alicred.Credential, ep cloud.Endpoints) (stsAPI, error) {
			return cloud.NewSTS(cred, ep)
		},
		newECS: newECSProvider,
	}
}

func (r *resolver) resolve(ctx context.Context) (*Resolved, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base, err := r.resolveBase(ctx)
	if err != nil {
		return nil, err
	}
	if r.o.RoleARN == "" {
		return base, nil
	}
	session := r.o.sessionName()
	res, err := r.assumeRole(base, roleSpec{arn: r.o.RoleARN, session: session}, r.o.endpoints())
	if err != nil {
		return nil, &SourceError{Source: "--role-arn " + r.o.RoleARN, Err: err}
	}
	res.Source = base.Source + ", then AssumeRole " + r.o.RoleARN
	res.IdentityKey = identityKey("assume-role", base.IdentityKey, r.o.RoleARN, session)
	return res, nil
}

func (r *resolver) resolveBase(ctx context.Context) (*Resolved, error) {
	var (
		res *Resolved
		err error
	)
	switch t := r.o.CredentialType; t {
	case "":
		res, err = r.chain(ctx)
	case TypeEnv:
		res, err = r.fromEnv()
	case TypeAliyunCLI:
		res, err = r.fromAliyunCLI(r.o.ProfileFile)
	case TypeCredentialsFile:
		res, err = r.fromINI(r.o.ProfileFile)
	case TypeECSMetadata:
		role, _ := getenv(r.lookup, envECSMetadata)
		res, err = r.ecs(role, "--credential-type "+TypeECSMetadata)
	default:
		return nil, fmt.Errorf("unknown --credential-type %q: valid values are %s", t, strings.Join(CredentialTypes(), ", "))
	}
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, &NotFoundError{Tried: r.tried, Help: configureHelp()}
	}
	return res, nil
}

// chain walks the default sources in order.
func (r *resolver) chain(_ context.Context) (*Resolved, error) {
	if f := r.o.ProfileFile; f != "" {
		if strings.HasSuffix(strings.ToLower(f), ".json") {
			return r.fromAliyunCLI(f)
		}
		return r.fromINI(f)
	}
	if r.o.IgnoreEnv {
		r.tried = append(r.tried, "environment: skipped (--ignore-env-credentials)")
	} else if res, err := r.fromEnv(); res != nil || err != nil {
		return res, err
	}
	if r.o.IgnoreAliyunCLI {
		r.tried = append(r.tried, "aliyun CLI config: skipped (--ignore-aliyun-cli-credentials)")
	} else if res, err := r.fromAliyunCLI(""); res != nil || err != nil {
		return res, err
	}
	return r.fromINI("")
}

// homeDir returns the home directory in effect.
func (r *resolver) homeDir() (string, error) {
	if r.home != "" {
		return r.home, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return h, nil
}

// display shortens paths under the home directory to ~/... for messages.
func (r *resolver) display(path string) string {
	h, err := r.homeDir()
	if err != nil || h == "" {
		return path
	}
	if rel, err := filepath.Rel(h, path); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return filepath.ToSlash(filepath.Join("~", rel))
	}
	return path
}

// expand resolves a leading ~/ in user-supplied paths.
func (r *resolver) expand(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if h, err := r.homeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(path, "~"))
		}
	}
	return path
}

// identityKey hashes the identifying, non-secret parts of a source.
func identityKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// newStatic builds a Resolved for fixed credentials.
func newStatic(c Credentials, source, key string) (*Resolved, error) {
	cred, err := staticCredential(c)
	if err != nil {
		return nil, err
	}
	return &Resolved{Credential: cred, Source: source, IdentityKey: key, Static: true, p: staticProvider{c: c}}, nil
}

// newDynamic builds a Resolved around a provider that needs the network.
func newDynamic(p provider, typeName, source, key string) *Resolved {
	return &Resolved{
		Credential:  &credentialAdapter{p: p, typeName: typeName},
		Source:      source,
		IdentityKey: key,
		p:           p,
	}
}
