#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds, then runs every tier and
# gate and ends with one summary line "berth: N passed, N failed, N skipped".
#   unit     Boost.Test unit suite (no root), the fuzz seed replays and the include rules
#   root     privileged integration suite on this host (namespaces, mounts, v1/hybrid cgroups, runc)
#   vm       the cgroup v2 suite inside a qemu guest booting Debian's kernel
#   asan     the unit and root suites again under AddressSanitizer + LSan + UBSan
#            (asan-unit, asan-root: one of them)
#   format   clang-format check of every source
#   fuzz     every libFuzzer harness for a short smoke run
#   static   include rules, clang-tidy and cppcheck over every source (docs/QUALITY.md)
#   engines  podman and containerd drive runc and berth-runtime through the same checks
#            (tests/engines/engines.sh ends with "engines: N passed, N failed, N skipped")
# Usage: scripts/test.sh [tier ...]   (default: unit root vm asan format static fuzz engines)
#
# What the numbers count: in the meson tiers (unit, root, vm, and asan's unit and root) each
# Boost.Test CASE is one (from the report every Boost.Test executable prints with
# BOOST_TEST_REPORT_LEVEL=short; the vm tests pass --report_level=short to the guest); a test
# that is not Boost.Test (a fuzz seed replay, the include check) is one. A gate (format, static,
# fuzz) is one case, unless its script ends with its own line "<name>: N passed, N failed,
# N skipped", whose counts are then added as they are (so a new tier script reports its cases by
# printing that line last): static counts clang-tidy's units (a unit its time budget deferred is
# skipped), fuzz its harnesses.
# Time (docs/QUALITY.md, "CI budget"): every build dir goes through ccache; clang-tidy's results
# and cppcheck's build dir are cached outside the clone ($BERTH_CACHE_DIR, else ~/.cache/berth);
# clang-tidy stops starting units after $BERTH_TIDY_BUDGET s (600, less when the run is late:
# tidy_budget below) and fuzzing shares $BERTH_FUZZ_TOTAL s (180) among the harnesses. The
# build's and each tier's wall time and the total are printed. The vm tier, and the ASan and fuzz
# builds (at nice 19), run beside the other tiers from the start (below: most tiers mostly wait).
# Each of these is a failure, never a silent pass: meson's non-zero exit status, a missing or
# stale suite log (it is deleted before the run), a suite with no tests, a Boost.Test executable
# that ran no test case, skipped every one or printed no report, and a gate whose summary says 0
# passed and 0 failed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit root vm asan format static fuzz engines)

scripts/install-deps.sh || { echo "berth: 0 passed, 1 failed, 0 skipped"; exit 1; }
ccache_before=$(ccache --print-stats 2>/dev/null || true)
start=$SECONDS
scripts/build.sh build >/dev/null || {
  scripts/build.sh build
  echo "berth: 0 passed, 1 failed, 0 skipped"
  exit 1
}

passed=0 failed=0 skipped=0
failures=()
timings=("build $((SECONDS - start)) s")
echo "== build took $((SECONDS - start)) s"

add_counts() { # label passed failed skipped [names of failures]
  passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
  [ "$3" -eq 0 ] || failures+=("$1: ${5:-$3 failed}")
}

# Test cases of one meson suite run, from its testlog.json: per test, the Boost.Test report's
# case counts ("12 test cases out of 13 passed", "1 test case out of 13 skipped", ...) when it
# printed one, else the test itself as one case. Prints "passed failed skipped names".
count_meson_log() { # log exit-status
  python3 - "$1" "$2" <<'PY'
import json, re, sys
log, meson_status = sys.argv[1], int(sys.argv[2])
report = re.compile(r"^\s*(\d+) test cases? out of (\d+) (passed|failed|skipped|aborted)", re.M)
error_line = re.compile(r"error: in |fatal error: in |ERROR: (Address|Leak)Sanitizer|runtime error:"
                        r"|Test setup error|unknown location.*: fatal")
ansi = re.compile(r"\x1b\[[0-9;]*m")
p = f = s = 0
bad = []
tests = [json.loads(line) for line in open(log) if line.strip()]
if not tests:
    print(0, 1, 0, "no tests in this suite")
    sys.exit()
for t in tests:
    name, result = t["name"], t["result"]
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    counts = {"passed": 0, "failed": 0, "skipped": 0, "aborted": 0}
    found = report.findall(out)
    for n, _, kind in found:
        counts[kind] += int(n)
    cases = sum(counts.values())
    if result in ("EXPECTEDFAIL", "UNEXPECTEDPASS"):  # should_fail: its own report says failed
        found, counts = [], {"passed": 0, "failed": 0, "skipped": 0, "aborted": 0}
    if result == "UNEXPECTEDPASS":
        counts["failed"], why = 1, "passed although it should fail"
    elif result == "EXPECTEDFAIL":
        counts["passed"], why = 1, ""
    elif "Test module" in out and not found:  # a report with no case line: nothing ran
        counts["failed"], why = 1, "ran no test case"
    elif found and cases == 0:
        counts["failed"], why = 1, "ran no test case"
    elif found and counts["passed"] + counts["failed"] + counts["aborted"] == 0:
        # Every case skipped (not root, no VM, a precondition false for all): nothing was shown.
        counts["failed"], why = 1, f"every one of its {cases} cases skipped"
    elif not found and result == "SKIP":
        counts["skipped"], why = 1, ""
    elif not found:
        counts["passed" if result in ("OK", "EXPECTEDFAIL") else "failed"] = 1
        why = result
    else:
        why = result
    failures = counts["failed"] + counts["aborted"]
    if result not in ("OK", "EXPECTEDFAIL", "SKIP") and failures == 0:
        failures, why = 1, f"{result} although its cases passed"  # a crash, leak, timeout...
    p += counts["passed"]; s += counts["skipped"]; f += failures
    if failures:
        # The first error it printed, so that the summary at the end of a CI log (often all
        # that is kept of it) says what failed, not only where.
        first = next((l for l in ansi.sub("", out).splitlines() if error_line.search(l)), "")
        bad.append(f"{name} ({why})" + (f" first error: {first.strip()[:400]}" if first else ""))
if meson_status != 0 and f == 0:
    f, bad = 1, [f"meson test exited {meson_status}"]
print(p, f, s, ", ".join(bad))
PY
}

run_meson_suite() { # builddir suite
  local builddir=$1 suite=$2 status
  rm -f "$builddir/meson-logs/suite-$suite.json" # an earlier run's log must not count as this one's
  echo "== $suite ($builddir)"
  BOOST_TEST_REPORT_LEVEL=short meson test -C "$builddir" --suite "$suite" --print-errorlogs \
    --num-processes 2 --no-rebuild --logbase "suite-$suite"
  status=$?
  count_meson_suite "$builddir" "$suite" "$status"
}

count_meson_suite() { # builddir suite meson-exit-status
  local builddir=$1 suite=$2 status=$3 log counts p f s names
  log=$builddir/meson-logs/suite-$suite.json
  if [ ! -s "$log" ]; then
    add_counts "$suite" 0 1 0 "no test log ($log): meson test exited $status"
    return
  fi
  counts=$(count_meson_log "$log" "$status") || counts="0 1 0 cannot read $log"
  read -r p f s names <<<"$counts"
  add_counts "$suite" "$p" "$f" "$s" "$names"
}

# The asan tiers: scripts/sanitize.sh builds and runs the suites; their cases are counted from its
# meson logs exactly as in the plain tiers (Boost.Test's short report is asked for here).
run_sanitized() { # tier unit|root|all
  local tier=$1 what=$2 dir=${BERTH_ASAN_BUILDDIR:-build-asan} suites status s log counts p f s2 names
  suites=(unit root)
  [ "$what" = all ] || suites=("$what")
  echo "== $tier"
  for s in "${suites[@]}"; do rm -f "$dir/meson-logs/sanitize-$s.json"; done
  BOOST_TEST_REPORT_LEVEL=short scripts/sanitize.sh "$what"
  status=$?
  local counted_failure=0
  for s in "${suites[@]}"; do
    log=$dir/meson-logs/sanitize-$s.json
    if [ ! -s "$log" ]; then
      add_counts "$tier-$s" 0 1 0 "no test log ($log): scripts/sanitize.sh exited $status"
      counted_failure=1
      continue
    fi
    counts=$(count_meson_log "$log" 0) || counts="0 1 0 cannot read $log"
    read -r p f s2 names <<<"$counts"
    add_counts "$tier-$s" "$p" "$f" "$s2" "$names"
    [ "$f" -eq 0 ] || counted_failure=1
  done
  if [ "$status" -ne 0 ] && [ "$counted_failure" -eq 0 ]; then
    add_counts "$tier" 0 1 0 "scripts/sanitize.sh exited $status"
  fi
}

# A gate is one case, or the cases of its own last line "<name>: N passed, N failed, N skipped".
run_gate() { # name command...
  local name=$1 out status line p f s
  shift
  echo "== $name"
  out=$(mktemp /tmp/berth-test-gate-XXXXXX)
  "$@" 2>&1 | tee "$out"
  status=${PIPESTATUS[0]}
  line=$(grep -v '^[[:space:]]*$' "$out" | tail -1)
  rm -f "$out"
  if [[ $line =~ ^[A-Za-z0-9_.-]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi # it ran nothing
    add_counts "$name" "$p" "$f" "$s"
  elif [ "$status" -eq 0 ]; then
    add_counts "$name" 1 0 0
  else
    add_counts "$name" 0 1 0 "exit status $status"
  fi
}

# clang-tidy's budget (scripts/static-check.sh): $BERTH_TIDY_BUDGET when set; else what is left of
# a 45-minute run after reserving 10 minutes for the tiers after it, between 120 and 600 s. A
# run that got here late (a cold ccache rebuilt everything) defers more units to the next run
# instead of running past its limit; a warm run gets the full 600 s.
tidy_budget() {
  if [ -n "${BERTH_TIDY_BUDGET:-}" ]; then echo "$BERTH_TIDY_BUDGET"; return; fi
  local left=$((45 * 60 - SECONDS - 10 * 60))
  [ "$left" -le 600 ] || left=600
  [ "$left" -ge 120 ] || left=120
  echo "$left"
}

# The vm tier runs beside the others, from the start: its qemu guest (TCG, the only accelerator
# that boots here) is CPU-bound for about ten minutes, while the root and asan tiers spend most
# of theirs waiting on processes, timers and the aws CLI. Serially it was a fifth of the run.
# Its output goes to a file, printed and counted when it is collected at the end.
# BERTH_VM_BESIDE=0 runs it in its place in the order instead.
vm_pid="" vm_out="" vm_start=0
start_vm_beside() {
  vm_out=$(mktemp /tmp/berth-test-vm-XXXXXX)
  rm -f build/meson-logs/suite-vm.json
  vm_start=$SECONDS
  echo "== vm (build), beside the other tiers: its output follows when it ends"
  (
    BOOST_TEST_REPORT_LEVEL=short meson test -C build --suite vm --print-errorlogs \
      --num-processes 1 --no-rebuild --logbase suite-vm >"$vm_out" 2>&1
    echo "$? $((SECONDS - vm_start))" >"$vm_out.status" # its exit status and its own wall time
  ) &
  vm_pid=$!
}
collect_vm() {
  local status took
  wait "$vm_pid"
  read -r status took <"$vm_out.status" 2>/dev/null || { status=1 took=$((SECONDS - vm_start)); }
  echo "== vm (build), run beside the other tiers"
  cat "$vm_out"
  rm -f "$vm_out" "$vm_out.status"
  count_meson_suite build vm "$status"
  timings+=("vm $took s (beside)")
  echo "== vm took $took s (beside the other tiers)"
}
if [ "${BERTH_VM_BESIDE:-1}" = 1 ] && [ ${#tiers[@]} -gt 1 ] && [[ " ${tiers[*]} " == *" vm "* ]]; then
  start_vm_beside
fi

# The ASan and fuzz builds also start beside the first tiers, at the lowest CPU priority: on a
# cold ccache they are 20-30 minutes of compiling that would otherwise wait for the root tier to
# end; warm they are a minute. The tiers that use them wait for their build first (a marker file
# per build; the two builds run one after the other, never two ninjas in one dir).
prebuild_pid="" prebuild_dir=""
wait_prebuilt() { # asan|fuzz
  [ -n "$prebuild_pid" ] || return 0
  while kill -0 "$prebuild_pid" 2>/dev/null && [ ! -e "$prebuild_dir/$1" ]; do sleep 2; done
}
if [ "${BERTH_PREBUILD_BESIDE:-1}" = 1 ] && [ ${#tiers[@]} -gt 1 ]; then
  prebuild=()
  for t in "${tiers[@]}"; do
    case $t in asan|asan-unit|asan-root) prebuild+=(asan) ;; fuzz) prebuild+=(fuzz) ;; esac
  done
  if [ ${#prebuild[@]} -gt 0 ]; then
    prebuild_dir=$(mktemp -d /tmp/berth-test-prebuild-XXXXXX)
    echo "== prebuilding beside the tests (nice 19): $(printf '%s\n' "${prebuild[@]}" | sort -u | xargs)"
    (
      start=$SECONDS
      if [[ " ${prebuild[*]} " == *" asan "* ]]; then
        nice -n 19 scripts/sanitize.sh build >"$prebuild_dir/asan.log" 2>&1
        echo "$((SECONDS - start))" >"$prebuild_dir/asan"
      fi
      start=$SECONDS
      if [[ " ${prebuild[*]} " == *" fuzz "* ]]; then
        BERTH_FUZZ_BUILD_ONLY=1 nice -n 19 scripts/fuzz.sh >"$prebuild_dir/fuzz.log" 2>&1
        echo "$((SECONDS - start))" >"$prebuild_dir/fuzz"
      fi
    ) &
    prebuild_pid=$!
  fi
fi

for tier in "${tiers[@]}"; do
  start=$SECONDS
  case $tier in
    vm) if [ -n "$vm_pid" ]; then continue; fi
        run_meson_suite build vm ;;
    unit|root) run_meson_suite build "$tier" ;;
    asan) wait_prebuilt asan; run_sanitized asan all ;;
    asan-unit) wait_prebuilt asan; run_sanitized asan unit ;;
    asan-root) wait_prebuilt asan; run_sanitized asan root ;;
    format) run_gate "format" scripts/check-format.sh ;;
    static) run_gate "static" env BERTH_TIDY_BUDGET="$(tidy_budget)" scripts/static-check.sh build ;;
    fuzz) wait_prebuilt fuzz
          BERTH_FUZZ_TOTAL=${BERTH_FUZZ_TOTAL:-180} run_gate "fuzz" scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-15}" ;;
    engines) run_gate "engines" tests/engines/engines.sh build/runtime/cli/berth-runtime ;;
    *) echo "unknown tier '$tier' (unit root vm asan asan-unit asan-root format static fuzz engines)"
       add_counts "$tier" 0 1 0 "unknown tier" ;;
  esac
  timings+=("$tier $((SECONDS - start)) s")
  echo "== $tier took $((SECONDS - start)) s"
done

[ -z "$vm_pid" ] || collect_vm
if [ -n "$prebuild_pid" ]; then
  wait "$prebuild_pid"
  for b in asan fuzz; do
    [ ! -e "$prebuild_dir/$b" ] || echo "prebuilt beside the tests: $b in $(cat "$prebuild_dir/$b") s"
  done
  rm -rf "$prebuild_dir"
fi

# ccache over this run (every build dir uses it): hits of the compilations it was asked for.
if [ -n "$ccache_before" ]; then
  python3 - "$ccache_before" "$(ccache --print-stats 2>/dev/null)" <<'PY'
import sys
def stats(text):
    return {k: int(v) for k, v in (l.split("\t") for l in text.splitlines() if "\t" in l)
            if v.isdigit()}
a, b = stats(sys.argv[1]), stats(sys.argv[2])
d = lambda k: b.get(k, 0) - a.get(k, 0)
hits = d("direct_cache_hit") + d("preprocessed_cache_hit")
total = hits + d("cache_miss")
print(f"ccache: {hits} hits of {total} compilations ({100 * hits / total:.0f}%)" if total
      else "ccache: no compilations in this run")
PY
fi
echo "tier times: $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); total $SECONDS s"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "(counted: Boost.Test cases in unit, root, vm and asan; static: clang-tidy units, cppcheck and"
echo " the include rules; fuzz: harnesses; format: one)"
echo "berth: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
