# tests/engines/lib.sh — the engines tier's private world and its check bookkeeping.
# Sourced by engines.sh inside its own mount, network and pid namespaces.
# shellcheck shell=bash disable=SC2154 # image, here, pd_flags: set by engines.sh and podman_checks.sh

work=""                       # tmpfs work directory (host path, mounted only in our namespace)
cg_parent=""                  # cgroup parent of every container, "/berth-engines-<rand>"
results=()                    # "engine runtime check ok|FAIL"
passed=0 failed=0 skipped=0

# record ENGINE RUNTIME CHECK ok|FAIL|SKIP [DETAIL [SECONDS]]
record() {
  local engine=$1 rt=$2 name=$3 verdict=$4 detail=${5:-} took=${6:+ (${6} s)}
  results+=("$engine $rt $name $verdict")
  case $verdict in
    ok) passed=$((passed + 1)); printf 'ok    %-10s %-6s %s%s\n' "$engine" "$rt" "$name" "$took" ;;
    SKIP) skipped=$((skipped + 1)); printf 'skip  %-10s %-6s %s: %s\n' "$engine" "$rt" "$name" "$detail" ;;
    *) failed=$((failed + 1)); printf 'FAIL  %-10s %-6s %s%s\n' "$engine" "$rt" "$name" "$took"
       [ -z "$detail" ] || printf '%s\n' "$detail" | tail -n 15 | sed 's/^/      | /' ;;
  esac
}

# note ENGINE RUNTIME CHECK TEXT: something a passing check saw and wants said (printed with the
# summary). A file, not a variable: checks run in subshells.
note() {
  printf 'note  %-10s %-6s %s: %s\n' "$1" "$2" "$3" "$4" >>"$work/notes"
}

# check ENGINE RUNTIME NAME FUNCTION [ARGS...]: the check passes when FUNCTION returns 0; what it
# printed is shown when it fails. FUNCTION runs in a subshell so a failing step cannot leave
# variables behind.
check() {
  local engine=$1 rt=$2 name=$3
  shift 3
  local out t0=$SECONDS
  # BERTH_ENGINES_ONLY=REGEX runs only the matching "engine/runtime/check" names (development).
  [[ -z ${BERTH_ENGINES_ONLY:-} || $engine/$rt/$name =~ ${BERTH_ENGINES_ONLY} ]] || return 0
  if out=$("$@" 2>&1); then
    record "$engine" "$rt" "$name" ok "" $((SECONDS - t0))
  else
    record "$engine" "$rt" "$name" FAIL "$out" $((SECONDS - t0))
  fi
}

# want WHAT GOT EXPECTED: returns 0 when equal, else prints both.
want() {
  if [ "$2" = "$3" ]; then return 0; fi
  printf '%s: got [%s], want [%s]\n' "$1" "$2" "$3"
  return 1
}

# want_match WHAT GOT REGEX
want_match() {
  if [[ $2 =~ $3 ]]; then return 0; fi
  printf '%s: got [%s], want a match of /%s/\n' "$1" "$2" "$3"
  return 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# A tty for podman -t / ctr -t: script(1) runs the command on a new pty. stdin is /dev/null so
# script cannot block on ours; -e passes the command's exit status on.
on_tty() {
  timeout -k 5 60 script -qefc "$*" /dev/null </dev/null | tr -d '\r' | sed 's/\^@//g' | grep -v 'resize pty'
}

make_busybox_rootfs() { # dir
  local dir=$1 applet
  mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root}
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  echo engines-page >"$dir/etc/index.html"
}

setup_private_world() {
  ip link set lo up || return 1
  # /run is where podman keeps netns files, runc and berth their state, containerd its shims:
  # a tmpfs here keeps all of it away from the host's /run.
  mount -t tmpfs -o mode=755 tmpfs /run || return 1
  # podman keeps its blob-info cache in /var/lib/containers and CNI its results in /var/lib/cni
  # whatever --root says: in here they land in a tmpfs.
  mount -t tmpfs -o mode=755 tmpfs /var/lib || return 1
  work=$BERTH_ENGINES_WORK    # made and removed by engines.sh outside the namespaces
  [ -d "$work" ] || return 1
  mount -t tmpfs -o mode=700,size=2g tmpfs "$work" || return 1
  # Shared, as systemd makes a host's mounts, so that rslave/rshared binds have a peer group.
  mount --make-shared "$work" || return 1
  cg_parent=$BERTH_ENGINES_CGROUP
  # berth-runtime refuses a cgroupsPath outside its cgroup root: the engines' cgroup parent is
  # that root here (podman and containerd pass their environment on to the runtime).
  export BERTH_CGROUP_ROOT=$cg_parent
  mkdir -p "$work"/{cni,cni-data,tmp,libpod,volumes,vol}
  export TMPDIR=$work/tmp
  cd "$work" || return 1       # conmon writes its "oom" marker into its working directory
  unset AWS_CA_BUNDLE
  write_podman_config
  make_busybox_rootfs "$work/rootfs"
  tar -C "$work/rootfs" -cf "$work/busybox.tar" . || return 1
  pd import --change 'CMD ["/bin/sh"]' "$work/busybox.tar" "$image" >/dev/null || return 1
  echo "engines: work directory $work, cgroup parent $cg_parent"
}

# Removes what is left of our cgroup parent in every hierarchy (deepest first).
remove_cgroup_parent() {
  local root
  for root in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -d "$root${cg_parent#/}" ] || continue
    find "$root${cg_parent#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}

# Lists processes in our pid namespace other than this script's own shells (and the ps|awk
# here) and zombies our init has not reaped yet.
stray_processes() {
  local me=$BASHPID
  ps -eo pid=,ppid=,stat=,args= | awk -v me="$me" -v self="$here/engines.sh" '
    $1 == 1 || $1 == me || $2 == me || $3 ~ /^Z/ { next }
    $4 == "bash" && index($0, self) { next }
    { print }'
}

teardown_private_world() {
  local pid
  stop_containerd 2>/dev/null
  timeout -k 5 60 podman "${pd_flags[@]}" rm -af -t 0 >/dev/null 2>&1
  # Everything in our pid namespace dies with it, but kill what is left now so the cgroups and
  # mounts below can go.
  for pid in $(ps -eo pid= | awk -v me=$$ '$1 != me && $1 != 1'); do
    kill -9 "$pid" 2>/dev/null
  done
  sleep 0.2
  remove_cgroup_parent
  grep -o " ${work}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
    [ "$m" = "$work" ] || umount -l "$m" 2>/dev/null
  done
  umount -l "$work" 2>/dev/null
  rmdir "$work" 2>/dev/null
}

# leak_check NAME FOUND: passes when FOUND (what was left behind) is empty.
leak_check() {
  if [ -z "$2" ]; then record all - "$1" ok; else record all - "$1" FAIL "$2"; fi
}

# The state every engine and runtime must leave behind once its containers are removed.
final_leak_checks() {
  leak_check no-leaked-mounts "$(grep -E " $work/(storage|containerd)/[^ ]*(merged|rootfs)" /proc/self/mountinfo)"
  leak_check no-leaked-cgroups "$(for root in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
      [ -d "$root${cg_parent#/}" ] || continue
      find "$root${cg_parent#/}" -mindepth 1 -type d ! -name conmon ! -path '*/conmon/*'
    done)"
  leak_check no-leaked-processes "$(stray_processes)"
  leak_check no-leaked-runtime-state "$(find /run/runc /run/berth -mindepth 1 -maxdepth 1 2>/dev/null
    find /run/containerd/runc -mindepth 2 -maxdepth 2 2>/dev/null)"
}

summarize() {
  local line engine rt name verdict regressions=()
  declare -A runc_ok=()
  for line in "${results[@]}"; do
    read -r engine rt name verdict <<<"$line"
    [ "$rt" = runc ] && [ "$verdict" = ok ] && runc_ok["$engine $name"]=1
  done
  for line in "${results[@]}"; do
    read -r engine rt name verdict <<<"$line"
    [ "$rt" = berth ] && [ "$verdict" = FAIL ] && [ -n "${runc_ok["$engine $name"]:-}" ] &&
      regressions+=("$engine/$name")
  done
  if [ -s "$work/notes" ]; then
    cat "$work/notes"
    echo "engines: $(wc -l <"$work/notes") note(s), $(grep -c '^note  [a-z]* *berth ' "$work/notes") of them with berth-runtime"
  fi
  [ ${#regressions[@]} -eq 0 ] ||
    echo "engines: passes with runc, fails with berth-runtime: ${regressions[*]}"
  echo "engines: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}
