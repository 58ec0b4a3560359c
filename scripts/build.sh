#!/usr/bin/env bash
# Configures (once) and builds berth in ./build. Usage: scripts/build.sh [builddir]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" >/dev/null
fi
ninja -C "$builddir"
