#!/usr/bin/env bash
# bench/berthd.sh start [N] | rss [COUNTS...] — berthd benchmarks (bench/berthd_bench.py) as
# root, inside network, mount and pid namespaces made for the run (tests/e2e/run.sh), never the
# host's. Needs a build (BERTH_BUILD_ROOT, default ./build). BERTH_BENCH_BERTHD=PATH runs another
# berthd binary (with the berth-supervisor next to it), e.g. a baseline's, side by side:
#   BERTH_BENCH_BERTHD=/work/baseline-b08c138/berthd bench/berthd.sh rss 1 100
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BERTH_SOURCE_ROOT=$top BERTH_BUILD_ROOT=${BERTH_BUILD_ROOT:-$top/build}
exec "$top/tests/e2e/run.sh" "$top/bench/berthd_bench.py" "$@"
