#!/usr/bin/env bash
# Fails when generated code or the CRD manifest is out of date with pkg/apis.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Generators resolve packages through the module, so run them in a copy of the tree.
tar -C "$repo" --exclude=./.git --exclude=./.cache --exclude=./bin --exclude=./dist --exclude=./test/e2e -cf - . | tar -C "$scratch" -xf -
"$repo/hack/update-codegen.sh" "$scratch" >/dev/null
status=0
for d in pkg/generated pkg/apis deploy/crd; do
  if ! diff -ruN "$repo/$d" "$scratch/$d" >"$scratch.diff" 2>&1; then
    echo "generated files under $d are stale; run 'make generate' and commit the result:" >&2
    head -n 40 "$scratch.diff" >&2
    status=1
  fi
done
rm -f "$scratch.diff"
[ $status -eq 0 ] && echo "generated code is up to date"
exit $status
