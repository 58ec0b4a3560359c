#!/usr/bin/env bash
# bench/runtime_run.sh — container start-to-exit latency, berth-runtime vs runc, on the same
# busybox bundle. For each workload (`true`, then `sh -c env`) it runs `<runtime> run` N times
# per runtime, alternating berth, runc, berth, runc, ... so drift on a shared machine hits both
# alike, and prints mean/median/min/stddev per runtime and the berth/runc ratio of means.
#   bench/runtime_run.sh [-n N] [-w WARMUP]
#   BERTH_RUNTIME  berth-runtime binary (default: build/runtime/cli/berth-runtime)
#   RUNC           runc binary (default: runc)
# Needs root. Each runtime gets its own state root and cgroupsPath ("/berth-test-bench-...")
# under mktemp and removes them; nothing else on the host is touched.
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
cleanup() {
  for rt in berth runc; do
    bin=$berth; [ $rt = runc ] && bin=$runc
    "$bin" --root "$work/state-$rt" delete --force "bench-$rt" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

BERTH_RUNTIME=$berth "$repo/scripts/make-example-bundle.sh" "$work/base" >/dev/null

# One bundle per runtime and workload, sharing the base rootfs (root.path is absolute).
make_bundle() { # name args-json
  mkdir -p "$work/$1"
  jq --argjson args "$2" --arg root "$work/base/rootfs" --arg cg "/berth-test-bench-$$-$1" \
    '.process.args = $args | .root.path = $root | .linux.cgroupsPath = $cg' \
    "$work/base/config.json" >"$work/$1/config.json"
}

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# Prints the elapsed microseconds of one `run`; fails loudly if the container did not exit 0.
time_run() { # bin state bundle id
  local start end
  start=$(now_us)
  if ! "$1" --root "$2" run --bundle "$3" "$4" >/dev/null 2>"$work/err" </dev/null; then
    echo "runtime_run: $1 run failed: $(cat "$work/err")" >&2
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
  local name=$1 label=$2
  shift
  for rt in berth runc; do make_bundle "$name-$rt" "$2"; : >"$work/$name-$rt.us"; done
  for ((i = 0; i < warmup + iterations; i++)); do
    for rt in berth runc; do
      bin=$berth; [ $rt = runc ] && bin=$runc
      us=$(time_run "$bin" "$work/state-$rt" "$work/$name-$rt" "bench-$rt")
      [ "$i" -ge "$warmup" ] && echo "$us" >>"$work/$name-$rt.us"
    done
  done
  read -r bm bmed bmin bsd < <(stats "$work/$name-berth.us")
  read -r rm rmed rmin rsd < <(stats "$work/$name-runc.us")
  printf '%-14s %-14s %9s %9s %9s %9s\n' "$label" berth-runtime "$bm" "$bmed" "$bmin" "$bsd"
  printf '%-14s %-14s %9s %9s %9s %9s\n' "" runc "$rm" "$rmed" "$rmin" "$rsd"
  awk -v b="$bm" -v r="$rm" -v bmed="$bmed" -v rmed="$rmed" 'BEGIN {
    printf "%-14s berth/runc     mean %.2fx   median %.2fx\n", "", b / r, bmed / rmed }'
}

echo "runtime_run: $iterations runs per runtime and workload (+$warmup warm-up), alternating"
echo "berth: $berth ($("$berth" --version | head -1))"
echo "runc:  $(command -v "$runc") ($("$runc" --version | head -1))"
printf '%-14s %-14s %9s %9s %9s %9s\n' workload runtime mean_ms median_ms min_ms stddev_ms
bench true true '["true"]'
bench env "sh -c env" '["sh", "-c", "env"]'
