#!/usr/bin/env bash
# `make demo-down`: stops the stack `make demo-up` started (it removes its working directory
# itself on the way out). Signals only the process named in the stack's pid file.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir="$repo/.cache/demo-up"
pidfile="$dir/demo.pid"
if [ ! -f "$pidfile" ]; then
  echo "demo-down: no demo stack is up (no $pidfile)"
  exit 0
fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then
  echo "demo-down: the stack in $dir is not running any more; removing what it left"
  rm -rf "$dir"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo-down: stopped the demo stack (process $pid)"
    exit 0
  fi
  sleep 0.1
done
echo "demo-down: process $pid did not stop within 30s; its processes are listed in $dir/logs" >&2
exit 1
