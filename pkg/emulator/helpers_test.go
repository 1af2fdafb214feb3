package emulator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	cs "github.com/alibabacloud-go/cs-20151215/v4/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// creds are the credentials a test client signs with.
type creds struct{ id, secret, token string }

func adminCreds(in emulator.Info) creds { return creds{id: in.AccessKeyID, secret: in.AccessKeySecret} }

func sdkConfig(t testing.TB, in emulator.Info, c creds, hc *recorder) *openapi.Config {
	t.Helper()
	cfg := &openapi.Config{
		Endpoint: tea.String(in.Endpoint),
		Protocol: tea.String("HTTPS"),
		RegionId: tea.String(in.RegionID),
	}
	if c.id != "" {
		cfg.AccessKeyId, cfg.AccessKeySecret = tea.String(c.id), tea.String(c.secret)
		if c.token != "" {
			cfg.SecurityToken = tea.String(c.token)
		}
	}
	if hc != nil {
		cfg.HttpClient = hc
	}
	return cfg
}

func newSTS(t testing.TB, in emulator.Info, c creds, hc *recorder) *sts.Client {
	t.Helper()
	cl, err := sts.NewClient(sdkConfig(t, in, c, hc))
	if err != nil {
		t.Fatalf("sts client: %v", err)
	}
	return cl
}

func newRAM(t testing.TB, in emulator.Info, c creds, hc *recorder) *ram.Client {
	t.Helper()
	cl, err := ram.NewClient(sdkConfig(t, in, c, hc))
	if err != nil {
		t.Fatalf("ram client: %v", err)
	}
	return cl
}

func newCS(t testing.TB, in emulator.Info, c creds, hc *recorder) *cs.Client {
	t.Helper()
	cl, err := cs.NewClient(sdkConfig(t, in, c, hc))
	if err != nil {
		t.Fatalf("cs client: %v", err)
	}
	return cl
}

// errCode returns the service error code of an SDK error ("" for nil).
func errCode(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.StringValue(se.Code)
	}
	t.Fatalf("not an SDK error: %T %v", err, err)
	return ""
}

func errStatus(err error) int {
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.IntValue(se.StatusCode)
	}
	return 0
}

// recorder is a dara.HttpClient that records the signed requests the SDK sends, and can tamper
// with them, so tests can replay or modify exact requests.
type recorder struct {
	mu     sync.Mutex
	client *http.Client
	last   *http.Request
	body   []byte
	mutate func(r *http.Request, body []byte) []byte
}

func newRecorder() *recorder { return &recorder{client: &http.Client{}} }

func (rc *recorder) Call(req *http.Request, tr *http.Transport) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	rc.mu.Lock()
	if rc.mutate != nil {
		body = rc.mutate(req, body)
	}
	rc.last, rc.body = req.Clone(req.Context()), body
	rc.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	c := &http.Client{Transport: tr}
	return c.Do(req)
}

// replay sends the last recorded request again, byte for byte.
func (rc *recorder) replay(t testing.TB) (*http.Response, []byte) {
	t.Helper()
	rc.mu.Lock()
	req := rc.last.Clone(rc.last.Context())
	body := rc.body
	rc.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.RequestURI = ""
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("replay read: %v", err)
	}
	return resp, b
}

// offsetClock is an emulator clock running at real time plus an adjustable offset.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// seedWith returns a default seed of one account with the given roles, and the account id.
func seedWith(t testing.TB, roles ...emulator.RoleSeed) *emulator.Seed {
	t.Helper()
	seed, err := emulator.DefaultSeed()
	if err != nil {
		t.Fatal(err)
	}
	seed.Accounts[0].Roles = roles
	return seed
}

func trustRAM(principals ...string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "1",
		"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"RAM": principals},
		}},
	})
	return string(b)
}

func osReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
