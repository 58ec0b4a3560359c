#!/usr/bin/env bash
# scripts/berthd-order.sh [BUILDDIR] — regenerates agent/berthd/berthd.order, berthd's link-time
# function order (docs/BENCHMARKS.md, "Memory, fifth round"). As root (the workload runs tasks).
#  1. builds berthd once more in build-order/ with -finstrument-functions and bench/func_trace.c,
#     whose hooks record the first call of each function in berthd's own process;
#  2. runs that berthd (with BUILDDIR's berth-supervisor and berth CLI, default ./build) through
#     bench/berthd_order_workload.py inside the namespaces tests/e2e/run.sh makes: start, idle,
#     the API, tasks run and stopped, idle again, SIGTERM;
#  3. writes the order (bench/berthd_order_file.py): start-up and idle first, then the API and
#     task path, each in order of first call; shutdown-only and never-called code unlisted;
#  4. with perf, two passes that relink BUILDDIR's berthd with the order, run the workload again
#     under perf record (page faults) and add the functions the hooks could not see at the
#     faulting addresses outside the order (bench/berthd_order_faults.py).
# Rebuild BUILDDIR afterwards (ninja relinks berthd). A stale file only degrades the order: names
# the build no longer has are skipped by the linker without a warning.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
traced=$top/build-order
supervisor=$build/runtime/cli/berth-supervisor
if [ ! -x "$supervisor" ] || [ ! -x "$build/agent/cli/berth" ]; then
  echo "berthd-order: no runtime/cli/berth-supervisor or agent/cli/berth in $build (build them)" >&2
  exit 1
fi

mkdir -p "$traced"
cc -O2 -fPIC -Wall -Wextra -Werror -c "$top/bench/func_trace.c" -o "$traced/func_trace.o"
if [ ! -f "$traced/build.ninja" ]; then
  meson setup "$traced" "$top" -Dtests=false -Dcpp_args=-finstrument-functions \
    -Dcpp_link_args="$traced/func_trace.o" >/dev/null
fi
rm -f "$traced/agent/berthd/berthd" # ninja does not see func_trace.o change: relink always
ninja -C "$traced" agent/berthd/berthd

# berthd looks for berth-supervisor next to itself: a copy of the traced berthd beside BUILDDIR's.
# The run's files stay in build-order/run (bench/berthd_order_file.py can be rerun on them).
run=$traced/run
rm -rf "$run"
mkdir -p "$run"
cp "$traced/agent/berthd/berthd" "$run/berthd"
cp "$supervisor" "$run/berth-supervisor"
chmod 0755 "$run"
BERTH_SOURCE_ROOT=$top BERTH_BUILD_ROOT=$build BERTH_BENCH_BERTHD=$run/berthd \
  FUNC_TRACE_OUT=$run/trace "$top/tests/e2e/run.sh" "$top/bench/berthd_order_workload.py" \
  "$run/phases"
[ -s "$run/trace" ] || { echo "berthd-order: the traced berthd wrote no trace" >&2; exit 1; }
order() {
  python3 "$top/bench/berthd_order_file.py" "$run/berthd" "$run/trace" "$run/phases" \
    "$top/agent/berthd/berthd.order" "$build/agent/berthd/berthd" "$run/extra"
}
: >"$run/extra"
order

# Two fault passes (with perf): BUILDDIR's berthd linked with the order runs the workload under
# perf record; the functions of its text faults that the order does not list (code compiled
# without the hook, called through a vtable) are added to their group.
if command -v perf >/dev/null; then
  for pass in 1 2; do
    ninja -C "$build" agent/berthd/berthd >/dev/null
    dir=$run/pass$pass
    mkdir -p "$dir"
    cp "$build/agent/berthd/berthd" "$dir/berthd"
    cp "$supervisor" "$dir/berth-supervisor"
    printf '#!/bin/sh\nexec perf record -q -d -e minor-faults -c 1 -k CLOCK_MONOTONIC -o %s -- %s "$@"\n' \
      "$dir/perf.data" "$dir/berthd" >"$dir/berthd-perf"
    chmod 0755 "$dir" "$dir/berthd-perf"
    BERTH_SOURCE_ROOT=$top BERTH_BUILD_ROOT=$build BERTH_BENCH_BERTHD=$dir/berthd-perf \
      BERTHD_ORDER_UNDER_PERF=1 "$top/tests/e2e/run.sh" "$top/bench/berthd_order_workload.py" \
      "$dir/phases"
    [ -s "$dir/perf.data" ] || { echo "berthd-order: pass $pass recorded nothing" >&2; break; }
    python3 "$top/bench/berthd_order_faults.py" "$dir/berthd" "$dir/perf.data" "$dir/phases" \
      "$top/agent/berthd/berthd.order" >>"$run/extra"
    order
  done
else
  echo "berthd-order: no perf (linux-perf): the fault passes are skipped" >&2
fi
echo "berthd-order: wrote agent/berthd/berthd.order; now: ninja -C $build agent/berthd/berthd"
