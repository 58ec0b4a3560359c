#!/bin/bash
# tests/vm/run-in-vm.sh — runs one command line inside a qemu guest with a pure cgroup v2 kernel
# and returns its exit code, printing its output.
#
#   tests/vm/run-in-vm.sh [--timeout SECONDS] [--systemd] [--] COMMAND [ARGS...]
#   e.g. tests/vm/run-in-vm.sh /work/build-x/tests/root/runtime_root_test --log_level=message
#
# The guest boots Debian's kernel (downloaded with apt-get download, never installed on the host)
# with a busybox initramfs, mounts the host's / read-only over 9p under a tmpfs overlay (so it
# runs the binaries just built, with the host's libraries), mounts proc, sys, dev, devpts, a
# tmpfs /run and cgroup2 with cpu cpuset io memory pids hugetlb enabled, then runs COMMAND as
# root in the caller's cwd with the caller's exported environment. Kernel modules of the guest
# kernel load on demand (modprobe sees them at /lib/modules/<version>). A second, writable 9p
# share carries the command line in and the output and exit code out.
# --systemd: the host's systemd is the guest's PID 1 instead (a pure cgroup v2 hierarchy, as it
# mounts it); the command runs as a oneshot service after basic.target (systemd-guest/), so it can
# install and drive real units with systemctl.
#
# Cache (kernel, initramfs): $BERTH_VM_CACHE, default /work/cache/vm; reused across runs.
# Exit code: COMMAND's; 124 if the guest timed out ($BERTH_VM_TIMEOUT, default 300 s);
# 125 if the VM could not be prepared or the guest produced no exit code.
set -euo pipefail

timeout_s=${BERTH_VM_TIMEOUT:-300}
init=stage2
while [[ $# -gt 0 ]]; do
    case $1 in
    --timeout) timeout_s=$2; shift 2 ;;
    --systemd) init=systemd; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--timeout SECONDS] [--systemd] [--] COMMAND [ARGS...]" >&2
    exit 125
fi

cache=${BERTH_VM_CACHE:-/work/cache/vm}
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "run-in-vm: $*" >&2; exit 125; }
mkdir -p "$cache" || die "cannot create cache $cache"

# ---- 1. The kernel: the package linux-image-amd64 depends on, unpacked in the cache. ----
kernel_version() {
    if [[ -n ${BERTH_VM_KERNEL:-} ]]; then echo "$BERTH_VM_KERNEL"; return; fi
    local v resolved=$cache/resolved-version
    # apt-cache takes seconds on a busy machine: reuse its answer until the package lists change.
    if [[ -s $resolved && $resolved -nt /var/lib/apt/lists ]]; then cat "$resolved"; return; fi
    v=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -1)
    [[ -n $v ]] && echo "$v" >"$resolved"
    if [[ -z $v ]]; then # no package lists yet: use what the cache already has
        v=$(ls -d "$cache"/kernel-* 2>/dev/null | sed 's|.*/kernel-||' | sort -V | tail -1)
    fi
    [[ -n $v ]] || die "cannot find the kernel version (apt-cache depends linux-image-amd64)"
    echo "$v"
}

prepare_kernel() { # $1 version; leaves $cache/kernel-$1 with modules.dep
    local v=$1 dir=$cache/kernel-$1
    [[ -f $dir/.complete ]] && return
    local deb
    deb=$(ls "$cache"/linux-image-"$v"_*.deb 2>/dev/null | head -1 || true)
    if [[ -z $deb ]]; then
        (cd "$cache" && { apt-get download "linux-image-$v" ||
            { apt-get update -qq && apt-get download "linux-image-$v"; }; }) >&2 ||
            die "apt-get download linux-image-$v failed"
        deb=$(ls "$cache"/linux-image-"$v"_*.deb | head -1)
    fi
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    dpkg -x "$deb" "$dir.tmp" || die "dpkg -x $deb failed"
    depmod -b "$dir.tmp" "$v" || die "depmod failed"
    rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.complete"
}

# ---- 2. The initramfs: static busybox, the modules that reach the 9p root, an init. ----
boot_modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
              netfs fscache 9pnet 9pnet_virtio 9p overlay)

prepare_initrd() { # $1 version; prints the initrd path
    local v=$1 modules=$cache/kernel-$1/lib/modules/$1
    local sum
    sum=$(cat "$here/guest-init.sh" <(echo "${boot_modules[*]}") | sha256sum | cut -c1-12)
    local out=$cache/initrd-$v-$sum.gz
    if [[ ! -f $out ]]; then
        local root
        root=$(mktemp -d /tmp/berth-vm-initrd.XXXXXX)
        mkdir -p "$root"/{bin,dev,proc,sys,modules,host,rw,newroot}
        cp /bin/busybox "$root/bin/busybox" || die "busybox-static is not installed"
        cp "$here/guest-init.sh" "$root/init" && chmod 755 "$root/init"
        local m f
        for m in "${boot_modules[@]}"; do
            f=$(find "$modules/kernel" -name "$m.ko*" | head -1)
            [[ -n $f ]] || continue # built into this kernel
            case $f in
            *.ko.xz) xz -dc "$f" >"$root/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc "$f" >"$root/modules/$m.ko" ;;
            *.ko.gz) gzip -dc "$f" >"$root/modules/$m.ko" ;;
            *) cp "$f" "$root/modules/$m.ko" ;;
            esac
            echo "$m" >>"$root/modules/order"
        done
        (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp.$$" &&
            mv "$out.tmp.$$" "$out"
        rm -rf "$root"
    fi
    echo "$out"
}

version=$(kernel_version)
exec 9>"$cache/.lock" # one preparation at a time; guests themselves run in parallel
flock 9
prepare_kernel "$version"
initrd=$(prepare_initrd "$version")
flock -u 9

# ---- 3. The run: the command line and environment in, output and exit code out. ----
io=$(mktemp -d /tmp/berth-vm-io.XXXXXX)
trap 'rm -rf "$io"' EXIT
# POSIX single quotes, so the guest's busybox sh reads them back unchanged.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
for name in $(compgen -e); do
    case $name in PWD|OLDPWD|SHLVL|_|BASH*) continue ;; esac
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    echo "export $name=$(q "${!name}")"
done >"$io/env.sh"
{
    echo "cd $(q "$PWD") 2>/dev/null || cd /"
    for arg in "$@"; do printf '%s ' "$(q "$arg")"; done
    echo
} >"$io/command.sh"
echo "$version" >"$io/kernel-version"
echo "$cache" >"$io/cache-dir"
cp "$here/guest-stage2.sh" "$io/stage2.sh"
if [[ $init == systemd ]]; then
    mkdir "$io/systemd-units"
    cp "$here"/systemd-guest/*.service "$here"/systemd-guest/*.target "$io/systemd-units/"
    cp "$here/systemd-guest/systemd-run.sh" "$io/systemd-run.sh"
    cp "$here/systemd-guest/mask" "$io/systemd-mask"
fi

kernel=$cache/kernel-$version/boot/vmlinuz-$version
start=$(date +%s%N)
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max -m 2048 -smp 2 \
    -nographic -no-reboot -nodefaults -serial "file:$io/console.log" -monitor none \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 no_timer_check" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$io,mount_tag=berthio,security_model=none,multidevs=remap" \
    </dev/null >"$io/qemu.log" 2>&1
qemu_status=$?
set -e
wall_ms=$((($(date +%s%N) - start) / 1000000))

[[ -f $io/output ]] && cat "$io/output"
# BERTH_VM_CONSOLE=FILE keeps the guest's console (boot messages) for a look after the run.
[[ -n ${BERTH_VM_CONSOLE:-} ]] && cp "$io/console.log" "$BERTH_VM_CONSOLE"
if [[ $qemu_status -eq 124 || $qemu_status -eq 137 ]]; then
    echo "run-in-vm: guest timed out after ${timeout_s} s; console:" >&2
    tail -n 40 "$io/console.log" >&2 || true
    exit 124
fi
if [[ ! -s $io/exit-code ]]; then
    echo "run-in-vm: the guest left no exit code (qemu status $qemu_status); console:" >&2
    tail -n 40 "$io/console.log" "$io/qemu.log" >&2 || true
    exit 125
fi
code=$(cat "$io/exit-code")
printf 'run-in-vm: exit code %s, %d.%01d s wall (kernel %s)\n' "$code" $((wall_ms / 1000)) \
    $((wall_ms % 1000 / 100)) "$version" >&2
exit "$code"
