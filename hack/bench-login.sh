#!/usr/bin/env bash
# Startup benchmark of kubectl-ack_login, the exec credential plugin kubectl runs before every
# command. Measures whole-process wall time (median of N runs, interleaved round-robin so
# background load affects every case alike) and peak RSS for:
#   hello        a minimal Go hello-world built here with the same toolchain and flags (baseline)
#   cached-token token mode, credential served from the disk cache
#   fresh-token  token mode, cache emptied before every run: resolve AK from env, sign, write cache
#   cached-cert  certificate mode, served from the cache (primed once from a local ack-emulator)
# No network is used: the certificate comes from cmd/ack-emulator on 127.0.0.1.
#
# Usage: hack/bench-login.sh            (N=200 runs per case; N=50 hack/bench-login.sh for a quick look)
# Targets (issue 9): cached < 2.2x hello wall time and < 20 MiB peak RSS; fresh token < 3x.
# Peak RSS comes from /usr/bin/time when installed (accurate), else from the harness's
# getrusage, which on Linux also counts the harness's own pages shared until exec (an overestimate).
set -euo pipefail

N="${N:-200}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-login.XXXXXX")"
EMU_PID=""
cleanup() {
	if [[ -n "$EMU_PID" ]]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

cd "$ROOT"
echo "building (CGO_ENABLED=0 -trimpath -ldflags '-s -w', as released) ..." >&2
export CGO_ENABLED=0
go build -trimpath -ldflags "-s -w" -o "$WORK/kubectl-ack_login" ./cmd/kubectl-ack_login
go build -o "$WORK/ack-emulator" ./cmd/ack-emulator

mkdir -p "$WORK/hello" "$WORK/harness"
cat >"$WORK/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
EOF
printf 'module hello\n\ngo 1.22\n' >"$WORK/hello/go.mod"

cat >"$WORK/harness/main.go" <<'EOF'
// Command harness runs commands round-robin and reports the median wall time
// and peak RSS of each. A target is NAME[@DIR]=[VAR=VALUE ...] COMMAND [ARGS...];
// DIR is removed before every run of that target (untimed).
// "harness env FILE" prints shell exports for an ack-emulator info JSON file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type target struct {
	name, clean string
	env, argv   []string
	ds          []time.Duration
	rss         int64 // KiB
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "env" {
		printEnv(os.Args[2])
		return
	}
	n := flag.Int("n", 200, "runs per target")
	warm := flag.Int("warmup", 5, "untimed warm-up runs per target")
	timeBin := flag.String("time", "", "path of GNU time for peak RSS (empty: getrusage)")
	flag.Parse()
	var ts []*target
	for _, a := range flag.Args() {
		name, spec, ok := strings.Cut(a, "=")
		if !ok {
			fail("bad target %q", a)
		}
		t := &target{name: name}
		t.name, t.clean, _ = strings.Cut(name, "@")
		for _, f := range strings.Fields(spec) {
			if len(t.argv) == 0 && strings.Contains(f, "=") && !strings.HasPrefix(f, "-") {
				t.env = append(t.env, f)
				continue
			}
			t.argv = append(t.argv, f)
		}
		ts = append(ts, t)
	}
	for i := 0; i < *warm; i++ {
		for _, t := range ts {
			run(t, "")
		}
	}
	for i := 0; i < *n; i++ {
		for _, t := range ts {
			d, rss := run(t, "")
			t.ds = append(t.ds, d)
			if *timeBin == "" {
				t.rss = max(t.rss, rss)
			}
		}
	}
	if *timeBin != "" {
		for i := 0; i < 10; i++ {
			for _, t := range ts {
				_, rss := run(t, *timeBin)
				t.rss = max(t.rss, rss)
			}
		}
	}
	var base time.Duration
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("%-14s %10s %8s %9s %9s %10s\n", "case", "median ms", "x hello", "p10 ms", "p90 ms", "peak MiB")
	for _, t := range ts {
		sort.Slice(t.ds, func(i, j int) bool { return t.ds[i] < t.ds[j] })
		med := t.ds[len(t.ds)/2]
		if base == 0 {
			base = med
		}
		fmt.Printf("%-14s %10.2f %8.2f %9.2f %9.2f %10.1f\n", t.name, ms(med), float64(med)/float64(base),
			ms(t.ds[len(t.ds)/10]), ms(t.ds[len(t.ds)*9/10]), float64(t.rss)/1024)
	}
}

// run runs t once; with timeBin it runs under GNU time and returns its %M.
func run(t *target, timeBin string) (time.Duration, int64) {
	if t.clean != "" {
		if err := os.RemoveAll(t.clean); err != nil {
			fail("%s: %v", t.name, err)
		}
	}
	argv := t.argv
	var rssFile string
	if timeBin != "" {
		f, err := os.CreateTemp("", "rss-")
		if err != nil {
			fail("%v", err)
		}
		rssFile = f.Name()
		_ = f.Close()
		defer os.Remove(rssFile)
		argv = append([]string{timeBin, "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), t.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fail("%s: %v\n%s", t.name, err, stderr.String())
	}
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			fail("%v", err)
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			fail("%s: no RSS from %s", t.name, timeBin)
		}
		kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
		if err != nil {
			fail("%s: RSS %q: %v", t.name, b, err)
		}
		return d, kib
	}
	return d, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

func printEnv(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		fail("%v", err)
	}
	var info map[string]string
	if err := json.Unmarshal(b, &info); err != nil {
		fail("parse %s: %v", file, err)
	}
	for k, v := range map[string]string{
		"EMU_CLUSTER_ID":                  info["clusterId"],
		"SSL_CERT_FILE":                   info["caFile"],
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     info["accessKeyId"],
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": info["accessKeySecret"],
		"ALIBABA_CLOUD_CS_ENDPOINT":       info["endpoint"],
		"ALIBABA_CLOUD_STS_ENDPOINT":      info["endpoint"],
		"ALIBABA_CLOUD_REGION_ID":         info["regionId"],
	} {
		fmt.Printf("export %s=%q\n", k, v)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...)
	os.Exit(1)
}
EOF
printf 'module harness\n\ngo 1.22\n' >"$WORK/harness/go.mod"
(cd "$WORK/hello" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$WORK/hello-world" .)
(cd "$WORK/harness" && GOFLAGS=-mod=mod go build -o "$WORK/harness-bin" .)

# Start a local emulator for the certificate case; it prints its info as one JSON line.
"$WORK/ack-emulator" serve --addr 127.0.0.1:0 >"$WORK/emu.json" 2>"$WORK/emu.log" &
EMU_PID=$!
for _ in $(seq 100); do
	[[ -s "$WORK/emu.json" ]] && break
	sleep 0.1
done
[[ -s "$WORK/emu.json" ]] || { echo "ack-emulator did not start:" >&2; cat "$WORK/emu.log" >&2; exit 1; }

# A clean environment: no proxies, no aliyun CLI config, no ECS metadata.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy KUBERNETES_EXEC_INFO
export HOME="$WORK/home" ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
mkdir -p "$HOME"
eval "$("$WORK/harness-bin" env "$WORK/emu.json")"
CLUSTER="$EMU_CLUSTER_ID"
LOGIN="$WORK/kubectl-ack_login"

# Prime the caches used by the cached cases.
KUBECACHEDIR="$WORK/cache-token" "$LOGIN" --cluster-id "$CLUSTER" >/dev/null
KUBECACHEDIR="$WORK/cache-cert" "$LOGIN" --cluster-id "$CLUSTER" --mode certificate >/dev/null

TIME_BIN=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then TIME_BIN=/usr/bin/time; fi

echo "go: $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), $(nproc 2>/dev/null || echo '?') CPUs, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'), N=$N, RSS from ${TIME_BIN:-getrusage}" >&2
"$WORK/harness-bin" -n "$N" -time "$TIME_BIN" \
	"hello=$WORK/hello-world" \
	"cached-token=KUBECACHEDIR=$WORK/cache-token $LOGIN --cluster-id $CLUSTER" \
	"fresh-token@$WORK/cache-fresh=KUBECACHEDIR=$WORK/cache-fresh $LOGIN --cluster-id $CLUSTER" \
	"cached-cert=KUBECACHEDIR=$WORK/cache-cert $LOGIN --cluster-id $CLUSTER --mode certificate"
