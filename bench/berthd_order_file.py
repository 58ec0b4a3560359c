"""bench/berthd_order_file.py BERTHD TRACE PHASES OUT — writes berthd's link-time function order
(lld --symbol-ordering-file) from a traced run (scripts/berthd-order.sh):
  BERTHD  the berthd built with -finstrument-functions and bench/func_trace.c
  TRACE   "offset-hex first-call-ns" per function berthd's own process entered
  PHASES  "phase ns" lines from bench/berthd_order_workload.py: ready, work, idle-again, stop
Order: the functions first called during start-up and the first idle period, then those first
called serving the API and running and stopping tasks (and idle again after), each group in the
order of first call; functions first called only at shutdown, and every function never called,
are not listed (the linker keeps them in their usual place, after the listed ones).
Code compiled without the hooks (the static libstdc++ and libgcc: std::string's members,
operator new, std::filesystem, the red-black tree) records nothing; such a function is listed
with the traced function that calls it directly (objdump's direct calls and tail jumps), and
what it calls in turn, transitively through uninstrumented code only."""
import collections
import re
import subprocess
import sys

FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
CALL = re.compile(r"\s(?:call|jmp)\s+([0-9a-f]+) <([^>+]+)>$")


def symbols(binary):
    """{address: [names]} and {name: size} of the defined text symbols (mangled)."""
    out = subprocess.run(["nm", "--defined-only", "-S", binary], capture_output=True,
                         text=True, check=True).stdout
    by_addr, size = collections.defaultdict(list), {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[2] not in "tTwWi":
            continue
        by_addr[int(fields[0], 16)].append(fields[3])
        size[fields[3]] = int(fields[1], 16)
    return by_addr, size


def call_graph(binary):
    """{function address: set of directly called function addresses} and the set of functions
    that call __cyg_profile_func_enter (compiled with the hooks)."""
    proc = subprocess.Popen(["objdump", "-d", "--no-show-raw-insn", "--section=.text", binary],
                            stdout=subprocess.PIPE, text=True, bufsize=1 << 20)
    calls, hooked, current = collections.defaultdict(set), set(), None
    for line in proc.stdout:
        m = FUNC.match(line)
        if m:
            current = int(m.group(1), 16)
            continue
        m = CALL.search(line.rstrip())
        if m and current is not None:
            if m.group(2) == "__cyg_profile_func_enter":
                hooked.add(current)
            else:
                calls[current].add(int(m.group(1), 16))
    proc.wait()
    return calls, hooked


def main():
    binary, trace_path, phases_path, out_path = sys.argv[1:5]
    phases = {}
    with open(phases_path, encoding="utf-8") as f:
        for line in f:
            name, ns = line.split()
            phases[name] = int(ns)
    first = {}
    with open(trace_path, encoding="utf-8") as f:
        for line in f:
            offset, ns = line.split()
            first[int(offset, 16)] = int(ns)
    by_addr, size = symbols(binary)
    calls, hooked = call_graph(binary)

    def group(ns):
        if ns < phases["work"]:
            return 0
        return 1 if ns < phases["stop"] else None

    # (group, time, address): traced functions, then the uninstrumented code they reach.
    placed = {}
    unknown = 0
    for addr, ns in first.items():
        if addr not in by_addr:
            unknown += 1
            continue
        g = group(ns)
        if g is not None:
            placed[addr] = (g, ns)
    added = 0
    for addr, key in sorted(placed.items(), key=lambda kv: kv[1]):
        stack = [c for c in calls.get(addr, ()) if c not in hooked]
        while stack:
            callee = stack.pop()
            if callee not in by_addr or callee in hooked:
                continue
            if callee in placed and placed[callee] <= key:
                continue
            if callee not in placed:
                added += 1
            placed[callee] = key
            stack.extend(calls.get(callee, ()))
    counts, bytes_ = [0, 0], [0, 0]
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("# berthd's function order (lld --symbol-ordering-file), written by\n"
                  "# scripts/berthd-order.sh from a traced run of bench/berthd_order_workload.py;\n"
                  "# do not edit by hand. Start-up and idle first, then the API and task path.\n")
        current = None
        for addr, (g, _) in sorted(placed.items(), key=lambda kv: (kv[1], kv[0])):
            if g != current:
                current = g
                out.write(["# start-up and idle\n", "# the API, tasks run and stopped, idle "
                           "again\n"][g])
            for name in by_addr[addr]:
                out.write(name + "\n")
            counts[g] += 1
            bytes_[g] += max(size.get(n, 0) for n in by_addr[addr])
    print(f"order: start-up and idle {counts[0]} functions, {bytes_[0] / 1024:.0f} KiB; "
          f"API and tasks {counts[1]} functions, {bytes_[1] / 1024:.0f} KiB; "
          f"{added} of them uninstrumented (static libstdc++, libgcc) reached by direct calls; "
          f"{unknown} traced addresses without a symbol")


if __name__ == "__main__":
    main()
