#!/usr/bin/env bash
# bench/image_pull_netns.sh — the body of bench/image_pull.sh, run inside its network namespace.
set -euo pipefail
src=$1 berth=$2 work=$3
ip link set lo up
cat >"$work/reg.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:5099}
YAML
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 &
reg=$!
trap 'kill $reg 2>/dev/null; wait $reg 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:5099/v2/ && break; sleep 0.1; done

# An OCI layout by hand: layer, config, manifest, index; skopeo pushes it unchanged.
oci=$work/oci
mkdir -p "$oci/blobs/sha256"
tar -C "$src" -cf "$work/layer.tar" .
gzip -n -c "$work/layer.tar" >"$work/layer.tar.gz"
entries=$(tar -tf "$work/layer.tar" | wc -l)
diff_id=$(sha256sum <"$work/layer.tar" | cut -d' ' -f1)
layer=$(sha256sum <"$work/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$oci/blobs/sha256/$layer"
rm -f "$work/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" >"$work/config"
config=$(sha256sum <"$work/config" | cut -d' ' -f1)
cp "$work/config" "$oci/blobs/sha256/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$(stat -c %s "$work/config")" "$layer" "$layer_size" >"$work/manifest"
manifest=$(sha256sum <"$work/manifest" | cut -d' ' -f1)
cp "$work/manifest" "$oci/blobs/sha256/$manifest"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"gz"}}]}' \
  "$manifest" "$(stat -c %s "$work/manifest")" >"$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
skopeo copy -q --dest-tls-verify=false "oci:$oci:gz" docker://127.0.0.1:5099/bench:gz
echo "image: $entries entries, $((layer_size / 1000000)) MB gzip, from $src"

now() { date +%s.%N; }
# Each tool starts with the filesystem clean (sync -f first): otherwise the one that runs right
# after the image was built pays for flushing the build's dirty pages (dirty-page throttling).
mkdir "$work/curl"
sync -f "$work"
t0=$(now)
curl -s "http://127.0.0.1:5099/v2/bench/blobs/sha256:$layer" | /usr/bin/time -f "tar cpu: user %U s, sys %S s" tar -xzf - -C "$work/curl"
sync -f "$work/curl"
t1=$(now)
sync -f "$work"
t2=$(now)
/usr/bin/time -f "berth cpu: user %U s, sys %S s, wall %e s" "$berth" --root "$work/store" pull 127.0.0.1:5099/bench:gz >/dev/null
t3=$(now)
sync -f "$work"
t4=$(now)
skopeo copy -q --src-tls-verify=false docker://127.0.0.1:5099/bench:gz "oci:$work/sk:gz"
umoci unpack --image "$work/sk:gz" "$work/umoci" >/dev/null 2>&1
sync -f "$work/umoci"
t5=$(now)
awk -v c="$(echo "$t1 - $t0" | bc)" -v b="$(echo "$t3 - $t2" | bc)" -v s="$(echo "$t5 - $t4" | bc)" 'BEGIN {
  printf "berth pull           %6.2f s\n", b
  printf "curl | tar -xzf      %6.2f s   berth / curl|tar       = %.2fx\n", c, b / c
  printf "skopeo + umoci       %6.2f s   berth / skopeo+umoci   = %.2fx\n", s, b / s }'
