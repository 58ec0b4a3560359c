#!/usr/bin/env bash
# scripts/fuzz.sh — runs every libFuzzer harness (tests/fuzz/*_fuzz.cpp) for a while, starting
# from its seed corpus; fails if any harness finds a crash, leak, timeout or broken property.
#   scripts/fuzz.sh [seconds-per-harness] [harness ...]     (default: 60, all harnesses)
# Environment:
#   BERTH_FUZZ_BUILDDIR   clang build dir (default: build-fuzz in the source tree; configured here)
#   BERTH_FUZZ_ARTIFACTS  where crashing inputs are copied (default: tests/fuzz/artifacts, ignored)
#   BERTH_FUZZ_PARALLEL   harnesses run at once (default: number of CPUs)
#   BERTH_FUZZ_BUILD_ONLY 1: build the harnesses and exit without fuzzing
#   BERTH_FUZZ_TOTAL      a bound on the whole run's fuzzing wall time in seconds (scripts/test.sh
#                         sets 180): each harness then gets min(seconds, TOTAL * PARALLEL / harnesses)
#                         but never less than 5 s, so more harnesses share the time instead of
#                         lengthening CI (the campaigns in docs/QUALITY.md are where depth comes from)
# New corpus entries go to <builddir>/fuzz-corpus/<harness>, never into the seed corpus; logs to
# <builddir>/fuzz-logs/<harness>.log. -timeout=30 (per input, wall clock) is generous because CI
# shares 2 cores with builds; no parser input below 4 KiB legitimately takes even 1 s.
# A crash is reproduced with:
#   <builddir>/tests/fuzz/fuzz_<harness> <artifact file>
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
seconds=${1:-60}
shift || true
builddir=${BERTH_FUZZ_BUILDDIR:-build-fuzz}
artifacts=${BERTH_FUZZ_ARTIFACTS:-$top/tests/fuzz/artifacts}
parallel=${BERTH_FUZZ_PARALLEL:-$(nproc)}
case $builddir in /*) ;; *) builddir=$top/$builddir ;; esac

if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  mapfile -t harnesses < <(cd tests/fuzz && ls ./*_fuzz.cpp | sed 's|^\./||; s|_fuzz\.cpp$||')
fi

if [ ! -f "$builddir/build.ninja" ]; then
  # fuzzer-no-link: coverage instrumentation in every library, libFuzzer's main only in the
  # harnesses (tests/fuzz/meson.build adds -fsanitize=fuzzer there). -fno-sanitize-recover=all:
  # a UBSan finding aborts, so libFuzzer saves the input.
  # meson adds ccache by itself only when it picks the compiler; with CXX set it must be named.
  cxx=clang++
  command -v ccache >/dev/null && cxx="ccache clang++"
  CXX=$cxx meson setup "$builddir" "$top" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer' \
    >/dev/null || exit 1
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h"); done
build_start=$SECONDS
if ! ninja -C "$builddir" "${targets[@]}" >"$builddir/fuzz-build.log" 2>&1; then
  tail -30 "$builddir/fuzz-build.log"
  echo "fuzz: build FAILED (log: $builddir/fuzz-build.log)"
  exit 1
fi
echo "fuzz: build of ${#targets[@]} harnesses took $((SECONDS - build_start)) s"
# BERTH_FUZZ_BUILD_ONLY=1: stop here (scripts/test.sh builds beside the tests that come first).
[ "${BERTH_FUZZ_BUILD_ONLY:-0}" != 1 ] || exit 0

if [ -n "${BERTH_FUZZ_TOTAL:-}" ]; then
  share=$((BERTH_FUZZ_TOTAL * parallel / ${#harnesses[@]}))
  [ "$share" -ge 5 ] || share=5
  [ "$share" -ge "$seconds" ] || seconds=$share
fi
rounds=$(((${#harnesses[@]} + parallel - 1) / parallel))
echo "fuzz: ${#harnesses[@]} harnesses x ${seconds} s, ${parallel} at a time: about $((rounds * seconds)) s" \
  "of fuzzing${BERTH_FUZZ_TOTAL:+ (budget ${BERTH_FUZZ_TOTAL} s)}"

mkdir -p "$artifacts" "$builddir/fuzz-logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One harness: its own artifact prefix in a scratch dir, then anything found is copied out.
fuzz_one() {
  local h=$1 exe=$builddir/tests/fuzz/fuzz_$h
  local corpus=$builddir/fuzz-corpus/$h scratch=$builddir/fuzz-artifacts/$h
  local log=$builddir/fuzz-logs/$h.log dict=()
  mkdir -p "$corpus" "$scratch"
  rm -f "$scratch"/*
  [ -f "tests/fuzz/$h.dict" ] && dict=(-dict="$top/tests/fuzz/$h.dict")
  # The CPU time the harness really got goes into the log: on a shared machine the wall time
  # given by -max_total_time says little about how much fuzzing happened.
  local TIMEFORMAT="cpu: %U s user, %S s sys, %R s wall"
  { time nice -n 10 "$exe" "${dict[@]}" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$scratch/" "$corpus" "$top/tests/fuzz/corpus/$h" \
    >"$log" 2>&1; } 2>"$log.time"
  local rc=$?
  cat "$log.time" >>"$log" && rm -f "$log.time"
  local cpu
  cpu=$(awk '/^cpu:/ {printf "%.0f", $2 + $5}' "$log")
  local found
  # slow-unit-* files are kept but do not fail the run: on a loaded 2-core machine with the
  # harness at nice 10 they measure the scheduler (a 22-byte input "took" 12 s and replays in
  # 0.2 s). Crashes, leaks, timeouts and OOMs do.
  found=$(ls "$scratch" 2>/dev/null | grep -cv '^slow-unit-')
  for f in "$scratch"/*; do
    [ -e "$f" ] && cp "$f" "$artifacts/$h-$(basename "$f")"
  done
  local last
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/execs \1 /')
  if [ $rc -ne 0 ] || [ "$found" -gt 0 ]; then
    echo "fuzz $h: FAILED (exit $rc, $found artifact(s) in $artifacts; log $log) $last"
    grep -m1 -E 'ERROR: |runtime error|fuzz property violated' "$log" | sed 's/^/    /'
    return 1
  fi
  echo "fuzz $h: OK ${seconds}s (${cpu} CPU-s) $last"
}

status=0 bad=0
running=0
fuzz_start=$SECONDS
for h in "${harnesses[@]}"; do
  fuzz_one "$h" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || { status=1; bad=$((bad + 1)); }
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || { status=1; bad=$((bad + 1)); }
  running=$((running - 1))
done
[ $status -eq 0 ] && echo "fuzz: OK (${#harnesses[@]} harnesses, ${seconds}s each, $((SECONDS - fuzz_start)) s)" \
  || echo "fuzz: FAILED (crashing inputs in $artifacts)"
echo "fuzz: $((${#harnesses[@]} - bad)) passed, $bad failed, 0 skipped"
exit $status
