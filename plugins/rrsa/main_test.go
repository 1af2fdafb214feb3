package rrsa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fixture is an emulator with one RRSA-enabled cluster whose service-account signing key the test
// holds, and an admin access key in the environment.
type fixture struct {
	srv       *emulator.Server
	info      emulator.Info
	clusterID string
	accountID string
	issuer    string
	oidcArn   string
	key       *rsa.PrivateKey
	keyFile   string // PEM private key (for a kube-apiserver)
	pubFile   string // PEM public key
}

const testIssuer = "https://oidc.test.example/rrsa"

func newFixture(t *testing.T, mutate func(*emulator.Seed)) *fixture {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{key: key, issuer: testIssuer,
		keyFile: filepath.Join(dir, "sa.key"), pubFile: filepath.Join(dir, "sa.pub")}
	writePEM(t, f.pubFile, "PUBLIC KEY", pubDER)
	writePEM(t, f.keyFile, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))

	seed, err := emulator.DefaultSeed()
	if err != nil {
		t.Fatal(err)
	}
	c := &seed.Clusters[0]
	c.ServiceAccountIssuer = testIssuer
	c.ServiceAccountKeyFiles = []string{f.pubFile}
	c.RRSA = emulator.RRSAConfig{Enabled: true}
	// Short tasks: the waits poll a few times and finish quickly.
	c.TaskDuration = emulator.Duration(50 * time.Millisecond)
	if mutate != nil {
		mutate(seed)
	}
	f.srv = emulatortest.Start(t, emulatortest.WithSeed(seed))
	f.info = f.srv.Info()
	f.clusterID = seed.Clusters[0].ID
	f.accountID = seed.Accounts[0].ID
	f.oidcArn = "acs:ram::" + f.accountID + ":oidc-provider/ack-rrsa-" + f.clusterID
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", f.info.AccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", f.info.AccessKeySecret)
	return f
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// endpointArgs point every client at the emulator.
func (f *fixture) endpointArgs() []string {
	return []string{
		"--region-id", f.info.RegionID,
		"--cs-endpoint", f.info.Endpoint, "--ram-endpoint", f.info.Endpoint, "--sts-endpoint", f.info.Endpoint,
		"-c", f.clusterID, // keep last: tests drop it to exercise discovery
	}
}

type result struct {
	stdout, stderr string
	err            error
	// code is the exit code cli.Execute gives err.
	code int
}

// run executes the plugin in-process with the fixture's endpoints and cluster id appended.
// stdin is not a terminal, as in a script or CI job.
func (f *fixture) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return f.runWith(t, streamsFor(stdin, nil), append(args, f.endpointArgs()...)...)
}

// runTerminal is run with stdin a terminal on which the user types answer.
func (f *fixture) runTerminal(t *testing.T, answer string, args ...string) result {
	t.Helper()
	ts := streamsFor("", nil)
	ts.In = terminalInput{strings.NewReader(answer)}
	return f.runWith(t, ts, append(args, f.endpointArgs()...)...)
}

// terminalInput is a stdin that says it is a terminal, as a wrapped pseudo-terminal would.
type terminalInput struct{ io.Reader }

func (terminalInput) IsTerminal() bool { return true }

// testStreams are the plugin's streams with their output kept for the test.
type testStreams struct {
	genericiooptions.IOStreams
	out, errOut *bytes.Buffer
}

// streamsFor returns streams reading stdin; errOut (nil for a buffer) receives stderr.
func streamsFor(stdin string, errOut io.Writer) testStreams {
	ts := testStreams{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	if errOut == nil {
		errOut = ts.errOut
	}
	ts.IOStreams = genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: ts.out, ErrOut: errOut}
	return ts
}

// runArgs executes the plugin in-process with exactly args.
func (f *fixture) runArgs(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return f.runWith(t, streamsFor(stdin, nil), args...)
}

func (f *fixture) runWith(t *testing.T, ts testStreams, args ...string) result {
	t.Helper()
	cmd := NewRootCommand(ts.IOStreams)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return result{stdout: ts.out.String(), stderr: ts.errOut.String(), err: err, code: cli.Report(io.Discard, err, false)}
}

func (f *fixture) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := f.run(t, "", args...)
	if r.err != nil {
		t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, r.err, r.stdout, r.stderr)
	}
	return r
}

// trustPolicy returns the emulator's current trust policy of a role.
func (f *fixture) trustPolicy(t *testing.T, role string) string {
	t.Helper()
	r, ok := f.srv.Role(f.accountID, role)
	if !ok {
		t.Fatalf("role %s does not exist", role)
	}
	return r.AssumeRolePolicyDocument
}

// seedRole adds a role with the given trust policy to the first account.
func seedRole(name, policy string) func(*emulator.Seed) {
	return func(s *emulator.Seed) {
		s.Accounts[0].Roles = append(s.Accounts[0].Roles, emulator.RoleSeed{Name: name, TrustPolicy: policy})
	}
}

func chain(fns ...func(*emulator.Seed)) func(*emulator.Seed) {
	return func(s *emulator.Seed) {
		for _, fn := range fns {
			fn(s)
		}
	}
}

// saToken signs a service account token the way a kube-apiserver with the fixture's key would.
func (f *fixture) saToken(t testing.TB, ns, sa string) string {
	t.Helper()
	return f.saTokenFor(t, ns, sa, []string{"sts.aliyuncs.com"})
}

func (f *fixture) saTokenFor(t testing.TB, ns, sa string, aud []string) string {
	t.Helper()
	pubDER, _ := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	sum := sha256.Sum256(pubDER)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", base64.RawURLEncoding.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: f.issuer, Subject: "system:serviceaccount:" + ns + ":" + sa,
		Audience: jwt.Audience(aud), IssuedAt: jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
