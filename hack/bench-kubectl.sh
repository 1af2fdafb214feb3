#!/usr/bin/env bash
# Whole-process timing of `kubectl get --raw /version` against the e2e chain's real kube-apiserver:
# a static bearer token, kubectl-ack_login with a cached token, and with a fresh one
# (test/e2e/cmd/bench-kubectl). Needs `make build kube-bins`.
#
# Usage: hack/bench-kubectl.sh          (N=100 runs per form; N=30 hack/bench-kubectl.sh for a quick look)
set -euo pipefail

N="${N:-100}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy KUBERNETES_EXEC_INFO
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
cd "$ROOT/test/e2e"
go run ./cmd/bench-kubectl -n "$N"
