#!/usr/bin/env bash
# bench/runtime_pair.sh — the in-guest half of bench/runtime_vm_crun.sh (also usable on any pure
# cgroup v2 host): container start-to-exit latency of berth-runtime vs crun on the same busybox
# bundle. For each workload (`true`, then `sh -c env`) it runs `<runtime> run` N times per
# runtime, alternating berth, crun, berth, crun, ... so drift hits both alike, and prints
# mean/median/min/stddev per runtime and the berth/crun ratios.
#   bench/runtime_pair.sh [-n N] [-w WARMUP] BERTH_RUNTIME CRUN BUNDLE
# BUNDLE is a bundle made by scripts/make-example-bundle.sh; its rootfs is copied to a tmpfs
# first (under the VM tier the host's files come over 9p). Needs root and cgroup v2. Each
# runtime gets its own state root and cgroupsPath ("/berth-test-pair-...") and removes them.
# The timing loop is bench/lib.sh.
set -euo pipefail
# The bundles' cgroupsPath ("/berth-test-...") lies outside berth-runtime's default cgroup root.
export BERTH_CGROUPS_OUTSIDE_ROOT=1
iterations=20
warmup=2
while getopts "n:w:" opt; do
  case $opt in
    n) iterations=$OPTARG ;;
    w) warmup=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-w WARMUP] BERTH_RUNTIME CRUN BUNDLE" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || { echo "usage: $0 [-n N] [-w WARMUP] BERTH_RUNTIME CRUN BUNDLE" >&2; exit 2; }
berth=$1 crun=$2 bundle=$3
[ "$(id -u)" = 0 ] || { echo "runtime_pair: needs root" >&2; exit 1; }
[ -f /sys/fs/cgroup/cgroup.controllers ] || { echo "runtime_pair: needs cgroup v2" >&2; exit 1; }

work=$(mktemp -d /run/berth-pair-XXXXXX 2>/dev/null || mktemp -d /tmp/berth-pair-XXXXXX)
. "$(dirname "$0")/lib.sh"
bench_tag=pair peer=crun peer_bin=$crun
cleanup() {
  bench_delete_containers
  rm -rf "$work"
}
trap cleanup EXIT
cp -a "$bundle/rootfs" "$work/rootfs"
# Both binaries run from the tmpfs too: under the VM tier the host's files come over 9p without
# a page cache (cache=none), so every run would read berth-runtime's whole binary over 9p again
# for its sealed copy (2.4 s of a 4.6 s run under TCG, bench/runtime_phases.sh), a cost no real
# host has (the binary sits in the page cache). crun's shared libraries still come over 9p, as
# do berth-runtime's (glibc only).
cp "$berth" "$work/berth-runtime" && berth=$work/berth-runtime
cp "$crun" "$work/crun" && crun=$work/crun peer_bin=$work/crun
rootfs=$work/rootfs base_config=$bundle/config.json

echo "runtime_pair: $iterations runs per runtime and workload (+$warmup warm-up), alternating"
echo "kernel $(uname -r), $(nproc) cpus;" \
  "cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "berth: $berth ($("$berth" --version | head -1))"
echo "crun:  $crun ($("$crun" --version | head -1))"
if grep -qi hypervisor /proc/cpuinfo; then
  echo "NOTE: inside a VM (under the VM tier: qemu TCG emulation): absolute times are many"
  echo "      times slower than on hardware; only the berth/crun ratio means something."
fi
bench_header
bench true true '["true"]'
bench env "sh -c env" '["sh", "-c", "env"]'
