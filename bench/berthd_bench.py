"""bench/berthd_bench.py — berthd's figures next to the incumbent's (amazon-ecs-agent + Docker,
as recorded in issue 17 on this machine kind: 275 ms payload-to-RUNNING, 100-115 MB RSS idle).
Runs as root inside the namespaces tests/e2e/run.sh makes (bench/berthd.sh calls it that way).
  start [N]          task start to RUNNING: a cached image, bridge mode, one dynamic host port;
                     from the RunTask request to the first DescribeTasks answer saying RUNNING
                     (polled every 2 ms on the unix socket), N timed runs after 3 untimed ones;
                     then how busy the host was meanwhile (/proc/stat: the share of CPU time
                     stolen by the hypervisor, and the load), since this shared machine's
                     figures move with both
  rss [COUNTS...]    PSS and RSS of every process berth runs (berthd, berth-supervisor, any
                     other berth binary; not the containers' own processes), each line naming
                     the processes it counts: idle (a fresh berthd: berth-supervisor runs only
                     while it has something to supervise, so berthd alone unless the build
                     starts one at once), then with the supervisor running and no container
                     (just after a task's container ended, before the supervisor's idle exit),
                     then with each count of running containers (default 1 100); with
                     BERTH_BENCH_SMAPS=1, each process's RSS by mapping (/proc/<pid>/smaps:
                     anonymous, file, shmem); with BERTH_BENCH_TEXT=1, how many pages of
                     berthd's own text are resident (the present bits of its r-xp mapping in
                     /proc/<pid>/pagemap)"""
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

from berth_e2e import BUILD, HELLO, Agent, check, hello_archive, task_id, stop_everything

INCUMBENT_START_MS = 275.0
INCUMBENT_RSS_MB = (100.0, 115.0)
HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
IDLE = "trap 'exit 0' TERM; while true; do sleep 1; done"


def agent(work):
    a = Agent(work, "bench", env={"ECS_LOGLEVEL": "info"})
    a.load(hello_archive(work))
    a.start()
    return a


def cpu_times():
    """The host's cumulative CPU times from /proc/stat: (busy, idle, steal) in ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq, idle + iowait, steal


def host_share(before, after):
    busy, idle, steal = (a - b for a, b in zip(after, before))
    total = max(1, busy + idle + steal)
    return (f"host during the runs: busy {100 * busy / total:.0f}%, "
            f"stolen by the hypervisor {100 * steal / total:.0f}%, "
            f"load average {os.getloadavg()[0]:.1f}")


def start(work, runs):
    a = agent(work)
    try:
        a.call("RegisterTaskDefinition", {
            "family": "bench-start", "networkMode": "bridge", "containerDefinitions": [{
                "name": "web", "image": HELLO, "essential": True, "memory": 32,
                "entryPoint": ["/bin/sh", "-c"], "command": [IDLE], "stopTimeout": 2,
                "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]}]})
        times = []
        before = None
        for i in range(runs + 3):
            if i == 3:
                before = cpu_times()
            t0 = time.monotonic()
            out = a.call("RunTask", {"taskDefinition": "bench-start"})
            check(not out.get("failures"), f"RunTask: {out}")
            arn = out["tasks"][0]["taskArn"]
            task_id(arn)
            while a.describe(arn)["lastStatus"] != "RUNNING":
                check(time.monotonic() - t0 < 30, f"task {arn} not RUNNING in 30 s")
                time.sleep(0.002)
            elapsed = (time.monotonic() - t0) * 1000
            if i >= 3:
                times.append(elapsed)
            a.call("StopTask", {"task": arn})
            a.wait_status(arn, "STOPPED", timeout=30)
        after = cpu_times()
        times.sort()
        p50 = statistics.median(times)
        p90 = times[min(len(times) - 1, int(round(0.9 * len(times))) - 1)]
        print(f"task start to RUNNING, {runs} runs (ms): p50 {p50:.1f}  p90 {p90:.1f}  "
              f"mean {statistics.mean(times):.1f}  min {times[0]:.1f}  max {times[-1]:.1f}")
        print(f"incumbent (amazon-ecs-agent + Docker, issue 17): {INCUMBENT_START_MS:.0f} ms; "
              f"berth p50 / incumbent = {p50 / INCUMBENT_START_MS:.3f}x (goal <= 0.11x, 30 ms)")
        print(host_share(before, after))
    finally:
        stop_everything(a)


def berth_processes():
    """Pids of berth's own processes in this pid namespace: berthd, berth-supervisor and any
    other binary of the build tree (or its sealed-memfd re-exec), never a container's."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
            with open(f"/proc/{entry}/comm", encoding="utf-8") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("berth") or exe.startswith((os.path.realpath(BUILD), "/memfd:berth")):
            pids.append((int(entry), comm))
    return pids


def memory(pids):
    """(PSS, RSS) in kB summed over pids, from smaps_rollup."""
    pss = rss = 0
    for pid, _ in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key == "Pss":
                        pss += int(value.split()[0])
                    elif key == "Rss":
                        rss += int(value.split()[0])
        except OSError:
            pass
    return pss, rss


def sealed_copies(pids):
    """kB held by the sealed memfd copies the processes run from: all of a copy is resident
    (shmem) whether or not its pages are mapped, and only its mapped pages are in RSS."""
    total = 0
    for pid, _ in pids:
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith("/memfd:"):
                total += os.stat(f"/proc/{pid}/exe").st_size // 1024
        except OSError:
            pass
    return total


def mapping_name(header):
    """A smaps mapping header -> the group it is counted in: the file's base name, [heap],
    [stack], or "anon" (thread stacks, malloc arenas and mmap'd blocks have no name)."""
    fields = header.split(None, 5)
    name = fields[5].strip() if len(fields) > 5 else ""
    if not name:
        return "anon"
    return os.path.basename(name) if name.startswith("/") else name


def breakdown(pid):
    """{group: [rss, pss, anonymous, shmem-or-file]} in kB from /proc/<pid>/smaps, and the
    thread count."""
    groups = {}
    current = None
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if HEADER.match(line):  # a mapping's header: "start-end perms offset dev inode path"
                current = groups.setdefault(mapping_name(line), [0, 0, 0, 0])
            elif key in ("Rss", "Pss", "Anonymous"):
                current[("Rss", "Pss", "Anonymous").index(key)] += int(value.split()[0])
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        threads = next(line.split()[1] for line in f if line.startswith("Threads:"))
    return groups, threads


def print_breakdown(pids):
    for pid, comm in pids:
        try:
            groups, threads = breakdown(pid)
        except OSError:
            continue
        print(f"    {comm} (pid {pid}, {threads} threads): mappings by RSS (kB)")
        print(f"      {'RSS':>7} {'PSS':>7} {'anon':>7}  mapping")
        top = sorted(groups.items(), key=lambda kv: -kv[1][0])
        for name, (rss_kb, pss_kb, anon, _) in top:
            if rss_kb >= 64:
                print(f"      {rss_kb:>7} {pss_kb:>7} {anon:>7}  {name}")
        rest = [v for _, v in top if v[0] < 64]
        print(f"      {sum(v[0] for v in rest):>7} {sum(v[1] for v in rest):>7} "
              f"{sum(v[2] for v in rest):>7}  ({len(rest)} smaller groups)", flush=True)


# The libraries berthd loads at their first use (base/dl.hpp): which ones a node has mapped.
LOADED_AT_FIRST_USE = ("libcrypto", "libcurl", "libisal", "libzstd", "libnftables")


def loaded_at_first_use(pids):
    """'berthd: libcrypto.so.3, ...' for each process that mapped one of them, or 'none'."""
    found = []
    for pid, comm in pids:
        try:
            with open(f"/proc/{pid}/maps", encoding="utf-8") as f:
                names = {os.path.basename(line.split()[-1]) for line in f if "/" in line}
        except OSError:
            continue
        libs = sorted(n for n in names if n.startswith(LOADED_AT_FIRST_USE))
        if libs:
            found.append(f"{comm}: {', '.join(libs)}")
    return "; ".join(found) or "none"


def text_pages(pid):
    """(resident, total) pages of the process's executable's r-xp mapping, by pagemap."""
    exe = os.path.realpath(f"/proc/{pid}/exe")
    resident = total = 0
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps, \
            open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) < 6 or fields[1] != "r-xp" or fields[5].strip() != exe:
                continue
            start, end = (int(x, 16) // 4096 for x in fields[0].split("-"))
            pagemap.seek(start * 8)
            data = pagemap.read((end - start) * 8)
            for i in range(0, len(data), 8):
                resident += data[i + 7] >> 7  # bit 63: present
            total += end - start
    return resident, total


def report(label, containers):
    time.sleep(2.0)  # let start-up allocations settle
    pids = berth_processes()
    pss, rss = memory(pids)
    names = ", ".join(sorted({c for _, c in pids}))
    if not any(c.startswith("berth-superviso") for _, c in pids):
        names += "; no berth-supervisor runs"
    print(f"{label:>16}: {len(pids)} berth processes ({names}): PSS {pss / 1024:.1f} MB, "
          f"RSS {rss / 1024:.1f} MB; sealed binary copies {sealed_copies(pids) / 1024:.1f} MB; "
          f"loaded at first use: {loaded_at_first_use(pids)}", flush=True)
    if os.environ.get("BERTH_BENCH_TEXT") == "1":
        for pid, comm in pids:
            if comm == "berthd":
                resident, total = text_pages(pid)
                print(f"    berthd's text: {resident} of {total} pages resident "
                      f"({resident * 4} kB)", flush=True)
    if os.environ.get("BERTH_BENCH_SMAPS") == "1":
        print_breakdown(pids)
    return containers, pss, rss


def rss(work, counts):
    a = agent(work)
    try:
        a.call("RegisterTaskDefinition", {
            "family": "bench-idle", "networkMode": "bridge", "containerDefinitions": [{
                "name": "idle", "image": HELLO, "essential": True, "memory": 16,
                "entryPoint": ["/bin/sleep"], "command": ["1000000"], "stopTimeout": 2}]})
        rows = [report("idle", 0)]
        # One task whose container ends at once: the supervisor its create started is still
        # there (its idle exit is 30 s by default), with nothing to supervise.
        a.call("RegisterTaskDefinition", {
            "family": "bench-brief", "networkMode": "none", "containerDefinitions": [{
                "name": "brief", "image": HELLO, "essential": True, "memory": 16,
                "entryPoint": ["/bin/true"]}]})
        out = a.call("RunTask", {"taskDefinition": "bench-brief"})
        check(not out.get("failures"), f"RunTask: {out}")
        a.wait_status(out["tasks"][0]["taskArn"], "STOPPED", timeout=60)
        base = report("supervisor idle", 0)
        arns = []
        for count in counts:
            while len(arns) < count:
                n = min(10, count - len(arns))
                out = a.call("RunTask", {"taskDefinition": "bench-idle", "count": n})
                check(not out.get("failures"), f"RunTask: {out}")
                arns += [t["taskArn"] for t in out["tasks"]]
                for arn in arns[-n:]:
                    task_id(arn)
            for chunk in range(0, len(arns), 100):
                batch = arns[chunk:chunk + 100]
                deadline = time.monotonic() + 120
                while True:
                    tasks = a.call("DescribeTasks", {"tasks": batch})["tasks"]
                    if all(t["lastStatus"] == "RUNNING" for t in tasks):
                        break
                    check(time.monotonic() < deadline, "tasks not RUNNING in 120 s")
                    time.sleep(0.2)
            rows.append(report(f"{count} containers", count))
        # Every task stopped: once the supervisor has left (its idle exit), berthd alone again,
        # after it has run tasks (libraries loaded at first use stay).
        for arn in arns:
            a.call("StopTask", {"task": arn})
        for arn in arns:
            a.wait_status(arn, "STOPPED", timeout=120)
        deadline = time.monotonic() + 120
        while any(c.startswith("berth-superviso") for _, c in berth_processes()):
            if time.monotonic() > deadline:
                print("the supervisor did not leave within 120 s of the last container")
                break
            time.sleep(1)
        else:
            report("idle again", 0)
        idle_pss, idle_rss = rows[0][1], rows[0][2]
        print(f"incumbent (amazon-ecs-agent + Docker, issue 17): {INCUMBENT_RSS_MB[0]:.0f}-"
              f"{INCUMBENT_RSS_MB[1]:.0f} MB RSS idle; berth idle RSS / incumbent = "
              f"{idle_rss / 1024 / INCUMBENT_RSS_MB[1]:.3f}-{idle_rss / 1024 / INCUMBENT_RSS_MB[0]:.3f}x"
              " (goal <= 10 MB)")
        # Per container against the supervisor with none: the supervisor itself is not a
        # container's cost (with an older build it also runs at idle, and the two rows agree).
        for count, pss, rss_kb in rows[1:]:
            print(f"per container at {count}: PSS +{(pss - base[1]) / count / 1024:.3f} MB, "
                  f"RSS +{(rss_kb - base[2]) / count / 1024:.3f} MB (goal <= 0.5 MB; against "
                  "the supervisor idle row)")
    finally:
        stop_everything(a, timeout=180)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "rss"):
        sys.exit(__doc__)
    work = tempfile.mkdtemp(prefix="bench-", dir=os.environ.get("BERTH_E2E_PARENT", "/tmp"))
    try:
        if sys.argv[1] == "start":
            start(work, int(sys.argv[2]) if len(sys.argv) > 2 else 50)
        else:
            rss(work, [int(c) for c in sys.argv[2:]] or [1, 100])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
