#!/usr/bin/env bash
# `make demo` and `make demo-up`: builds (kube-apiserver, kubectl and etcd from Go modules on the
# first run, which takes 5–10 minutes and reports its progress; the project's binaries; the demo
# driver), then runs test/e2e/cmd/demo, which starts ack-emulator, etcd,
# kube-apiserver and ack-ram-authenticator on 127.0.0.1.
#   hack/demo.sh      walks through login, mapping and RRSA, printing each command and its output,
#                     and cleans up. Unattended; exits non-zero if any step misbehaves.
#   hack/demo.sh up   prints the shell lines to use the stack by hand and stays up until Ctrl-C
#                     or `make demo-down` (hack/demo-down.sh).
# The timing lines count from this script's start, so they include any build. Ctrl-C reports
# "interrupted" (exit 130). DEMO_FLAGS=-keep keeps the walk-through's working directory.
set -euo pipefail
DEMO_STARTED_NS=$(date +%s%N)
export DEMO_STARTED_NS
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# The demo never reaches a real cloud, the ECS metadata address or a proxy.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

hack/build-kube-bins.sh "$repo/.cache/kube/bin"

echo "demo: building the kubectl-ack binaries into bin/ (make build)"
make --no-print-directory build

echo "demo: compiling the demo driver (test/e2e/cmd/demo)"
(cd test/e2e && go build -o "$repo/.cache/demo/demo" ./cmd/demo)

export E2E_REPO_ROOT="$repo" E2E_BIN_DIR="$repo/bin" E2E_KUBE_BIN_DIR="$repo/.cache/kube/bin"
if [ "${1:-}" = up ]; then
  exec "$repo/.cache/demo/demo" -up -dir "$repo/.cache/demo-up"
fi
# shellcheck disable=SC2086 # DEMO_FLAGS is a list of flags
exec "$repo/.cache/demo/demo" ${DEMO_FLAGS:-}
