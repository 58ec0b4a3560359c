# shellcheck shell=bash
# tests/vm/systemd_journald.sh — sourced by systemd_berthd.sh once berthd.service runs a task, in
# the systemd guest: a task whose container has logConfiguration.logDriver journald writes its
# stdout and stderr lines to the guest's real journald through berth-supervisor (the native
# protocol, no libsystemd), each entry with Docker's fields and the task's (TASK_ARN), found by
# `journalctl CONTAINER_NAME=...`; `berth logs` reads them back.
# Uses its api/wait_status/ok/fail/check helpers; the task is stopped at the end.
jtaskdef='{"family":"berth-vm-journald","networkMode":"none","containerDefinitions":[{"name":"jlog","image":"berth.local/hello:latest","essential":true,"memory":32,"entryPoint":["sh","-c"],"command":["trap \"exit 0\" TERM; echo hello-journald; echo oops-journald >&2; sleep 100000 & wait"],"logConfiguration":{"logDriver":"journald","options":{"tag":"{{.Name}}"}}}]}'
if api RegisterTaskDefinition "$jtaskdef" >/dev/null; then
    ok "RegisterTaskDefinition with logDriver journald is accepted"
else
    fail "RegisterTaskDefinition with logDriver journald"
fi
jarn=$(api RunTask '{"taskDefinition":"berth-vm-journald"}' | jq -r '.tasks[0].taskArn // empty')
has_stdout_line() { # the container's stdout line is in the journal
    journalctl --no-pager -q -o json CONTAINER_NAME=jlog TASK_ARN="$jarn" |
        jq -e -s 'map(select(.MESSAGE == "hello-journald")) | length > 0' >/dev/null
}
container_journal() { within "$1" 1 has_stdout_line; } # SECONDS
if [ -n "$jarn" ] && wait_status "$jarn" RUNNING 120; then
    ok "a task logging to journald is RUNNING ($jarn)"
    check "journalctl CONTAINER_NAME=jlog TASK_ARN=... -o json shows its stdout line" container_journal 60
    journalctl --no-pager -q -o json CONTAINER_NAME=jlog TASK_ARN="$jarn" >/tmp/berth-jlog.json
    check "with PRIORITY 6 for stdout, 3 for stderr, Docker's fields and the task's" sh -c "
        jq -e -s '
          (map(select(.MESSAGE == \"hello-journald\" and .PRIORITY == \"6\")) | length == 1) and
          (map(select(.MESSAGE == \"oops-journald\" and .PRIORITY == \"3\")) | length == 1) and
          all(.CONTAINER_ID_FULL == \"${jarn##*/}-jlog\" and .CONTAINER_TAG == \"jlog\" and
              .SYSLOG_IDENTIFIER == \"jlog\" and .IMAGE_NAME == \"berth.local/hello:latest\" and
              .TASK_ID == \"${jarn##*/}\" and .TASK_FAMILY == \"berth-vm-journald\")' \
          /tmp/berth-jlog.json >/dev/null"
    check "berth logs reads the container's lines back from the journal" sh -c \
        "berth logs '${jarn##*/}' 2>/dev/null | grep -qx hello-journald"
    api StopTask "{\"task\":\"$jarn\"}" >/dev/null
    check "the journald task stops" wait_status "$jarn" STOPPED 60
else
    fail "the journald task did not reach RUNNING ('$jarn'): $(api DescribeTasks "{\"tasks\":[\"$jarn\"]}" |
        jq -c '.tasks[0] | {lastStatus, stoppedReason}')"
    journalctl -u berthd --no-pager | tail -20
fi
