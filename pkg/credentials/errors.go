package credentials

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoCredentials is matched (errors.Is) by the error Resolve returns when
// no source is configured at all.
var ErrNoCredentials = errors.New("no Alibaba Cloud credentials found")

// SourceError reports a credential source that is configured but unusable:
// which source, which file or variable, and why. It never contains secrets.
type SourceError struct {
	// Source names the source, e.g. `aliyun CLI profile "dev"`.
	Source string
	// Location is the file or environment variable at fault, if any.
	Location string
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *SourceError) Error() string {
	if e.Location != "" {
		return fmt.Sprintf("credentials from %s (%s): %v", e.Source, e.Location, e.Err)
	}
	return fmt.Sprintf("credentials from %s: %v", e.Source, e.Err)
}

// Unwrap returns the reason.
func (e *SourceError) Unwrap() error { return e.Err }

// NotFoundError lists the sources that were tried when none was configured,
// with how to configure each.
type NotFoundError struct {
	// Tried describes each source consulted and why it did not apply.
	Tried []string
	// Help explains how to configure credentials.
	Help []string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoCredentials.Error())
	if len(e.Tried) > 0 {
		b.WriteString("; tried:")
		for _, t := range e.Tried {
			b.WriteString("\n  - ")
			b.WriteString(t)
		}
	}
	if len(e.Help) > 0 {
		b.WriteString("\nconfigure one of:")
		for _, h := range e.Help {
			b.WriteString("\n  - ")
			b.WriteString(h)
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoCredentials) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNoCredentials }

// configureHelp is shown when nothing is configured.
func configureHelp() []string {
	return []string{
		"environment: export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (plus ALIBABA_CLOUD_SECURITY_TOKEN for an STS token; optionally ALIBABA_CLOUD_ROLE_ARN to assume a role)",
		"aliyun CLI: run `aliyun configure` (or `aliyun configure --mode RamRoleArn|StsToken|CloudSSO|...`) to write ~/.aliyun/config.json; pick a profile with --profile-name or ALIBABA_CLOUD_PROFILE",
		"credentials file: write ~/.alibabacloud/credentials with a [default] section, e.g. `type = access_key`, `access_key_id = ...`, `access_key_secret = ...`; or pass --profile-file",
		"ECS instance RAM role: pass --credential-type ecs-metadata (never used unless asked for)",
	}
}
