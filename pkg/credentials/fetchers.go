package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
)

// The credentials URI and External process fetchers are implemented here
// because credentials-go's versions put the server response or the command
// output (which contain the secret) into error messages or onto stdout, take
// no context, and do not report expiry.

const (
	uriTimeout      = 10 * time.Second
	externalTimeout = time.Minute
	maxBody         = 1 << 20
)

// credentialJSON is the document served by a credentials URI (the ECS
// metadata format; Code is optional, "Success" when present).
type credentialJSON struct {
	Code            string `json:"Code"`
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

// uri returns a Resolved that GETs credentials from rawURL.
func (r *resolver) uri(rawURL string) (*Resolved, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("credentials URI %q is not an http(s) URL", redactURL(rawURL))
	}
	shown := redactURL(rawURL)
	// The URI is normally a local sidecar or node agent: talk to it directly,
	// never through HTTP(S)_PROXY.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	client := &http.Client{Transport: tr, Timeout: uriTimeout}
	fetch := func(ctx context.Context) (Credentials, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return Credentials{}, fmt.Errorf("credentials URI %s: %w", shown, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the full URL, which may carry a token
			}
			return Credentials{}, fmt.Errorf("credentials URI %s: %w", shown, err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return Credentials{}, fmt.Errorf("credentials URI %s: read response: %w", shown, err)
		}
		if resp.StatusCode != http.StatusOK {
			return Credentials{}, fmt.Errorf("credentials URI %s: HTTP status %d", shown, resp.StatusCode)
		}
		var doc credentialJSON
		if err := json.Unmarshal(body, &doc); err != nil {
			return Credentials{}, fmt.Errorf("credentials URI %s: response is not valid JSON: %w", shown, err)
		}
		if doc.Code != "" && doc.Code != "Success" {
			return Credentials{}, fmt.Errorf("credentials URI %s: response Code %q", shown, doc.Code)
		}
		c := Credentials{AccessKeyID: doc.AccessKeyID, AccessKeySecret: doc.AccessKeySecret, SecurityToken: doc.SecurityToken}
		if err := c.valid(); err != nil {
			return Credentials{}, fmt.Errorf("credentials URI %s: response lacks AccessKeyId/AccessKeySecret: %w", shown, err)
		}
		if doc.Expiration != "" {
			t, err := parseExpiration(doc.Expiration)
			if err != nil {
				return Credentials{}, fmt.Errorf("credentials URI %s: %w", shown, err)
			}
			c.Expiration = t
		}
		return c, nil
	}
	return newDynamic(newRefreshing(fetch, r.now), "credentials_uri", "", ""), nil
}

// redactURL drops user info and the query, which may carry tokens.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "..."
	}
	u.Fragment = ""
	return u.String()
}

// parseExpiration accepts RFC 3339 (as STS and the ECS metadata service
// write it) or Unix seconds.
func parseExpiration(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("expiration %q is neither RFC 3339 nor Unix seconds", s)
}

// externalJSON is what an aliyun CLI External process_command prints.
type externalJSON struct {
	Mode            string          `json:"mode"`
	AccessKeyID     string          `json:"access_key_id"`
	AccessKeySecret string          `json:"access_key_secret"`
	StsToken        string          `json:"sts_token"`
	Expiration      json.RawMessage `json:"expiration"`
}

// external returns a Resolved that runs command and reads credentials from
// its standard output.
func (r *resolver) external(command string) (*Resolved, error) {
	args, err := splitCommand(command)
	if err != nil {
		return nil, fmt.Errorf("process_command: %w", err)
	}
	if len(args) == 0 {
		return nil, errors.New("process_command is empty")
	}
	fetch := func(ctx context.Context) (Credentials, error) {
		ctx, cancel := context.WithTimeout(ctx, externalTimeout)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if len(msg) > 512 {
				msg = msg[:512] + "..."
			}
			if msg != "" {
				return Credentials{}, fmt.Errorf("process_command %q failed: %w (stderr: %s)", args[0], err, msg)
			}
			return Credentials{}, fmt.Errorf("process_command %q failed: %w", args[0], err)
		}
		var doc externalJSON
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			// Never echo stdout: it is where the secret would be.
			return Credentials{}, fmt.Errorf("process_command %q printed invalid JSON: %w", args[0], err)
		}
		c := Credentials{AccessKeyID: doc.AccessKeyID, AccessKeySecret: doc.AccessKeySecret, SecurityToken: doc.StsToken}
		if c.AccessKeyID == "" || c.AccessKeySecret == "" {
			return Credentials{}, fmt.Errorf("process_command %q output lacks access_key_id or access_key_secret", args[0])
		}
		if doc.Mode == "StsToken" && c.SecurityToken == "" {
			return Credentials{}, fmt.Errorf("process_command %q output has mode StsToken but no sts_token", args[0])
		}
		if len(doc.Expiration) > 0 && string(doc.Expiration) != "null" {
			s := strings.Trim(string(doc.Expiration), `"`)
			if s != "" {
				t, err := parseExpiration(s)
				if err != nil {
					return Credentials{}, fmt.Errorf("process_command %q output: %w", args[0], err)
				}
				c.Expiration = t
			}
		}
		return c, nil
	}
	return newDynamic(newRefreshing(fetch, r.now), "external", "", ""), nil
}

// splitCommand splits a command line on blanks, honouring single and double
// quotes and backslash escapes (no other shell syntax).
func splitCommand(s string) ([]string, error) {
	var (
		args  []string
		cur   strings.Builder
		quote rune
		inArg bool
		esc   bool
	)
	for _, c := range s {
		switch {
		case esc:
			cur.WriteRune(c)
			esc = false
		case c == '\\' && quote != '\'':
			esc, inArg = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '"' || c == '\'':
			quote, inArg = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(c)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if esc {
		return nil, errors.New("trailing backslash")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// ecs returns a Resolved for the ECS instance RAM role. It is only reached
// when the user asked for it (flag, profile mode/type or
// ALIBABA_CLOUD_ECS_METADATA).
func (r *resolver) ecs(roleName, source string) (*Resolved, error) {
	if envBool(r.lookup, EnvECSMetadataDisabled) {
		return nil, &SourceError{Source: source, Location: EnvECSMetadataDisabled,
			Err: errors.New("ECS instance metadata was requested but ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids it")}
	}
	p, err := r.newECS(roleName)
	if err != nil {
		return nil, &SourceError{Source: source, Err: fmt.Errorf("ECS instance metadata: %w", err)}
	}
	if !strings.Contains(source, "ECS") && !strings.Contains(source, "Ecs") && !strings.Contains(source, "ecs") {
		source += " (ECS instance RAM role)"
	}
	if roleName != "" {
		source += fmt.Sprintf(" role %q", roleName)
	}
	return newDynamic(p, "ecs_ram_role", source, identityKey("ecs", roleName)), nil
}

// ecsProvider wraps credentials-go's ECS RAM role provider, which handles
// IMDSv2 tokens and caching. Its metadata host is fixed, so tests replace
// resolver.newECS instead of constructing this. The mutex serialises calls
// because that provider updates its cache without a lock.
type ecsProvider struct {
	mu *sync.Mutex
	p  *providers.ECSRAMRoleCredentialsProvider
}

func newECSProvider(roleName string) (provider, error) {
	p, err := providers.NewECSRAMRoleCredentialsProviderBuilder().
		WithRoleName(roleName).
		WithHttpOptions(&providers.HttpOptions{ConnectTimeout: 1000, ReadTimeout: 2000}).
		Build()
	if err != nil {
		return nil, err
	}
	return ecsProvider{mu: new(sync.Mutex), p: p}, nil
}

func (e ecsProvider) retrieve(ctx context.Context) (Credentials, error) {
	if err := ctx.Err(); err != nil {
		return Credentials{}, err
	}
	e.mu.Lock()
	c, err := e.p.GetCredentials()
	e.mu.Unlock()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) {
			return Credentials{}, fmt.Errorf("ECS instance metadata unreachable (is this an ECS instance?): %w", err)
		}
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}, nil
}
