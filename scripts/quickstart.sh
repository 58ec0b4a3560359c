#!/usr/bin/env bash
# The main job: install what berth needs, build it, start the agent (berthd) in standalone mode
# in the background, build the demo web image offline (examples/hello) and load it, then drive
# the agent with the stock aws CLI: register examples/web-sidecar-bridge.json, run it with a
# dynamic host port, print the URL and fetch it. The task is left running.
#   BERTH_QUICKSTART_DIR   where state, runtime files, the configuration, the log and the API
#                          credentials go (default /var/lib/berth-quickstart; must be root's)
#   BERTH_API_LISTEN, BERTH_INTROSPECTION_LISTEN   (defaults 127.0.0.1:51680, 127.0.0.1:51678)
#   BERTH_QUICKSTART_SKIP_SETUP=1   skips installing the dependencies and building (and nothing
#                          else): for tests/e2e/quickstart_test.py, run after the test tiers
#                          installed and built (build/ must hold the binaries)
# Runs as root on this machine's network (the agent makes the bridge berth0 and its nftables
# table `ip berth`): this is the product. Refuses to run beside an active berthd.service (same
# bridge, same table). scripts/quickstart.sh stop stops the task(s), the agent and its
# supervisor, and removes the bridge and the table.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
dir=${BERTH_QUICKSTART_DIR:-/var/lib/berth-quickstart}
api=${BERTH_API_LISTEN:-127.0.0.1:51680}
introspection=${BERTH_INTROSPECTION_LISTEN:-127.0.0.1:51678}
state=$dir/state run=$dir/run log=$dir/berthd.log pidfile=$dir/berthd.pid conf=$dir/berth.conf
berthd=$top/build/agent/berthd/berthd
berth=$top/build/agent/cli/berth
family="berth-web-bridge"

say() { printf '== %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (the agent makes namespaces, cgroups, a bridge)"

# Everything in $dir is trusted as root's (credentials.env is sourced, the pid files name what
# stop kills): a directory anyone else made, or a symlink, is refused before anything is read.
own_dir() {
  if [ -L "$dir" ] || [ ! -d "$dir" ] || [ ! -O "$dir" ]; then
    die "$dir is not a directory owned by root (or is a symlink): refusing to use it"
  fi
  chmod 0700 "$dir"
}

# The pid in file $1 if that process runs with the arguments $2 (a pid reused by another program
# is not ours to signal).
running() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(head -n1 "$1") # line 1 is the pid (supervisor.pid also holds start time and boot id)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" == *"$2"* ]] || return 1
  echo "$pid"
}
agent_pid() { running "$pidfile" "--config $conf"; }
aws_ecs() {
  # shellcheck disable=SC1091
  (. "$dir/credentials.env" && AWS_PAGER="" AWS_CONFIG_FILE=/dev/null aws ecs "$@" \
    --endpoint-url "http://$api" --region us-east-1 --output json)
}
system_berthd() {
  [ -d /run/systemd/system ] && systemctl is-active --quiet berthd.service 2>/dev/null
}

if [ "${1:-}" = stop ]; then
  [ -e "$dir" ] || [ -L "$dir" ] || { say "nothing to stop ($dir does not exist)"; exit 0; }
  own_dir
  if pid=$(agent_pid); then
    arns=$(aws_ecs list-tasks | jq -r '.taskArns[]')
    for arn in $arns; do
      say "stopping $arn"
      aws_ecs stop-task --task "$arn" --reason "quickstart stop" >/dev/null
    done
    # Until they are STOPPED (list-tasks drops them as soon as they are asked to stop): SIGTERM
    # before that would leave their containers running.
    for _ in $(seq 60); do
      [ -z "$arns" ] && break
      # shellcheck disable=SC2086 # one argument per ARN
      aws_ecs describe-tasks --tasks $arns |
        jq -e 'all(.tasks[]; .lastStatus == "STOPPED")' >/dev/null && break
      sleep 1
    done
    say "stopping berthd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # berthd leaves its supervisor (the containers' parent) running by design: this is a full stop.
  if pid=$(running "$run/supervisor.pid" "--socket $run/supervisor.sock"); then
    say "stopping berth-supervisor (pid $pid)"
    kill -TERM "$pid"
  fi
  # What berthd made on the host: the stopped tasks' (empty) cgroups, named <task-id>-<container>
  # (below <task-id>, the task's own, when it has task-level cpu or memory), and their
  # containers' rootfs (overlay mounts under $state; berthd removes both only at its task
  # cleanup, hours later), the parent cgroup "berth" once empty, and the bridge and its nftables
  # table, unless a system berthd (berthd.service) uses them.
  for arn in ${arns:-}; do
    id=${arn##*/}
    [[ $id =~ ^[0-9a-f-]{32,36}$ ]] || continue
    find /sys/fs/cgroup -depth -type d \( -name "$id-*" -o -name "$id" \) -exec rmdir {} \; 2>/dev/null || true
  done
  # Innermost first (mountinfo lists a mount after its parent); the agent is stopped, so these
  # are the rootfs of containers that exited.
  awk -v prefix="$state/" 'index($5, prefix) == 1 { print $5 }' /proc/self/mountinfo | tac |
    while read -r mountpoint; do
      say "unmounting $mountpoint"
      umount "$mountpoint" || true
    done
  if system_berthd; then
    say "berthd.service is active: leaving the bridge berth0 and the table ip berth to it"
  else
    if ip link show berth0 >/dev/null 2>&1; then say "removing the bridge berth0"; ip link delete berth0; fi
    if nft list table ip berth >/dev/null 2>&1; then say "removing the nftables table ip berth"; nft delete table ip berth; fi
    find /sys/fs/cgroup -maxdepth 2 -type d -name berth -exec rmdir {} \; 2>/dev/null || true
  fi
  exit 0
fi

[ -e "$dir" ] || [ -L "$dir" ] || mkdir -m 0700 "$dir"
own_dir
if system_berthd; then
  die "berthd.service is active on this host: the quickstart agent would share its bridge and
nftables table. Use that agent, or: systemctl stop berthd"
fi

if [ "${BERTH_QUICKSTART_SKIP_SETUP:-}" = 1 ]; then
  say "BERTH_QUICKSTART_SKIP_SETUP=1: not installing dependencies, not building (using build/)"
else
  say "installing dependencies (scripts/install-deps.sh --runtime: build and runtime packages only)"
  scripts/install-deps.sh --runtime >/dev/null
  say "building (scripts/build.sh build)"
  scripts/build.sh build >/dev/null
fi
[ -x "$berthd" ] || die "no $berthd after the build"

mkdir -p "$state" "$run"
if [ ! -s "$dir/credentials.env" ]; then # the API's SigV4 keys, for this agent and its clients
  (umask 077 && printf 'export AWS_ACCESS_KEY_ID=berth-quickstart\nexport AWS_SECRET_ACCESS_KEY=%s\n' \
    "$(openssl rand -hex 20)" > "$dir/credentials.env")
fi
# berthd's own configuration (never /etc/berth/berth.conf, which a system install may hold).
# shellcheck disable=SC1091
(. "$dir/credentials.env" && umask 077 && cat >"$conf" <<EOF_CONF
# written by scripts/quickstart.sh
BERTH_STATE_DIR=$state
BERTH_RUNTIME_DIR=$run
BERTH_API_LISTEN=$api
BERTH_INTROSPECTION_LISTEN=$introspection
BERTH_API_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
BERTH_API_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
EOF_CONF
)

say "building the demo image offline (examples/hello/build.sh) and loading it"
examples/hello/build.sh "$dir/hello.tar" >/dev/null
"$berth" --root "$state/images" load -i "$dir/hello.tar" >/dev/null

if pid=$(agent_pid); then
  say "berthd already running (pid $pid)"
else
  say "starting berthd (state $state, log $log)"
  # Only the configuration file speaks: berthd reads BERTH_*/ECS_* from its environment (and
  # refuses unknown ones), so none of the caller's reach it (as tests/e2e/berth_e2e.py does).
  unset_env=()
  while read -r name; do
    case $name in BERTH_* | ECS_*) unset_env+=(-u "$name") ;; esac
  done < <(compgen -e)
  env "${unset_env[@]}" setsid "$berthd" --config "$conf" </dev/null >>"$log" 2>&1 &
  echo $! > "$pidfile"
  ready=0
  for _ in $(seq 100); do # ready once the API answers
    kill -0 "$(cat "$pidfile")" 2>/dev/null || die "berthd exited; see $log:
$(tail -20 "$log")"
    if curl -s -o /dev/null "http://$api/"; then ready=1; break; fi
    sleep 0.1
  done
  [ $ready -eq 1 ] || die "berthd (pid $(cat "$pidfile")) did not answer on http://$api within 10 s; see $log:
$(tail -20 "$log")"
fi

say "aws ecs register-task-definition (examples/web-sidecar-bridge.json)"
aws_ecs register-task-definition --cli-input-json "file://$top/examples/web-sidecar-bridge.json" \
  | jq -r '.taskDefinition.taskDefinitionArn'
say "aws ecs run-task --task-definition $family"
arn=$(aws_ecs run-task --task-definition "$family" --started-by quickstart \
  | jq -r '.tasks[0].taskArn')
if [ -z "$arn" ] || [ "$arn" = null ]; then die "run-task returned no task; see $log"; fi
echo "$arn"
status=
for _ in $(seq 60); do
  task=$(aws_ecs describe-tasks --tasks "$arn" | jq '.tasks[0]')
  status=$(jq -r '.lastStatus' <<<"$task")
  [ "$status" = RUNNING ] || [ "$status" = STOPPED ] && break
  sleep 0.5
done
[ "$status" = RUNNING ] || die "the task is $status: $(jq -c '{stoppedReason, containers: [.containers[] | {name, lastStatus, reason, exitCode}]}' <<<"$task")"
port=$(jq -r '.containers[] | select(.name == "web") | .networkBindings[0].hostPort' <<<"$task")
url="http://127.0.0.1:$port/"
say "the web task is RUNNING: $url"
for _ in $(seq 50); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
curl -sf "$url" | sed -e 's/<[^>]*>//g' -e '/^[[:space:]]*$/d'
cat <<EOF_HELP
== left running. Try:
  $berth --state-dir $state --runtime-dir $run ps
  $berth --state-dir $state --runtime-dir $run logs -f ${arn##*/} web
  (. $dir/credentials.env; aws ecs describe-tasks --tasks $arn --endpoint-url http://$api --region us-east-1)
  tail $log
== to stop the task(s), the agent and its supervisor, and remove berth0: scripts/quickstart.sh stop
EOF_HELP
