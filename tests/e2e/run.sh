#!/usr/bin/env bash
# tests/e2e/run.sh SCRIPT.py [ARGS] — runs one end-to-end test (or bench/) script as root inside new network, mount
# and pid namespaces (the "host" of the berthd under test; never the machine's root netns):
# loopback up, / private, a fresh /proc. When the script ends, the namespace's init exits and the
# kernel kills every process left in it (berthd, berth-supervisor, containers); every mount and
# the network namespace (with the task netns and bridges inside it) vanish with it. Cgroups the
# agent left are removed afterwards by task id (the script records them in $BERTH_E2E_IDS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=$1 # relative to tests/e2e, or an absolute path (bench/ uses this too)
shift
case $script in /*) ;; *) script=$here/$script ;; esac
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: the e2e tests need root (namespaces, cgroups, nftables)" >&2
  exit 1 # never a skip: a suite that ran nothing is a failure
fi
ids=$(mktemp /tmp/berth-e2e-ids-XXXXXX)
# The scripts' work dirs go under this one, removed once the namespaces (and so every mount the
# agent made in them) are gone.
work=$(mktemp -d /tmp/berth-e2e-XXXXXX)
cleanup() {
  # Empty task cgroups whose paths carry one of this run's task ids (UUIDs: only ours), deepest
  # first; a cgroup that still holds a process stays (rmdir refuses) and the stop hook shows it.
  local try left patterns
  # Only ids of 8 characters or more, never an empty line: an empty pattern matches every path
  # (and rmdir would then remove every empty cgroup on the machine).
  patterns=$(grep -E '^[^[:space:]]{8,}$' "$ids" || true)
  for try in 1 2 3 4 5; do # the killed processes may take a moment to leave their cgroups
    [ -n "$patterns" ] || break
    left=$(find /sys/fs/cgroup -depth -type d 2>/dev/null | grep -F -e "$patterns" || true)
    [ -n "$left" ] || break
    while read -r dir; do rmdir "$dir" 2>/dev/null || true; done <<<"$left"
    [ "$try" -eq 5 ] || sleep 0.2
  done
  rm -f "$ids"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# bash as the pid namespace's init: it reaps orphans, and its exit kills the rest.
PYTHONDONTWRITEBYTECODE=1 BERTH_E2E_IDS=$ids BERTH_E2E_PARENT=$work PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} unshare --net --mount --propagation private --pid --fork --mount-proc \
  --kill-child bash -c 'ip link set lo up && python3 -u "$@"; exit $?' run.sh \
  "$script" "$@"
