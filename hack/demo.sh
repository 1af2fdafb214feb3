#!/usr/bin/env bash
# `make demo`: builds what is missing (kube-apiserver, kubectl and etcd from Go modules on the
# first run, which takes 5–10 minutes and reports its progress; the project's binaries), then
# runs test/e2e/cmd/demo, which starts ack-emulator, etcd, kube-apiserver and
# ack-ram-authenticator on 127.0.0.1 and walks through login, mapping and RRSA, printing each
# command and its output, and cleans up. Unattended; exits non-zero if any step misbehaves.
# DEMO_FLAGS=-keep keeps the working directory (certificates, process logs).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# The demo never reaches a real cloud, the ECS metadata address or a proxy.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

start=$(date +%s)
hack/build-kube-bins.sh "$repo/.cache/kube/bin"

missing=0
for b in kubectl-ack_login kubectl-ack_rrsa kubectl-ack_map ack-ram-authenticator ack-emulator; do
  [ -x "bin/$b" ] || missing=1
done
if [ "$missing" = 1 ]; then
  echo "demo: building the kubectl-ack binaries into bin/ (make build)"
  make --no-print-directory build
fi

echo "demo: compiling the demo driver (test/e2e/cmd/demo)"
cd test/e2e
# shellcheck disable=SC2086 # DEMO_FLAGS is a list of flags
E2E_REPO_ROOT="$repo" E2E_BIN_DIR="$repo/bin" E2E_KUBE_BIN_DIR="$repo/.cache/kube/bin" go run ./cmd/demo ${DEMO_FLAGS:-}
echo "demo: done in $(( $(date +%s) - start ))s (including any build)"
