#!/bin/busybox sh
# tests/vm/guest-init.sh — /init of the VM tier's initramfs (busybox). Loads the modules that
# reach the host's root over 9p, mounts it read-only under a tmpfs overlay, adds the writable
# io share at /berth-vm-io and switches to the overlay, where guest-stage2.sh (run by the
# host's static busybox) mounts the API filesystems and runs the command. Any failure powers
# the guest off; the host then reports "no exit code" with this console output.
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "berth-vm init: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do
    insmod "/modules/$m.ko" || echo "berth-vm init: insmod $m failed"
done
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,ro,cache=loose" hostroot /host || fail "mount hostroot"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
    fail "mount overlay"
mkdir -p /newroot/berth-vm-io
mount -t 9p -o "$opts" berthio /newroot/berth-vm-io || fail "mount io share"
# run-in-vm.sh --systemd: the host's systemd becomes PID 1 of the guest. The io share brings the
# units that run the command and power off (copied into the overlay's /etc/systemd/system).
init_mode=stage2
if [ -d /newroot/berth-vm-io/systemd-units ]; then
    cp /newroot/berth-vm-io/systemd-units/* /newroot/etc/systemd/system/ || fail "copy units"
    # The host's own services that sysinit would start and that cost boot time for nothing.
    for u in $(cat /newroot/berth-vm-io/systemd-mask); do
        ln -sf /dev/null "/newroot/etc/systemd/system/$u"
    done
    init_mode=systemd
    # The guest kernel's modules, for on-demand loading (veth, bridge, nf_tables ...).
    read version </newroot/berth-vm-io/kernel-version
    read cache </newroot/berth-vm-io/cache-dir
    if [ -d "/newroot$cache/kernel-$version/lib/modules/$version" ]; then
        mkdir -p "/newroot/lib/modules/$version"
        mount --bind "/newroot$cache/kernel-$version/lib/modules/$version" \
            "/newroot/lib/modules/$version"
    fi
fi
umount /proc
umount /dev
if [ $init_mode = systemd ]; then
    exec switch_root /newroot /lib/systemd/systemd --unit=berth-vm.target
fi
exec switch_root /newroot /bin/busybox sh /berth-vm-io/stage2.sh
fail "switch_root"
