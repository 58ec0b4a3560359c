#!/usr/bin/env bash
# bench/image_pull_netns.sh — the body of bench/image_pull.sh, run inside its own network and
# mount namespaces (containerd's unpack mounts vanish with them).
set -euo pipefail
src=$1 berth=$2 work=$3 layers_many=${4:-16} berth_base=${5:-} unpack=${6:-}
ip link set lo up
# FS=fresh (default): everything happens on a new ext4 (journalled, as Debian's mkfs makes it)
# on a loop device in this mount namespace, so no tool pays for the state of the host's
# filesystem. This machine kind's root filesystem is ext4 *without* a journal, where inode
# allocation scans past every inode deleted in the last ~50 minutes (recently_deleted() compares
# seconds with dirty_expire_centisecs): with other sessions deleting build trees, 75% of
# `tar -x`'s and berth's CPU went there (perf), and a tool's time depended on which block groups
# its directories landed in. FS=host measures on the host's filesystem as it is.
if [ "${FS:-fresh}" = fresh ]; then
  truncate -s "${FS_MB:-8192}M" "$work/fs.img"
  mkfs.ext4 -q "$work/fs.img"
  mkdir "$work/fs"
  if [ "${LOOP_DIO:-0}" = 1 ]; then
    # The loop device reads and writes its backing file with direct I/O, as a disk would: no
    # second copy of every written page in the backing file's page cache, no later writeback of
    # it by the host's flusher during another tool's turn.
    loopdev=$(losetup --direct-io=on --show -f "$work/fs.img")
    mount "$loopdev" "$work/fs"
    losetup -d "$loopdev" # autoclear: the loop device goes with the mount
  else
    mount -o loop "$work/fs.img" "$work/fs" # autoclear: the loop device goes with the mount
  fi
  work=$work/fs
  settle=${SETTLE:-0}
else
  settle=${SETTLE:-40}
fi
cat >"$work/reg.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:5099}
YAML
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 &
reg=$!
# containerd of its own (root, state, socket under $work; no CRI), for ctr images pull.
mkdir -p "$work/ctd"
cat >"$work/ctd/config.toml" <<TOML
version = 2
root = "$work/ctd/root"
state = "$work/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/ctd/sock"
TOML
containerd --config "$work/ctd/config.toml" >"$work/ctd/log" 2>&1 &
ctd=$!
trap 'kill $reg $ctd 2>/dev/null; wait $reg $ctd 2>/dev/null || true
      if [ "${FS:-fresh}" = fresh ]; then umount "$work"; fi' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:5099/v2/ && break; sleep 0.1; done
for _ in $(seq 100); do ctr -a "$work/ctd/sock" version >/dev/null 2>&1 && break; sleep 0.1; done

sha() { sha256sum <"$1" | cut -d' ' -f1; }
blob() { # file -> its digest, copied into the layout
  local d; d=$(sha "$1"); cp "$1" "$oci/blobs/sha256/$d"; echo "$d"
}
# make_image TAG COMPRESSION(gzip|zstd) N [DIR]: an OCI layout of N layers (DIR's, default SRC's,
# top-level entries dealt round-robin), pushed unchanged by skopeo as bench:TAG. Sets
# layer_digests.
make_image() {
  local tag=$1 comp=$2 n=$3 src=${4:-$src} i=0 mt diff_ids="" descs="" entries=0
  oci=$work/oci-$tag
  mkdir -p "$oci/blobs/sha256" "$work/parts"
  mapfile -t names < <(ls -A "$src")
  for ((i = 0; i < n; i++)); do
    local part=() j
    for ((j = i; j < ${#names[@]}; j += n)); do part+=("${names[j]}"); done
    tar -C "$src" -cf "$work/parts/l.tar" "${part[@]}"
    entries=$((entries + $(tar -tf "$work/parts/l.tar" | wc -l)))
    diff_ids+="${diff_ids:+,}\"sha256:$(sha "$work/parts/l.tar")\""
    if [ "$comp" = gzip ]; then
      gzip -n -c "$work/parts/l.tar" >"$work/parts/l.z"; mt=tar+gzip
    else
      zstd -q -3 -c "$work/parts/l.tar" >"$work/parts/l.z"; mt=tar+zstd
    fi
    # For unpack_timed: one-layer images but the big ones, where the floor tool's medians were
    # 4.6 and 6.5 s in the bench (2.5-3.3 s on a fresh filesystem of its own), slower than berth's
    # pull of the same layer for a reason not found, so it would not be a floor.
    if ((n == 1)) && [[ $tag != big* ]]; then cp "$work/parts/l.tar" "$work/layer-$tag.tar"; fi
    local d; d=$(blob "$work/parts/l.z")
    layer_digests+=("$d")
    descs+="${descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.$mt\",\"digest\":\"sha256:$d\",\"size\":$(stat -c %s "$work/parts/l.z")}"
  done
  rm -rf "$work/parts"
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diff_ids" >"$work/config"
  local config; config=$(blob "$work/config")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$config" "$(stat -c %s "$work/config")" "$descs" >"$work/manifest"
  local manifest; manifest=$(blob "$work/manifest")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$(stat -c %s "$work/manifest")" "$tag" >"$oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
  skopeo copy -q --dest-tls-verify=false "oci:$oci:$tag" "docker://127.0.0.1:5099/bench:$tag"
  echo "image bench:$tag: $entries entries, $n $comp layer(s), $(($(du -sb "$oci/blobs" | cut -f1) / 1000000)) MB compressed, from $src"
}

now() { date +%s.%N; }
# The machine's CPU ticks so far: "busy total" (/proc/stat: busy is user, nice, system, irq and
# softirq; total adds idle and iowait; time stolen by the hypervisor is in neither).
ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 8; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# timed NAME CMD...: runs CMD on a clean filesystem (sync -f first: otherwise a tool pays for
# the previous one's dirty pages), its data synced at the end; records the wall time and how busy
# both CPUs were meanwhile (a tool that keeps them busy is bound by the machine's CPU, not by its
# own waits).
timed() {
  local name=$1; shift
  sync -f "$work"
  local t0 c0; t0=$(now); c0=$(ticks)
  "$@"
  sync -f "$work"
  printf '%s %s %s %s\n' "$name" "$(echo "$(now) - $t0" | bc)" "$c0" "$(ticks)" >>"$work/times"
}
curl_tar() { # tag comp dir
  mkdir -p "$3"
  for d in "${layer_digests[@]}"; do
    if [ "$2" = gzip ]; then
      curl -s "http://127.0.0.1:5099/v2/bench/blobs/sha256:$d" | tar -xzf - -C "$3"
    else
      curl -s "http://127.0.0.1:5099/v2/bench/blobs/sha256:$d" | zstd -q -d -c | tar -xf - -C "$3"
    fi
  done
}
skopeo_umoci() { # tag
  skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:5099/bench:$1" "oci:$work/sk-$1:$1"
  umoci unpack --image "$work/sk-$1:$1" "$work/umoci-$1" >/dev/null 2>&1
}
berth_pull() { "$berth" --root "$work/store-$1" pull "127.0.0.1:5099/bench:$1" >/dev/null; }
base_pull() { "$berth_base" --root "$work/base-$1" pull "127.0.0.1:5099/bench:$1" >/dev/null; }
# unpack_timed TAG: berth's writer alone on the layer's uncompressed tar, already in memory
# (bench/unpack_alone.cpp): the floor of a pull on this filesystem. Its own wall time (parse,
# files, the final syncfs), without the read of the tar before it.
unpack_timed() {
  local out
  sync -f "$work"
  if ! out=$("$unpack" "$work/layer-$1.tar" "$work/unpack-$1"); then
    echo "  unpack alone failed: no floor row this round" >&2
    return 0
  fi
  sync -f "$work"
  # "0.83 s wall, 0.81 s CPU, 24429 entries, busy B0 T0 B1 T1 (ticks)": its own window's ticks
  local ticks=${out##*busy }
  printf 'unpack-alone %s %s\n' "${out%% s wall*}" "${ticks%% (ticks)*}" >>"$work/times"
}
ctr_pull() { ctr -a "$work/ctd/sock" -n "bench-$1" images pull --plain-http "127.0.0.1:5099/bench:$1" >/dev/null; }

# one_round TAG COMP: each tool once, in an order rotated by the round number (a busy minute
# then lands on a different tool each round). Nothing is deleted between tools: this machine
# kind's root filesystem (FS=host) is ext4 without a journal, where inode allocation scans past
# recently deleted inodes one by one, so creating 24k files after deleting 24k others costs 2-5x
# the sys time. All outputs go at the end of the round, then SETTLE seconds pass (default 0 on
# FS=fresh, 40 on FS=host) before the next round is timed.
one_round() {
  local tools=(curl berth ctr) k i n
  if [ "$2" = gzip ] && [ -z "${NO_UMOCI:-}" ]; then tools+=(umoci); fi
  if [ -n "$berth_base" ]; then tools+=(base); fi
  # The floor row: one-layer images, when no second berth is compared (it would change the
  # rotation that comparison relies on).
  if [ -n "$unpack" ] && [ -f "$work/layer-$1.tar" ] && [ -z "$berth_base" ]; then tools+=(floor); fi
  n=${#tools[@]}
  for ((k = 0; k < n; k++)); do
    # Rotated each round, and run backwards every other round: a rotation alone keeps each tool
    # after the same one (berth after curl | tar, BERTH_BASE after ctr), and BERTH's slot took
    # 1.1-1.3x BERTH_BASE's in 4 of 5 gz runs here, once with the binaries swapped (Round
    # `zst`). Compare binaries with ROUNDS a multiple of 4 (with BERTH_BASE and no umoci: each
    # berth then runs second and fourth, after curl | tar and after ctr, equally often).
    i=$(((k + round) % n))
    if ((round % 2)); then i=$((n - 1 - i)); fi
    case ${tools[i]} in
    curl) timed "curl|tar" curl_tar "$1" "$2" "$work/curl-$1" ;;
    berth) timed berth berth_pull "$1" ;;
    ctr) timed ctr ctr_pull "$1" ;;
    umoci) timed skopeo+umoci skopeo_umoci "$1" ;;
    base) timed berth-base base_pull "$1" ;;
    floor) unpack_timed "$1" ;;
    esac
  done
  ctr -a "$work/ctd/sock" -n "bench-$1" images rm --sync "127.0.0.1:5099/bench:$1" >/dev/null
  rm -rf "$work/curl-$1" "$work/umoci-$1" "$work/sk-$1" "$work/store-$1" "$work/base-$1" \
    "$work/unpack-$1"
  sync -f "$work"
  sleep "$settle"
}

run_variant() { # tag comp n [dir]
  layer_digests=()
  make_image "$1" "$2" "$3" "${4:-}"
  sleep "$settle" # FS=host: the previous variant's deletions age out (one_round says why)
  echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((round = 0; round < ${ROUNDS:-1}; round++)); do one_round "$1" "$2"; done
  echo "  load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
  # Per tool: the median wall time over the rounds; ratios of medians.
  awk -v tag="$1" '
    { n[$1]++; t[$1, n[$1]] = $2; busy[$1] += $5 - $3; all[$1] += $6 - $4 }
    function median(k,   i, j, v, m, a) {
      m = n[k]; for (i = 1; i <= m; i++) a[i] = t[k, i]
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { v = a[i]; a[i] = a[j]; a[j] = v }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
    function load(k) { return all[k] > 0 ? sprintf("   (CPUs %.0f%% busy)", 100 * busy[k] / all[k]) : "" }
    END {
    b = median("berth"); c = median("curl|tar"); r = median("ctr")
    printf "%s (median of %d rounds):\n", tag, n["berth"]
    printf "  berth pull           %6.2f s                                 %s\n", b, load("berth")
    printf "  curl | tar           %6.2f s   berth / curl|tar      = %.2fx%s\n", c, b / c, load("curl|tar")
    printf "  ctr images pull      %6.2f s   berth / ctr           = %.2fx%s\n", r, b / r, load("ctr")
    if ("skopeo+umoci" in n)
      printf "  skopeo + umoci       %6.2f s   berth / skopeo+umoci  = %.2fx%s\n", median("skopeo+umoci"), b / median("skopeo+umoci"), load("skopeo+umoci")
    if ("unpack-alone" in n)
      printf "  unpack alone (floor) %6.2f s   berth / unpack alone  = %.2fx%s\n", median("unpack-alone"), b / median("unpack-alone"), load("unpack-alone")
    if ("berth-base" in n) {
      a = median("berth-base")
      printf "  berth (BERTH_BASE)   %6.2f s   berth / BERTH_BASE    = %.2fx%s\n", a, b / a, load("berth-base")
      printf "    its ratios:                   BERTH_BASE / curl|tar = %.2fx, / ctr = %.2fx\n", a / c, a / r }
    printf "  each round:"; for (i = 1; i <= n["berth"]; i++) printf " berth %.2f", t["berth", i]
    for (i = 1; i <= n["curl|tar"]; i++) printf " curl|tar %.2f", t["curl|tar", i]
    printf "\n" }' "$work/times"
  rm -f "$work/times" "$work/layer-$1.tar"
  rm -rf "$work/oci-$1"
}

variants=${VARIANTS:-gz zst many}
for v in $variants; do
  case $v in
  gz) run_variant gz gzip 1 ;;
  zst) run_variant zst zstd 1 ;;
  many) run_variant many gzip "$layers_many" ;;
  big) run_variant big gzip 1 "${BIG_SRC:-/usr/share}" ;;
  bigzst) run_variant bigzst zstd 1 "${BIG_SRC:-/usr/share}" ;;
  esac
done
