package credentials

import (
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// Environment variables that back the shared credential flags. Each flag
// reads the kubectl-ack variable first and then, where ack-ram-tool defines
// one, ack-ram-tool's variable, so an environment prepared for ack-ram-tool
// keeps working unchanged.
const (
	EnvProfileFile           = "KUBECTL_ACK_PROFILE_FILE"
	EnvProfileName           = "KUBECTL_ACK_PROFILE_NAME"
	EnvIgnoreEnv             = "KUBECTL_ACK_IGNORE_ENV_CREDENTIALS"
	EnvIgnoreAliyunCLI       = "KUBECTL_ACK_IGNORE_ALIYUN_CLI_CREDENTIALS"
	EnvRoleARN               = "KUBECTL_ACK_ROLE_ARN"
	EnvRoleSessionName       = "KUBECTL_ACK_ROLE_SESSION_NAME"
	EnvCredentialType        = "KUBECTL_ACK_CREDENTIAL_TYPE"
	EnvAckRAMToolProfileFile = "ACK_RAM_TOOL_PROFILE_FILE"
	EnvAckRAMToolProfileName = "ACK_RAM_TOOL_PROFILE_NAME"
	// EnvAckRAMToolProfileNameOld is the misspelt name older ack-ram-tool
	// releases documented; still honoured so old shell profiles work.
	EnvAckRAMToolProfileNameOld   = "ACK_RAM_TOOL_PROFIL_ENAME"
	EnvAckRAMToolIgnoreEnv        = "ACK_RAM_TOOL_IGNORE_ENV_CREDENTIALS"
	EnvAckRAMToolIgnoreAliyunCLI  = "ACK_RAM_TOOL_IGNORE_ALIYUN_CLI_CREDENTIALS"
	EnvAckRAMToolCredentialType   = "ACK_RAM_TOOL_CREDENTIAL_TYPE"
	EnvAlibabaCloudProfile        = "ALIBABA_CLOUD_PROFILE"
	EnvAlibabaCloudRoleSession    = "ALIBABA_CLOUD_ROLE_SESSION_NAME"
	EnvAlibabaCloudConfigFile     = "ALIBABA_CLOUD_CONFIG_FILE"
	EnvAlibabaCloudCredentialFile = "ALIBABA_CLOUD_CREDENTIALS_FILE"
	EnvECSMetadataDisabled        = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
)

// Credential types accepted by --credential-type. The empty string (or
// "auto") walks the default chain: environment, aliyun CLI config,
// credentials INI file. ack-ram-tool's "imds" and "ecs-role" select
// TypeECSMetadata. ECS instance metadata is only ever used when asked
// for, because silently falling back to it off-ECS means a long network
// timeout and, on ECS, a surprising identity.
const (
	TypeAuto            = "auto"
	TypeEnv             = "env"
	TypeAliyunCLI       = "aliyun-cli"
	TypeCredentialsFile = "credentials-file"
	TypeECSMetadata     = "ecs-metadata"
)

// CredentialTypes lists the accepted --credential-type values.
func CredentialTypes() []string {
	return []string{TypeAuto, TypeEnv, TypeAliyunCLI, TypeCredentialsFile, TypeECSMetadata}
}

// DefaultRoleSessionName is the RoleSessionName used for AssumeRole calls when
// neither --role-session-name, a profile nor ALIBABA_CLOUD_ROLE_SESSION_NAME
// names one.
const DefaultRoleSessionName = "kubectl-ack"

// Options selects and configures the credential source. The zero value walks
// the default chain using the process environment and the user's home
// directory.
type Options struct {
	// ProfileFile is an aliyun CLI config (path ending in ".json") or a
	// credentials INI file (anything else). When set, only that file is
	// consulted (environment credentials are skipped).
	ProfileFile string
	// ProfileName selects the aliyun CLI profile or INI section.
	ProfileName string
	// IgnoreEnv skips environment-variable credentials.
	IgnoreEnv bool
	// IgnoreAliyunCLI skips ~/.aliyun/config.json.
	IgnoreAliyunCLI bool
	// RoleARN, when set, is assumed on top of whatever source was found.
	RoleARN string
	// RoleSessionName names the session for RoleARN.
	RoleSessionName string
	// CredentialType restricts resolution to one source kind, see CredentialTypes.
	CredentialType string
	// Endpoints supplies the STS endpoint for AssumeRole and
	// AssumeRoleWithOIDC; nil means the public default.
	Endpoints *cloud.Endpoints
	// Env looks up environment variables; nil means os.LookupEnv. Tests
	// inject a map so they never depend on the real environment.
	Env func(string) (string, bool)
	// HomeDir replaces the user's home directory when non-empty.
	HomeDir string
}

// AddFlags registers the shared credential flags. Each flag also reads
// environment variables at Resolve time, through Options.Env: a non-empty
// string flag wins over its variables, and a boolean switch is on when the
// flag or a variable says true. See the Env* constants and the help text.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ProfileFile, "profile-file", o.ProfileFile,
		"Credentials file: a path ending in .json is an aliyun CLI config, anything else a credentials INI file (env "+EnvProfileFile+", "+EnvAckRAMToolProfileFile+")")
	fs.StringVar(&o.ProfileName, "profile-name", o.ProfileName,
		"Profile in the aliyun CLI config or section in the INI file (env "+EnvProfileName+", "+EnvAckRAMToolProfileName+", then "+EnvAlibabaCloudProfile+")")
	fs.BoolVar(&o.IgnoreEnv, "ignore-env-credentials", o.IgnoreEnv,
		"Do not read credentials from environment variables (env "+EnvIgnoreEnv+", "+EnvAckRAMToolIgnoreEnv+")")
	fs.BoolVar(&o.IgnoreAliyunCLI, "ignore-aliyun-cli-credentials", o.IgnoreAliyunCLI,
		"Do not read credentials from the aliyun CLI config ~/.aliyun/config.json (env "+EnvIgnoreAliyunCLI+", "+EnvAckRAMToolIgnoreAliyunCLI+")")
	fs.StringVar(&o.RoleARN, "role-arn", o.RoleARN,
		"Assume this RAM role on top of the resolved credentials (env "+EnvRoleARN+")")
	fs.StringVar(&o.RoleSessionName, "role-session-name", o.RoleSessionName,
		"Session name for --role-arn (env "+EnvRoleSessionName+", then "+EnvAlibabaCloudRoleSession+"; default "+DefaultRoleSessionName+")")
	fs.StringVar(&o.CredentialType, "credential-type", o.CredentialType,
		"Use only this credential source: "+strings.Join(CredentialTypes(), ", ")+"; ack-ram-tool's imds and ecs-role mean "+TypeECSMetadata+" (env "+EnvCredentialType+", "+EnvAckRAMToolCredentialType+")")
}

// lookup returns the environment lookup function in effect.
func (o Options) lookup() func(string) (string, bool) {
	if o.Env != nil {
		return o.Env
	}
	return os.LookupEnv
}

// getenv returns the first non-empty value among names.
func getenv(lookup func(string) (string, bool), names ...string) (value, name string) {
	for _, n := range names {
		if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), n
		}
	}
	return "", ""
}

// envBool reports whether any of names is set to a true value.
func envBool(lookup func(string) (string, bool), names ...string) bool {
	for _, n := range names {
		if v, ok := lookup(n); ok {
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil && b {
				return true
			}
		}
	}
	return false
}

// effective fills unset fields from their environment variables.
func (o Options) effective() Options {
	e := o
	lk := o.lookup()
	if e.ProfileFile == "" {
		e.ProfileFile, _ = getenv(lk, EnvProfileFile, EnvAckRAMToolProfileFile)
	}
	if e.ProfileName == "" {
		e.ProfileName, _ = getenv(lk, EnvProfileName, EnvAckRAMToolProfileName, EnvAckRAMToolProfileNameOld)
	}
	if !e.IgnoreEnv {
		e.IgnoreEnv = envBool(lk, EnvIgnoreEnv, EnvAckRAMToolIgnoreEnv)
	}
	if !e.IgnoreAliyunCLI {
		e.IgnoreAliyunCLI = envBool(lk, EnvIgnoreAliyunCLI, EnvAckRAMToolIgnoreAliyunCLI)
	}
	if e.RoleARN == "" {
		e.RoleARN, _ = getenv(lk, EnvRoleARN)
	}
	if e.RoleSessionName == "" {
		e.RoleSessionName, _ = getenv(lk, EnvRoleSessionName)
	}
	if e.CredentialType == "" {
		e.CredentialType, _ = getenv(lk, EnvCredentialType, EnvAckRAMToolCredentialType)
	}
	e.CredentialType = normalizeType(e.CredentialType)
	return e
}

// normalizeType maps accepted spellings onto the canonical type names.
func normalizeType(t string) string {
	s := strings.ToLower(strings.TrimSpace(t))
	s = strings.ReplaceAll(s, "_", "-")
	switch s {
	case "", TypeAuto, "default":
		return ""
	case TypeEnv, "environment":
		return TypeEnv
	case TypeAliyunCLI, "aliyuncli", "cli", "cli-profile":
		return TypeAliyunCLI
	case TypeCredentialsFile, "ini", "profile", "credentials":
		return TypeCredentialsFile
	case TypeECSMetadata, "ecs", "ecs-ram-role", "ecsramrole", "instance-metadata",
		// ack-ram-tool's names, which it writes into kubeconfig exec args.
		"imds", "ecs-role":
		return TypeECSMetadata
	}
	return t // unknown: reported by Resolve with the list of valid values
}

// endpoints returns the configured endpoints or the zero value.
func (o Options) endpoints() cloud.Endpoints {
	if o.Endpoints != nil {
		return *o.Endpoints
	}
	return cloud.Endpoints{}
}

// sessionName picks the RoleSessionName for role assumptions without a
// profile-specific name.
func (o Options) sessionName() string {
	if o.RoleSessionName != "" {
		return o.RoleSessionName
	}
	if v, _ := getenv(o.lookup(), EnvAlibabaCloudRoleSession); v != "" {
		return v
	}
	return DefaultRoleSessionName
}
