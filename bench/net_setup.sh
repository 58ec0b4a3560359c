#!/usr/bin/env bash
# bench/net_setup.sh — per-task network setup and teardown: berth (net/, bench/net_bench.cpp)
# vs the CNI bridge + host-local + portmap plugins (Debian containernetworking-plugins) on the
# same work: N task netns, each on one bridge with an address from one /16 and one TCP host
# port mapped. Both run inside a network and mount namespace made for the run, never the host's.
# CNI gets a fixed host port per task (portmap has no dynamic ports) and its netns are made the
# way its runtimes do (a bind mount, here `unshare --net=FILE`), included in its time as
# berth's netns creation is in berth's.
# CNI runs one process per plugin call, about 0.3-1 s per task on a busy 2-CPU host: at N=1000
# that is 10-15 minutes, so it runs only at the sizes in CNI_SIZES (default 200; "" for none,
# "200 1000" for both); berth runs at every N, and the ratio is printed where both ran.
#   bench/net_setup.sh NET_BENCH [N...]        (default N: 200 1000; needs root)
#   CNI_SIZES="200 1000" bench/net_setup.sh NET_BENCH 200 1000     (CNI at N=1000 as well)
set -euo pipefail
bench=${1:?usage: [CNI_SIZES="N..."] $0 NET_BENCH [N...]}
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 1000)
cni_sizes=" ${CNI_SIZES-200} "
[ "$(id -u)" = 0 ] || { echo "net_setup: needs root" >&2; exit 1; }
cni=/usr/lib/cni
[ -x $cni/bridge ] && [ -x $cni/portmap ] || { echo "net_setup: needs containernetworking-plugins" >&2; exit 1; }

# One CNI run of N tasks, inside its own netns + mount namespace. Prints ms per task.
cni_run() {
  local n=$1
  unshare --net --mount --propagation private bash -s "$n" <<'INNER'
set -euo pipefail
n=$1
work=$(mktemp -d /tmp/berth-cni-bench-XXXXXX)
mount -t tmpfs -o size=64m tmpfs "$work" # as berth's run dir: /run on a systemd host
trap 'for f in $work/ns/*; do umount "$f" 2>/dev/null || true; done; umount -l "$work"; rmdir "$work"' EXIT
mkdir -p "$work/ns" "$work/ipam"
ip link set lo up
# The network config on stdin, as a runtime passes it. Built with printf, not jq: a jq process
# per call would be charged to CNI. $1: the bridge plugin's result (portmap's prevResult).
base='"cniVersion":"0.4.0","name":"bench","bridge":"cni0","isGateway":true,"ipMasq":true'
ipam='"ipam":{"type":"host-local","subnet":"10.214.0.0/16","dataDir":"'"$work/ipam"'"}'
conf() {
  if [ -z "${1:-}" ]; then
    printf '{%s,"type":"bridge",%s}' "$base" "$ipam"
  else
    printf '{%s,"type":"portmap","capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[{"hostPort":%s,"containerPort":80,"protocol":"tcp"}]},"prevResult":%s}' \
      "$base" "$2" "$1"
  fi
}
export CNI_PATH=/usr/lib/cni CNI_IFNAME=eth0
start=$(date +%s%N)
for i in $(seq 1 "$n"); do
  touch "$work/ns/t$i"; unshare --net="$work/ns/t$i" true
  export CNI_COMMAND=ADD CNI_CONTAINERID=t$i CNI_NETNS=$work/ns/t$i
  result=$(conf "" | /usr/lib/cni/bridge)
  echo "$result" > "$work/r$i"
  conf "$result" $((20000 + i)) | /usr/lib/cni/portmap >/dev/null
done
mid=$(date +%s%N)
for i in $(seq 1 "$n"); do
  export CNI_COMMAND=DEL CNI_CONTAINERID=t$i CNI_NETNS=$work/ns/t$i
  conf "$(cat "$work/r$i")" $((20000 + i)) | /usr/lib/cni/portmap >/dev/null
  conf "" | /usr/lib/cni/bridge >/dev/null
  umount "$work/ns/t$i"; rm -f "$work/ns/t$i"
done
end=$(date +%s%N)
awk -v n="$n" -v s="$start" -v m="$mid" -v e="$end" 'BEGIN {
  printf "cni N=%d setup_ms_per_task=%.3f teardown_ms_per_task=%.3f\n", n, (m-s)/1e6/n, (e-m)/1e6/n }'
INNER
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
  b=$("$bench" "$n")
  echo "$b"
  if [[ $cni_sizes != *" $n "* ]]; then
    echo "cni N=$n skipped (not in CNI_SIZES)"
    continue
  fi
  c=$(cni_run "$n")
  echo "$c"
  bs=$(sed -n 's/.*setup_ms_per_task=\([0-9.]*\).*/\1/p' <<<"$b")
  bt=$(sed -n 's/.*teardown_ms_per_task=\([0-9.]*\).*/\1/p' <<<"$b")
  cs=$(sed -n 's/.*setup_ms_per_task=\([0-9.]*\).*/\1/p' <<<"$c")
  ct=$(sed -n 's/.*teardown_ms_per_task=\([0-9.]*\).*/\1/p' <<<"$c")
  awk -v n="$n" -v bs="$bs" -v bt="$bt" -v cs="$cs" -v ct="$ct" 'BEGIN {
    printf "N=%d ratio cni/berth: setup %.1fx, teardown %.1fx\n", n, cs/bs, ct/bt }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
