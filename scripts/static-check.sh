#!/usr/bin/env bash
# scripts/static-check.sh — clang-tidy 14 (check set in .clang-tidy) and cppcheck 2.10 over every
# berth source in a build directory's compile_commands.json, plus the include rules. Any finding
# fails the run.
#   scripts/static-check.sh [builddir] [tidy|cppcheck|includes|all]     (defaults: build, all)
# "includes" is scripts/check-includes.py: the library layering of docs/ARCHITECTURE.md.
# The build dir must be configured (meson writes compile_commands.json at setup); building it
# first is not needed. Why each check is on or off: docs/QUALITY.md.
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

status=0
run_tidy() {
  local start=$SECONDS
  echo "== clang-tidy: ${#units[@]} files"
  # -quiet keeps the output to findings; headers under the source tree are checked once each.
  # The filter matches what clang prints, which is relative to the build dir when that lies in
  # the tree ("../runtime/spec.hpp") and may be absolute otherwise: no anchor on $top.
  if ! run-clang-tidy-14 -quiet -p "$builddir" -j "$(nproc)" \
      -header-filter="(^|/)(base|cgroups|runtime|net|image|agent|tests)/[^/]+(/[^/]+)?\.hpp$" \
      "${units[@]}" >"$builddir/clang-tidy.log" 2>&1; then
    grep -E 'warning:|error:' "$builddir/clang-tidy.log" | sort -u
    echo "clang-tidy: FAILED (full log: $builddir/clang-tidy.log)"
    status=1
  else
    echo "clang-tidy: OK ($((SECONDS - start)) s)"
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
  if ! cppcheck --project="$builddir/cppcheck-compile_commands.json" --std=c++20 \
      --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --quiet \
      --suppress=missingIncludeSystem --suppress=unmatchedSuppression --suppress=readdirCalled \
      --suppress='integerOverflow:/usr/include/*' --suppress='shiftTooManyBitsSigned:/usr/include/*' \
      --library=boost --library=posix \
      -j "$(nproc)" --cppcheck-build-dir="$(mkdir -p "$builddir/cppcheck" && echo "$builddir/cppcheck")" \
      2>"$builddir/cppcheck.log"; then
    cat "$builddir/cppcheck.log"
    echo "cppcheck: FAILED (log: $builddir/cppcheck.log)"
    status=1
  else
    echo "cppcheck: OK ($((SECONDS - start)) s)"
  fi
}

# The include rule of docs/ARCHITECTURE.md (also a unit-suite test): no library includes another
# one's internal headers or a library above it.
run_includes() {
  echo "== include rules"
  if ! python3 scripts/check-includes.py "$top"; then
    echo "include rules: FAILED"
    status=1
  fi
}

case $what in
  tidy) run_tidy ;;
  cppcheck) run_cppcheck ;;
  includes) run_includes ;;
  all) run_includes; run_tidy; run_cppcheck ;;
  *) echo "usage: $0 [builddir] [tidy|cppcheck|includes|all]" >&2; exit 2 ;;
esac
exit $status
