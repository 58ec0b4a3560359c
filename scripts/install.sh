#!/usr/bin/env bash
# scripts/install.sh — installs berth on this host as a systemd service, like the ECS Anywhere
# install script in spirit: dependencies, build, `meson install` (binaries, units, the example
# /etc/berth/berth.conf when there is none), the configuration values given, then enables and
# starts berth-supervisor.socket and berthd.service (berth-supervisor.service starts on demand)
# and says how to check them. Idempotent: run it again to upgrade; berthd is restarted (tasks keep
# running), berth-supervisor is left running.
#
#   scripts/install.sh [--prefix DIR] [--build-dir DIR | --from-destdir DIR] [--cluster NAME]
#                      [--region REGION] [--no-deps] [--no-build] [--no-start]
#
#   --prefix DIR      install prefix (default /usr/local; units go to DIR/lib/systemd/system,
#                     /lib/systemd/system for /usr)
#   --build-dir DIR   meson build directory (default ./build-install)
#   --cluster NAME    ECS_CLUSTER in /etc/berth/berth.conf;  --region REGION: BERTH_REGION
#   --no-deps         do not run scripts/install-deps.sh --runtime (apt-get: the build and
#                     runtime packages only, none of the test peers)
#   --no-build        install what DIR already built (must be configured with the same prefix)
#   --from-destdir D  install the tree `meson install --destdir D` staged (built elsewhere, or on
#                     the host of a VM) instead of building: implies --no-deps --no-build
#   --no-start        install and enable only (also the way to install without a running systemd)
# The installed files are listed in PREFIX/share/berth/installed-files for scripts/uninstall.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local builddir=build-install cluster='' region='' deps=1 build=1 start=1 staged=''
die() { echo "berth install: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --build-dir) builddir=${2:?--build-dir needs a directory}; shift 2 ;;
    --cluster) cluster=${2:?--cluster needs a name}; shift 2 ;;
    --region) region=${2:?--region needs a region}; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --no-build) build=0; shift ;;
    --no-start) start=0; shift ;;
    --from-destdir) staged=${2:?--from-destdir needs a directory}; deps=0; build=0; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
config=/etc/berth/berth.conf
# Written into berth.conf (sed replacement, one KEY=VALUE line): plain names only.
for value in "$cluster" "$region"; do
    [[ -z $value || $value =~ ^[A-Za-z0-9_-]+$ ]] ||
        die "invalid cluster or region '$value': letters, digits, '-' and '_' only"
done

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs to $prefix and /etc, and manages services)"
if [ $start -eq 1 ] && [ ! -d /run/systemd/system ]; then
    die "systemd is not running as init here (no /run/systemd/system): berthd is installed as a
systemd service. Use --no-start to install the files only, then start berthd yourself."
fi
command -v systemctl >/dev/null || [ $start -eq 0 ] || die "systemctl not found"

# An older berth ran berth-supervisor.service on a socket it bound itself; the new units hand that
# socket to systemd (berth-supervisor.socket), which would take the path from under a running
# supervisor. With no container it is simply stopped; with containers it is their parent and
# must not be replaced while they run (nor could it be on cgroup v2: systemd/README.md).
# Whether it has containers is read from the unit's cgroup (every container of that supervisor
# is below it, whatever the runtime dir), and from the runtime dir berth.conf names
# (BERTH_RUNTIME_DIR, /run/berth if unset). Anything that cannot be read counts as "has
# containers": the install then refuses rather than guess. --no-start stops nothing: it only
# says what the next start will meet.
unit_processes() { # the pids in berth-supervisor.service's cgroup subtree but its main pid
    local cg base main
    cg=$(systemctl show -P ControlGroup berth-supervisor.service) && [ -n "$cg" ] || return 1
    main=$(systemctl show -P MainPID berth-supervisor.service) || return 1
    for base in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
        [ -f "$base$cg/cgroup.procs" ] || continue
        find "$base$cg" -name cgroup.procs -exec cat {} + | grep -vx "$main"
        return 0
    done
    return 1
}
if [ -d /run/systemd/system ] && systemctl is-active --quiet berth-supervisor.service &&
    ! systemctl is-active --quiet berth-supervisor.socket; then
    runtime_dir=$(sed -n 's/^[[:space:]]*BERTH_RUNTIME_DIR[[:space:]]*=[[:space:]]*["'"'"']\{0,1\}\([^"'"'"'[:space:]]*\).*/\1/p' \
        "$config" 2>/dev/null | tail -n 1)
    runtime_dir=${runtime_dir:-/run/berth}
    if ! others=$(unit_processes); then
        others=unknown
    fi
    if [ $start -eq 0 ]; then
        echo "berth install: warning: berth-supervisor.service runs without berth-supervisor.socket
(an older berth); it is left running (--no-start). Stop it once it has no container, before
starting berth-supervisor.socket." >&2
    elif [ -n "$others" ] || [ -n "$(ls -A "$runtime_dir/containers" 2>/dev/null)" ]; then
        die "berth-supervisor.service runs without berth-supervisor.socket (an older berth) and
has containers, or they cannot be ruled out (processes in its cgroup: ${others:-none};
$runtime_dir/containers): stop every task (or reboot) first, then install again. Nothing was
changed."
    else
        systemctl stop berthd.service berth-supervisor.service
    fi
fi

if [ $deps -eq 1 ]; then
    echo "== dependencies (scripts/install-deps.sh --runtime)"
    scripts/install-deps.sh --runtime
fi
manifest=$prefix/share/berth/installed-files
if [ -n "$staged" ]; then
    [ -x "$staged$prefix/sbin/berthd" ] || [ -x "$staged$prefix/bin/berth-supervisor" ] ||
        die "$staged does not hold a berth tree for prefix $prefix (meson install --destdir $staged)"
    echo "== install (from $staged)"
    # Everything but the configuration, which is installed below only when absent.
    # Directories that exist (/, /usr, /etc ...) keep their mode and owner (--no-overwrite-dir),
    # and files belong to root whoever staged them (--no-same-owner).
    (cd "$staged" && tar -cf - --exclude=./etc/berth/berth.conf .) |
        (cd / && tar -xpf - --no-overwrite-dir --no-same-owner) ||
        die "copying $staged to / failed"
    if [ ! -e $config ] && [ -f "$staged$config" ]; then
        install -D -m 0600 "$staged$config" $config
    fi
    mkdir -p "$(dirname "$manifest")"
    (cd "$staged" && find . ! -type d ! -path ./etc/berth/berth.conf | sed 's|^\.||') >"$manifest"
else
    if [ $build -eq 1 ]; then
        echo "== build ($builddir, prefix $prefix)"
        if [ ! -f "$builddir/build.ninja" ]; then
            meson setup "$builddir" --prefix "$prefix" -Dtests=false >/dev/null
        else
            meson configure "$builddir" -Dprefix="$prefix" >/dev/null
        fi
        ninja -C "$builddir"
    fi
    [ -f "$builddir/build.ninja" ] || die "$builddir is not a meson build directory (drop --no-build)"
    configured=$(meson introspect "$builddir" --buildoptions 2>/dev/null |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))' \
        2>/dev/null || true)
    [ -z "$configured" ] || [ "$configured" = "$prefix" ] ||
        die "$builddir is configured for prefix $configured, not $prefix (drop --no-build to reconfigure)"
    echo "== install"
    meson install -C "$builddir" --no-rebuild --quiet
    mkdir -p "$(dirname "$manifest")"
    grep -v '^#' "$builddir/meson-logs/install-log.txt" >"$manifest"
fi
[ -f "$config" ] || die "$config was not installed (meson install should have copied the example)"
echo "$manifest" >>"$manifest"

set_key() { # KEY VALUE: replaces KEY= (or its commented default) in the configuration
    local key=$1 value=$2
    if grep -q "^#\?$key=" "$config"; then
        sed -i "s|^#\?$key=.*|$key=$value|" "$config"
    else
        echo "$key=$value" >>"$config"
    fi
    echo "   $config: $key=$value"
}
[ -z "$cluster" ] || set_key ECS_CLUSTER "$cluster"
[ -z "$region" ] || set_key BERTH_REGION "$region"

if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    echo "== services"
    systemctl daemon-reload
    # berth-supervisor.service runs on demand (its socket starts it, it exits when idle): only
    # the socket is enabled; an older install's link of the service itself goes.
    [ ! -L /etc/systemd/system/multi-user.target.wants/berth-supervisor.service ] ||
        rm -f /etc/systemd/system/multi-user.target.wants/berth-supervisor.service
    systemctl enable --quiet berth-supervisor.socket berthd.service
    if [ $start -eq 1 ]; then
        [ -x "$prefix/sbin/berthd" ] ||
            die "$prefix/sbin/berthd was not installed (is agent/berthd in this tree?): use --no-start"
        # The supervisor is the containers' parent: never restarted here. Its socket is started
        # (berthd.service requires it); the service starts at berthd's first request.
        systemctl start berth-supervisor.socket
        # berthd: restarted when running (an upgrade; its tasks keep running and are re-adopted),
        # started otherwise. Type=notify: this returns once berthd said READY=1, or fails.
        if systemctl is-active --quiet berthd.service; then
            systemctl restart berthd.service || die "berthd did not restart: journalctl -u berthd"
        else
            systemctl start berthd.service || die "berthd did not start: journalctl -u berthd"
        fi
    fi
fi

cat <<MSG
== berth is installed ($prefix)
   configuration:  $config (docs/CONFIGURATION.md; systemctl restart berthd after a change)
   check:          systemctl status berthd berth-supervisor.socket berth-supervisor
                   journalctl -u berthd -f
                   curl -s http://127.0.0.1:51678/v1/metadata
   uninstall:      scripts/uninstall.sh [--purge]
MSG
