#!/usr/bin/env bash
# The main job: install what berth needs, build it, start the agent (berthd) in standalone mode
# in the background, build the demo web image offline (examples/hello) and load it, then drive
# the agent with the stock aws CLI: register examples/web-sidecar-bridge.json, run it with a
# dynamic host port, print the URL and fetch it. The task is left running.
#   BERTH_QUICKSTART_DIR   where state, runtime files, the log and credentials go
#                          (default /var/tmp/berth-quickstart)
#   BERTH_API_LISTEN, BERTH_INTROSPECTION_LISTEN   (defaults 127.0.0.1:51680, 127.0.0.1:51678)
# Runs as root on this machine's network (the agent makes the bridge berth0 and its nftables
# table): this is the product. scripts/quickstart.sh stop stops the task and the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
dir=${BERTH_QUICKSTART_DIR:-/var/tmp/berth-quickstart}
api=${BERTH_API_LISTEN:-127.0.0.1:51680}
introspection=${BERTH_INTROSPECTION_LISTEN:-127.0.0.1:51678}
state=$dir/state run=$dir/run log=$dir/berthd.log pidfile=$dir/berthd.pid
berthd=$top/build/agent/berthd/berthd
berth=$top/build/agent/cli/berth
family="berth-web-bridge"

say() { printf '== %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (the agent makes namespaces, cgroups, a bridge)"

agent_pid() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }
aws_ecs() {
  # shellcheck disable=SC1091
  (. "$dir/credentials.env" && AWS_PAGER="" AWS_CONFIG_FILE=/dev/null aws ecs "$@" \
    --endpoint-url "http://$api" --region us-east-1 --output json)
}

if [ "${1:-}" = stop ]; then
  if pid=$(agent_pid); then
    for arn in $(aws_ecs list-tasks | jq -r '.taskArns[]'); do
      say "stopping $arn"
      aws_ecs stop-task --task "$arn" --reason "quickstart stop" >/dev/null
    done
    for _ in $(seq 60); do
      [ "$(aws_ecs list-tasks | jq '.taskArns | length')" -eq 0 ] && break
      sleep 1
    done
    say "stopping berthd (pid $pid)"
    kill -TERM "$pid"
  fi
  exit 0
fi

say "installing dependencies (scripts/install-deps.sh)"
scripts/install-deps.sh >/dev/null
say "building (scripts/build.sh build)"
scripts/build.sh build >/dev/null
[ -x "$berthd" ] || die "no $berthd after the build"

mkdir -p "$state" "$run"
chmod 0700 "$dir"
if [ ! -s "$dir/credentials.env" ]; then # the API's SigV4 keys, for this agent and its clients
  (umask 077 && printf 'export AWS_ACCESS_KEY_ID=berth-quickstart\nexport AWS_SECRET_ACCESS_KEY=%s\n' \
    "$(openssl rand -hex 20)" > "$dir/credentials.env")
fi

say "building the demo image offline (examples/hello/build.sh) and loading it"
examples/hello/build.sh "$dir/hello.tar" >/dev/null
"$berth" --root "$state/images" load -i "$dir/hello.tar" >/dev/null

if pid=$(agent_pid); then
  say "berthd already running (pid $pid)"
else
  say "starting berthd (state $state, log $log)"
  # shellcheck disable=SC1091
  . "$dir/credentials.env"
  # berthd refuses BERTH_* keys it does not know: BERTH_QUICKSTART_DIR is this script's.
  env -u BERTH_QUICKSTART_DIR BERTH_API_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
    BERTH_API_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" setsid "$berthd" --state-dir "$state" --runtime-dir "$run" --api-listen "$api" \
    --introspection-listen "$introspection" </dev/null >>"$log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 100); do # ready once the API answers
    kill -0 "$(cat "$pidfile")" 2>/dev/null || die "berthd exited; see $log:
$(tail -20 "$log")"
    curl -s -o /dev/null "http://$api/" && break
    sleep 0.1
  done
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
  (. $dir/credentials.env; aws ecs describe-tasks --tasks $arn --endpoint-url http://$api --region us-east-1)
  (. $dir/credentials.env; aws ecs list-tasks --endpoint-url http://$api --region us-east-1)
  tail $log
== to stop the task and the agent: scripts/quickstart.sh stop
EOF_HELP
