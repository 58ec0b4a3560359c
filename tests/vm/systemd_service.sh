#!/bin/bash
# tests/vm/systemd_service.sh SOURCE_DIR BUILD_DIR — the install flow and the units under a real
# systemd (PID 1, pure cgroup v2). On the host it stages `meson install --destdir` of BUILD_DIR
# under /tmp (`meson install` in the guest took ~100 s under TCG), then runs itself with --guest in the
# guest of `run-in-vm.sh --systemd`, as a oneshot service after basic.target:
#   1. scripts/install.sh --from-destdir --no-start (the staged tree, the units,
#      /etc/berth/berth.conf from the example), enabled;
#   2. berth-supervisor.socket: listening (mode 0600) with the service inactive; a connection
#      starts berth-supervisor.service (socket activation): active, the supervisor in the leaf
#      "supervisor" of its delegated cgroup, controllers delegatable to the containers' cgroups,
#      and a stand-in container in that subtree surviving `systemctl stop` (KillMode=process);
#      with a short idle time (a drop-in), the service exits 0 by itself and goes inactive, the
#      socket stays, and the next connection starts it again;
#   3. berthd.service when berthd is built: active only after READY=1 and with no supervisor
#      started, restarted while the supervisor is inactive, the API answers, the first task
#      starts the supervisor, a task keeps its container pid (and the supervisor its pid) across
#      `systemctl restart berthd` and `systemctl stop berthd`, the supervisor goes inactive once
#      no container is left (tests/vm/systemd_berthd.sh);
#   4. scripts/uninstall.sh --purge leaves no unit, file, directory or process behind.
# Prints "systemd_service: N passed, N failed, 0 skipped" last; exit status 1 on any failure.
set -uo pipefail
if [ "${1:-}" != --guest ]; then # the host side
    src=$1 build=$2
    stage=$(mktemp -d /tmp/berth-vm-stage.XXXXXX)
    trap 'rm -rf "$stage"' EXIT
    meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null ||
        { echo "systemd_service: meson install --destdir $stage failed"; exit 1; }
    # The demo image for part 3, built here: its ~400 applet links cost a minute under TCG.
    if [ -x "$stage/usr/local/sbin/berthd" ]; then
        "$src/examples/hello/build.sh" "$stage/hello.tar" >/dev/null ||
            { echo "systemd_service: examples/hello/build.sh failed"; exit 1; }
    fi
    # 840 s, under meson's 900: ~400 s wall on a quiet machine, 590 s seen with a load of 13 on
    # 2 cores (TCG).
    "$src/tests/vm/run-in-vm.sh" --systemd --timeout "${BERTH_VM_TIMEOUT:-840}" \
        "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" --guest "$src" "$build" "$stage"
    exit
fi
src=$2 build=$3 stage=$4
t0=$(date +%s)
passed=0 failed=0
ok() { echo "ok [$(($(date +%s) - t0)) s]: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
check() { # description command...
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
    echo "systemd_service: $passed passed, $failed failed, 0 skipped"
    [ "$failed" -eq 0 ]
    exit
}
export PATH=/usr/local/sbin:/usr/local/bin:$PATH
within() { # SECONDS INTERVAL COMMAND...: COMMAND succeeded before SECONDS (of real time) passed
    local deadline=$((SECONDS + $1)) interval=$2
    shift 2
    while [ $SECONDS -lt $deadline ]; do
        "$@" && return 0
        sleep "$interval"
    done
    return 1
}
unit_cgroup() { echo "/sys/fs/cgroup$(systemctl show -P ControlGroup "$1")"; }

# The guest's / is an overlay on 9p, where the image store's directory operations fail
# (EOPNOTSUPP): /var/lib gets a tmpfs, as a real host has a local filesystem there.
mount -t tmpfs -o mode=0755 tmpfs /var/lib

# ---- 1. install ----
have_berthd=0
[ -x "$stage/usr/local/sbin/berthd" ] && have_berthd=1
# Installed and enabled here; started in part 3 by install.sh's second run (the upgrade path),
# since part 2 stops the supervisor, which stops berthd with it (Requires=).
if "$src/scripts/install.sh" --from-destdir "$stage" --no-start; then
    ok "scripts/install.sh --from-destdir --no-start (files, units, configuration, enabled)"
else
    fail "scripts/install.sh"
    journalctl --no-pager -u berthd.service -u berth-supervisor.service | tail -30
    finish
fi
check "the units are installed where systemd finds them" \
    systemctl cat berthd.service berth-supervisor.service berth-supervisor.socket >/dev/null
check "/etc/berth/berth.conf is installed from the example, mode 0600" \
    test "$(stat -c %a /etc/berth/berth.conf 2>/dev/null)" = 600
check "berthd.service and berth-supervisor.socket are enabled" \
    systemctl is-enabled --quiet berthd.service berth-supervisor.socket
check "berth-supervisor.service itself only through its socket (indirect: it starts on demand)" \
    test "$(systemctl is-enabled berth-supervisor.service)" = indirect
systemctl start berth-supervisor.socket

# ---- 2. berth-supervisor.socket and .service ----
# One connection, as berthd's first request makes (it sends nothing: the supervisor reads EOF).
poke() {
    python3 -c 'import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/run/berth/supervisor.sock"); s.close()'
}
in_state() { [ "$(systemctl show -P ActiveState "$1")" = "$2" ]; } # UNIT STATE
until_state() { within "$3" 0.5 in_state "$1" "$2"; }                # UNIT STATE SECONDS
check "berth-supervisor.socket listens" systemctl is-active --quiet berth-supervisor.socket
check "its socket /run/berth/supervisor.sock is there, mode 0600" \
    test "$(stat -c %A /run/berth/supervisor.sock 2>/dev/null)" = srw-------
check "berth-supervisor.service is not started with its socket" \
    sh -c '! systemctl is-active --quiet berth-supervisor.service'
poke
check "a connection starts berth-supervisor.service (socket activation)" \
    until_state berth-supervisor.service active 30
cg=$(unit_cgroup berth-supervisor.service)
pid=$(systemctl show -P MainPID berth-supervisor.service)
check "the supervisor (pid $pid) runs in the leaf supervisor of its unit's cgroup" \
    grep -qx "0::$(systemctl show -P ControlGroup berth-supervisor.service)/supervisor" \
    "/proc/$pid/cgroup"
check "no process sits in the unit's own cgroup (v2: it may delegate controllers)" \
    test -z "$(cat "$cg/cgroup.procs")"
check "the unit's cgroup can enable cpu, memory and pids for the containers' cgroups" \
    sh -c "echo '+cpu +memory +pids' >'$cg/cgroup.subtree_control'"
# A stand-in container: a process in a sibling cgroup of the supervisor, as the runtime makes.
mkdir "$cg/standin"
sleep 600 &
standin=$!
echo $standin >"$cg/standin/cgroup.procs"
check "a container's cgroup below the unit gets a memory limit" \
    sh -c "echo 64M >'$cg/standin/memory.max' && grep -qx 67108864 '$cg/standin/memory.max'"
systemctl stop berth-supervisor.service
check "systemctl stop berth-supervisor leaves the containers running (KillMode=process)" \
    kill -0 $standin
check "and keeps /run/berth (RuntimeDirectoryPreserve=yes)" test -d /run/berth
kill $standin && wait $standin 2>/dev/null
rmdir "$cg/standin" 2>/dev/null # systemd prunes it itself once empty
# What a restart needs on cgroup v2 with systemd < 254 (systemd/README.md): no controllers enabled
# in the unit's own cgroup, which systemd's stop leaves when the cgroup is not pruned.
[ ! -d "$cg" ] || echo "-cpu -memory -pids" >"$cg/cgroup.subtree_control" 2>/dev/null || true
systemctl start berth-supervisor.service
check "berth-supervisor.service starts again (new pid)" \
    test "$(systemctl show -P MainPID berth-supervisor.service)" != "$pid"

# The idle exit, made short by a drop-in (30 s in the unit), kept for part 3.
sdropin=/etc/systemd/system/berth-supervisor.service.d
mkdir -p $sdropin
printf '[Service]\nExecStart=\nExecStart=/usr/local/libexec/berth/berth-supervisor-start /run/berth/supervisor.sock 3\n' \
    >$sdropin/test-idle.conf
systemctl daemon-reload
systemctl restart berth-supervisor.service
pid=$(systemctl show -P MainPID berth-supervisor.service)
check "with nothing to supervise, berth-supervisor.service exits by itself (idle 3 s): inactive" \
    until_state berth-supervisor.service inactive 60
check "it exited 0 (Result=success, not failed)" \
    test "$(systemctl show -P Result berth-supervisor.service)" = success
check "its socket stays, listening" sh -c \
    'systemctl is-active --quiet berth-supervisor.socket && test -S /run/berth/supervisor.sock'
poke
main_pid_not() { # OLD: berth-supervisor.service runs with a main pid other than OLD
    local p
    p=$(systemctl show -P MainPID berth-supervisor.service)
    [ "$p" != 0 ] && [ "$p" != "$1" ]
}
new_main_pid() { within "$2" 0.5 main_pid_not "$1"; } # OLD SECONDS
check "the next connection starts it again (new pid)" new_main_pid "$pid" 30
check "and it leaves again" until_state berth-supervisor.service inactive 60

# ---- 3. berthd.service ----
if [ $have_berthd -eq 1 ]; then
    . "$(dirname "$0")/systemd_berthd.sh"
else
    echo "note: berthd is not built in $build: berthd.service is installed, not started"
fi

rm -rf "$sdropin" # the test's idle drop-in: uninstall removes only what install.sh added
systemctl daemon-reload

# ---- 4. uninstall ----
# Each line of its output with the test's clock, to see where its time goes.
if "$src/scripts/uninstall.sh" --purge 2>&1 | while IFS= read -r line; do
    echo "   [$(($(date +%s) - t0)) s] $line"
done; then
    ok "scripts/uninstall.sh --purge"
else
    fail "scripts/uninstall.sh --purge"
fi
check "no berth unit is left" \
    test -z "$(systemctl list-units --all --no-legend 'berth*' | grep -v berth-vm)"
check "no unit file is left" \
    sh -c '! systemctl cat berthd.service berth-supervisor.service berth-supervisor.socket 2>/dev/null'
left=
for f in /usr/local/sbin/berthd /usr/local/bin/berth /usr/local/bin/berth-supervisor \
    /usr/local/bin/berth-runtime /usr/local/libexec/berth /usr/local/share/berth \
    /usr/local/lib/systemd/system/berthd.service /usr/local/lib/systemd/system/berth-supervisor.socket \
    /etc/berth /var/lib/berth /run/berth; do
    [ ! -e $f ] || left="$left $f"
done
check "no installed file or directory is left${left:+ (left:$left)}" test -z "$left"
check "no berth process is left" sh -c '! pgrep -l berth | grep -v berth-vm'
if [ -n "${cpid:-}" ]; then
    check "the task's container is gone (uninstall stopped the task)" sh -c "! kill -0 $cpid 2>/dev/null"
fi
finish
