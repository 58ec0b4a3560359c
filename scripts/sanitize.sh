#!/usr/bin/env bash
# scripts/sanitize.sh — the unit and root suites again, built with AddressSanitizer (+ LeakSanitizer)
# and UndefinedBehaviorSanitizer. Every report is fatal: UBSan via -fno-sanitize-recover=all,
# ASan/LSan by their default exit code; a leak or UB finding fails the meson test and this script.
#   scripts/sanitize.sh [unit|root|all|build]  (default: all; build: only the build, no test)
#   BERTH_ASAN_BUILDDIR=dir                  build dir (default: build-asan in the source tree)
# The root suite needs root (as CI runs); as an ordinary user its tests report skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
what=${1:-all}
builddir=${BERTH_ASAN_BUILDDIR:-build-asan}
case $what in unit|root|all|build) ;; *) echo "usage: $0 [unit|root|all|build]" >&2; exit 2 ;; esac

# -Wno-maybe-uninitialized, -Dwerror=false: GCC 12 with -fsanitize=address reports false
# positives (inside libstdc++'s std::function/std::regex); warnings are the normal build's gate,
# where they stay errors. This build is for the runtime checks.
# -O1 (the project's default is -O2): what the sanitizers' documentation advises, and the same
# checks (UBSan's object-size check needs optimisation; -O1 has it), but the compile is about a
# third cheaper: an ASan build of tests/unit/taskdef_spec_test.cpp took 49.6 CPU-s at -O2, 30.6 at
# -O1 (16.8 at -O0, which drops object-size). The build is the bulk of this tier's time.
# ccache: meson puts it in front of the compiler itself (the commands carry no absolute paths).
if [ ! -f "$builddir/build.ninja" ]; then
  # b_lundef=false: with -fsanitize the runtime symbols come from the sanitizer libraries at link
  # time; meson's default -Wl,--no-undefined would reject shared objects otherwise.
  meson setup "$builddir" "$top" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
    -Doptimization=1 \
    -Dcpp_args='-fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-maybe-uninitialized' \
    >/dev/null || exit 1
fi

# halt_on_error: the first report ends the process with a non-zero status (meson: FAIL).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=23}
# The daemon tests' waits and time limits (tests/root/daemon_support.hpp's time_scale()) are for
# hangs, not speed: under ASan berthd and its helpers run 2-3 times slower, and CI runs this tier
# beside the VM tier's qemu (a loaded CI run failed daemon_faults at scale 1; no quiet run has).
export BERTH_TEST_TIME_SCALE=${BERTH_TEST_TIME_SCALE:-3}

start=$SECONDS
if ! ninja -C "$builddir" >"$builddir/sanitize-build.log" 2>&1; then
  tail -40 "$builddir/sanitize-build.log"
  echo "sanitize: build FAILED (log: $builddir/sanitize-build.log)"
  exit 1
fi
echo "sanitize: build took $((SECONDS - start)) s"
[ "$what" != build ] || exit 0

status=0
run_suite() {
  local suite=$1 t0=$SECONDS
  # --no-suite plain: tests of the plain build's binaries (e2e_quickstart runs <source>/build's).
  # --no-suite e2e: the e2e scripts spend their time in the aws CLI (Python, 1-2.5 s a call on a
  # loaded machine), not in berthd; the daemon_* root tests drive the same berthd paths (API,
  # restarts, SIGKILLs, pulls) under ASan in a fraction of the time, and the unit suite's api
  # tests the API server with the real aws CLI under ASan. The plain root tier runs them.
  if meson test -C "$builddir" --suite "$suite" --no-suite plain --no-suite e2e \
      --print-errorlogs --num-processes 2 --logbase "sanitize-$suite"; then
    echo "sanitize: $suite suite OK ($((SECONDS - t0)) s)"
  else
    echo "sanitize: $suite suite FAILED ($((SECONDS - t0)) s; log: $builddir/meson-logs/sanitize-$suite.txt)"
    status=1
  fi
}
case $what in
  unit) run_suite unit ;;
  root) run_suite root ;;
  all) run_suite unit; run_suite root ;;
esac
exit $status
