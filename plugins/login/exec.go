package login

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
	"github.com/kubectl-ack/kubectl-ack/plugins/login/cache"
)

// Credential modes.
const (
	modeToken       = "token"
	modeCertificate = "certificate"
)

// Certificate lifetimes accepted by DescribeClusterUserKubeconfig's
// TemporaryDurationMinutes.
const (
	minExpiration     = 15 * time.Minute
	maxExpiration     = 72 * time.Hour
	defaultExpiration = 3 * time.Hour
)

// Refresh margins: a cached credential is refreshed when less than
// max(20% of its lifetime, floor) remains.
const (
	tokenMarginFloor = 2 * time.Minute
	certMarginFloor  = 5 * time.Minute
)

// longLivedWarning explains --expiration 0, which ack-ram-tool uses to ask for a certificate
// that is not temporary.
const longLivedWarning = "--expiration 0 asks CS for a long-lived client certificate instead of a temporary one: " +
	"CS decides its lifetime (years) and it stays valid until then, even after this identity loses access; " +
	"prefer a lifetime such as --expiration 3h"

// validateExpiration accepts a certificate lifetime: 0 (long-lived) or 15m to 72h.
func validateExpiration(d time.Duration) error {
	if d != 0 && (d < minExpiration || d > maxExpiration) {
		return usage(fmt.Errorf("invalid --expiration %s: the certificate lifetime must be between 15m and 72h (or 0 for a long-lived certificate)", d))
	}
	return nil
}

// normalizeMode accepts our names and ack-ram-tool's.
func normalizeMode(s string) (string, error) {
	switch trimLower(s) {
	case "", "token", "ram-authenticator-token":
		return modeToken, nil
	case "certificate", "cert":
		return modeCertificate, nil
	}
	return "", usage(fmt.Errorf("invalid --mode %q: use token or certificate", s))
}

// execOptions are the flags of the credential commands: the root command, get-token and
// get-credential.
type execOptions struct {
	root *rootOptions
	// fixedMode is the mode get-token and get-credential imply; they have no --mode.
	fixedMode      string
	clusterID      string
	mode           string
	apiVersion     string
	expiration     time.Duration
	privateAddress bool
	cacheDir       string
	noCache        bool
}

// addFlags registers the credential flags on fs; a command with a fixed mode has no --mode.
func (e *execOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&e.clusterID, "cluster-id", "c", "", "ACK cluster ID (required)")
	if e.fixedMode == "" {
		fs.StringVarP(&e.mode, "mode", "m", modeToken, "Credential: token (k8s-ack-v2 token for ack-ram-authenticator) or certificate (client certificate from the CS API)")
	}
	fs.StringVar(&e.apiVersion, "api-version", "", "ExecCredential API version when KUBERNETES_EXEC_INFO does not say: v1 or v1beta1 (default v1beta1)")
	e.expiration = defaultExpiration
	fs.Var(durationValue{&e.expiration}, "expiration", "Certificate mode: lifetime of the client certificate, 15m to 72h (e.g. 30m, 3h, 2d); 0 asks for a long-lived certificate (not recommended)")
	fs.BoolVar(&e.privateAddress, "private-address", false, "Certificate mode: request the kubeconfig for the cluster's private (intranet) API server address")
	fs.BoolVar(&e.noCache, "no-cache", false, "Neither read nor write the credential cache")
	// ack-ram-tool's kubeconfigs pass their own cache directory; its files
	// have another format, so the flag is accepted and our cache is used.
	fs.StringVar(&e.cacheDir, "credential-cache-dir", "", "Accepted for ack-ram-tool compatibility and ignored")
	_ = fs.MarkHidden("credential-cache-dir")
}

// execute runs the command: Complete, Validate, Run.
func (e *execOptions) execute(ctx context.Context) error {
	if err := e.Complete(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	return e.Run(ctx)
}

// Complete settles the mode and the ExecCredential apiVersion (KUBERNETES_EXEC_INFO first).
func (e *execOptions) Complete() error {
	if e.fixedMode != "" {
		e.mode = e.fixedMode
	}
	mode, err := normalizeMode(e.mode)
	if err != nil {
		return err
	}
	e.mode = mode
	e.apiVersion, err = negotiateAPIVersion(e.root.getenv(EnvExecInfo), e.apiVersion)
	return err
}

// Validate checks that the request names a cluster and, for a certificate, a lifetime CS grants.
func (e *execOptions) Validate() error {
	if e.clusterID == "" {
		return cli.UsageErrorf("--cluster-id is required: the ACK cluster ID, e.g. --cluster-id c0123456789abcdef0123456789abcdef (list them with `kubectl ack-login clusters`)")
	}
	if e.mode == modeCertificate {
		return validateExpiration(e.expiration)
	}
	return nil
}

// Run prints the ExecCredential: from the cache when a fresh one is there, else newly issued.
func (e *execOptions) Run(ctx context.Context) error {
	o := e.root
	res, err := o.creds.Resolve(ctx)
	if err != nil {
		return err
	}
	o.log.Debugf("credentials: %s", res.Source)
	entry, err := e.credential(ctx, res)
	if err != nil {
		return err
	}
	out := make([]byte, 0, len(entry.Credential)+1)
	out = append(append(out, entry.Credential...), '\n')
	if _, err := o.streams.Out.Write(out); err != nil {
		return fmt.Errorf("write ExecCredential: %w", err)
	}
	return nil
}

// issuer returns how to issue the credential of the request, the refresh floor of its cache
// entries and what else its cache key must hold.
func (e *execOptions) issuer(res *credentials.Resolved) (issue func(context.Context) (*cache.Entry, error), floor time.Duration, extra string) {
	if e.mode == modeToken {
		return func(ctx context.Context) (*cache.Entry, error) {
			return e.issueToken(ctx, res)
		}, tokenMarginFloor, ""
	}
	minutes := int(e.expiration / time.Minute)
	// Certificates come from one CS endpoint (keep emulators and regions apart), for one
	// address and lifetime: asking for a 15-minute or a private-address certificate must
	// never be answered with a cached 3-day or public one.
	extra = e.root.endpoints.CSEndpoint() + "|" + strconv.Itoa(minutes) + "|" + strconv.FormatBool(e.privateAddress)
	return func(ctx context.Context) (*cache.Entry, error) {
		return e.issueCertificate(ctx, res, minutes)
	}, certMarginFloor, extra
}

// credential returns a fresh cached entry or issues one (and caches it).
func (e *execOptions) credential(ctx context.Context, res *credentials.Resolved) (*cache.Entry, error) {
	o := e.root
	issue, floor, extra := e.issuer(res)
	dir := ""
	if !e.noCache {
		// The cache only saves work: without a place for it (no HOME, as under some service
		// managers) the credential is still issued.
		var derr error
		if dir, derr = cache.DefaultDir(o.lookupEnv, ""); derr != nil {
			o.log.Warnf("credential cache disabled: %v", derr)
		}
	}
	if dir == "" {
		return issue(ctx)
	}
	key := cache.KeyInput{ClusterID: e.clusterID, Mode: e.mode, APIVersion: e.apiVersion, IdentityKey: res.IdentityKey, Extra: extra}.Key()
	margin := func(en *cache.Entry) time.Duration { return cache.Margin(en.IssuedAt, en.Expiration, floor) }
	entry, refreshed, err := cache.Store{Dir: dir}.GetOrRefresh(ctx, key, o.now, margin, issue,
		func(err error) { o.log.Warnf("credential cache: %v", err) })
	if err != nil {
		return nil, err
	}
	what := "cache hit:"
	if refreshed {
		what = "cache miss: issued new"
	}
	o.log.Debugf("%s %s for cluster %s, expires %s", what, e.mode, e.clusterID, entry.Expiration.UTC().Format(time.RFC3339))
	return entry, nil
}

func (e *execOptions) issueToken(ctx context.Context, res *credentials.Resolved) (*cache.Entry, error) {
	c, err := res.Get(ctx)
	if err != nil {
		return nil, err
	}
	now := e.root.now()
	tok, exp, err := token.Sign(token.SignInput{
		ClusterID:       e.clusterID,
		AccessKeyID:     c.AccessKeyID,
		AccessKeySecret: c.AccessKeySecret,
		SecurityToken:   c.SecurityToken,
		UserAgent:       "kubectl-ack_login/" + version.Version,
		Now:             now,
	})
	if err != nil {
		return nil, err
	}
	if !c.Expiration.IsZero() && c.Expiration.Before(exp) {
		// The token stops working with the STS credential that signed it.
		exp = c.Expiration
	}
	body, err := marshalExecCredential(e.apiVersion, exp, execStatus{Token: tok})
	if err != nil {
		return nil, fmt.Errorf("encode ExecCredential: %w", err)
	}
	return &cache.Entry{ClusterID: e.clusterID, Mode: modeToken, IssuedAt: now, Expiration: exp, Credential: body}, nil
}

func (e *execOptions) issueCertificate(ctx context.Context, res *credentials.Resolved, minutes int) (*cache.Entry, error) {
	cs, err := cloud.NewCS(res.Credential, e.root.endpoints)
	if err != nil {
		return nil, err
	}
	now := e.root.now()
	if minutes == 0 {
		// Only when a certificate is issued: kubectl shows the plugin's stderr on every command.
		e.root.log.Warnf("%s", longLivedWarning)
	}
	kc, err := cs.DescribeClusterUserKubeconfig(ctx, e.clusterID, e.privateAddress, minutes)
	if err != nil {
		return nil, fmt.Errorf("get a client certificate for cluster %s: %w", e.clusterID, err)
	}
	certPEM, keyPEM, err := clientCredentials([]byte(kc.Config))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig of cluster %s from DescribeClusterUserKubeconfig: %w", e.clusterID, err)
	}
	exp := kc.Expiration
	notAfter, err := certNotAfter(certPEM)
	if err != nil {
		return nil, fmt.Errorf("client certificate of cluster %s: %w", e.clusterID, err)
	}
	if exp.IsZero() || notAfter.Before(exp) {
		exp = notAfter
	}
	if !exp.After(now) {
		return nil, fmt.Errorf("the client certificate issued for cluster %s expired at %s; check the system clock", e.clusterID, exp.UTC().Format(time.RFC3339))
	}
	body, err := marshalExecCredential(e.apiVersion, exp, execStatus{ClientCertificateData: string(certPEM), ClientKeyData: string(keyPEM)})
	if err != nil {
		return nil, fmt.Errorf("encode ExecCredential: %w", err)
	}
	return &cache.Entry{ClusterID: e.clusterID, Mode: modeCertificate, IssuedAt: now, Expiration: exp, Credential: body}, nil
}

// clientCredentials extracts the PEM client certificate and key of the
// current context's user from a kubeconfig.
func clientCredentials(config []byte) (certPEM, keyPEM []byte, err error) {
	doc, err := kubefile.ParseDocument(config)
	if err != nil {
		return nil, nil, err
	}
	userName := ""
	if c, ok := doc.Get(kubefile.SectionContexts, doc.CurrentContext()); ok {
		userName, _ = c["user"].(string)
	}
	user, ok := doc.Get(kubefile.SectionUsers, userName)
	if !ok {
		names := doc.Names(kubefile.SectionUsers)
		if len(names) != 1 {
			return nil, nil, fmt.Errorf("cannot tell which of %d users holds the client certificate", len(names))
		}
		user, _ = doc.Get(kubefile.SectionUsers, names[0])
	}
	decode := func(field string) ([]byte, error) {
		s, _ := user[field].(string)
		if s == "" {
			return nil, fmt.Errorf("user has no %s", field)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", field, err)
		}
		return b, nil
	}
	if certPEM, err = decode("client-certificate-data"); err != nil {
		return nil, nil, err
	}
	if keyPEM, err = decode("client-key-data"); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

func certNotAfter(certPEM []byte) (time.Time, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return time.Time{}, errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse certificate: %w", err)
	}
	return c.NotAfter, nil
}

// durationValue is a pflag duration that also accepts whole days, so --expiration takes the
// same values here as in `kubeconfig`.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (durationValue) Type() string { return "duration" }

// parseDuration is time.ParseDuration that also accepts whole days ("3d").
func parseDuration(s string) (time.Duration, error) {
	s = trimLower(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q: use e.g. 30m, 3h or 2d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use e.g. 30m, 3h or 2d", s)
	}
	return d, nil
}
