# tests/engines/containerd_checks.sh — a private containerd 1.6 daemon; `ctr run --runc-binary`
# makes the runc v2 shim (BinaryName) drive one runtime through the checks.
# shellcheck shell=bash disable=SC2154,SC2016 # work, cg_parent, image: set by lib.sh and podman_checks.sh; $ in single quotes expands in the container

ctr_dir=""                    # $work/containerd: config, root, state, socket, log
ctr_pid=""
RB=""                         # the runtime binary under test
RN=""                         # its short name, for container names

# -k: `ctr run` forwards SIGTERM to the container, whose init may ignore it.
c() { timeout -k 5 60 ctr --address "$ctr_dir/containerd.sock" -n engines "$@"; }
# crun_ NAME ARGS... -- CMD...: ctr run with the runtime under test, in our cgroup parent.
crun_() {
  local name=$1
  shift
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  c run --runc-binary "$RB" --cgroup "$cg_parent/$name" "${opts[@]}" "$image" "$name" "$@"
}
ctr_cleanup() { # name
  c task kill -s SIGKILL "$1" >/dev/null 2>&1
  wait_for 5 sh -c "! ctr --address $ctr_dir/containerd.sock -n engines task ls | grep -q '^$1 .*RUNNING'"
  c task delete "$1" >/dev/null 2>&1
  c container delete "$1" >/dev/null 2>&1
}
task_status() { c task ls | awk -v n="$1" '$1 == n {print $3}'; }

start_containerd() {
  ctr_dir=$work/containerd
  mkdir -p "$ctr_dir/logs"
  cat >"$ctr_dir/config.toml" <<EOF
version = 2
root = "$ctr_dir/root"
state = "$ctr_dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctr_dir/containerd.sock"
[ttrpc]
  address = "$ctr_dir/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctr_dir/opt"
EOF
  containerd --config "$ctr_dir/config.toml" --log-level warn >"$ctr_dir/log" 2>&1 &
  ctr_pid=$!
  wait_for 20 test -S "$ctr_dir/containerd.sock" || return 1
  pd save --format oci-archive -o "$work/busybox-oci.tar" "$image" >/dev/null || return 1
  c image import "$work/busybox-oci.tar" >/dev/null || return 1
  c image ls -q | grep -qx "$image"
}

stop_containerd() {
  [ -n "$ctr_pid" ] || return 0
  local n
  for n in $(c task ls -q 2>/dev/null) $(c container ls -q 2>/dev/null); do ctr_cleanup "$n"; done
  kill "$ctr_pid" 2>/dev/null
  wait "$ctr_pid" 2>/dev/null
  ctr_pid=""
}

c_run_output_exit() {
  local n=c-$RN-run out rc
  out=$(crun_ "$n" --rm -- sh -c 'echo hello; echo oops >&2; exit 7' 2>/dev/null)
  rc=$?
  want "output" "$out" hello && want "exit code" "$rc" 7
}

c_detached_exec_logs_stop_rm() {
  local n=c-$RN-detached out rc log=$ctr_dir/logs/c-$RN-detached
  crun_ "$n" -d --log-uri "file://$log" -- \
    sh -c 'trap "echo bye; exit 0" TERM; echo started; while :; do sleep 0.1; done' || return 1
  out=$(c task exec --exec-id e1 "$n" sh -c 'echo in-exec; sleep 0.2; exit 5'); rc=$?
  if ! want "exec output" "$out" in-exec || ! want "exec exit code" "$rc" 5; then ctr_cleanup "$n"; return 1; fi
  c task exec -d --exec-id e3 "$n" sh -c 'echo detached >/tmp/mark' || { ctr_cleanup "$n"; return 1; }
  wait_for 5 ctr --address "$ctr_dir/containerd.sock" -n engines task exec --exec-id e4 "$n" test -f /tmp/mark ||
    { echo "exec -d left no mark"; ctr_cleanup "$n"; return 1; }
  out=$(c task exec --exec-id e2 --user 65534 --cwd /tmp "$n" sh -c 'echo $(id -u) $(pwd); sleep 0.2')
  want "exec user/cwd" "$out" "65534 /tmp" || { ctr_cleanup "$n"; return 1; }
  c task kill "$n" || return 1
  wait_for 10 sh -c "[ \"\$(ctr --address $ctr_dir/containerd.sock -n engines task ls | awk '\$1 == \"$n\" {print \$3}')\" = STOPPED ]" ||
    { echo "task not stopped by SIGTERM: $(task_status "$n")"; ctr_cleanup "$n"; return 1; }
  out=$(cat "$log")
  want "log" "$out" $'started\nbye' || { ctr_cleanup "$n"; return 1; }
  c task delete "$n" >/dev/null && c container delete "$n" || return 1
  want "containers left" "$(c container ls -q | grep -x "$n")" ""
}

# ctr may lose the last output of a process that exits right after writing it (its copy races the
# process's exit: containerd issues 3738 and 4107; seen with runc as much as with berth-runtime, on
# a terminal and on `task exec`'s pipes), so the commands whose output a check reads wait 0.2 s
# after their last write.
c_tty_run() {
  local out rc
  out=$(on_tty "ctr --address $ctr_dir/containerd.sock -n engines run --rm -t --runc-binary $RB \
        --cgroup $cg_parent/c-$RN-tty $image c-$RN-tty sh -c 'tty; test -t 0 && test -t 1 && echo both-tty; sleep 0.2; exit 3'")
  rc=$?
  want "tty run output" "$out" $'/dev/console\nboth-tty' || want "tty run output" "$out" $'/dev/pts/0\nboth-tty' ||
    return 1
  want "exit code" "$rc" 3
}

c_tty_console() {
  local out
  out=$(on_tty "ctr --address $ctr_dir/containerd.sock -n engines run --rm -t --runc-binary $RB \
        --cgroup $cg_parent/c-$RN-con $image c-$RN-con sh -c 'test -c /dev/console && echo console-ok; sleep 0.2'")
  want "/dev/console with a terminal" "$out" console-ok
}

c_tty_exec() {
  local n=c-$RN-ttyexec out
  crun_ "$n" -d -- sleep 1000 || return 1
  out=$(on_tty "ctr --address $ctr_dir/containerd.sock -n engines task exec -t --exec-id t1 $n \
        sh -c 'tty; test -t 0 && echo tty-ok; sleep 0.2'")
  ctr_cleanup "$n"
  want_match "tty exec output" "$out" $'^/dev/pts/[0-9]+\ntty-ok$'
}

c_env_cwd() {
  local out
  out=$(crun_ "c-$RN-env" --rm --env FOO=bar --cwd /tmp -- sh -c 'echo $FOO $(pwd) $(id -u)')
  want "env cwd user" "$out" "bar /tmp 0"
}

c_read_only_root() {
  local out
  out=$(crun_ "c-$RN-ro" --rm --read-only -- sh -c 'touch /x 2>/dev/null && echo root-writable || echo root-ro')
  want "read-only root" "$out" root-ro
}

c_capabilities() {
  local out
  out=$(crun_ "c-$RN-caps" --rm --cap-drop CAP_CHOWN --cap-add CAP_SYS_ADMIN -- sh -c \
        'grep ^CapEff /proc/self/status; touch /f; chown 1 /f 2>/dev/null && echo chown-ok || echo chown-denied')
  want "caps" "$out" $'CapEff:\t00000000a82425fa\nchown-denied'
}

c_memory_limit() {
  local n=c-$RN-mem out rc
  crun_ "$n" --rm --memory-limit 33554432 -- dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
  rc=$?
  want "exit code of the OOM run" "$rc" 137 || return 1
  crun_ "$n" -d --memory-limit 33554432 -- sleep 1000 || return 1
  out=$(c task metrics "$n" 2>&1)
  ctr_cleanup "$n"
  want_match "metrics report the limit" "$out" 'memory\.limit_in_bytes +33554432'
}

c_security() {
  local out
  out=$(crun_ "c-$RN-sec" --rm --seccomp -- sh -c \
        'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\t"; wc -c </proc/timer_list;
         echo 1 >/proc/sys/kernel/ns_last_pid 2>/dev/null || echo proc-sys-ro')
  want "seccomp, no_new_privs, masked and read-only paths" "$out" $'NoNewPrivs:1\nSeccomp:2\n0\nproc-sys-ro'
}

# --with-ns: the runtime joins another task's namespaces by path.
c_join_namespaces() {
  local n=c-$RN-nsowner out pid owner_net
  crun_ "$n" -d -- sleep 1000 || return 1
  pid=$(c task ls | awk -v n="$n" '$1 == n {print $2}')
  owner_net=$(readlink "/proc/$pid/ns/net")
  out=$(crun_ "c-$RN-nsjoin" --rm --with-ns "network:/proc/$pid/ns/net" --with-ns "pid:/proc/$pid/ns/pid" -- \
        sh -c 'ps -o comm | grep -c "^sleep"; readlink /proc/self/ns/net')
  ctr_cleanup "$n"
  want "sleep seen, same netns" "$out" $'1\n'"$owner_net"
}

c_volumes() {
  local out
  echo from-host >"$work/vol/in-c"
  out=$(crun_ "c-$RN-vol" --rm --mount "type=bind,src=$work/vol,dst=/data,options=rbind:rw" -- \
        sh -c 'cat /data/in-c; echo from-ctr >/data/out-c')
  want "bind in" "$out" from-host && want "bind out" "$(cat "$work/vol/out-c")" from-ctr || return 1
  out=$(crun_ "c-$RN-vol" --rm --mount "type=bind,src=$work/vol,dst=/data,options=rbind:ro" -- \
        sh -c 'echo x >/data/y 2>/dev/null || echo ro-ok')
  want "read-only bind" "$out" ro-ok
}

c_pause_resume() {
  local n=c-$RN-pause st frozen after
  crun_ "$n" -d -- sleep 1000 || return 1
  c task pause "$n" || { ctr_cleanup "$n"; return 1; }
  st=$(task_status "$n")
  frozen=$(cat "/sys/fs/cgroup/freezer$cg_parent/$n/freezer.state")
  c task resume "$n"
  after=$(c task exec --exec-id a1 "$n" sh -c 'echo alive; sleep 0.2')
  ctr_cleanup "$n"
  want "paused status" "$st" PAUSED && want "freezer.state" "$frozen" FROZEN &&
    want "exec after resume" "$after" alive
}

c_stats() {
  local n=c-$RN-stats out
  crun_ "$n" -d -- sleep 1000 || return 1
  out=$(c task metrics "$n" 2>&1)
  ctr_cleanup "$n"
  # pids.current counts tasks: right after start the shim may still see more than one.
  want_match "metrics" "$out" 'memory\.usage_in_bytes +[1-9][0-9]*' &&
    want_match "metrics" "$out" 'pids\.current +[1-9]'
}

c_top() {
  local n=c-$RN-top out
  crun_ "$n" -d -- sh -c 'sleep 1000 & wait' || return 1
  sleep 0.3
  out=$(c task ps "$n" 2>&1)
  ctr_cleanup "$n"
  # header + the shell + sleep
  want "ps lines" "$(printf '%s\n' "$out" | grep -c '^[0-9]')" 2 || { echo "$out"; return 1; }
}

c_signals() {
  local n=c-$RN-sig log=$ctr_dir/logs/c-$RN-sig out
  crun_ "$n" -d --log-uri "file://$log" -- \
    sh -c 'trap "echo got-usr1" USR1; trap "echo got-hup" HUP; echo ready; while :; do sleep 0.1; done' || return 1
  wait_for 5 grep -q ready "$log"
  c task kill -s SIGUSR1 "$n" || { ctr_cleanup "$n"; return 1; }
  wait_for 5 grep -q got-usr1 "$log"
  c task kill -s SIGHUP "$n" || { ctr_cleanup "$n"; return 1; }
  wait_for 5 grep -q got-hup "$log"
  out=$(cat "$log")
  ctr_cleanup "$n"
  want "signals seen" "$out" $'ready\ngot-usr1\ngot-hup'
}

c_own_session() {
  local n=c-$RN-sid out
  out=$(crun_ "$n" --rm -- sh -c 'read -r p c s pp g sid x </proc/self/stat; echo $p $sid')
  want "init pid and session" "$out" "1 1" || return 1
  crun_ "$n" -d -- sleep 1000 || return 1
  out=$(c task exec --exec-id s1 "$n" sh -c 'read -r p c s pp g sid x </proc/self/stat; [ $p = $sid ] && echo own-session || echo "session $sid pid $p"; sleep 0.2')
  ctr_cleanup "$n"
  want "exec process session" "$out" own-session
}

# As p_kill_zero_spares_monitor: the init's `kill -STOP 0` must not reach the shim.
c_kill_zero_spares_shim() {
  local n=c-$RN-stop0 log=$ctr_dir/logs/c-$RN-stop0 shim state out starter
  # In the background: a stopped shim would never answer the start request.
  crun_ "$n" -d --log-uri "file://$log" -- sh -c 'kill -STOP 0; echo survived; sleep 1000' &
  starter=$!
  wait_for 3 grep -q survived "$log"
  out=$(cat "$log")
  # The shim daemonizes (parent: our pid namespace's init).
  shim=$(ps -eo pid=,ppid=,args= | awk -v id="-id $n " '$2 == 1 && index($0, id) && /containerd-shim/ {print $1}')
  read -r _ _ state _ <"/proc/$shim/stat"
  kill -CONT "$shim"
  wait "$starter"
  ctr_cleanup "$n"
  want "shim state after kill -STOP 0 inside" "$state" S && want "container output" "$out" survived
}

c_parallel_20() {
  local i dir=$work/cpar-$RN
  mkdir -p "$dir"
  for i in $(seq 20); do
    crun_ "c-$RN-par$i" --rm -- sh -c "echo c$i" >"$dir/$i" 2>&1 &
  done
  wait
  for i in $(seq 20); do
    want "container $i of 20" "$(cat "$dir/$i")" "c$i" || return 1
  done
}

c_sigterm_ignored() {
  local n=c-$RN-noterm log=$ctr_dir/logs/c-$RN-noterm st
  crun_ "$n" -d --log-uri "file://$log" -- sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' ||
    return 1
  wait_for 5 grep -q ready "$log"
  c task kill -s SIGTERM "$n"
  sleep 1
  st=$(task_status "$n")
  c task kill -s SIGKILL "$n"
  wait_for 5 sh -c "[ \"\$(ctr --address $ctr_dir/containerd.sock -n engines task ls | awk '\$1 == \"$n\" {print \$3}')\" = STOPPED ]"
  local after
  after=$(task_status "$n")
  ctr_cleanup "$n"
  want "after SIGTERM" "$st" RUNNING && want "after SIGKILL" "$after" STOPPED
}

c_network_loopback() {
  local out
  out=$(crun_ "c-$RN-lo" --rm -- sh -c \
        'ip -o link show | grep -c ": "; httpd -f -p 127.0.0.1:8000 -h /etc & for i in $(seq 20); do wget -O - http://127.0.0.1:8000/index.html 2>/dev/null && break; sleep 0.1; done')
  want "links and loopback page" "$out" $'1\nengines-page'
}

c_privileged() {
  local out
  out=$(crun_ "c-$RN-priv" --rm --privileged -- sh -c \
        'grep ^CapEff /proc/self/status; test -c /dev/fuse && echo host-devices')
  want "privileged" "$out" "$(grep ^CapEff /proc/self/status)"$'\nhost-devices'
}

c_device() {
  local out
  out=$(crun_ "c-$RN-dev" --rm --device /dev/fuse -- sh -c 'stat -c "%t:%T" /dev/fuse; : </dev/fuse && echo opened')
  want "device" "$out" $'a:e5\nopened'
}

c_no_leaks() {
  local out
  want "containers" "$(c container ls -q)" "" && want "tasks" "$(c task ls -q)" "" || return 1
  out=$(stray_processes | grep -v "containerd --config")
  want "processes" "$out" "" || return 1
  out=$(find /run/containerd/runc -mindepth 2 -maxdepth 2 2>/dev/null)
  want "runtime state" "$out" "" || return 1
  out=$(grep " $ctr_dir/[^ ]*/rootfs " /proc/self/mountinfo)
  want "rootfs mounts" "$out" "" || return 1
  out=$(for h in /sys/fs/cgroup/*/; do
          find "$h${cg_parent#/}" -mindepth 1 -maxdepth 1 -type d -name 'c-*' 2>/dev/null; done)
  want "container cgroups" "$out" ""
}

containerd_checks() {
  RN=$1 RB=$2
  local name
  for name in run_output_exit detached_exec_logs_stop_rm tty_run tty_console tty_exec env_cwd \
              read_only_root capabilities security join_namespaces memory_limit volumes pause_resume stats top signals \
              own_session kill_zero_spares_shim parallel_20 sigterm_ignored network_loopback \
              privileged device no_leaks; do
    check containerd "$RN" "${name//_/-}" "c_$name"
  done
}
