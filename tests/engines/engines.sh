#!/usr/bin/env bash
# tests/engines/engines.sh — the engines tier: real engines from Debian drive runc and
# berth-runtime through the same checks; every check runc passes must pass with berth-runtime.
#   podman 4.3 + conmon        (berth registered under [engine.runtimes], runtime_supports_json)
#   containerd 1.6 + runc v2 shim via `ctr run --runc-binary` (the shim's BinaryName)
# Everything is private: the script re-executes itself in new mount, network and pid namespaces
# (so containers, conmon, shims and the daemon cannot outlive it), mounts a tmpfs over /run and
# over its work directory, and puts every container under a cgroup parent of its own, removed
# at the end. Networking (CNI bridge, published ports) happens only in that network namespace.
# Usage: tests/engines/engines.sh [path/to/berth-runtime]   (root; default build/runtime/cli/)
# Prints one line per check, then "engines: N passed, N failed, N skipped"; exits 1 on failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
berth=${1:-${BERTH_RUNTIME:-$here/../../build/runtime/cli/berth-runtime}}

if [ -z "${BERTH_ENGINES_INNER:-}" ]; then
  start=$SECONDS
  missing=()
  for tool in podman conmon containerd ctr runc busybox script unshare ip; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ -x "$berth" ] || missing+=("berth-runtime ($berth)")
  [ "$(id -u)" -eq 0 ] || missing+=("root")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "engines: missing ${missing[*]} (scripts/install-deps.sh installs the packages)"
    echo "engines: 0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  berth=$(readlink -f "$berth")
  # The work directory and cgroup parent are named here, so that whatever happens inside (even a
  # SIGKILL: --kill-child, and the pid namespace takes every process with it) this shell can
  # remove what is left of them on the host.
  work=$(mktemp -d /tmp/berth-engines.XXXXXX) || exit 1
  cg_parent="/berth-engines-${work##*.}"
  BERTH_ENGINES_INNER=1 BERTH_ENGINES_WORK=$work BERTH_ENGINES_CGROUP=$cg_parent \
    unshare --mount --net --pid --fork --kill-child --propagation private --mount-proc \
    bash "$here/engines.sh" "$berth" &
  child=$!
  # unshare ignores INT and TERM while it waits: pass them to the shell inside, which tears down.
  trap 'kill -TERM $(ps -o pid= --ppid "$child") 2>/dev/null' INT TERM
  wait "$child"
  rc=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  for root in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ ! -d "$root${cg_parent#/}" ] || find "$root${cg_parent#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rmdir "$work" 2>/dev/null
  echo "engines: took $((SECONDS - start)) s"
  exit $rc
fi

# ---------------------------------------------------------------- inside the private namespaces
# shellcheck source=tests/engines/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/engines/podman_checks.sh
source "$here/podman_checks.sh"
# shellcheck source=tests/engines/containerd_checks.sh
source "$here/containerd_checks.sh"

setup_private_world || { echo "engines: setup failed"; echo "engines: 0 passed, 1 failed, 0 skipped"; exit 1; }
trap teardown_private_world EXIT
# As our pid namespace's init this shell gets no signal it has no handler for: exit through the
# teardown on Ctrl-C or SIGTERM.
trap 'exit 130' INT
trap 'exit 143' TERM

declare -A runtime_path=([runc]=$(command -v runc) [berth]=$berth)
for rt in runc berth; do
  podman_checks "$rt"
done
if start_containerd; then
  for rt in runc berth; do
    containerd_checks "$rt" "${runtime_path[$rt]}"
  done
  stop_containerd
else
  record containerd - daemon-start FAIL "$(tail -20 "$work/containerd/log")"
fi
final_leak_checks
summarize
