#!/usr/bin/env bash
# bench/runtime_run.sh — container start-to-exit latency, berth-runtime vs runc, on the same
# busybox bundle. For each workload (`true`, then `sh -c env`) it runs `<runtime> run` N times
# per runtime, alternating berth, runc, berth, runc, ... so drift on a shared machine hits both
# alike, and prints mean/median/min/stddev per runtime and the berth/runc ratio of means.
#   bench/runtime_run.sh [-n N] [-w WARMUP]
#   BERTH_RUNTIME  berth-runtime binary (default: build/runtime/cli/berth-runtime)
#   RUNC           runc binary (default: runc)
# Needs root. Each runtime gets its own state root and cgroupsPath ("/berth-test-bench-...")
# under mktemp and removes them; nothing else on the host is touched. The timing loop is
# bench/lib.sh.
set -euo pipefail
# The bundles' cgroupsPath ("/berth-test-...") lies outside berth-runtime's default cgroup root.
export BERTH_CGROUPS_OUTSIDE_ROOT=1
repo=$(cd "$(dirname "$0")/.." && pwd)
iterations=50
warmup=3
while getopts "n:w:" opt; do
  case $opt in
    n) iterations=$OPTARG ;;
    w) warmup=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-w WARMUP]" >&2; exit 2 ;;
  esac
done
berth=${BERTH_RUNTIME:-$repo/build/runtime/cli/berth-runtime}
runc=${RUNC:-runc}
[ "$(id -u)" = 0 ] || { echo "runtime_run: needs root" >&2; exit 1; }
[ -x "$berth" ] || { echo "runtime_run: $berth not built" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench-XXXXXX)
. "$repo/bench/lib.sh"
bench_tag=bench peer=runc peer_bin=$runc
cleanup() {
  bench_delete_containers
  rm -rf "$work"
}
trap cleanup EXIT

BERTH_RUNTIME=$berth "$repo/scripts/make-example-bundle.sh" "$work/base" >/dev/null
rootfs=$work/base/rootfs base_config=$work/base/config.json

echo "runtime_run: $iterations runs per runtime and workload (+$warmup warm-up), alternating"
echo "berth: $berth ($("$berth" --version | head -1))"
echo "runc:  $(command -v "$runc") ($("$runc" --version | head -1))"
bench_header
bench true true '["true"]'
bench env "sh -c env" '["sh", "-c", "env"]'
