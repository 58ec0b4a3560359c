#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds, then runs every tier and
# gate and ends with one summary line "berth: N passed, N failed, N skipped".
#   unit     Boost.Test unit suite (no root)
#   root     privileged integration suite on this host (namespaces, mounts, v1/hybrid cgroups, runc)
#   vm       the cgroup v2 suite inside a qemu guest booting Debian's kernel
#   asan     the unit and root suites again under AddressSanitizer + LSan + UBSan
#            (asan-unit, asan-root: one of them)
#   format   clang-format check of every source
#   fuzz     every libFuzzer harness for a short smoke run
#   static   clang-tidy and cppcheck over every source (check set: .clang-tidy, docs/QUALITY.md)
#   engines  podman and containerd drive runc and berth-runtime through the same checks
#            (tests/engines/engines.sh prints "engines: N passed, N failed, N skipped")
# Usage: scripts/test.sh [tier ...]   (default: unit root vm asan format static fuzz engines)
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit root vm asan format static fuzz engines)

scripts/install-deps.sh || { echo "berth: 0 passed, 1 failed"; exit 1; }
scripts/build.sh build >/dev/null || { scripts/build.sh build; echo "berth: 0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
failures=()

# Adds one meson test log's counts (testlog.json: one object per test) to the totals.
count_meson_log() {
  local log=$1 label=$2
  local counts
  counts=$(python3 - "$log" <<'PY'
import json, sys
p = f = s = 0
names = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
        names.append(json.loads(line)["name"])
print(p, f, s, ",".join(names))
PY
)
  read -r p f s names <<<"$counts"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [ "$f" -eq 0 ] || failures+=("$label: $names")
}

run_meson_suite() { # builddir suite
  local builddir=$1 suite=$2 start=$SECONDS
  echo "== $suite ($builddir)"
  meson test -C "$builddir" --suite "$suite" --print-errorlogs --num-processes 2 \
    --logbase "suite-$suite"
  count_meson_log "$builddir/meson-logs/suite-$suite.json" "$suite"
  echo "== $suite took $((SECONDS - start)) s"
}

run_gate() { # name command...
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=("$name")
  fi
  echo "== $name took $((SECONDS - start)) s"
}

for tier in "${tiers[@]}"; do
  case $tier in
    unit|root|vm) run_meson_suite build "$tier" ;;
    asan) run_gate "asan" scripts/sanitize.sh all ;;
    asan-unit) run_gate "asan-unit" scripts/sanitize.sh unit ;;
    asan-root) run_gate "asan-root" scripts/sanitize.sh root ;;
    format) run_gate "format" scripts/check-format.sh ;;
    static) run_gate "static" scripts/static-check.sh build ;;
    fuzz) run_gate "fuzz" scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-15}" ;;
    engines) run_gate "engines" tests/engines/engines.sh build/runtime/cli/berth-runtime ;;
    *) echo "unknown tier '$tier' (unit root vm asan asan-unit asan-root format static fuzz engines)"
       failed=$((failed + 1)) ;;
  esac
done

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "berth: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
