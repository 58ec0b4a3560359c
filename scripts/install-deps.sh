#!/usr/bin/env bash
# Installs every Debian 12 package berth needs to build, test, fuzz and benchmark. Idempotent:
# packages already present are skipped, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config g++ python3
  ccache  # meson uses it by itself; scripts/fuzz.sh names it with clang (CXX="ccache clang++")
  libseccomp-dev libcap-dev nlohmann-json3-dev libboost-test-dev
  libboost-dev libsqlite3-dev  # agent/api (Beast, Asio), agent/store
  libsystemd-dev  # berthd: sd_notify (systemd Type=notify)
  libmnl-dev libnftables-dev
  libcurl4-openssl-dev libssl-dev libisal-dev libzstd-dev
  # the runtime's peers and test material
  runc crun busybox-static procps iproute2 util-linux
  # engines tier: real engines driving runc and berth-runtime (bsdutils' script(1) gives -t a pty)
  podman conmon containerd containernetworking-plugins iptables bsdutils
  # net/ tests inspect with nftables (the library never runs it); CNI plugins are its bench peer
  nftables
  # the image tests' peers: a real registry, OCI tools, htpasswd, curl, gzip, openssl
  docker-registry skopeo umoci apache2-utils curl gzip openssl
  # agent/api's peer: the aws CLI (v2 in Debian 12) drives the ECS-compatible API
  awscli
  # VM tier: qemu (software emulation), initramfs tools, module decompression
  qemu-system-x86 cpio kmod xz-utils zstd
  # systemd/: systemd-analyze verify (unit tier); the VM tier's systemd guest boots it as PID 1
  systemd
  # quality gates and benchmarks
  clang libclang-rt-14-dev clang-tidy clang-format cppcheck gcovr hyperfine jq
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The VM tier downloads Debian's kernel package with apt-get download: it needs package lists.
if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
  apt-get update -q
fi
