#!/usr/bin/env bash
# Installs the Debian 12 packages berth needs. Idempotent: packages already present are skipped,
# so a second run costs a dpkg query.
#   scripts/install-deps.sh            everything to build, test, fuzz and benchmark (CI)
#   scripts/install-deps.sh --runtime  only what building berth and running berthd and the
#                                      quickstart demo need (scripts/quickstart.sh): no test peers
#                                      (no registry, containerd, podman, qemu, ...)
# The test peers that come with a service of their own (docker-registry listens on :5000 on every
# interface, unauthenticated; containerd) are disabled and stopped when this script installed
# them: the tests start private instances of both.
set -euo pipefail

runtime_only=0
case ${1:-} in
'') ;;
--runtime) runtime_only=1 ;;
*) echo "install-deps: unknown argument '$1' (--runtime or nothing)" >&2; exit 2 ;;
esac

build_packages=(
  meson ninja-build pkg-config g++ python3
  lld  # berthd links with lld for its function order (agent/berthd/berthd.order)
  ccache  # meson uses it by itself; scripts/fuzz.sh names it with clang (CXX="ccache clang++")
  libseccomp-dev libcap-dev nlohmann-json3-dev libboost-test-dev
  libboost-dev libsqlite3-dev  # agent/api (Beast, Asio), agent/store
  libsystemd-dev  # berthd: sd_notify (systemd Type=notify); berth logs: sd_journal_* (journald)
  libmnl-dev libnftables-dev
  libcurl4-openssl-dev libssl-dev libisal-dev libzstd-dev
  libmd-dev  # base/small_hash: SHA-256 where the kernel has no AF_ALG (linked statically)
)
# berthd's host tools and the quickstart demo: the demo image is busybox-static, the aws CLI and
# jq drive the API, curl fetches the page, openssl makes the API key. tini: its tini-static is
# the init berthd binds into containers with initProcessEnabled (BERTH_INIT_PATH).
runtime_packages=(
  busybox-static procps iproute2 util-linux nftables awscli jq curl openssl tini
)

packages=(
  "${build_packages[@]}"
  # the runtime's peers and test material
  runc crun busybox-static procps iproute2 util-linux
  tini  # berthd's initProcessEnabled (BERTH_INIT_PATH), tests/root/daemon_namespaces
  # engines tier: real engines driving runc and berth-runtime (bsdutils' script(1) gives -t a pty)
  podman conmon containerd containernetworking-plugins iptables bsdutils
  # net/ tests inspect with nftables (the library never runs it); CNI plugins are its bench peer
  nftables
  # the image tests' peers: a real registry, OCI tools, htpasswd, curl, gzip, openssl; strace
  # counts a pull's syncs (tests/root/image_pull)
  docker-registry skopeo umoci apache2-utils curl gzip openssl strace
  # agent/api's peer: the aws CLI (v2 in Debian 12) drives the ECS-compatible API
  awscli
  # VM tier: qemu (software emulation), initramfs tools, module decompression
  qemu-system-x86 cpio kmod xz-utils zstd
  # systemd/: systemd-analyze verify (unit tier); the VM tier's systemd guest boots it as PID 1;
  # tests/root/runtime_journald runs its systemd-journald
  systemd
  # quality gates and benchmarks
  clang libclang-rt-14-dev clang-tidy clang-format cppcheck gcovr hyperfine jq
  linux-perf  # scripts/berthd-order.sh's fault passes (page faults of berthd's text)
)

if [ $runtime_only -eq 1 ]; then
  packages=("${build_packages[@]}" "${runtime_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Peers installed just now whose Debian packages enable and start a system service: the tests
  # run their own, and a registry open to the network is nobody's wish. Ones already installed
  # are left as the host had them.
  if [ -d /run/systemd/system ]; then
    for p in "${missing[@]}"; do
      case $p in docker-registry | containerd)
        systemctl disable --now "$p.service" >/dev/null 2>&1 || true ;;
      esac
    done
  fi
fi
# The VM tier downloads Debian's kernel package with apt-get download: it needs package lists.
if [ $runtime_only -eq 0 ] && ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
  apt-get update -q
fi
