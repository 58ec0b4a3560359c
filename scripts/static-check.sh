#!/usr/bin/env bash
# scripts/static-check.sh — clang-tidy 14 (check set in .clang-tidy) and cppcheck 2.10 over every
# berth source in a build directory's compile_commands.json, plus the include rules. Any finding
# fails the run.
#   scripts/static-check.sh [builddir] [tidy|cppcheck|includes|all]     (defaults: build, all)
# "includes" is scripts/check-includes.py: the library layering of docs/ARCHITECTURE.md.
# The build dir must be configured (meson writes compile_commands.json at setup); building it
# first is not needed. Why each check is on or off: docs/QUALITY.md.
# Environment:
#   BERTH_CACHE_DIR     caches kept between runs and clones (default ~/.cache/berth): clang-tidy's
#                       clean results (<dir>/tidy) and cppcheck's build dirs (<dir>/cppcheck)
#   BERTH_TIDY_BUDGET   seconds after which no further uncached unit is checked (default 600;
#                       0 = every unit); the units left are printed and counted as skipped
# Ends with "static: N passed, N failed, N skipped" (units for clang-tidy; cppcheck and the
# include rules one each).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
builddir=${1:-build}
what=${2:-all}
case $builddir in /*) ;; *) builddir=$top/$builddir ;; esac
db=$builddir/compile_commands.json
[ -f "$db" ] || meson setup "$builddir" "$top" >/dev/null || exit 1

# Translation units of this tree only (not generated files, not the fuzz harnesses, which are
# compiled by clang in their own build dir and checked there if wanted).
mapfile -t units < <(python3 - "$db" "$top" <<'PY'
import json, os, sys
db, top = sys.argv[1], os.path.realpath(sys.argv[2])
seen = set()
for entry in json.load(open(db)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(top + "/") and "/tests/fuzz/" not in path and path not in seen:
        seen.add(path)
        print(path)
PY
)
[ ${#units[@]} -gt 0 ] || { echo "static-check: no sources in $db" >&2; exit 1; }

# Caches outside the clone, so that they outlive it (CI is a fresh clone on the same machine):
# $BERTH_CACHE_DIR, else ~/.cache/berth (root's on CI). Both are bounded (see below).
if [ -n "${BERTH_CACHE_DIR:-}" ]; then cache_dir=$BERTH_CACHE_DIR
elif [ -n "${XDG_CACHE_HOME:-}" ]; then cache_dir=$XDG_CACHE_HOME/berth
elif [ -n "${HOME:-}" ]; then cache_dir=$HOME/.cache/berth
else cache_dir=/var/cache/berth
fi
if ! mkdir -p "$cache_dir" 2>/dev/null || [ ! -w "$cache_dir" ]; then
  echo "static-check: cannot write $cache_dir; caching in $builddir/berth-cache (lost with the clone)"
  cache_dir=$builddir/berth-cache
  mkdir -p "$cache_dir" || exit 1
fi

status=0
passed=0 failed=0 skipped=0
count() { # passed failed skipped
  passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
}

# clang-tidy through scripts/clang-tidy-cached.py: a unit found clean before under the same key
# (its preprocessed text with comments, its command, the .clang-tidy files, clang-tidy's version)
# is not checked again; the uncached ones are checked newest first until $BERTH_TIDY_BUDGET
# seconds (default 600; 0 = all of them) have passed, and the rest are deferred (reported, and
# counted as skipped). Any finding fails; a finding is never cached. Policy: docs/QUALITY.md.
run_tidy() {
  local out line
  echo "== clang-tidy: ${#units[@]} files (cache $cache_dir/tidy, budget ${BERTH_TIDY_BUDGET:-600} s)"
  out=$(mktemp /tmp/berth-tidy-XXXXXX)
  # -header-filter: headers under the source tree are checked with each unit that includes them.
  # It matches what clang prints, which is relative to the build dir when that lies in the tree
  # ("../runtime/spec.hpp") and may be absolute otherwise: no anchor on $top.
  python3 scripts/clang-tidy-cached.py --build-dir "$builddir" --source-root "$top" \
    --cache-dir "$cache_dir" --budget "${BERTH_TIDY_BUDGET:-600}" --jobs "$(nproc)" \
    --header-filter="(^|/)(base|cgroups|runtime|net|image|agent|tests)/[^/]+(/[^/]+)?\.hpp$" \
    --log "$builddir/clang-tidy.log" "${units[@]}" | tee "$out"
  local rc=${PIPESTATUS[0]}
  line=$(tail -1 "$out")
  rm -f "$out"
  if [[ $line =~ ^clang-tidy:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    count "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
    [ "$rc" -eq 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] || { status=1; [ "${BASH_REMATCH[2]}" -gt 0 ] || count 0 1 0; }
  else
    echo "clang-tidy: FAILED (exit $rc, no summary line)"
    status=1
    count 0 1 0
  fi
}

run_cppcheck() {
  local start=$SECONDS
  echo "== cppcheck"
  # A filtered copy of the compile database: only this tree's files.
  python3 - "$db" "$top" "$builddir/cppcheck-compile_commands.json" <<'PY'
import json, os, sys
db, top, out = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
keep = [e for e in json.load(open(db))
        if os.path.realpath(os.path.join(e["directory"], e["file"])).startswith(top + "/")
        and "/tests/fuzz/" not in e["file"]]
for e in keep:  # Boost's dependency adds -I/usr/include: cppcheck would then parse all of it
    e["command"] = " ".join(a for a in e["command"].split(" ") if a != "-I/usr/include")
json.dump(keep, open(out, "w"))
PY
  # Suppressions (reasons in docs/QUALITY.md):
  #   missingIncludeSystem  cppcheck is not given the system include paths on purpose (speed,
  #                         and it does not understand libstdc++'s C++20 internals).
  #   unmatchedSuppression  inline suppressions only apply in some configurations.
  #   readdirCalled         readdir_r is deprecated by glibc; readdir on a stream nobody shares
  #                         is thread-safe.
  #   integerOverflow, shiftTooManyBitsSigned in /usr/include: glibc's sys/mount.h defines
  #                         MS_NOUSER as 1 << 31; not berth's code.
  # --library=boost teaches it Boost.Test's macros (else each test file stops at unknownMacro).
  # Its build dir (per-file results it reuses when a file's preprocessed code is unchanged) lies
  # in the cache, one per clone path (cppcheck names its entries by the absolute source path);
  # unused ones are removed after 14 days. flock: two runs from one clone path take turns.
  local cbuild
  cbuild=$cache_dir/cppcheck/$(realpath "$builddir" | sha256sum | cut -c1-16)
  mkdir -p "$cbuild" && touch "$cbuild"
  find "$cache_dir/cppcheck" -mindepth 1 -maxdepth 1 -type d -mtime +14 -exec rm -rf {} + 2>/dev/null
  exec 9>"$cbuild.lock" && flock 9
  if ! cppcheck --project="$builddir/cppcheck-compile_commands.json" --std=c++20 \
      --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --quiet \
      --suppress=missingIncludeSystem --suppress=unmatchedSuppression --suppress=readdirCalled \
      --suppress='integerOverflow:/usr/include/*' --suppress='shiftTooManyBitsSigned:/usr/include/*' \
      --library=boost --library=posix \
      -j "$(nproc)" --cppcheck-build-dir="$cbuild" 2>"$builddir/cppcheck.log"; then
    cat "$builddir/cppcheck.log"
    echo "cppcheck: FAILED (log: $builddir/cppcheck.log)"
    status=1
    count 0 1 0
  else
    echo "cppcheck: OK ($((SECONDS - start)) s, build dir $cbuild)"
    count 1 0 0
  fi
}

# The include rule of docs/ARCHITECTURE.md (also a unit-suite test): no library includes another
# one's internal headers or a library above it.
run_includes() {
  echo "== include rules"
  if ! python3 scripts/check-includes.py "$top"; then
    echo "include rules: FAILED"
    status=1
    count 0 1 0
  else
    count 1 0 0
  fi
}

case $what in
  tidy) run_tidy ;;
  cppcheck) run_cppcheck ;;
  includes) run_includes ;;
  all) run_includes; run_tidy; run_cppcheck ;;
  *) echo "usage: $0 [builddir] [tidy|cppcheck|includes|all]" >&2; exit 2 ;;
esac
# Counted by scripts/test.sh: clang-tidy's units (cached or checked clean = passed, deferred =
# skipped), cppcheck and the include rules one each.
echo "static: $passed passed, $failed failed, $skipped skipped"
exit $status
