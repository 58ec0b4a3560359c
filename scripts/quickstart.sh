#!/usr/bin/env bash
# The main job, until the agent exists: install what berth needs, build it, and run a container
# from an example busybox bundle with berth-runtime (no runc, containerd or Docker underneath).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build >/dev/null

bundle=$(mktemp -d /tmp/berth-example-XXXXXX)
trap 'rm -rf "$bundle"' EXIT
scripts/make-example-bundle.sh "$bundle"
echo "== berth-runtime run (bundle $bundle)"
build/runtime/cli/berth-runtime run --bundle "$bundle" "example-$$"
