#!/usr/bin/env bash
# Regenerates deepcopy functions, the typed clientset, listers, informers (k8s.io/code-generator)
# and the CRD manifest (controller-gen) for pkg/apis. Output root defaults to the repo; the
# verify script points it at a scratch copy.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$repo}
cd "$root"
mod=github.com/kubectl-ack/kubectl-ack
apis=$mod/pkg/apis/ramauthenticator/v1alpha1
hdr=$repo/hack/boilerplate.go.txt

go tool controller-gen object:headerFile="$hdr" paths=./pkg/apis/...
go tool controller-gen crd:crdVersions=v1 paths=./pkg/apis/... output:crd:dir=./deploy/crd

rm -rf pkg/generated
go tool client-gen --go-header-file "$hdr" --clientset-name versioned --input-base "" \
  --input "$apis" --output-dir pkg/generated/clientset --output-pkg $mod/pkg/generated/clientset
go tool lister-gen --go-header-file "$hdr" --output-dir pkg/generated/listers \
  --output-pkg $mod/pkg/generated/listers "$apis"
go tool informer-gen --go-header-file "$hdr" --output-dir pkg/generated/informers \
  --output-pkg $mod/pkg/generated/informers \
  --versioned-clientset-package $mod/pkg/generated/clientset/versioned \
  --listers-package $mod/pkg/generated/listers "$apis"
gofmt -w pkg/generated pkg/apis
