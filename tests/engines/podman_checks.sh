# tests/engines/podman_checks.sh — podman 4.3 (conmon) driving one runtime through the checks.
# Sourced by engines.sh; every container is named "p-<runtime>-<check>" and removed by its check.
# shellcheck shell=bash disable=SC2154,SC2016 # work, berth, cg_parent: set by engines.sh and lib.sh; $ in single quotes expands in the container

image=localhost/busybox:engines
pd_flags=()
R=""                          # the runtime under test, as podman knows it: runc or berth

write_podman_config() {
  cat >"$work/containers.conf" <<EOF
[containers]
# No CAP_SYS_RESOURCE here: podman's default ulimits (nofile 1048576) cannot be set.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[network]
network_backend = "cni"
network_config_dir = "$work/cni"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/libpod"
volume_path = "$work/volumes"
conmon_path = ["$(command -v conmon)"]
# conmon passes only these to the runtime: berth-runtime's cgroup root is our cgroup parent.
conmon_env_vars = ["PATH=$PATH", "BERTH_CGROUP_ROOT=$cg_parent"]
runtime = "runc"
# podman reads a runtime's JSON error log (--log-format=json) only for runtimes named here.
runtime_supports_json = ["runc", "berth"]
[engine.runtimes]
runc = ["$(command -v runc)"]
berth = ["$berth"]
EOF
  # A bridge network of our own whose IPAM state lives in the work directory, not /var/lib/cni.
  cat >"$work/cni/engines.conflist" <<EOF
{ "cniVersion": "0.4.0", "name": "engines",
  "plugins": [
    { "type": "bridge", "bridge": "berth-eng0", "isGateway": true, "ipMasq": false,
      "ipam": { "type": "host-local", "dataDir": "$work/cni-data",
                "ranges": [[{ "subnet": "10.89.7.0/24", "gateway": "10.89.7.1" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } } ] }
EOF
  export CONTAINERS_CONF=$work/containers.conf
  export CONTAINERS_STORAGE_CONF=$work/storage.conf
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$work/storage" "$work/runroot" >"$CONTAINERS_STORAGE_CONF"
  pd_flags=(--root "$work/storage" --runroot "$work/runroot" --storage-driver overlay)
}

pd() { timeout -k 5 60 podman "${pd_flags[@]}" "$@"; }
# pdrun ARGS...: podman run with the runtime under test and our cgroup parent.
pdrun() { pd run --runtime "$R" --cgroup-parent "$cg_parent" "$@"; }

p_run_output_exit() {
  local out rc
  out=$(pdrun --rm --network none "$image" sh -c 'echo hello; echo oops >&2; exit 7' 2>/dev/null)
  rc=$?
  want "output" "$out" hello && want "exit code" "$rc" 7
}

p_detached_exec_logs_stop_rm() {
  local c=p-$R-detached out rc
  pdrun -d --name "$c" --network none "$image" \
    sh -c 'trap "echo bye; exit 0" TERM; echo started; while :; do sleep 0.1; done' >/dev/null || return 1
  out=$(pd exec "$c" sh -c 'echo in-exec; exit 5'); rc=$?
  want "exec output" "$out" in-exec && want "exec exit code" "$rc" 5 || return 1
  out=$(pd exec -u 65534 -w /tmp -e X=y "$c" sh -c 'echo $(id -u) $(pwd) $X')
  want "exec user/workdir/env" "$out" "65534 /tmp y" || return 1
  pd exec -d "$c" sh -c 'echo detached >/tmp/mark' >/dev/null || return 1
  wait_for 5 podman "${pd_flags[@]}" exec "$c" test -f /tmp/mark || { echo "exec -d left no mark"; return 1; }
  pd stop -t 10 "$c" >/dev/null || return 1
  want "state after stop" "$(pd inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")" "exited 0" || return 1
  out=$(pd logs "$c")
  want "logs" "$out" $'started\nbye' || return 1
  pd rm "$c" >/dev/null || return 1
  want "after rm" "$(pd ps -aq --filter name="$c")" ""
}

p_tty_run() {
  local out
  out=$(on_tty "podman ${pd_flags[*]} run --rm -t --runtime $R --cgroup-parent $cg_parent \
        --network none $image sh -c 'tty; test -t 0 && test -t 1 && echo both-tty; exit 3'")
  local rc=$?
  want "tty run output" "$out" $'/dev/pts/0\nboth-tty' && want "exit code" "$rc" 3
}

p_tty_console() {
  local out
  out=$(on_tty "podman ${pd_flags[*]} run --rm -t --runtime $R --cgroup-parent $cg_parent \
        --network none $image sh -c 'test -c /dev/console && echo console-ok'")
  want "/dev/console with a terminal" "$out" console-ok
}

p_tty_exec() {
  local c=p-$R-ttyexec out
  pdrun -d --name "$c" --network none "$image" sleep 1000 >/dev/null || return 1
  out=$(on_tty "podman ${pd_flags[*]} exec -t $c sh -c 'tty; test -t 0 && echo tty-ok'")
  pd rm -f -t 0 "$c" >/dev/null
  want_match "tty exec output" "$out" $'^/dev/pts/[0-9]+\ntty-ok$'
}

p_user_env_workdir() {
  local out
  out=$(pdrun --rm --network none --user 1000:1001 -e FOO=bar -w /tmp "$image" \
        sh -c 'echo $(id -u):$(id -g) $FOO $(pwd)')
  want "user env workdir" "$out" "1000:1001 bar /tmp"
}

p_read_only_root() {
  local out
  out=$(pdrun --rm --network none --read-only "$image" \
        sh -c 'touch /x 2>/dev/null && echo root-writable || echo root-ro; touch /tmp/x && echo tmp-rw')
  want "read-only root" "$out" $'root-ro\ntmp-rw'
}

p_capabilities() {
  local out
  out=$(pdrun --rm --network none --cap-drop all --cap-add net_bind_service --cap-add kill "$image" \
        sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; chown 1 /tmp 2>/dev/null && echo chown-ok')
  want "drop all + add two" "$out" $'CapEff:\t0000000000000420\nCapBnd:\t0000000000000420' || return 1
  out=$(pdrun --rm --network none --cap-drop chown "$image" \
        sh -c 'chown 1 /tmp 2>/dev/null && echo chown-ok || echo chown-denied; touch /tmp/f && chown 1 /tmp/f 2>&1 | grep -c ermitted')
  want "drop chown" "$out" $'chown-denied\n1'
}

p_memory_limit() {
  local c=p-$R-mem out rc
  out=$(pdrun --rm --network none --memory 32m --memory-swap 32m "$image" \
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
  want "memory.limit_in_bytes inside" "$out" 33554432 || return 1
  # dd fills one 64 MiB buffer: the cgroup's OOM killer must end it.
  pdrun --name "$c" --network none --memory 32m --memory-swap 32m "$image" \
    dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
  rc=$?
  # (.State.OOMKilled is not checked: conmon 2.1.6 under podman 4.3 reports false even with runc.)
  out=$(pd inspect -f '{{.HostConfig.Memory}}' "$c")
  pd rm -f "$c" >/dev/null
  want "exit code of the OOM run" "$rc" 137 || return 1
  want "inspect memory" "$out" 33554432
}

p_pids_limit() {
  local out
  # Forks fail once 12 tasks exist; pids.events counts the refusals. read is a builtin: no fork.
  out=$(pdrun --rm --network none --pids-limit 12 "$image" sh -c \
        'read m </sys/fs/cgroup/pids/pids.max; echo $m; (for i in $(seq 30); do sleep 3 & done) 2>/dev/null;
         read e n </sys/fs/cgroup/pids/pids.events; [ "$n" -gt 0 ] && echo refused')
  want "pids.max inside, forks refused" "$out" $'12\nrefused'
}

p_stdin() {
  local out
  out=$(printf 'line1\nline2\n' | pdrun --rm -i --network none "$image" sh -c 'cat; echo eof')
  want "stdin through -i" "$out" $'line1\nline2\neof'
}

p_more_options() {
  local out
  out=$(pdrun --rm --network none --hostname eng-host --ulimit nofile=123:456 --ulimit nproc=1000:1000 \
        --sysctl net.ipv4.ip_unprivileged_port_start=42 --tmpfs /scratch:size=1m --shm-size 2m \
        --cpu-shares 512 --oom-score-adj 100 "$image" sh -c \
        'hostname; ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_unprivileged_port_start;
         df -k /scratch /dev/shm | awk "NR>1 {print \$2}"; cat /sys/fs/cgroup/cpu/cpu.shares;
         cat /proc/self/oom_score_adj')
  want "hostname ulimits sysctl tmpfs shm cpu-shares oom-score-adj" "$out" \
    $'eng-host\n123\n456\n42\n1024\n2048\n512\n100'
}

p_cpu_and_memory_knobs() {
  local out
  out=$(pdrun --rm --network none --cpus 0.5 --cpuset-cpus 0 --memory 64m --memory-reservation 16m \
        --memory-swappiness 10 "$image" sh -c 'cd /sys/fs/cgroup;
        cat cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus memory/memory.soft_limit_in_bytes \
            memory/memory.swappiness')
  want "cfs quota, period, cpuset, soft limit, swappiness" "$out" $'50000\n100000\n0\n16777216\n10'
}

# --rootfs: a plain directory as the root, no image store; mount propagation on a bind.
p_rootfs_dir_and_propagation() {
  local out
  out=$(pdrun --rm --network none --rootfs "$work/rootfs" sh -c 'cat /etc/index.html')
  want "--rootfs" "$out" engines-page || return 1
  out=$(pdrun --rm --network none --mount "type=bind,src=$work/vol,dst=/data,bind-propagation=rslave" \
        "$image" sh -c 'grep " /data " /proc/self/mountinfo | grep -o "master:[0-9]*" | head -c 7')
  want "rslave bind" "$out" master:
}

p_user_namespace() {
  local out
  out=$(pdrun --rm --network none --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$image" sh -c \
        'cat /proc/self/uid_map | tr -s " "; id -u; touch /tmp/f && stat -c %u /tmp/f')
  want "uid map, id, file owner" "$out" $' 0 200000 65536\n0\n0'
}

p_restart() {
  local c=p-$R-restart out
  pdrun -d --name "$c" --network none "$image" sh -c 'echo run; sleep 1000' >/dev/null || return 1
  pd restart -t 0 "$c" >/dev/null || { pd rm -f -t 0 "$c" >/dev/null; return 1; }
  out=$(pd inspect -f '{{.State.Status}}' "$c")
  local logs
  logs=$(pd logs "$c")
  pd rm -f -t 0 "$c" >/dev/null
  want "status after restart" "$out" running && want "logs of both runs" "$logs" $'run\nrun'
}

p_security() {
  local out
  out=$(pdrun --rm --network none --security-opt no-new-privileges "$image" sh -c \
        'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\t"; wc -c </proc/timer_list; ls /sys/firmware | wc -l;
         echo 1 >/proc/sys/kernel/ns_last_pid 2>/dev/null || echo proc-sys-ro')
  want "seccomp, no_new_privs, masked and read-only paths" "$out" $'NoNewPrivs:1\nSeccomp:2\n0\n0\nproc-sys-ro' ||
    return 1
  out=$(pdrun --rm --network none --security-opt seccomp=unconfined "$image" grep ^Seccomp: /proc/self/status)
  want "seccomp=unconfined" "$out" $'Seccomp:\t0'
}

# --pid/--ipc/--network container:X make the runtime join another container's namespaces by path.
p_join_namespaces() {
  local c=p-$R-nsowner out
  pdrun -d --name "$c" --network none "$image" sh -c 'echo owner >/dev/shm/mark; sleep 1000' >/dev/null ||
    return 1
  wait_for 5 podman "${pd_flags[@]}" exec "$c" test -f /dev/shm/mark
  out=$(pdrun --rm --pid "container:$c" --ipc "container:$c" --network "container:$c" "$image" sh -c \
        'ps -o comm | grep -c "^sleep"; cat /dev/shm/mark; readlink /proc/1/ns/net')
  local owner_net
  owner_net=$(pd exec "$c" readlink /proc/1/ns/net)
  pd rm -f -t 0 "$c" >/dev/null
  want "sleep seen, shm shared, same netns" "$out" $'1\nowner\n'"$owner_net"
}

p_published_port() {
  local c=p-$R-port out
  pdrun -d --name "$c" --network engines -p 18080:80 "$image" httpd -f -p 80 -h /etc >/dev/null ||
    return 1
  wait_for 10 busybox wget -O /dev/null http://10.89.7.1:18080/index.html
  out=$(busybox wget -O - http://10.89.7.1:18080/index.html 2>/dev/null)
  pd rm -f -t 0 "$c" >/dev/null
  want "page through the published port" "$out" engines-page
}

p_volumes() {
  local out
  echo from-host >"$work/vol/in"
  out=$(pdrun --rm --network none -v "$work/vol:/data" "$image" sh -c 'cat /data/in; echo from-ctr >/data/out')
  want "bind volume in" "$out" from-host && want "bind volume out" "$(cat "$work/vol/out")" from-ctr || return 1
  out=$(pdrun --rm --network none -v "$work/vol:/data:ro" "$image" sh -c 'echo x >/data/y 2>/dev/null || echo ro-ok')
  want "read-only bind" "$out" ro-ok || return 1
  pd volume create "pv-$R" >/dev/null || return 1
  pdrun --rm --network none -v "pv-$R:/v" "$image" sh -c 'echo kept >/v/f' || return 1
  out=$(pdrun --rm --network none -v "pv-$R:/v" "$image" cat /v/f)
  pd volume rm "pv-$R" >/dev/null
  want "named volume" "$out" kept
}

p_pause_unpause() {
  local c=p-$R-pause out
  pdrun -d --name "$c" --network none "$image" sleep 1000 >/dev/null || return 1
  pd pause "$c" >/dev/null || { pd rm -f -t 0 "$c" >/dev/null; return 1; }
  out=$(pd inspect -f '{{.State.Status}}' "$c")
  local frozen
  frozen=$(cat "/sys/fs/cgroup/freezer$cg_parent/libpod-$(pd inspect -f '{{.Id}}' "$c")/freezer.state")
  pd unpause "$c" >/dev/null
  local after
  after=$(pd exec "$c" echo alive)
  pd rm -f -t 0 "$c" >/dev/null
  want "paused status" "$out" paused && want "freezer.state" "$frozen" FROZEN &&
    want "exec after unpause" "$after" alive
}

p_stats() {
  local c=p-$R-stats out
  pdrun -d --name "$c" --network none --memory 64m "$image" sleep 1000 >/dev/null || return 1
  out=$(pd stats --no-stream --format '{{.PIDs}} {{.MemUsage}}' "$c")
  pd rm -f -t 0 "$c" >/dev/null
  want_match "stats" "$out" '^1 [0-9.]+[kMG]?i?B / 67.1[0-9]*MB$'
}

p_top() {
  local c=p-$R-top out
  pdrun -d --name "$c" --network none "$image" sh -c 'sleep 1000 & wait' >/dev/null || return 1
  wait_for 5 sh -c "podman ${pd_flags[*]} top $c args | grep -q 'sleep 1000'"
  out=$(pd top "$c" pid args)
  pd rm -f -t 0 "$c" >/dev/null
  want_match "top" "$out" 'sleep 1000'
}

p_signals() {
  local c=p-$R-sig out
  pdrun -d --name "$c" --network none "$image" \
    sh -c 'trap "echo got-usr1" USR1; trap "echo got-hup" HUP; echo ready; while :; do sleep 0.1; done' \
    >/dev/null || return 1
  wait_for 5 sh -c "podman ${pd_flags[*]} logs $c | grep -q ready"
  pd kill -s USR1 "$c" >/dev/null || return 1
  wait_for 5 sh -c "podman ${pd_flags[*]} logs $c | grep -q got-usr1"
  pd kill -s HUP "$c" >/dev/null || return 1
  wait_for 5 sh -c "podman ${pd_flags[*]} logs $c | grep -q got-hup"
  out=$(pd logs "$c")
  pd kill -s KILL "$c" >/dev/null
  want "exit code after SIGKILL" "$(pd wait "$c")" 137
  pd rm -f "$c" >/dev/null
  want "signals seen" "$out" $'ready\ngot-usr1\ngot-hup'
}

# The container's processes must be session leaders of their own (setsid), not members of
# conmon's session: otherwise `kill 0` inside reaches the monitor.
p_own_session() {
  local c=p-$R-sid out
  out=$(pdrun --rm --network none "$image" sh -c 'read -r p c s pp g sid x </proc/self/stat; echo $p $sid')
  want "init pid and session" "$out" "1 1" || return 1
  pdrun -d --name "$c" --network none "$image" sleep 1000 >/dev/null || return 1
  out=$(pd exec "$c" sh -c 'read -r p c s pp g sid x </proc/self/stat; [ $p = $sid ] && echo own-session || echo "session $sid pid $p"')
  pd rm -f -t 0 "$c" >/dev/null
  want "exec process session" "$out" own-session
}

# `kill -STOP 0` from the init: with its own session and group it stops nothing outside the
# container (init itself ignores it); in conmon's group it stops conmon.
p_kill_zero_spares_monitor() {
  local c=p-$R-stop0 out mon state starter
  # In the background: a stopped conmon would never tell `run -d` that the container started.
  pdrun -d --name "$c" --network none "$image" sh -c 'kill -STOP 0; echo survived; sleep 1000' \
    >/dev/null 2>&1 &
  starter=$!
  wait_for 10 sh -c "podman ${pd_flags[*]} inspect -f '{{.State.ConmonPid}}' $c | grep -qv '^0$'"
  mon=$(pd inspect -f '{{.State.ConmonPid}}' "$c")
  wait_for 3 sh -c "podman ${pd_flags[*]} logs $c | grep -q survived"
  out=$(pd logs "$c")
  read -r _ _ state _ <"/proc/$mon/stat"
  # Let a stopped monitor go on, so the starter returns and cleanup can work.
  kill -CONT "$mon"
  wait "$starter"
  pd rm -f -t 0 "$c" >/dev/null
  want "conmon state after kill -STOP 0 inside" "$state" S && want "container output" "$out" survived
}

p_run_timeout() {
  local c=p-$R-timeout t0=$SECONDS out log rc
  log=$(timeout -k 2 10 podman "${pd_flags[@]}" run --runtime "$R" --cgroup-parent "$cg_parent" --name "$c" \
    --network none --timeout 2 "$image" sleep 100 2>&1)
  rc=$?
  out=$(pd inspect -f '{{.State.Status}}' "$c" 2>&1)
  pd rm -f -t 0 "$c" >/dev/null
  if [ $((SECONDS - t0)) -ge 9 ]; then
    printf 'run --timeout 2 still running after %s s (exit %s, state %s): %s\n' $((SECONDS - t0)) "$rc" "$out" "$log"
    return 1
  fi
  want "state after --timeout" "$out" exited
}

# Created is not started: `podman init` (conmon and the runtime's create; podman calls that state
# "initialized") leaves the process waiting, nothing in its log, until `podman start` (the
# runtime's start). This is what makes parallel-20's note below about podman's attach stream and
# not about the runtime.
p_created_waits_for_start() {
  local c=p-$R-created before state after
  pd create --runtime "$R" --cgroup-parent "$cg_parent" --name "$c" --network none "$image" \
    sh -c 'echo ran' >/dev/null || return 1
  pd init "$c" >/dev/null || { pd rm -f "$c" >/dev/null; echo "podman init failed"; return 1; }
  sleep 0.5
  before=$(pd logs "$c" 2>&1)
  state=$(pd inspect -f '{{.State.Status}}' "$c" 2>&1)
  after=$(pd start --attach "$c" 2>&1)
  pd rm -f "$c" >/dev/null 2>&1
  want "log before start" "$before" "" && want "state before start" "$state" initialized &&
    want "start --attach" "$after" ran
}

# Twenty `podman run`s at once, attached. What the runtime answers for is that each container
# ran and exited 0 with its line in its log (conmon reads the container's pipe and writes the log
# and the attached stream from the same read). podman's attach stream can miss a fast container's
# output whatever the runtime (podman reads a reset of conmon's attach socket as the end of the
# stream: podman issues 3302 and 11446). CI saw one empty output in about 2000 berth runs, and
# 1200 more here did not repeat it; that run kept neither log nor exit code. So a miss whose log
# has the line, with exit 0, is reported as a note, not a failure. Anything else (no line in the
# log, another exit code, an error) fails and prints the container's state and log. The same
# pattern would come from a runtime that ran the process before `start`: created-waits-for-start
# (above) rules that out, and the summary counts berth-runtime's notes apart.
p_parallel_20() {
  local i dir=$work/par-$R rc=0 out log state
  mkdir -p "$dir"
  for i in $(seq 20); do
    { pdrun --name "p-$R-par$i" --network none "$image" sh -c "echo c$i" >"$dir/$i" 2>&1
      echo "exit $?" >"$dir/$i.rc"; } &
  done
  wait
  for i in $(seq 20); do
    out="$(cat "$dir/$i") $(cat "$dir/$i.rc")"
    [ "$out" = "c$i exit 0" ] && continue
    log=$(pd logs "p-$R-par$i" 2>&1)
    state=$(pd inspect -f '{{.State.Status}} exit {{.State.ExitCode}} error [{{.State.Error}}]' "p-$R-par$i" 2>&1)
    if [ "$out" = " exit 0" ] && [ "$log" = "c$i" ] && [ "$state" = "exited exit 0 error []" ]; then
      note podman "$R" parallel-20 "container $i of 20: podman's attached stream missed [c$i]; its log has it, exit 0"
      continue
    fi
    want "container $i of 20 (podman run's output and exit)" "$out" "c$i exit 0"
    echo "  state: $state"
    echo "  log: [$log]"
    rc=1
  done
  local names=()
  for i in $(seq 20); do names+=("p-$R-par$i"); done
  pd rm -f "${names[@]}" >/dev/null 2>&1
  return $rc
}

p_sigterm_ignored() {
  local c=p-$R-noterm t0 took out
  pdrun -d --name "$c" --network none "$image" \
    sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null || return 1
  wait_for 5 sh -c "podman ${pd_flags[*]} logs $c | grep -q ready"
  t0=$SECONDS
  pd stop -t 2 "$c" >/dev/null 2>&1 || return 1
  took=$((SECONDS - t0))
  if [ "$took" -lt 1 ] || [ "$took" -gt 10 ]; then echo "stop -t 2 took $took s"; return 1; fi
  out=$(pd inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")
  pd rm -f "$c" >/dev/null
  want "state after stop" "$out" "exited 137"
}

p_network_none_loopback() {
  local out
  out=$(pdrun --rm --network none "$image" sh -c \
        'ip -o link show | grep -c ": "; httpd -f -p 127.0.0.1:8000 -h /etc & for i in $(seq 20); do wget -O - http://127.0.0.1:8000/index.html 2>/dev/null && break; sleep 0.1; done')
  want "links and loopback page" "$out" $'1\nengines-page'
}

p_privileged() {
  local out
  out=$(pdrun --rm --network none --privileged "$image" sh -c \
        'grep ^CapEff /proc/self/status; test -c /dev/fuse && echo host-devices')
  want "privileged" "$out" "$(grep ^CapEff /proc/self/status)"$'\nhost-devices'
}

p_device() {
  local out
  out=$(pdrun --rm --network none --device /dev/fuse:/dev/myfuse "$image" sh -c \
        'stat -c "%t:%T" /dev/myfuse; : </dev/myfuse && echo opened')
  want "device" "$out" $'a:e5\nopened'
}

# --systemd=always on cgroup v1: the container must be in its own name=systemd cgroup, and that
# hierarchy is mounted writable for systemd inside.
p_systemd_always() {
  local out
  out=$(pdrun --rm --network none --systemd=always "$image" sh -c \
        'grep name=systemd /proc/self/cgroup; mkdir /sys/fs/cgroup/systemd/probe && rmdir /sys/fs/cgroup/systemd/probe && echo writable')
  want_match "name=systemd cgroup, writable" "$out" "^[0-9]+:name=systemd:$cg_parent/libpod-[0-9a-f]+"$'\nwritable$'
}

p_no_leaks() {
  local out
  out=$(pd ps -aq)
  want "podman ps -a" "$out" "" || return 1
  out=$(grep " $work/storage/overlay/[^ ]*/merged" /proc/self/mountinfo)
  want "rootfs mounts" "$out" "" || return 1
  out=$(find /run/runc /run/berth -mindepth 1 -maxdepth 1 2>/dev/null)
  want "runtime state" "$out" "" || return 1
  out=$(for h in /sys/fs/cgroup/*/; do
          find "$h${cg_parent#/}" -mindepth 1 -maxdepth 1 -type d -name 'libpod-*' 2>/dev/null; done)
  want "container cgroups" "$out" "" || return 1
  out=$(stray_processes | grep -v containerd)
  want "processes" "$out" ""
}

podman_checks() {
  R=$1
  local name
  for name in run_output_exit detached_exec_logs_stop_rm tty_run tty_console tty_exec \
              stdin more_options cpu_and_memory_knobs rootfs_dir_and_propagation security join_namespaces user_namespace restart user_env_workdir read_only_root capabilities memory_limit pids_limit \
              published_port volumes pause_unpause stats top signals own_session \
              kill_zero_spares_monitor run_timeout created_waits_for_start parallel_20 sigterm_ignored \
              network_none_loopback privileged device systemd_always no_leaks; do
    check podman "$R" "${name//_/-}" "p_$name"
  done
}
