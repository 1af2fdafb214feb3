#!/usr/bin/env bash
# Installs each plugin the way a user without krew would (untar into a PATH directory) from the
# snapshot archives, then runs it through kubectl's plugin discovery.
set -euo pipefail
dist=${1:-dist}
repo=$(cd "$(dirname "$0")/.." && pwd)
kubectl=${KUBECTL:-$repo/.cache/kube/bin/kubectl}
[ -x "$kubectl" ] || { echo "kubectl not found at $kubectl: run make kube-bins" >&2; exit 1; }
os=$(go env GOOS); arch=$(go env GOARCH)
for plugin in login rrsa map; do
  archive=$(ls "$dist"/kubectl-ack_${plugin}_*_${os}_${arch}.tar.gz 2>/dev/null | head -n1)
  [ -n "$archive" ] || { echo "no kubectl-ack_${plugin} archive for ${os}/${arch} in $dist" >&2; exit 1; }
  dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
  tar -xzf "$archive" -C "$dir"
  for f in "kubectl-ack_${plugin}" LICENSE README.md "kubectl_complete-ack_${plugin}"; do
    [ -e "$dir/$f" ] || { echo "$archive lacks $f" >&2; exit 1; }
  done
  out=$(PATH="$dir:$PATH" HOME="$dir" "$kubectl" "ack-$plugin" version 2>&1) || { echo "kubectl ack-$plugin version failed: $out" >&2; exit 1; }
  grep -q snapshot <<<"$out" || { echo "kubectl ack-$plugin version did not report the snapshot version: $out" >&2; exit 1; }
  echo "ok  kubectl ack-$plugin version → $out"
  rm -rf "$dir"; trap - EXIT
done
