package credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// uriServer serves credentials-URI documents for the tests.
func uriServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"STS.uri","AccessKeySecret":"SECRET-uri","SecurityToken":"TOKEN-uri","Expiration":%q}`,
				time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"AccessKeySecret":"SECRET-leak"}`))
		case "/notjson":
			_, _ = w.Write([]byte(`SECRET-leak not json`))
		case "/incomplete":
			_, _ = w.Write([]byte(`{"AccessKeyId":"STS.x","SecurityToken":"SECRET-leak"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const extScript = `#!/bin/sh
echo '{"mode":"StsToken","access_key_id":"STS.ext","access_key_secret":"SECRET-ext","sts_token":"TOKEN-ext","expiration":"2099-01-01T00:00:00Z"}'
`

const extBadScript = `#!/bin/sh
echo 'SECRET-leak not json'
`

const extFailScript = `#!/bin/sh
echo 'boom: no login' >&2
exit 3
`

type resolveCase struct {
	name     string
	env      map[string]string
	files    map[string]string // relative to HOME; {HOME} {URI} {FUTURE} {PAST} substituted
	opts     func(o *Options, home string)
	wantAK   string
	wantSrc  []string
	static   bool
	wantErr  []string
	wantSTS  []fakeCall // only action, roleARN, baseAK, session, providerARN compared (when set)
	wantECS  int
	notFound bool
}

const (
	roleA = "acs:ram::1234567890123456:role/role-a"
	roleB = "acs:ram::1234567890123456:role/role-b"
	oidcP = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
)

func cliJSON(current string, profiles ...string) string {
	return fmt.Sprintf(`{"current":%q,"profiles":[%s]}`, current, strings.Join(profiles, ","))
}

func TestResolveSources(t *testing.T) {
	uri := uriServer(t)
	akProfile := `{"name":"default","mode":"AK","access_key_id":"LTAIcli","access_key_secret":"SECRET-cli"}`
	iniAK := "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = SECRET-ini\n"

	cases := []resolveCase{
		// --- environment ---
		{name: "env access key", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-env"},
			wantAK: "LTAIenv", wantSrc: []string{"environment ALIBABA_CLOUD_ACCESS_KEY_ID"}, static: true},
		{name: "env sts token", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-env", "ALIBABA_CLOUD_SECURITY_TOKEN": "TOKEN-env"},
			wantAK: "STS.env", wantSrc: []string{"ALIBABA_CLOUD_SECURITY_TOKEN"}, static: true},
		{name: "env ALICLOUD aliases", env: map[string]string{"ALICLOUD_ACCESS_KEY": "LTAIalicloud", "ALICLOUD_SECRET_KEY": "SECRET-a", "ALICLOUD_SECURITY_TOKEN": "TOKEN-a"},
			wantAK: "LTAIalicloud", wantSrc: []string{"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECURITY_TOKEN"}, static: true},
		{name: "env ALIBABACLOUD aliases", env: map[string]string{"ALIBABACLOUD_ACCESS_KEY_ID": "LTAIabc", "ALIBABACLOUD_ACCESS_KEY_SECRET": "SECRET-b", "ALIBABACLOUD_SECURITY_TOKEN": "TOKEN-b"},
			wantAK: "LTAIabc", wantSrc: []string{"ALIBABACLOUD_ACCESS_KEY_ID"}, static: true},
		{name: "env canonical name beats alias", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIcanon", "ALICLOUD_ACCESS_KEY": "LTAIalias", "ALICLOUD_SECRET_KEY": "SECRET-b"},
			wantAK: "LTAIcanon", static: true},
		{name: "env access key + role arn assumes role", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-env", "ALIBABA_CLOUD_ROLE_ARN": roleA, "ALIBABA_CLOUD_ROLE_SESSION_NAME": "sess-env"},
			wantAK: "STS.role-a.1", wantSrc: []string{"ALIBABA_CLOUD_ROLE_ARN", "AssumeRole"},
			wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleA, baseAK: "LTAIenv", session: "sess-env"}}},
		{name: "env RRSA trio", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": roleA, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": oidcP, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/token"},
			files:  map[string]string{"token": "jwt-token\n"},
			wantAK: "STS.oidc.1", wantSrc: []string{"AssumeRoleWithOIDC"},
			wantSTS: []fakeCall{{action: "AssumeRoleWithOIDC", roleARN: roleA, providerARN: oidcP, token: "jwt-token"}}},
		{name: "env credentials URI", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "{URI}/ok"},
			wantAK: "STS.uri", wantSrc: []string{"ALIBABA_CLOUD_CREDENTIALS_URI"}},
		{name: "env ECS role name", env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA": "node-role"},
			wantAK: "STS.ecs", wantSrc: []string{"ALIBABA_CLOUD_ECS_METADATA", `role "node-role"`}, wantECS: 1},

		// --- aliyun CLI config ---
		{name: "cli AK current", files: map[string]string{".aliyun/config.json": cliJSON("default", akProfile)},
			wantAK: "LTAIcli", wantSrc: []string{`aliyun CLI profile "default"`, "~/.aliyun/config.json", "mode AK"}, static: true},
		{name: "cli StsToken", files: map[string]string{".aliyun/config.json": cliJSON("s", `{"name":"s","mode":"StsToken","access_key_id":"STS.cli","access_key_secret":"SECRET-c","sts_token":"TOKEN-c","sts_expiration":{FUTURE}}`)},
			wantAK: "STS.cli", wantSrc: []string{"mode StsToken"}, static: true},
		{name: "cli RamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("r", `{"name":"r","mode":"RamRoleArn","access_key_id":"LTAIcli","access_key_secret":"SECRET-c","ram_role_arn":"`+roleA+`","ram_session_name":"cli-sess","expired_seconds":900}`)},
			wantAK: "STS.role-a.1", wantSrc: []string{"mode RamRoleArn"},
			wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleA, baseAK: "LTAIcli", session: "cli-sess", duration: 900 * time.Second}}},
		{name: "cli ChainableRamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("chain",
			`{"name":"base","mode":"RamRoleArn","access_key_id":"LTAIbase","access_key_secret":"SECRET-c","ram_role_arn":"`+roleA+`"}`,
			`{"name":"chain","mode":"ChainableRamRoleArn","source_profile":"base","ram_role_arn":"`+roleB+`"}`)},
			wantAK: "STS.role-b.2", wantSrc: []string{`profile "chain"`, `source profile "base"`},
			wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleA, baseAK: "LTAIbase"}, {action: "AssumeRole", roleARN: roleB, baseAK: "STS.role-a.1"}}},
		{name: "cli EcsRamRole", files: map[string]string{".aliyun/config.json": cliJSON("e", `{"name":"e","mode":"EcsRamRole","ram_role_name":"inst-role"}`)},
			wantAK: "STS.ecs", wantSrc: []string{"mode EcsRamRole"}, wantECS: 1},
		{name: "cli OIDC", files: map[string]string{"tok": "jwt-cli", ".aliyun/config.json": cliJSON("o", `{"name":"o","mode":"OIDC","ram_role_arn":"`+roleA+`","oidc_provider_arn":"`+oidcP+`","oidc_token_file":"{HOME}/tok"}`)},
			wantAK: "STS.oidc.1", wantSrc: []string{"mode OIDC"},
			wantSTS: []fakeCall{{action: "AssumeRoleWithOIDC", roleARN: roleA, providerARN: oidcP, token: "jwt-cli"}}},
		{name: "cli External", files: map[string]string{"bin/cred.sh": extScript, ".aliyun/config.json": cliJSON("x", `{"name":"x","mode":"External","process_command":"{HOME}/bin/cred.sh --flag"}`)},
			wantAK: "STS.ext", wantSrc: []string{"mode External"}},
		{name: "cli CredentialsURI", files: map[string]string{".aliyun/config.json": cliJSON("u", `{"name":"u","mode":"CredentialsURI","credentials_uri":"{URI}/ok"}`)},
			wantAK: "STS.uri", wantSrc: []string{"mode CredentialsURI"}},
		{name: "cli CloudSSO with stored token", files: map[string]string{".aliyun/config.json": cliJSON("sso", `{"name":"sso","mode":"CloudSSO","access_key_id":"STS.sso","access_key_secret":"SECRET-s","sts_token":"TOKEN-s","sts_expiration":{FUTURE}}`)},
			wantAK: "STS.sso", wantSrc: []string{"mode CloudSSO"}, static: true},
		{name: "cli OAuth with stored token", files: map[string]string{".aliyun/config.json": cliJSON("oa", `{"name":"oa","mode":"OAuth","oauth_site_type":"CN","access_key_id":"STS.oauth","access_key_secret":"SECRET-s","sts_token":"TOKEN-s","sts_expiration":{FUTURE}}`)},
			wantAK: "STS.oauth", wantSrc: []string{"mode OAuth"}, static: true},

		// --- INI file ---
		{name: "ini access_key", files: map[string]string{".alibabacloud/credentials": iniAK},
			wantAK: "LTAIini", wantSrc: []string{"credentials file section [default]", "~/.alibabacloud/credentials", "type access_key"}, static: true},
		{name: "ini sts", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = sts\naccess_key_id = STS.ini\naccess_key_secret = SECRET-i\nsecurity_token = TOKEN-i\n"},
			wantAK: "STS.ini", wantSrc: []string{"type sts"}, static: true},
		{name: "ini ram_role_arn", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = ram_role_arn\naccess_key_id = LTAIini\naccess_key_secret = SECRET-i\nrole_arn = " + roleA + "\nrole_session_name = ini-sess\n"},
			wantAK: "STS.role-a.1", wantSrc: []string{"type ram_role_arn"},
			wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleA, baseAK: "LTAIini", session: "ini-sess"}}},
		{name: "ini ecs_ram_role", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = ecs_ram_role\nrole_name = r1\n"},
			wantAK: "STS.ecs", wantSrc: []string{"type ecs_ram_role"}, wantECS: 1},
		{name: "ini oidc_role_arn", files: map[string]string{"t": "jwt-ini", ".alibabacloud/credentials": "[default]\ntype = oidc_role_arn\nrole_arn = " + roleA + "\noidc_provider_arn = " + oidcP + "\noidc_token_file_path = {HOME}/t\n"},
			wantAK: "STS.oidc.1", wantSrc: []string{"type oidc_role_arn"},
			wantSTS: []fakeCall{{action: "AssumeRoleWithOIDC", roleARN: roleA, providerARN: oidcP, token: "jwt-ini"}}},
		{name: "ini credentials_uri", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = credentials_uri\ncredentials_uri = {URI}/ok\n"},
			wantAK: "STS.uri", wantSrc: []string{"type credentials_uri"}},
		{name: "ini section from ALIBABA_CLOUD_PROFILE", env: map[string]string{"ALIBABA_CLOUD_PROFILE": "prod"},
			files:  map[string]string{".alibabacloud/credentials": iniAK + "[prod]\ntype = access_key\naccess_key_id = LTAIprod\naccess_key_secret = SECRET-p\n"},
			wantAK: "LTAIprod", wantSrc: []string{"[prod]"}, static: true},
		{name: "ini path from ALIBABA_CLOUD_CREDENTIALS_FILE", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_FILE": "{HOME}/other.ini"},
			files:  map[string]string{"other.ini": strings.ReplaceAll(iniAK, "LTAIini", "LTAIother")},
			wantAK: "LTAIother", static: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runResolveCase(t, tc, uri.URL) })
	}
}

func TestResolvePrecedenceAndFlags(t *testing.T) {
	envAK := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-env"}
	cli := cliJSON("default",
		`{"name":"default","mode":"AK","access_key_id":"LTAIcli","access_key_secret":"SECRET-c"}`,
		`{"name":"dev","mode":"AK","access_key_id":"LTAIdev","access_key_secret":"SECRET-d"}`,
		`{"name":"cur","mode":"AK","access_key_id":"LTAIcur","access_key_secret":"SECRET-d"}`)
	cliCur := strings.Replace(cli, `"current":"default"`, `"current":"cur"`, 1)
	ini := "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = SECRET-i\n[dev]\ntype = access_key\naccess_key_id = LTAIinidev\naccess_key_secret = SECRET-i\n"
	all := map[string]string{".aliyun/config.json": cli, ".alibabacloud/credentials": ini}
	cases := []resolveCase{
		{name: "env beats aliyun CLI and INI", env: envAK, files: all, wantAK: "LTAIenv", static: true},
		{name: "aliyun CLI beats INI", files: all, wantAK: "LTAIcli", static: true},
		{name: "INI when nothing else", files: map[string]string{".alibabacloud/credentials": ini}, wantAK: "LTAIini", static: true},
		{name: "--ignore-env-credentials", env: envAK, files: all, opts: func(o *Options, _ string) { o.IgnoreEnv = true }, wantAK: "LTAIcli", static: true},
		{name: "KUBECTL_ACK_IGNORE_ENV_CREDENTIALS", env: with(envAK, EnvIgnoreEnv, "true"), files: all, wantAK: "LTAIcli", static: true},
		{name: "ACK_RAM_TOOL_IGNORE_ENV_CREDENTIALS", env: with(envAK, EnvAckRAMToolIgnoreEnv, "1"), files: all, wantAK: "LTAIcli", static: true},
		{name: "--ignore-aliyun-cli-credentials", files: all, opts: func(o *Options, _ string) { o.IgnoreAliyunCLI = true }, wantAK: "LTAIini", static: true},
		{name: "ACK_RAM_TOOL_IGNORE_ALIYUN_CLI_CREDENTIALS", env: map[string]string{EnvAckRAMToolIgnoreAliyunCLI: "true"}, files: all, wantAK: "LTAIini", static: true},
		{name: "both ignored", env: envAK, files: all, opts: func(o *Options, _ string) { o.IgnoreEnv, o.IgnoreAliyunCLI = true, true }, wantAK: "LTAIini", static: true},
		{name: "--profile-name beats ALIBABA_CLOUD_PROFILE and current", env: map[string]string{"ALIBABA_CLOUD_PROFILE": "cur"}, files: map[string]string{".aliyun/config.json": cliCur},
			opts: func(o *Options, _ string) { o.ProfileName = "dev" }, wantAK: "LTAIdev", wantSrc: []string{`"dev"`}, static: true},
		{name: "ALIBABA_CLOUD_PROFILE beats current", env: map[string]string{"ALIBABA_CLOUD_PROFILE": "dev"}, files: map[string]string{".aliyun/config.json": cliCur}, wantAK: "LTAIdev", static: true},
		{name: "current used last", files: map[string]string{".aliyun/config.json": cliCur}, wantAK: "LTAIcur", static: true},
		{name: "KUBECTL_ACK_PROFILE_NAME", env: map[string]string{EnvProfileName: "dev"}, files: all, wantAK: "LTAIdev", static: true},
		{name: "ACK_RAM_TOOL_PROFILE_NAME", env: map[string]string{EnvAckRAMToolProfileName: "dev"}, files: all, wantAK: "LTAIdev", static: true},
		{name: "ACK_RAM_TOOL_PROFIL_ENAME legacy", env: map[string]string{EnvAckRAMToolProfileNameOld: "dev"}, files: all, wantAK: "LTAIdev", static: true},
		{name: "ALIBABA_CLOUD_PROFILE missing in CLI falls to INI", env: map[string]string{"ALIBABA_CLOUD_PROFILE": "inionly"},
			files:  map[string]string{".aliyun/config.json": cli, ".alibabacloud/credentials": ini + "[inionly]\ntype = access_key\naccess_key_id = LTAIonly\naccess_key_secret = SECRET-o\n"},
			wantAK: "LTAIonly", static: true},
		{name: "--profile-file json is exclusive (env skipped)", env: envAK, files: map[string]string{"my/cli.json": cliJSON("dev", `{"name":"dev","mode":"AK","access_key_id":"LTAIfile","access_key_secret":"SECRET-f"}`)},
			opts: func(o *Options, h string) { o.ProfileFile = filepath.Join(h, "my/cli.json") }, wantAK: "LTAIfile", wantSrc: []string{"~/my/cli.json"}, static: true},
		{name: "--profile-file ini", env: envAK, files: with(all, "my/creds", "[dev]\ntype = access_key\naccess_key_id = LTAIfileini\naccess_key_secret = SECRET-f\n"),
			opts: func(o *Options, h string) { o.ProfileFile, o.ProfileName = filepath.Join(h, "my/creds"), "dev" }, wantAK: "LTAIfileini", static: true},
		{name: "KUBECTL_ACK_PROFILE_FILE", env: with(envAK, EnvProfileFile, "{HOME}/my/creds"), files: map[string]string{"my/creds": "[default]\ntype = access_key\naccess_key_id = LTAIe\naccess_key_secret = SECRET-f\n"},
			wantAK: "LTAIe", static: true},
		{name: "ACK_RAM_TOOL_PROFILE_FILE with ~", env: with(envAK, EnvAckRAMToolProfileFile, "~/my/c.json"), files: map[string]string{"my/c.json": cliJSON("default", `{"name":"default","mode":"AK","access_key_id":"LTAItilde","access_key_secret":"SECRET-f"}`)},
			wantAK: "LTAItilde", static: true},
		{name: "--credential-type env", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "env" }, wantAK: "LTAIenv", static: true},
		{name: "--credential-type aliyun-cli skips env", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "aliyun-cli" }, wantAK: "LTAIcli", static: true},
		{name: "--credential-type credentials-file skips env and CLI", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "credentials-file" }, wantAK: "LTAIini", static: true},
		{name: "ACK_RAM_TOOL_CREDENTIAL_TYPE", env: with(envAK, EnvAckRAMToolCredentialType, "ini"), files: all, wantAK: "LTAIini", static: true},
		{name: "--credential-type ecs-metadata", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "ecs-metadata" }, wantAK: "STS.ecs", wantSrc: []string{"ecs-metadata"}, wantECS: 1},
		// ack-ram-tool writes these two into kubeconfig exec args.
		{name: "--credential-type imds (ack-ram-tool)", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "imds" }, wantAK: "STS.ecs", wantSrc: []string{"ecs-metadata"}, wantECS: 1},
		{name: "--credential-type ecs-role (ack-ram-tool)", env: envAK, files: all, opts: func(o *Options, _ string) { o.CredentialType = "ECS-Role" }, wantAK: "STS.ecs", wantSrc: []string{"ecs-metadata"}, wantECS: 1},
		{name: "--role-arn on top of env", env: envAK, opts: func(o *Options, _ string) { o.RoleARN, o.RoleSessionName = roleB, "me" },
			wantAK: "STS.role-b.1", wantSrc: []string{"environment ALIBABA_CLOUD_ACCESS_KEY_ID", "then AssumeRole " + roleB},
			wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleB, baseAK: "LTAIenv", session: "me"}}},
		{name: "--role-arn on top of CLI RamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("r", `{"name":"r","mode":"RamRoleArn","access_key_id":"LTAIcli","access_key_secret":"SECRET-c","ram_role_arn":"`+roleA+`"}`)},
			opts:   func(o *Options, _ string) { o.RoleARN = roleB },
			wantAK: "STS.role-b.2", wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleA, baseAK: "LTAIcli"}, {action: "AssumeRole", roleARN: roleB, baseAK: "STS.role-a.1", session: DefaultRoleSessionName}}},
		{name: "KUBECTL_ACK_ROLE_ARN and session env", env: with(envAK, EnvRoleARN, roleB, EnvRoleSessionName, "envsess"),
			wantAK: "STS.role-b.1", wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleB, baseAK: "LTAIenv", session: "envsess"}}},
		{name: "ALIBABA_CLOUD_ROLE_SESSION_NAME fallback", env: with(envAK, EnvRoleARN, roleB, "ALIBABA_CLOUD_ROLE_SESSION_NAME", "acsess"),
			wantAK: "STS.role-b.1", wantSTS: []fakeCall{{action: "AssumeRole", roleARN: roleB, baseAK: "LTAIenv", session: "acsess"}}},
		{name: "AK wins over RRSA trio", env: with(envAK, "ALIBABA_CLOUD_ROLE_ARN", roleA, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", oidcP, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/nonexistent"),
			wantAK: "LTAIenv", static: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runResolveCase(t, tc, "") })
	}
}

func TestResolveErrors(t *testing.T) {
	uri := uriServer(t)
	cases := []resolveCase{
		{name: "nothing configured", notFound: true,
			wantErr: []string{"no Alibaba Cloud credentials found", "environment: none of ALIBABA_CLOUD_ACCESS_KEY_ID", "aliyun CLI config ~/.aliyun/config.json: file does not exist",
				"credentials file ~/.alibabacloud/credentials: file does not exist", "aliyun configure", "[default]", "--credential-type ecs-metadata"}},
		{name: "nothing configured with ignores", notFound: true, opts: func(o *Options, _ string) { o.IgnoreEnv, o.IgnoreAliyunCLI = true, true },
			wantErr: []string{"skipped (--ignore-env-credentials)", "skipped (--ignore-aliyun-cli-credentials)"}},
		{name: "env id without secret", env: map[string]string{"ALICLOUD_ACCESS_KEY": "LTAIx"},
			wantErr: []string{"environment", "ALICLOUD_ACCESS_KEY is set but no access key secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{name: "env secret without id", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-x"},
			wantErr: []string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but no access key id"}},
		{name: "env partial RRSA", env: map[string]string{"ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/t"},
			wantErr: []string{"RRSA", "ALIBABA_CLOUD_ROLE_ARN and ALIBABA_CLOUD_OIDC_PROVIDER_ARN must also be set"}},
		{name: "env role arn alone", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": roleA},
			wantErr: []string{"ALIBABA_CLOUD_ROLE_ARN is set but there is nothing to assume it with", "--ignore-env-credentials"}},
		{name: "env bad credentials URI", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "ftp://x"},
			wantErr: []string{"ALIBABA_CLOUD_CREDENTIALS_URI", "not an http(s) URL"}},
		{name: "cli unreadable JSON", files: map[string]string{".aliyun/config.json": `{"current": "default", SECRET-leak`},
			wantErr: []string{"aliyun CLI config", "~/.aliyun/config.json", "invalid JSON"}},
		{name: "cli unknown mode", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default","mode":"Bogus"}`)},
			wantErr: []string{`aliyun CLI profile "default"`, `unknown mode "Bogus"`, "supported: AK, StsToken"}},
		{name: "cli empty mode", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default"}`)},
			wantErr: []string{"mode is empty", "aliyun configure --profile default --mode"}},
		{name: "cli AK missing secret", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default","mode":"AK","access_key_id":"LTAIx"}`)},
			wantErr: []string{"mode AK: missing access_key_secret", "aliyun configure --profile default --mode AK"}},
		{name: "cli RamRoleArn missing role", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default","mode":"RamRoleArn","access_key_id":"LTAIx","access_key_secret":"SECRET-x"}`)},
			wantErr: []string{"mode RamRoleArn: missing ram_role_arn"}},
		{name: "cli StsToken expired", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default","mode":"StsToken","access_key_id":"STS.x","access_key_secret":"SECRET-x","sts_token":"TOKEN-x","sts_expiration":{PAST}}`)},
			wantErr: []string{"stored STS token expired at", "--mode StsToken"}},
		{name: "cli chain missing source", files: map[string]string{".aliyun/config.json": cliJSON("c", `{"name":"c","mode":"ChainableRamRoleArn","source_profile":"nope","ram_role_arn":"`+roleA+`"}`)},
			wantErr: []string{`source_profile "nope" does not exist`, "profiles in the file: c"}},
		{name: "cli chain loop", files: map[string]string{".aliyun/config.json": cliJSON("a",
			`{"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"`+roleA+`"}`,
			`{"name":"b","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"`+roleA+`"}`)},
			wantErr: []string{"source_profile chain loops: a -> b -> a"}},
		{name: "cli CloudSSO not logged in", files: map[string]string{".aliyun/config.json": cliJSON("sso", `{"name":"sso","mode":"CloudSSO","cloud_sso_sign_in_url":"https://signin.example"}`)},
			wantErr: []string{"mode CloudSSO", "no stored STS token", "aliyun configure --profile sso --mode CloudSSO"}},
		{name: "cli CloudSSO expired", files: map[string]string{".aliyun/config.json": cliJSON("sso", `{"name":"sso","mode":"CloudSSO","access_key_id":"STS.x","access_key_secret":"SECRET-x","sts_token":"TOKEN-x","sts_expiration":{PAST}}`)},
			wantErr: []string{"expired at", "cannot refresh it non-interactively", "aliyun configure --profile sso --mode CloudSSO"}},
		{name: "cli OAuth not logged in", files: map[string]string{".aliyun/config.json": cliJSON("o", `{"name":"o","mode":"OAuth","oauth_site_type":"CN"}`)},
			wantErr: []string{"mode OAuth", "aliyun configure --profile o --mode OAuth"}},
		{name: "cli OIDC missing fields", files: map[string]string{".aliyun/config.json": cliJSON("o", `{"name":"o","mode":"OIDC","ram_role_arn":"`+roleA+`"}`)},
			wantErr: []string{"mode OIDC: missing oidc_provider_arn and oidc_token_file"}},
		{name: "cli External missing command", files: map[string]string{".aliyun/config.json": cliJSON("x", `{"name":"x","mode":"External"}`)},
			wantErr: []string{"mode External: missing process_command"}},
		{name: "cli CredentialsURI missing uri", files: map[string]string{".aliyun/config.json": cliJSON("u", `{"name":"u","mode":"CredentialsURI"}`)},
			wantErr: []string{"mode CredentialsURI: missing credentials_uri"}},
		{name: "cli --profile-name not found", files: map[string]string{".aliyun/config.json": cliJSON("default", `{"name":"default","mode":"AK","access_key_id":"a","access_key_secret":"SECRET-b"}`)},
			opts:    func(o *Options, _ string) { o.ProfileName = "nope" },
			wantErr: []string{`aliyun CLI profile "nope"`, "no such profile (named by --profile-name)", "profiles in the file: default"}},
		{name: "cli current names missing profile", files: map[string]string{".aliyun/config.json": cliJSON("gone", `{"name":"default","mode":"AK","access_key_id":"a","access_key_secret":"SECRET-b"}`)},
			wantErr: []string{`profile "gone"`, `named by "current" in the file`}},
		{name: "explicit json profile file missing", opts: func(o *Options, h string) { o.ProfileFile = filepath.Join(h, "missing.json") },
			wantErr: []string{"aliyun CLI config", "~/missing.json", "cannot read file", "no such file"}},
		{name: "explicit ini profile file missing", opts: func(o *Options, h string) { o.ProfileFile = filepath.Join(h, "missing.ini") },
			wantErr: []string{"credentials file", "~/missing.ini", "cannot read file"}},
		{name: "cli config unreadable (directory)", files: map[string]string{".aliyun/config.json/x": "x"},
			wantErr: []string{"aliyun CLI config", "cannot read file"}},
		{name: "ini unknown type", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = magic\n"},
			wantErr: []string{"credentials file section [default]", `unknown type "magic"`, "supported: access_key, sts"}},
		{name: "ini missing type", files: map[string]string{".alibabacloud/credentials": "[default]\naccess_key_id = x\n"},
			wantErr: []string{"missing type"}},
		{name: "ini missing secret", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = access_key\naccess_key_id = LTAIx\n"},
			wantErr: []string{"type access_key: missing access_key_secret"}},
		{name: "ini sts missing token", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = SECRET-x\n"},
			wantErr: []string{"type sts: missing security_token"}},
		{name: "ini oidc missing token file", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = oidc_role_arn\nrole_arn = " + roleA + "\n"},
			wantErr: []string{"type oidc_role_arn: missing oidc_provider_arn and oidc_token_file_path"}},
		{name: "ini disabled section", files: map[string]string{".alibabacloud/credentials": "[default]\nenable = false\ntype = access_key\n"},
			wantErr: []string{"section is disabled"}},
		{name: "ini bad duration", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = SECRET-b\nrole_arn = " + roleA + "\nrole_session_expiration = soon\n"},
			wantErr: []string{`role_session_expiration "soon" is not a positive number`}},
		{name: "ini named section missing", env: map[string]string{"ALIBABA_CLOUD_PROFILE": "prod"}, files: map[string]string{".alibabacloud/credentials": "[default]\ntype = access_key\n"},
			wantErr: []string{"credentials file section [prod]", "named by ALIBABA_CLOUD_PROFILE", "sections in the file: default"}},
		{name: "ini invalid syntax", files: map[string]string{".alibabacloud/credentials": "[default\nSECRET-leak"},
			wantErr: []string{"credentials file", "invalid INI"}},
		{name: "unknown credential type", opts: func(o *Options, _ string) { o.CredentialType = "magic" },
			wantErr: []string{`unknown --credential-type "magic"`, "auto, env, aliyun-cli, credentials-file, ecs-metadata"}},
		{name: "ecs requested but disabled", env: map[string]string{EnvECSMetadataDisabled: "true"}, opts: func(o *Options, _ string) { o.CredentialType = TypeECSMetadata },
			wantErr: []string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids it"}},
		{name: "credential type env but none", opts: func(o *Options, _ string) { o.CredentialType = TypeEnv }, notFound: true,
			wantErr: []string{"environment: none of"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runResolveCase(t, tc, uri.URL) })
	}
}

// TestFetchErrors covers sources whose failure shows at Get time (network or
// process), and that those errors do not leak secrets either.
func TestFetchErrors(t *testing.T) {
	uri := uriServer(t)
	cases := []struct {
		name    string
		env     map[string]string
		files   map[string]string
		wantErr []string
	}{
		{name: "uri 500", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "{URI}/fail"}, wantErr: []string{"credentials URI", "HTTP status 500"}},
		{name: "uri not json", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "{URI}/notjson"}, wantErr: []string{"not valid JSON"}},
		{name: "uri incomplete", env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "{URI}/incomplete?token=SECRET-q"}, wantErr: []string{"lacks AccessKeyId/AccessKeySecret", "/incomplete?..."}},
		{name: "external invalid json", files: map[string]string{"bad.sh": extBadScript, ".aliyun/config.json": cliJSON("x", `{"name":"x","mode":"External","process_command":"{HOME}/bad.sh"}`)},
			wantErr: []string{"mode External", "printed invalid JSON"}},
		{name: "external exits non-zero", files: map[string]string{"fail.sh": extFailScript, ".aliyun/config.json": cliJSON("x", `{"name":"x","mode":"External","process_command":"{HOME}/fail.sh"}`)},
			wantErr: []string{"failed: exit status 3", "stderr: boom: no login"}},
		{name: "oidc token file missing", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": roleA, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": oidcP, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/nope"},
			wantErr: []string{"read OIDC token file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			sub := substituter(home, uri.URL)
			setupFiles(t, home, tc.files, sub)
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = sub(v)
			}
			res, err := testResolver(Options{Env: envMap(env), HomeDir: home}, newFakeSTS(), &fakeECS{}).resolve(context.Background())
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			_, err = res.Get(context.Background())
			if err == nil {
				t.Fatal("Get succeeded, want error")
			}
			assertErr(t, err, tc.wantErr)
			if _, err := res.Credential.GetCredential(); err == nil {
				t.Error("Credential.GetCredential succeeded, want error")
			}
		})
	}
}

func substituter(home, uri string) func(string) string {
	return strings.NewReplacer(
		"{HOME}", home,
		"{URI}", uri,
		"{FUTURE}", strconv.FormatInt(time.Now().Add(2*time.Hour).Unix(), 10),
		"{PAST}", strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10),
	).Replace
}

func setupFiles(t *testing.T, home string, files map[string]string, sub func(string) string) {
	t.Helper()
	for rel, content := range files {
		p := writeFile(t, home, rel, sub(content))
		if strings.HasSuffix(rel, ".sh") {
			if err := os.Chmod(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func assertErr(t *testing.T, err error, want []string) {
	t.Helper()
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q\n  does not contain %q", msg, w)
		}
	}
	for _, secret := range []string{"SECRET-", "TOKEN-", "sts-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks a secret (%s): %q", secret, msg)
		}
	}
}

func runResolveCase(t *testing.T, tc resolveCase, uri string) {
	t.Helper()
	home := t.TempDir()
	sub := substituter(home, uri)
	setupFiles(t, home, tc.files, sub)
	env := map[string]string{}
	for k, v := range tc.env {
		env[k] = sub(v)
	}
	o := Options{Env: envMap(env), HomeDir: home, Endpoints: &cloud.Endpoints{STS: "sts.example.test"}}
	if tc.opts != nil {
		tc.opts(&o, home)
	}
	sts, ecs := newFakeSTS(), &fakeECS{}
	res, err := testResolver(o, sts, ecs).resolve(context.Background())
	if ecs.count() != tc.wantECS {
		t.Errorf("ECS metadata provider constructed %d times, want %d", ecs.count(), tc.wantECS)
	}
	if len(tc.wantErr) > 0 || tc.notFound {
		if err == nil {
			t.Fatalf("resolve succeeded (source %q), want error", res.Source)
		}
		t.Logf("error: %v", err)
		assertErr(t, err, tc.wantErr)
		if got := errors.Is(err, ErrNoCredentials); got != tc.notFound {
			t.Errorf("errors.Is(err, ErrNoCredentials) = %v, want %v", got, tc.notFound)
		}
		var se *SourceError
		if !tc.notFound && !errors.As(err, &se) && !strings.Contains(err.Error(), "--credential-type") {
			t.Errorf("error %T is not a *SourceError", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	for _, w := range tc.wantSrc {
		if !strings.Contains(res.Source, w) {
			t.Errorf("Source %q does not contain %q", res.Source, w)
		}
	}
	if res.Static != tc.static {
		t.Errorf("Static = %v, want %v", res.Static, tc.static)
	}
	if !strings.HasPrefix(res.IdentityKey, "sha256:") || len(res.IdentityKey) != len("sha256:")+64 {
		t.Errorf("IdentityKey %q is not a sha256 key", res.IdentityKey)
	}
	c, err := res.Get(context.Background())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if c.AccessKeyID != tc.wantAK {
		t.Errorf("AccessKeyID = %q, want %q", c.AccessKeyID, tc.wantAK)
	}
	if strings.Contains(res.IdentityKey, c.AccessKeyID) || strings.Contains(res.Source, c.AccessKeySecret) {
		t.Errorf("IdentityKey/Source expose credentials: %q / %q", res.IdentityKey, res.Source)
	}
	m, err := res.Credential.GetCredential()
	if err != nil {
		t.Fatalf("Credential.GetCredential: %v", err)
	}
	if *m.AccessKeyId != c.AccessKeyID || *m.AccessKeySecret != c.AccessKeySecret || *m.SecurityToken != c.SecurityToken {
		t.Errorf("Credential and Get disagree: %s vs %v", *m.AccessKeyId, c)
	}
	calls := sts.snapshot()
	if len(calls) != len(tc.wantSTS) {
		t.Fatalf("STS calls = %+v, want %d calls %+v", calls, len(tc.wantSTS), tc.wantSTS)
	}
	for i, w := range tc.wantSTS {
		g := calls[i]
		if g.action != w.action || g.roleARN != w.roleARN || g.baseAK != w.baseAK ||
			(w.session != "" && g.session != w.session) || (w.providerARN != "" && g.providerARN != w.providerARN) ||
			(w.token != "" && g.token != w.token) || (w.duration != 0 && g.duration != w.duration) {
			t.Errorf("STS call %d = %+v, want %+v", i, g, w)
		}
		if g.endpoint != "sts.example.test" {
			t.Errorf("STS call %d went to %q, want the Options.Endpoints STS endpoint", i, g.endpoint)
		}
	}
}
