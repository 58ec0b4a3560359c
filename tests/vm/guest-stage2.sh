#!/bin/busybox sh
# tests/vm/guest-stage2.sh — PID 1 in the VM tier's guest after switch_root onto the overlay of
# the host's root. Mounts the API filesystems and a pure cgroup v2 hierarchy with the controllers
# enabled for children, runs /berth-vm-io/command.sh with the caller's environment, writes output
# and exit code to the io share and powers off. Only busybox applets here: every dynamically
# linked host binary costs a second or so to load under TCG over 9p.
io=/berth-vm-io
bb=/bin/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm /dev/mqueue
$bb mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$bb ln -sf pts/ptmx /dev/ptmx
$bb mount -t tmpfs tmpfs /dev/shm
$bb mount -t mqueue mqueue /dev/mqueue 2>/dev/null
$bb mount -t tmpfs -o mode=0755 tmpfs /run
$bb mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
for c in cpu cpuset io memory pids hugetlb; do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
$bb mount -t bpf bpf /sys/fs/bpf 2>/dev/null
# The guest kernel's modules, for on-demand loading by the host's modprobe (veth, bridge ...).
read version <$io/kernel-version
read cache <$io/cache-dir
if [ -d "$cache/kernel-$version/lib/modules/$version" ]; then
    $bb mkdir -p "/lib/modules/$version"
    $bb mount --bind "$cache/kernel-$version/lib/modules/$version" "/lib/modules/$version"
fi
$bb hostname berth-vm
$bb ip link set lo up 2>/dev/null
# The command runs under the host's /bin/sh: busybox sh would prefer its own applets (ip, mount,
# sh ...) over the host's programs of the same name.
(
    . $io/env.sh
    exec /bin/sh $io/command.sh
) >$io/output 2>&1 </dev/null
echo $? >$io/exit-code
$bb sync
echo o >/proc/sysrq-trigger
$bb poweroff -f
