#!/bin/sh
# tests/vm/systemd-guest/systemd-run.sh — run by berth-vm.service in the --systemd guest: the
# command with the caller's environment, its output and exit code to the io share.
io=/berth-vm-io
(
    . $io/env.sh
    exec /bin/sh $io/command.sh
) >$io/output 2>&1 </dev/null
echo $? >$io/exit-code
sync
# Power off at once (as guest-stage2.sh does): the exit code is on the share, nothing else in the
# guest is worth a clean shutdown.
echo o >/proc/sysrq-trigger
