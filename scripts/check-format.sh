#!/bin/sh
# scripts/check-format.sh — clang-format 14 over every tracked or new *.cpp/*.hpp, as in .clang-format.
#   scripts/check-format.sh          check only: lists unformatted files, exits 1 if any
#   scripts/check-format.sh --fix    rewrites the files in place
set -eu
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
command -v "$CLANG_FORMAT" >/dev/null || CLANG_FORMAT=clang-format

mode=check
case "${1:-}" in
    --fix) mode=fix ;;
    "") ;;
    *) echo "usage: $0 [--fix]" >&2; exit 2 ;;
esac

# Tracked plus new (untracked, not ignored) files: the lead commits later.
files=$(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' | sort -u)
[ -n "$files" ] || { echo "no sources"; exit 0; }

if [ "$mode" = fix ]; then
    # shellcheck disable=SC2086 # file names have no spaces (house naming)
    $CLANG_FORMAT -i $files
    echo "formatted $(echo "$files" | wc -l) files"
    exit 0
fi

bad=0
for f in $files; do
    if ! $CLANG_FORMAT --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "needs formatting: $f"
        bad=1
    fi
done
if [ "$bad" -ne 0 ]; then
    echo "check-format: FAILED (see the diff with: $CLANG_FORMAT <file> | diff <file> -;" \
         "fix with: $0 --fix)" >&2
    exit 1
fi
echo "check-format: OK ($(echo "$files" | wc -l) files)"
