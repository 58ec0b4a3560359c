#!/usr/bin/env bash
# bench/runtime_vm_crun.sh — container start-to-exit latency, berth-runtime vs crun, on the same
# busybox bundle, inside the VM tier's guest (pure cgroup v2): crun refuses this hybrid host. The
# bundle is built here (scripts/make-example-bundle.sh, in a mktemp directory), then
# tests/vm/run-in-vm.sh runs bench/runtime_pair.sh in the guest, which alternates `berth-runtime
# run` and `crun run` N times per workload (`true`, `sh -c env`). The guest runs under qemu TCG
# (software emulation): absolute times are several times slower than on hardware and only the
# berth/crun ratio means something.
#   bench/runtime_vm_crun.sh [-n N] [-w WARMUP]
#   BERTH_RUNTIME  berth-runtime binary (default: build/runtime/cli/berth-runtime)
#   CRUN           crun binary (default: crun)
# Needs root (the guest's runs), qemu-system-x86 and busybox-static; the bundle directory is
# removed at the end, and the guest's state vanishes with it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
iterations=20
warmup=2
while getopts "n:w:" opt; do
  case $opt in
    n) iterations=$OPTARG ;;
    w) warmup=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-w WARMUP]" >&2; exit 2 ;;
  esac
done
berth=$(realpath "${BERTH_RUNTIME:-$repo/build/runtime/cli/berth-runtime}")
crun=$(command -v "${CRUN:-crun}") || { echo "runtime_vm_crun: crun not found" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "runtime_vm_crun: needs root" >&2; exit 1; }
[ -x "$berth" ] || { echo "runtime_vm_crun: $berth not built" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-vmbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
BERTH_RUNTIME=$berth "$repo/scripts/make-example-bundle.sh" "$work/bundle" >/dev/null

# One boot for all runs: the boot plus up to 10 s per run (a loaded machine, TCG);
# $BERTH_VM_TIMEOUT overrides.
timeout_s=${BERTH_VM_TIMEOUT:-$((300 + (iterations + warmup) * 4 * 10))}
echo "runtime_vm_crun: host $(uname -r), guest via tests/vm/run-in-vm.sh (qemu TCG)"
"$repo/tests/vm/run-in-vm.sh" --timeout "$timeout_s" -- \
  "$repo/bench/runtime_pair.sh" -n "$iterations" -w "$warmup" "$berth" "$crun" "$work/bundle"
