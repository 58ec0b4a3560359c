# bench/lib.sh — the timing loop shared by bench/runtime_run.sh (berth-runtime vs runc, on this
# host) and bench/runtime_pair.sh (berth-runtime vs crun, in the cgroup v2 guest). Sourced, not
# run. The caller sets, before calling bench:
#   bench_tag          name in messages, container ids ("<tag>-berth") and cgroup paths
#   work               its scratch directory (the caller removes it; bench_delete_containers first)
#   rootfs base_config the shared rootfs (absolute) and the config.json bundles are derived from
#   berth peer peer_bin  berth-runtime's binary, the compared runtime's name ("runc") and binary
#   iterations warmup  timed runs per runtime and workload, and untimed ones before them
# Runs alternate berth, peer, berth, peer, ... so drift on a shared machine hits both alike.

# Force-deletes the containers bench may have left (an interrupted run).
bench_delete_containers() {
  "$berth" --root "$work/state-berth" delete --force "$bench_tag-berth" >/dev/null 2>&1 || true
  "$peer_bin" --root "$work/state-$peer" delete --force "$bench_tag-$peer" >/dev/null 2>&1 || true
}

# One bundle per runtime and workload, sharing the rootfs (root.path is absolute).
bench_make_bundle() { # name args-json
  mkdir -p "$work/$1"
  jq --argjson args "$2" --arg root "$rootfs" --arg cg "/berth-test-$bench_tag-$$-$1" \
    '.process.args = $args | .root.path = $root | .linux.cgroupsPath = $cg' \
    "$base_config" >"$work/$1/config.json"
}

bench_now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# Prints the elapsed microseconds of one `run`; fails loudly if the container did not exit 0.
bench_time_run() { # bin state bundle id
  local start end
  start=$(bench_now_us)
  if ! "$1" --root "$2" run --bundle "$3" "$4" >/dev/null 2>"$work/err" </dev/null; then
    echo "$bench_tag: $1 run failed: $(cat "$work/err")" >&2
    exit 1
  fi
  end=$(bench_now_us)
  echo $((end - start))
}

bench_stats() { # file -> "mean median min stddev" in ms
  sort -n "$1" | awk '{ v[NR] = $1; s += $1; ss += $1 * $1 }
    END { m = s / NR; med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          sd = sqrt(ss / NR - m * m);
          printf "%.2f %.2f %.2f %.2f\n", m / 1000, med / 1000, v[1] / 1000, sd / 1000 }'
}

bench_header() {
  printf '%-14s %-14s %9s %9s %9s %9s\n' workload runtime mean_ms median_ms min_ms stddev_ms
}

# Times one workload under both runtimes and prints a row per runtime and the berth/peer ratios.
bench() { # slug label args-json
  local name=$1 label=$2 args=$3 rt bin us i bm bmed bmin bsd pm pmed pmin psd
  for rt in berth "$peer"; do bench_make_bundle "$name-$rt" "$args"; : >"$work/$name-$rt.us"; done
  for ((i = 0; i < warmup + iterations; i++)); do
    for rt in berth "$peer"; do
      bin=$berth; [ "$rt" = "$peer" ] && bin=$peer_bin
      us=$(bench_time_run "$bin" "$work/state-$rt" "$work/$name-$rt" "$bench_tag-$rt")
      [ "$i" -ge "$warmup" ] && echo "$us" >>"$work/$name-$rt.us"
    done
  done
  # Here-strings, not <(...): the VM guest has no /dev/fd.
  read -r bm bmed bmin bsd <<<"$(bench_stats "$work/$name-berth.us")"
  read -r pm pmed pmin psd <<<"$(bench_stats "$work/$name-$peer.us")"
  printf '%-14s %-14s %9s %9s %9s %9s\n' "$label" berth-runtime "$bm" "$bmed" "$bmin" "$bsd"
  printf '%-14s %-14s %9s %9s %9s %9s\n' "" "$peer" "$pm" "$pmed" "$pmin" "$psd"
  awk -v b="$bm" -v p="$pm" -v bmed="$bmed" -v pmed="$pmed" -v peer="$peer" 'BEGIN {
    printf "%-14s berth/%-8s mean %.2fx   median %.2fx\n", "", peer, b / p, bmed / pmed }'
}
