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
cleanup() {
  for rt in berth crun; do
    bin=$berth; [ $rt = crun ] && bin=$crun
    "$bin" --root "$work/state-$rt" delete --force "pair-$rt" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
cp -a "$bundle/rootfs" "$work/rootfs"

make_bundle() { # name args-json
  mkdir -p "$work/$1"
  jq --argjson args "$2" --arg root "$work/rootfs" --arg cg "/berth-test-pair-$$-$1" \
    '.process.args = $args | .root.path = $root | .linux.cgroupsPath = $cg' \
    "$bundle/config.json" >"$work/$1/config.json"
}

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

time_run() { # bin state bundle id -> elapsed microseconds; fails loudly unless the run exits 0
  local start end
  start=$(now_us)
  if ! "$1" --root "$2" run --bundle "$3" "$4" >/dev/null 2>"$work/err" </dev/null; then
    echo "runtime_pair: $1 run failed: $(cat "$work/err")" >&2
    exit 1
  fi
  end=$(now_us)
  echo $((end - start))
}

stats() { # file -> "mean median min stddev" in ms
  sort -n "$1" | awk '{ v[NR] = $1; s += $1; ss += $1 * $1 }
    END { m = s / NR; med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          sd = sqrt(ss / NR - m * m);
          printf "%.2f %.2f %.2f %.2f\n", m / 1000, med / 1000, v[1] / 1000, sd / 1000 }'
}

bench() { # slug label args-json
  local name=$1 label=$2 args=$3 rt bin us i
  for rt in berth crun; do make_bundle "$name-$rt" "$args"; : >"$work/$name-$rt.us"; done
  for ((i = 0; i < warmup + iterations; i++)); do
    for rt in berth crun; do
      bin=$berth; [ $rt = crun ] && bin=$crun
      us=$(time_run "$bin" "$work/state-$rt" "$work/$name-$rt" "pair-$rt")
      [ "$i" -ge "$warmup" ] && echo "$us" >>"$work/$name-$rt.us"
    done
  done
  # Here-strings, not <(...): the VM guest has no /dev/fd.
  read -r bm bmed bmin bsd <<<"$(stats "$work/$name-berth.us")"
  read -r cm cmed cmin csd <<<"$(stats "$work/$name-crun.us")"
  printf '%-14s %-14s %9s %9s %9s %9s\n' "$label" berth-runtime "$bm" "$bmed" "$bmin" "$bsd"
  printf '%-14s %-14s %9s %9s %9s %9s\n' "" crun "$cm" "$cmed" "$cmin" "$csd"
  awk -v b="$bm" -v c="$cm" -v bmed="$bmed" -v cmed="$cmed" 'BEGIN {
    printf "%-14s berth/crun     mean %.2fx   median %.2fx\n", "", b / c, bmed / cmed }'
}

echo "runtime_pair: $iterations runs per runtime and workload (+$warmup warm-up), alternating"
echo "kernel $(uname -r), $(nproc) cpus;" \
  "cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "berth: $berth ($("$berth" --version | head -1))"
echo "crun:  $crun ($("$crun" --version | head -1))"
if grep -qi hypervisor /proc/cpuinfo; then
  echo "NOTE: inside a VM (under the VM tier: qemu TCG emulation): absolute times are many"
  echo "      times slower than on hardware; only the berth/crun ratio means something."
fi
printf '%-14s %-14s %9s %9s %9s %9s\n' workload runtime mean_ms median_ms min_ms stddev_ms
bench true true '["true"]'
bench env "sh -c env" '["sh", "-c", "env"]'
