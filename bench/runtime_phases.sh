#!/usr/bin/env bash
# bench/runtime_phases.sh — where `berth-runtime run` spends its time, phase by phase: runs the
# bundle N times with BERTH_TRACE_PHASES=1 (base/trace.hpp) and prints, for each phase in order,
# the median and mean of the time since the previous phase, in ms, plus the median total.
#   bench/runtime_phases.sh [-n N] BERTH_RUNTIME BUNDLE
# BUNDLE: a bundle (scripts/make-example-bundle.sh); its config's cgroupsPath is used as is.
# Needs root. Uses its own state root under mktemp and removes it.
set -euo pipefail
export BERTH_CGROUPS_OUTSIDE_ROOT=1
iterations=20
while getopts "n:" opt; do
  case $opt in
    n) iterations=$OPTARG ;;
    *) echo "usage: $0 [-n N] BERTH_RUNTIME BUNDLE" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-n N] BERTH_RUNTIME BUNDLE" >&2; exit 2; }
berth=$1 bundle=$2
work=$(mktemp -d /tmp/berth-phases-XXXXXX)
trap '"$berth" --root "$work/state" delete --force phases >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for ((i = 0; i < iterations; i++)); do
  BERTH_TRACE_PHASES=1 "$berth" --root "$work/state" run --bundle "$bundle" phases \
    </dev/null 2>&1 >/dev/null | grep '^berth-phase ' | sed "s/^/run=$i /" >>"$work/trace"
done
# Columns: run=I berth-phase pid=P t_us=T dt_us=D name...; a name seen twice in one run (the
# re-exec'd copy's "cli: main") gets "#2". Each phase's time is measured from the previous line
# of the same run whatever process wrote it (t_us is CLOCK_MONOTONIC in every process), so the
# re-exec and the dynamic loader's work before "cli: main #2" count too.
sort -t' ' -k1,1 -k4,4 -s "$work/trace" | awk '{
  run = $1; t = $4; sub(/^t_us=/, "", t);
  name = $6; for (i = 7; i <= NF; i++) name = name " " $i;
  key = run SUBSEP name; seen[key]++; if (seen[key] > 1) name = name " #" seen[key];
  if (!(name in order)) { order[name] = ++n; names[n] = name }
  dt = (run in last) ? t - last[run] : 0;
  vals[name] = vals[name] " " dt / 1000.0;
  if (!(run in first)) first[run] = t; last[run] = t
} END {
  printf "%-70s %9s %9s\n", "phase (time since the previous one, any process)", "median_ms", "mean_ms"
  for (i = 1; i <= n; i++) {
    k = split(vals[names[i]], v, " "); s = 0
    for (a = 1; a <= k; a++) { s += v[a]; for (b = a + 1; b <= k; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x } }
    med = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    printf "%-70s %9.2f %9.2f\n", names[i], med, s / k
  }
  k = 0; for (r in first) tot[++k] = (last[r] - first[r]) / 1000.0
  for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (tot[b] < tot[a]) { x = tot[a]; tot[a] = tot[b]; tot[b] = x }
  printf "%-70s %9.2f\n", "total, first phase to last (median)", (k % 2) ? tot[(k + 1) / 2] : (tot[k / 2] + tot[k / 2 + 1]) / 2
}'
