#!/usr/bin/env bash
# scripts/uninstall.sh — undoes scripts/install.sh: stops every task through berthd (StopTask,
# so each task's network, mounts and cgroups are cleaned up as on any stop), stops and disables
# berthd.service and berth-supervisor.service, kills whatever is left in the supervisor's cgroup,
# removes the installed files; with --purge also the configuration, the state (database, images,
# logs), /run/berth, berth's bridge and its nftables table. Idempotent.
#
#   scripts/uninstall.sh [--prefix DIR] [--purge]
#
#   --prefix DIR     the prefix install.sh used (default /usr/local); install.sh's list of the
#                    files it installed, DIR/share/berth/installed-files, says what to remove
#                    (without it, the known list under DIR)
#   --purge          also /etc/berth, /var/lib/berth, /run/berth, link berth0, table ip berth
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local purge=0
die() { echo "berth uninstall: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "must run as root"
socket=/run/berth/berthd.sock
target=AmazonEC2ContainerServiceV20141113

credentials=/var/lib/berth/api-credentials # what berthd generates when none are configured
api() { # OPERATION JSON: one ECS call over berthd's root-only unix socket, else over the default
    # TCP port signed (SigV4) with berthd's generated credentials
    local via=(--unix-socket "$socket" http://localhost/)
    if [ ! -S "$socket" ]; then
        local BERTH_API_ACCESS_KEY_ID='' BERTH_API_SECRET_ACCESS_KEY=''
        # shellcheck disable=SC1090
        [ -f $credentials ] && . $credentials
        via=(--aws-sigv4 aws:amz:us-east-1:ecs
             --user "$BERTH_API_ACCESS_KEY_ID:$BERTH_API_SECRET_ACCESS_KEY" http://127.0.0.1:51680/)
    fi
    curl -sf --max-time 30 -X POST "${via[@]}" \
        -H "X-Amz-Target: $target.$1" -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}
running_tasks() { # the ARNs of tasks whose desired status is RUNNING
    api ListTasks '{}' | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin).get("taskArns", [])))'
}
not_stopped() { # ARNS...: how many of them are not STOPPED yet
    local list
    list=$(printf '%s\n' "$@" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')
    api DescribeTasks "{\"tasks\":$list}" | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin).get("tasks", []) if t.get("lastStatus") != "STOPPED"))'
}
stop_tasks() {
    local arn arns tries=0
    [ -S $socket ] || [ -f $credentials ] ||
        { echo "   neither berthd's socket nor its credentials: no tasks to stop through it"; return; }
    arns=$(running_tasks) || { echo "   berthd did not answer ListTasks" >&2; return; }
    [ -n "$arns" ] || { echo "   no running tasks"; return; }
    for arn in $arns; do
        echo "   stopping $arn"
        api StopTask "{\"task\":\"$arn\",\"reason\":\"berth uninstall\"}" >/dev/null ||
            echo "   StopTask $arn failed" >&2
    done
    # STOPPED is reported once the containers exited and their resources were released.
    while [ "$(not_stopped $arns || echo 1)" != 0 ]; do
        tries=$((tries + 1))
        if [ $tries -gt 120 ]; then
            echo "   some tasks did not reach STOPPED within 120 s; their processes are killed below" >&2
            return
        fi
        sleep 1
    done
}

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    if systemctl is-active --quiet berthd.service; then
        echo "== stopping tasks"
        stop_tasks
    fi
    echo "== services"
    # One call, one daemon reload: berthd stops before the supervisor (it is ordered after it).
    systemctl disable --now --quiet berthd.service berth-supervisor.service \
        berth-supervisor.socket 2>/dev/null || true
    # KillMode=process spared the containers on stop: whatever berthd did not stop goes now, and
    # a supervisor berthd may have started itself (in berthd.service's cgroup) with its children.
    for unit in berth-supervisor.service berthd.service; do
        if [ -n "$(systemctl show -P ControlGroup $unit 2>/dev/null)" ]; then
            echo "   killing the processes left in $unit's cgroup"
            systemctl kill --kill-whom=all --signal=SIGKILL $unit 2>/dev/null || true
        fi
    done
    systemctl reset-failed berthd.service berth-supervisor.service berth-supervisor.socket \
        2>/dev/null || true
fi

echo "== files"
manifest=$prefix/share/berth/installed-files
if [ -f "$manifest" ]; then
    while read -r f; do
        case $f in /*) [ -d "$f" ] || rm -f "$f" ;; esac
    done <"$manifest"
else
    rm -f "$prefix"/sbin/berthd "$prefix"/bin/berth "$prefix"/bin/berth-runtime \
        "$prefix"/bin/berth-supervisor "$prefix"/lib/systemd/system/berthd.service \
        "$prefix"/lib/systemd/system/berth-supervisor.service \
        "$prefix"/lib/systemd/system/berth-supervisor.socket
fi
rm -rf "$prefix"/libexec/berth "$prefix"/share/berth "$prefix"/share/doc/berth
if [ "$prefix" = /usr ]; then
    rm -f /lib/systemd/system/berthd.service /lib/systemd/system/berth-supervisor.service \
        /lib/systemd/system/berth-supervisor.socket
fi
command -v systemctl >/dev/null && [ -d /run/systemd/system ] && systemctl daemon-reload

if [ $purge -eq 1 ]; then
    echo "== purge"
    # What stopped tasks still hold until their cleanup wait ends (ECS_ENGINE_TASK_CLEANUP_WAIT_
    # DURATION): container root filesystems (overlay) and task netns handles (nsfs bind mounts).
    # Their processes are gone (above), so each unmounts; deepest first. Nothing is removed while
    # a mount is left: rm -rf must never walk into a mounted tree.
    for dir in /var/lib/berth /run/berth; do
        { findmnt -rn -o TARGET | grep "^$dir/" || true; } | sort -r | while read -r target; do
            umount "$target" 2>/dev/null || echo "   cannot unmount $target"
        done
    done
    for dir in /var/lib/berth /run/berth; do
        if [ -d $dir ] && findmnt -rn -o TARGET | grep -q "^$dir/"; then
            die "mounts remain under $dir (findmnt | grep $dir): not removing it"
        fi
    done
    rm -rf /etc/berth /var/lib/berth /run/berth
    if [ -e /sys/class/net/berth0 ]; then ip link del berth0; fi
    # No nf_tables (module or built in): no table to look for.
    if [ -d /sys/module/nf_tables ] && command -v nft >/dev/null &&
        nft list table ip berth >/dev/null 2>&1; then
        nft delete table ip berth
    fi
fi
echo "== berth is uninstalled"
[ $purge -eq 1 ] || echo "   kept: /etc/berth, /var/lib/berth (state, images, logs); --purge removes them"
