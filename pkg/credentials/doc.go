// Package credentials resolves Alibaba Cloud credentials the way users
// already configure them for the aliyun CLI, credentials-go and ack-ram-tool.
//
// Call Options.Resolve (after Options.AddFlags for a command line tool) to
// get a Resolved: a credentials-go Credential to hand to the SDK clients in
// pkg/cloud, a human-readable Source, a non-secret IdentityKey for caches,
// and Get for the current access key, secret, token and expiry. Temporary
// credentials (AssumeRole, AssumeRoleWithOIDC, credentials URI, External
// process) are cached and refetched well before they expire.
//
// # Sources and precedence
//
// Unless --credential-type restricts it, Resolve tries in order:
//
//  1. --profile-file, when given, exclusively (".json" = aliyun CLI config,
//     anything else = credentials INI file);
//  2. environment variables: ALIBABA_CLOUD_ACCESS_KEY_ID,
//     ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN and their
//     ALIBABACLOUD_* / ALICLOUD_* aliases (with ALIBABA_CLOUD_ROLE_ARN the role
//     is assumed with the key); the RRSA trio ALIBABA_CLOUD_ROLE_ARN,
//     ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE;
//     ALIBABA_CLOUD_CREDENTIALS_URI; ALIBABA_CLOUD_ECS_METADATA (role name);
//  3. the aliyun CLI config ~/.aliyun/config.json (or
//     ALIBABA_CLOUD_CONFIG_FILE): profile from --profile-name, then
//     ALIBABA_CLOUD_PROFILE, then the file's "current"; modes AK, StsToken,
//     RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, External,
//     CredentialsURI, and CloudSSO/OAuth through the STS token the CLI stored
//     at its last login (logging in is interactive, so an expired token is
//     an error naming the `aliyun configure` command to run);
//  4. the credentials INI file ~/.alibabacloud/credentials (or
//     ALIBABA_CLOUD_CREDENTIALS_FILE): section from --profile-name, then
//     ALIBABA_CLOUD_PROFILE, then "default"; types access_key, sts,
//     ram_role_arn, ecs_ram_role, oidc_role_arn, credentials_uri.
//
// ECS instance metadata is used only when asked for: --credential-type
// ecs-metadata, an EcsRamRole profile, an ecs_ram_role section or
// ALIBABA_CLOUD_ECS_METADATA. --role-arn assumes a further role on top of
// whatever was found. A source that is present but broken is an error, never
// skipped, and errors name the source, file or variable and the reason
// without ever including a secret.
//
// # Flags and their environment variables
//
//	--profile-file                   KUBECTL_ACK_PROFILE_FILE, ACK_RAM_TOOL_PROFILE_FILE
//	--profile-name                   KUBECTL_ACK_PROFILE_NAME, ACK_RAM_TOOL_PROFILE_NAME, ACK_RAM_TOOL_PROFIL_ENAME
//	--ignore-env-credentials         KUBECTL_ACK_IGNORE_ENV_CREDENTIALS, ACK_RAM_TOOL_IGNORE_ENV_CREDENTIALS
//	--ignore-aliyun-cli-credentials  KUBECTL_ACK_IGNORE_ALIYUN_CLI_CREDENTIALS, ACK_RAM_TOOL_IGNORE_ALIYUN_CLI_CREDENTIALS
//	--role-arn                       KUBECTL_ACK_ROLE_ARN
//	--role-session-name              KUBECTL_ACK_ROLE_SESSION_NAME, ALIBABA_CLOUD_ROLE_SESSION_NAME
//	--credential-type                KUBECTL_ACK_CREDENTIAL_TYPE, ACK_RAM_TOOL_CREDENTIAL_TYPE
//
// The ACK_RAM_TOOL_* names are the ones ack-ram-tool documents, so an
// environment prepared for it keeps working; ack-ram-tool has no variable
// for --role-arn, hence the KUBECTL_ACK_* family. A string flag given on the
// command line wins over its variables; the two --ignore-* switches are on
// when either the flag or one of its variables says true.
//
// Whoami asks STS GetCallerIdentity who a Resolved belongs to; the login
// plugin's `whoami` command is a thin wrapper around it.
package credentials
