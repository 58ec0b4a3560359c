#!/usr/bin/env bash
# bench/image_pull.sh — images made from SRC (default /usr/include: many small files) pulled from
# a loopback docker-registry, inside network and mount namespaces of their own, by
#   berth pull            (download, verify, ISA-L inflate / zstd, confined unpack, one syncfs)
#   curl | tar -x         (no verification; followed by sync -f)
#   ctr images pull       (a private containerd, overlayfs snapshotter; followed by sync -f)
#   skopeo copy + umoci unpack (gzip only; followed by sync -f)
# in five variants: gz (one gzip layer), zst (one zstd layer), many (N gzip layers, default 16),
# big and bigzst (one gzip or zstd layer of BIG_SRC, default /usr/share: about 68k entries, 0.9 GB,
# the shape of the issue's 73k-entry, 1.25 GB measurement, where fixed costs weigh less); prints
# wall times and ratios.
# Usage (root): bench/image_pull.sh [SRC [N]]   BERTH=build/agent/cli/berth by default;
#               VARIANTS="gz zst many" by default ("big" and "bigzst" on request);
#               BERTH_BASE=<another berth binary> (e.g. main's build) is timed in the same
#               rounds, and its ratios printed next to BERTH's; ROUNDS=1 by default (each round runs
#               every tool once, the order rotated and reversed every other round, so use ROUNDS=4 or 8
#               to compare two berth binaries; medians and their ratios are printed);
#               NO_UMOCI=1 skips skopeo+umoci; FS=fresh (default: a new ext4 of FS_MB=8192 on a
#               loop device, in the bench's mount namespace; LOOP_DIO=1 gives the loop device
#               direct I/O to its backing file, as a disk has) or FS=host (the work dir's own
#               filesystem); SETTLE seconds between rounds (image_pull_netns.sh says why);
#               UNPACK=build/bench/unpack_alone_bench by default (built with BERTH: keep them
#               from the same tree): for one-layer images but big and bigzst, without BERTH_BASE,
#               also times berth's writer alone on the layer's tar already in memory ("unpack
#               alone (floor)": no download, digest or inflate), the floor of a pull. Each row
#               also says how busy the machine's CPUs were during that tool's runs (machine-wide).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/usr/include}
berth=$(realpath "${BERTH:-build/agent/cli/berth}")
base=${BERTH_BASE:+$(realpath "$BERTH_BASE")}
work=$(mktemp -d /tmp/berth-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

unpack=$(realpath "${UNPACK:-build/bench/unpack_alone_bench}" 2>/dev/null || true)
if [ ! -x "$unpack" ]; then
  echo "no ${UNPACK:-build/bench/unpack_alone_bench} (ninja -C build builds it): no floor row" >&2
  unpack=""
fi

unshare -n -m --propagation private bash bench/image_pull_netns.sh "$src" "$berth" "$work" "${2:-16}" "$base" "$unpack"
