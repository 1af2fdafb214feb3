package credentials

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Export formats of resolved credentials, for other programs to use.
const (
	// ExportExec is what the aliyun CLI's External mode runs a process_command for:
	// {"mode":"AK"|"StsToken","access_key_id","access_key_secret","sts_token"}.
	// ack-ram-tool calls it aliyun-cli-config-json and prints it by default.
	ExportExec = "exec"
	// ExportJSON is the credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI) and ECS instance
	// metadata document: {"Code":"Success","AccessKeyId",...,"Expiration"}.
	ExportJSON = "json"
	// ExportEnv is shell export lines for the SDKs, the aliyun CLI and Terraform.
	ExportEnv = "env"
	// ExportINI is a credentials file (~/.alibabacloud/credentials) section.
	ExportINI = "ini"
)

// NormalizeExportFormat maps a format name, ours or ack-ram-tool's, to an Export* constant.
func NormalizeExportFormat(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case ExportExec, "aliyun-cli-config-json", "process":
		return ExportExec, nil
	case ExportJSON, "aliyun-cli-uri-json", "ecs-metadata-json", "uri":
		return ExportJSON, nil
	case ExportEnv, "environment-variables":
		return ExportEnv, nil
	case ExportINI, "credential-file-ini":
		return ExportINI, nil
	}
	return "", fmt.Errorf("unknown export format %q: use exec, json, env or ini", s)
}

// staticExportLifetime is the Expiration given to credentials that do not expire (an access
// key): consumers of the JSON document refresh when it passes, and always get the current key.
const staticExportLifetime = 15 * time.Minute

// exportExpiration is when the exported credentials should be fetched again.
func exportExpiration(c Credentials, now time.Time) time.Time {
	if !c.Expiration.IsZero() {
		return c.Expiration
	}
	return now.Add(staticExportLifetime)
}

// Export renders c in format (an Export* constant). now dates documents that need an
// expiration. The result holds the secret: write it only where the caller asked.
func Export(c Credentials, format string, now time.Time) ([]byte, error) {
	if err := c.valid(); err != nil {
		return nil, err
	}
	switch format {
	case ExportExec:
		mode := "AK"
		if c.SecurityToken != "" {
			mode = "StsToken"
		}
		return marshalLine(processDocument{Mode: mode, AccessKeyID: c.AccessKeyID,
			AccessKeySecret: c.AccessKeySecret, STSToken: c.SecurityToken})
	case ExportJSON:
		return marshalLine(metadataDocument(c, now))
	case ExportEnv:
		var b strings.Builder
		for _, kv := range EnvVars(c) {
			name, value, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(value))
		}
		return []byte(b.String()), nil
	case ExportINI:
		var b strings.Builder
		b.WriteString("[default]\nenable = true\n")
		if c.SecurityToken == "" {
			fmt.Fprintf(&b, "type = access_key\naccess_key_id = %s\naccess_key_secret = %s\n", c.AccessKeyID, c.AccessKeySecret)
		} else {
			fmt.Fprintf(&b, "type = sts\naccess_key_id = %s\naccess_key_secret = %s\nsecurity_token = %s\n", c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
		}
		return []byte(b.String()), nil
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}

// processDocument is what the aliyun CLI reads from an External-mode process_command.
type processDocument struct {
	Mode            string `json:"mode"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	STSToken        string `json:"sts_token,omitempty"`
}

// metadataDocument is the ECS instance metadata shape, which credentials URI clients read too
// (credentials-go requires SecurityToken and Expiration to be present).
func metadataDocument(c Credentials, now time.Time) map[string]string {
	return map[string]string{
		"Code":            "Success",
		"AccessKeyId":     c.AccessKeyID,
		"AccessKeySecret": c.AccessKeySecret,
		"SecurityToken":   c.SecurityToken,
		"Expiration":      exportExpiration(c, now).UTC().Format("2006-01-02T15:04:05Z"),
		"LastUpdated":     now.UTC().Format("2006-01-02T15:04:05Z"),
	}
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// EnvVars returns NAME=value pairs that hand c to another program: the variables the
// Alibaba Cloud SDKs read, the aliyun CLI's and Terraform's, sorted by name. The security
// token variables are set only for STS credentials.
func EnvVars(c Credentials) []string {
	vars := map[string]string{}
	for _, n := range envAccessKeyID {
		vars[n] = c.AccessKeyID
	}
	for _, n := range envAccessKeySecret {
		vars[n] = c.AccessKeySecret
	}
	if c.SecurityToken != "" {
		for _, n := range envSecurityToken {
			vars[n] = c.SecurityToken
		}
	}
	out := make([]string, 0, len(vars))
	for n, v := range vars {
		out = append(out, n+"="+v)
	}
	sort.Strings(out)
	return out
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// MetadataRoleName is the role name the metadata handler reports.
const MetadataRoleName = "kubectl-ack"

// MetadataHandler serves credentials the way the ECS instance metadata service does, for
// programs pointed at it through ALIBABA_CLOUD_CREDENTIALS_URI or an IMDS endpoint setting:
// GET /latest/meta-data/ram/security-credentials/ lists MetadataRoleName, GET of that path
// plus a role name (or of any other path) answers the JSON document, and PUT
// /latest/api/token answers an IMDSv2 session token. get is called for every credential
// request, so refreshed credentials are served as they change. Serve it on loopback only.
func MetadataHandler(get func(context.Context) (Credentials, error), now func() time.Time) http.Handler {
	const dir = "/latest/meta-data/ram/security-credentials/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			tok := make([]byte, 16)
			_, _ = rand.Read(tok)
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(hex.EncodeToString(tok)))
			return
		case r.Method != http.MethodGet:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		case r.URL.Path == dir || r.URL.Path == strings.TrimSuffix(dir, "/"):
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(MetadataRoleName))
			return
		}
		c, err := get(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := marshalLine(metadataDocument(c, now()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}
