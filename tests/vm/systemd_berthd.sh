# tests/vm/systemd_berthd.sh — part 3 of systemd_service.sh (sourced by it, in the systemd guest,
# after part 2 restarted berth-supervisor.service): berthd.service with a task. Uses its
# ok/fail/check. scripts/install.sh a second time (the upgrade path) starts berthd, which is
#   active only after READY=1; the API answers on /run/berth/berthd.sock; a task (the offline demo
#   image examples/hello, loaded with `berth load`) runs in berth-supervisor.service's delegated
#   subtree; `systemctl restart berthd` keeps the container's pid and the task RUNNING
#   (re-adopted); `systemctl stop berthd` leaves it running; STATUS= counts it; `systemctl reload`
#   applies ECS_LOGLEVEL and BERTH_STOP_TASKS_ON_SHUTDOWN live; the watchdog (WatchdogSec=10s
#   here, by a drop-in) restarts a berthd hung with SIGSTOP, the container running on and
#   re-adopted; a task with logDriver journald (tests/vm/systemd_journald.sh); the journal's
#   entries carry TASK_ARN, TASK_ID and CONTAINER_NAME; with the drain
#   key on, `systemctl stop berthd` stops and cleans up the task (no container left); a second
#   task is left running for uninstall to stop.
sock=/run/berth/berthd.sock
api() { # OPERATION JSON: over berthd.sock (root, unsigned), else the TCP port, signed (SigV4)
    # with the credentials berthd generated (<state_dir>/api-credentials) by curl --aws-sigv4
    local via=(--unix-socket "$sock" http://localhost/)
    if [ ! -S $sock ]; then
        local BERTH_API_ACCESS_KEY_ID='' BERTH_API_SECRET_ACCESS_KEY=''
        # shellcheck disable=SC1091
        . /var/lib/berth/api-credentials
        via=(--aws-sigv4 aws:amz:us-east-1:ecs
             --user "$BERTH_API_ACCESS_KEY_ID:$BERTH_API_SECRET_ACCESS_KEY" http://127.0.0.1:51680/)
    fi
    curl -sf --max-time 60 -X POST "${via[@]}" \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}
task_status() { # ARN -> lastStatus
    api DescribeTasks "{\"tasks\":[\"$1\"]}" | jq -r '.tasks[0].lastStatus // "MISSING"'
}
status_is() { [ "$(task_status "$1")" = "$2" ]; } # ARN STATUS
# ARN STATUS SECONDS (of real time: each DescribeTasks costs seconds under TCG)
wait_status() { within "$3" 1 status_is "$1" "$2"; }
container_pid() { # container id -> its init's pid from the runtime's state
    berth-runtime --root /run/berth/containers state "$1" 2>/dev/null | jq -r '.pid // 0'
}

# A short watchdog for this test's wall time (the unit's own is 120 s): set before berthd first
# starts, since systemd passes WATCHDOG_USEC at exec. No core file from the SIGABRT.
dropin=/etc/systemd/system/berthd.service.d
mkdir -p $dropin
printf '[Service]\nWatchdogSec=10s\nTimeoutAbortSec=5s\nRestartSec=1s\nLimitCORE=0\n' >$dropin/test-watchdog.conf
systemctl daemon-reload

if "$src/scripts/install.sh" --from-destdir "$stage"; then
    ok "scripts/install.sh again: idempotent, starts berthd (returns once READY=1)"
else
    fail "scripts/install.sh (second run, starting berthd)"
    journalctl --no-pager -u berthd.service -u berth-supervisor.service | tail -30
fi
check "berthd.service is active" systemctl is-active --quiet berthd.service
check "berthd started no supervisor (nothing to supervise): berth-supervisor.service inactive" \
    sh -c '! systemctl is-active --quiet berth-supervisor.service'
systemctl restart berthd.service
check "berthd restarts while the supervisor is inactive, which stays so" sh -c \
    'systemctl is-active --quiet berthd.service && ! systemctl is-active --quiet berth-supervisor.service'
start_us=$(systemctl show -P ExecMainStartTimestampMonotonic berthd.service)
active_us=$(systemctl show -P ActiveEnterTimestampMonotonic berthd.service)
check "berthd.service became active after its start, on READY=1 (Type=notify)" \
    test "$active_us" -ge "$start_us" -a "$(systemctl show -P Type berthd.service)" = notify
clusters=$(api ListClusters '{}' || echo "")
if [ -n "$clusters" ] && echo "$clusters" | jq -e '.clusterArns' >/dev/null 2>&1; then
    ok "ListClusters ($( [ -S $sock ] && echo $sock || echo 127.0.0.1:51680)): $clusters"
else
    fail "ListClusters answered '$clusters' ($(ls /run/berth))"
fi

if berth load -i "$stage/hello.tar" >/dev/null; then
    ok "the demo image examples/hello (built on the host) is loaded offline (berth load)"
else
    fail "berth load -i $stage/hello.tar"
fi
# The task part. Debian 12's kernel (6.1) has no fsconfig "lowerdir+": image/rootfs.cpp falls
# back to a mount(2) option string there, which this part proves on a real old kernel.
taskdef='{"family":"berth-vm-hello","networkMode":"none","containerDefinitions":[{"name":"web","image":"berth.local/hello:latest","essential":true,"memory":64}]}'
api RegisterTaskDefinition "$taskdef" >/dev/null || fail "RegisterTaskDefinition"
arn=$(api RunTask '{"taskDefinition":"berth-vm-hello"}' | jq -r '.tasks[0].taskArn // empty')
if [ -n "$arn" ] && wait_status "$arn" RUNNING 120; then
    ok "RunTask: $arn is RUNNING"
    id=${arn##*/}-web
    cpid=$(container_pid "$id")
    check "the container $id has a live pid ($cpid)" kill -0 "$cpid"
    check "its cgroup is in berth-supervisor.service's delegated subtree" \
        grep -q "^0::/system.slice/berth-supervisor.service/" "/proc/$cpid/cgroup"
    spid=$(systemctl show -P MainPID berth-supervisor.service)
    check "the task started berth-supervisor.service through its socket (pid $spid)" \
        systemctl is-active --quiet berth-supervisor.service

    systemctl restart berthd.service
    check "systemctl restart berthd: active again" systemctl is-active --quiet berthd.service
    check "the container kept its pid $cpid across the restart" kill -0 "$cpid"
    check "and the supervisor its pid $spid (idle time 3 s, a container keeps it)" \
        test "$(systemctl show -P MainPID berth-supervisor.service)" = "$spid"
    check "the task is RUNNING after the restart (re-adopted)" wait_status "$arn" RUNNING 60
    check "the runtime still reports the same pid" test "$(container_pid "$id")" = "$cpid"

    systemctl stop berthd.service
    check "systemctl stop berthd: inactive" sh -c '! systemctl is-active --quiet berthd.service'
    check "the container still runs with berthd stopped" kill -0 "$cpid"
    systemctl start berthd.service
    check "berthd starts again and the task is RUNNING" wait_status "$arn" RUNNING 60
    . "$(dirname "${BASH_SOURCE[0]}")/systemd_journald.sh"
    . "$(dirname "${BASH_SOURCE[0]}")/systemd_lifecycle.sh"
else
    fail "RunTask did not reach RUNNING (task '$arn'): $(api DescribeTasks "{\"tasks\":[\"$arn\"]}" |
        jq -c '.tasks[0] | {lastStatus, stoppedReason, containers: [.containers[] | {lastStatus, reason}]}')"
    journalctl -u berthd --no-pager | tail -20
fi
rm -rf "$dropin" # the test's watchdog drop-in: uninstall removes only what install.sh added
systemctl daemon-reload
