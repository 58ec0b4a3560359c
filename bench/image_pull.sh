#!/usr/bin/env bash
# bench/image_pull.sh — one image (a single gzip layer made from SRC, default /usr/include: many
# small files) pulled from a loopback docker-registry, inside a network namespace of its own, by
#   berth pull            (download, verify, ISA-L inflate, confined unpack, one syncfs)
#   curl | tar -xzf       (no verification; followed by sync -f)
#   skopeo copy + umoci unpack (followed by sync -f)
# and prints wall times and ratios. ctr (containerd) is not run here: it needs a private daemon.
# Usage (root): bench/image_pull.sh [SRC]     BERTH=build/agent/cli/berth by default.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/usr/include}
berth=$(realpath "${BERTH:-build/agent/cli/berth}")
work=$(mktemp -d /tmp/berth-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

unshare -n bash bench/image_pull_netns.sh "$src" "$berth" "$work"
