#!/usr/bin/env bash
# scripts/coverage.sh — line and branch coverage of base/, cgroups/ and runtime/ by the unit and
# root suites (GCC --coverage, gcovr). Prints a summary per directory and in total, and writes
# an HTML report to <builddir>/coverage/index.html.
#   scripts/coverage.sh [unit|root|all]        (default: all; root needs root, as CI runs it)
#   BERTH_COVERAGE_BUILDDIR=dir                (default: build-coverage in the source tree)
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
what=${1:-all}
builddir=${BERTH_COVERAGE_BUILDDIR:-build-coverage}
case $builddir in /*) ;; *) builddir=$top/$builddir ;; esac
case $what in unit|root|all) ;; *) echo "usage: $0 [unit|root|all]" >&2; exit 2 ;; esac

if [ ! -f "$builddir/build.ninja" ]; then
  # -O0: optimised code folds lines and branches together, which makes the figures noisy.
  meson setup "$builddir" "$top" -Db_coverage=true -Dbuildtype=debug >/dev/null || exit 1
fi
ninja -C "$builddir" >"$builddir/coverage-build.log" 2>&1 \
  || { tail -30 "$builddir/coverage-build.log"; echo "coverage: build FAILED"; exit 1; }
# Counters from an earlier run would add up: start from zero.
find "$builddir" -name '*.gcda' -delete

status=0
suites=(unit root)
[ "$what" = all ] || suites=("$what")
for suite in "${suites[@]}"; do
  meson test -C "$builddir" --suite "$suite" --num-processes 2 --logbase "coverage-$suite" \
    >/dev/null 2>&1 || { echo "coverage: some $suite tests failed (coverage still counted;" \
                          "log: $builddir/meson-logs/coverage-$suite.txt)"; status=1; }
done

mkdir -p "$builddir/coverage"
# Only the libraries; tests, the fuzz harnesses and system headers are not the product. One
# gcovr pass writes both reports (never `--output /dev/null`: gcovr replaces its output file,
# which would turn the host's /dev/null into a regular file).
gcovr --root "$top" --object-directory "$builddir" --exclude "$top/tests/" \
  --exclude-unreachable-branches --exclude-throw-branches \
  --filter "$top/(base|cgroups|runtime)/" \
  --json-summary "$builddir/coverage/summary.json" \
  --html-details "$builddir/coverage/index.html" "$builddir" >/dev/null 2>&1 \
  || { echo "coverage: gcovr FAILED"; exit 1; }
echo "coverage ($what suites):"
python3 - "$builddir/coverage/summary.json" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
def line(label, chosen):
    lt = sum(f["line_total"] for f in chosen); lc = sum(f["line_covered"] for f in chosen)
    bt = sum(f["branch_total"] for f in chosen); bc = sum(f["branch_covered"] for f in chosen)
    pct = lambda c, t: 100.0 * c / t if t else 0.0
    print(f"{label:<9} lines: {pct(lc, lt):5.1f}% ({lc} of {lt}) | branches: {pct(bc, bt):5.1f}% ({bc} of {bt})")
for top in ("base/", "cgroups/", "runtime/"):
    line(top, [f for f in files if f["filename"].startswith(top)])
line("total", files)
PY
echo "coverage: HTML report in $builddir/coverage/index.html"
exit $status
