#!/usr/bin/env bash
# scripts/make-example-bundle.sh DIR — makes a busybox OCI bundle in DIR: rootfs/ from the
# host's static busybox (busybox-static) with every applet linked, and a config.json written by
# `berth-runtime spec` then edited with jq (no terminal, a greeting as the process, a hostname).
# Run it with: berth-runtime run --bundle DIR <id>
#   BERTH_RUNTIME  the berth-runtime binary (default: build/runtime/cli/berth-runtime)
#   BUSYBOX        a static busybox (default: /bin/busybox)
#   EXAMPLE_ARGS   the process args as a JSON array (default: the greeting below)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: make-example-bundle.sh DIR}
runtime=${BERTH_RUNTIME:-$repo/build/runtime/cli/berth-runtime}
busybox=${BUSYBOX:-/bin/busybox}
args=${EXAMPLE_ARGS:-'["sh", "-c", "echo hello from berth; id; hostname"]'}

[ -x "$runtime" ] || { echo "make-example-bundle: $runtime not built (scripts/build.sh)" >&2; exit 1; }
if [ ! -x "$busybox" ] || readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
  echo "make-example-bundle: $busybox is not a static busybox (apt-get install busybox-static)" >&2
  exit 1
fi

mkdir -p "$dir"
rootfs="$dir/rootfs"
rm -rf "$rootfs" "$dir/config.json"
mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

"$runtime" spec --bundle "$dir"
jq --argjson args "$args" \
  '.process.terminal = false | .process.args = $args | .hostname = "berth-example"' \
  "$dir/config.json" >"$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
echo "make-example-bundle: bundle ready in $dir"
