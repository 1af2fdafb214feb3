#!/usr/bin/env bash
# Builds kube-apiserver and kubectl (k8s.io/kubernetes v1.36.3) and etcd (v3.6.16) from Go modules
# into OUT (default .cache/kube/bin), using the pins in test/e2e/go.mod. Reuses existing binaries
# when the stamp matches, so only the first run pays the 5–10 minute cold build.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/.cache/kube/bin}
mkdir -p "$out"
stamp="$out/.stamp"
kver=$(cd "$repo/test/e2e" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
want="k8s.io/kubernetes@$kver $(cd "$repo/test/e2e" && go list -m -f '{{.Path}}@{{.Version}}' go.etcd.io/etcd/server/v3) $(go env GOVERSION) stamped"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$out/kube-apiserver" ] && [ -x "$out/kubectl" ] && [ -x "$out/etcd" ]; then
  echo "kube-bins: up to date in $out ($want)"
  exit 0
fi
echo "kube-bins: building kube-apiserver, kubectl and etcd ($want) into $out"
echo "kube-bins: the first (cold) build takes about 5–10 minutes on 2 cores; later runs reuse the binaries"
start=$(date +%s)
# Report elapsed time while the compiler works, so a long first build never looks hung.
( while sleep 30; do echo "kube-bins: still building... $(( $(date +%s) - start ))s elapsed"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
cd "$repo/test/e2e"
export CGO_ENABLED=0
# Stamp the version the way Kubernetes' own build does, so `kubectl version` and the
# apiserver's /version report v1.36.x instead of v0.0.0-master.
major=${kver#v}; major=${major%%.*}; minor=${kver#v*.}; minor=${minor%%.*}
kx="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
kx="$kx -X k8s.io/client-go/pkg/version.gitVersion=$kver -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"
go build -trimpath -ldflags="-s -w $kx" -o "$out/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags='-s -w' -o "$out/etcd" go.etcd.io/etcd/server/v3
echo "$want" > "$stamp"
echo "kube-bins: done in $(( $(date +%s) - start ))s"
"$out/kube-apiserver" --version
"$out/kubectl" version --client 2>&1 | sed -n 1p || true
"$out/etcd" --version 2>&1 | sed -n 1p || true
