# shellcheck shell=bash
# tests/vm/systemd_lifecycle.sh — sourced by systemd_berthd.sh once its task ($arn, container $id
# with pid $cpid) is RUNNING under berthd.service, in the systemd guest (WatchdogSec=10s from
# its drop-in): STATUS=, SIGHUP reload, the watchdog restarting a hung berthd, the journal's
# structured fields, and the drain on stop (BERTH_STOP_TASKS_ON_SHUTDOWN). Uses its helpers.
status_has() { case "$(systemctl show -P StatusText berthd.service)" in *"$1"*) return 0 ;; esac; return 1; }
status_says() { within "$2" 1 status_has "$1"; } # TEXT SECONDS: StatusText (STATUS=) contains TEXT
journal_matches() { [ -n "$(journalctl --no-pager -q -u berthd.service -o cat "$@")" ]; }
journal_has() { # SECONDS journalctl-match...: berthd wrote a matching entry (since the test began)
    local seconds=$1
    shift
    within "$seconds" 1 journal_matches "$@"
}
check "STATUS= says the task runs ($(systemctl show -P StatusText berthd.service))" \
    status_says "1 tasks running" 20

# ---- reload ----
pid=$(systemctl show -P MainPID berthd.service)
# ECS_CONTAINER_STOP_TIMEOUT applies to tasks started (or, after a restart, restored) from now
# on: the demo's httpd is PID 1 of its container and ignores SIGTERM, so the drain's SIGKILL
# comes after 2 s instead of 30.
printf 'ECS_LOGLEVEL=debug\nBERTH_STOP_TASKS_ON_SHUTDOWN=true\nECS_CONTAINER_STOP_TIMEOUT=2s\n' \
    >>/etc/berth/berth.conf
if systemctl reload berthd.service; then ok "systemctl reload berthd"; else fail "systemctl reload berthd"; fi
check "the reload applied ECS_CONTAINER_STOP_TIMEOUT, ECS_LOGLEVEL, BERTH_STOP_TASKS_ON_SHUTDOWN" \
    journal_has 20 BERTH_APPLIED=ECS_CONTAINER_STOP_TIMEOUT,ECS_LOGLEVEL,BERTH_STOP_TASKS_ON_SHUTDOWN
check "berthd kept running through the reload (same pid $pid)" \
    test "$(systemctl show -P MainPID berthd.service)" = "$pid" -a \
    "$(systemctl show -P ActiveState berthd.service)" = active

# ---- watchdog ----
restarts=$(systemctl show -P NRestarts berthd.service)
kill -STOP "$pid"
restarted() { # berthd.service active again with a main pid other than $pid
    local now
    now=$(systemctl show -P MainPID berthd.service)
    [ "$now" != "$pid" ] && [ "$now" != 0 ] && systemctl is-active --quiet berthd.service
}
new_pid_after() { within "$1" 1 restarted; } # SECONDS
if new_pid_after 120; then
    ok "the watchdog restarted the hung berthd (pid $pid -> $(systemctl show -P MainPID berthd.service), NRestarts $restarts -> $(systemctl show -P NRestarts berthd.service))"
else
    fail "no watchdog restart of the hung berthd (pid $pid, state $(systemctl show -P ActiveState berthd.service))"
    kill -CONT "$pid" 2>/dev/null
fi
check "systemd logged the watchdog timeout" sh -c \
    "journalctl --no-pager -q -u berthd.service | grep -q 'Watchdog timeout'"
check "the container kept its pid $cpid through the watchdog restart" kill -0 "$cpid"
check "the task is RUNNING after it (re-adopted)" wait_status "$arn" RUNNING 60

# ---- drain on stop ----
systemctl stop berthd.service
check "with BERTH_STOP_TASKS_ON_SHUTDOWN, systemctl stop berthd stopped the container first" \
    sh -c "! kill -0 $cpid 2>/dev/null"
check "and cleaned it up: the runtime has no container left" \
    test -z "$(berth-runtime --root /run/berth/containers list -q 2>/dev/null)"
check "berthd said so in the journal" journal_has 5 MESSAGE="every task stopped and cleaned up"
check "with no container left, berth-supervisor.service exits by itself and goes inactive" \
    until_state berth-supervisor.service inactive 60
check "it exited 0 and its socket still listens" sh -c \
    'test "$(systemctl show -P Result berth-supervisor.service)" = success &&
     systemctl is-active --quiet berth-supervisor.socket'
check "berthd.service stopped cleanly (inactive, not failed)" \
    test "$(systemctl show -P ActiveState berthd.service)" = inactive

# ---- journal fields (the drain's container status lines are debug lines) ----
check "journal entries carry TASK_ARN=$arn" journal_has 5 "TASK_ARN=$arn"
check "and TASK_ID=${arn##*/}, CONTAINER_NAME=web (journalctl -o json)" sh -c \
    "journalctl --no-pager -q -u berthd.service -o json TASK_ARN='$arn' CONTAINER_NAME=web |
     jq -e -s 'map(select(.TASK_ID == \"${arn##*/}\" and .PRIORITY != null)) | length > 0' >/dev/null"
check "ECS_LOGLEVEL=debug is in force: debug entries (PRIORITY=7)" journal_has 5 PRIORITY=7

# A second task for uninstall to stop through the API.
systemctl start berthd.service
check "berthd reports the drained task STOPPED" wait_status "$arn" STOPPED 60
arn=$(api RunTask '{"taskDefinition":"berth-vm-hello"}' | jq -r '.tasks[0].taskArn // empty')
if [ -n "$arn" ] && wait_status "$arn" RUNNING 120; then
    ok "a second task runs for uninstall to stop (its create started the supervisor again)"
    cpid=$(container_pid "${arn##*/}-web")
else
    fail "the second task did not reach RUNNING ('$arn')"
fi
