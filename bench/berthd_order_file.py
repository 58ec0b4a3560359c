"""bench/berthd_order_file.py BERTHD TRACE PHASES OUT [BUILT [EXTRA]] — writes berthd's link-time function order
(lld --symbol-ordering-file) from a traced run (scripts/berthd-order.sh):
  BERTHD  the berthd built with -finstrument-functions and bench/func_trace.c
  TRACE   "offset-hex first-call-ns" per function berthd's own process entered
  PHASES  "phase ns" lines from bench/berthd_order_workload.py: ready, work, idle-again, stop
  BUILT   the berthd of the build the order is for: only the names it has are listed (the
          traced build has an out-of-line copy of every inline function it entered: 27 000
          names, 4 MB, against 3 200 here), and the clones GCC made there of a listed function
          (foo.isra.0, foo.constprop.0, foo.part.0) are listed after it
  EXTRA   "group name" lines (bench/berthd_order_faults.py): functions the trace cannot see,
          each listed at the end of its group
Order: the functions first called during start-up and the first idle period, then those first
called serving the API and running and stopping tasks (and idle again after), each group in the
order of first call; functions first called only at shutdown, and every function never called,
are not listed (the linker keeps them in their usual place, after the listed ones).
Code compiled without the hooks (the static libstdc++ and libgcc: std::string's members,
operator new, std::filesystem, the red-black tree) records nothing; such a function is listed
with the traced function that calls it directly (objdump's direct calls and tail jumps), and
what it calls in turn, transitively through uninstrumented code only, except the error paths
(throwing, the unwinder, terminate, abort) and the hooks themselves; a .cold part is never
listed."""
import collections
import re
import subprocess
import sys

CLONE = re.compile(r"\.(?:isra|constprop|part)\.\d+")
# Calls only taken on an error: what they reach would otherwise be listed as hot.
ERROR_PATH = re.compile(r"^(?:_Unwind_|__cxa_(?:throw|rethrow|begin_catch|end_catch|call_|"
                        r"bad_|pure_|deleted_|guard_abort)|_ZSt\d+__throw_|_ZSt9terminate|"
                        r"__stack_chk_fail|abort$|__assert_fail|__cyg_profile_func_|"
                        r"_ZN10__cxxabiv1)")
START_UP = {"_start", "frame_dummy", "register_tm_clones", "deregister_tm_clones"}
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
    # Start-up code compiled without the hooks that nothing traced calls: the static libstdc++'s
    # static initializers (locale, ios) run from .init_array, and the C run-time's entry.
    for addr, names in by_addr.items():
        if addr not in hooked and addr not in placed and any(
                n.startswith("_GLOBAL__sub_I_") or n in START_UP for n in names):
            placed[addr] = (0, 0)
    added = 0
    for addr, key in sorted(placed.items(), key=lambda kv: kv[1]):
        stack = [c for c in calls.get(addr, ()) if c not in hooked]
        while stack:
            callee = stack.pop()
            if callee not in by_addr or callee in hooked:
                continue
            if any(ERROR_PATH.match(n) or ".cold" in n for n in by_addr[callee]):
                continue
            if callee in placed and placed[callee] <= key:
                continue
            if callee not in placed:
                added += 1
            placed[callee] = key
            stack.extend(calls.get(callee, ()))
    clones = collections.defaultdict(list)  # the built berthd's clones by the name they clone
    built, built_size = None, {}
    if len(sys.argv) > 5:
        built_size = symbols(sys.argv[5])[1]
        built = set(built_size)
        for name in built:
            base = CLONE.sub("", name)
            if base != name and ".cold" not in name:
                clones[base].append(name)
    extra = ([], [])
    if len(sys.argv) > 6:
        with open(sys.argv[6], encoding="utf-8") as f:
            for line in f:
                g, name = line.split()
                if name not in extra[int(g)]:
                    extra[int(g)].append(name)
    counts, bytes_ = [0, 0], [0, 0]
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("# berthd's function order (lld --symbol-ordering-file), written by\n"
                  "# scripts/berthd-order.sh from a traced run of bench/berthd_order_workload.py;\n"
                  "# do not edit by hand. Start-up and idle first, then the API and task path.\n")
        seen = set()

        def write(g, names):
            for name in names:
                if name not in seen:
                    seen.add(name)
                    out.write(name + "\n")
                    counts[g] += 1
                    bytes_[g] += (built_size or size).get(name, 0)

        current = None
        for addr, (g, _) in sorted(placed.items(), key=lambda kv: (kv[1], kv[0])):
            if g != current:
                if current is not None:
                    out.write("# found by the fault pass\n")
                    write(current, extra[current])
                current = g
                out.write(["# start-up and idle\n", "# the API, tasks run and stopped, idle "
                           "again\n"][g])
            written = []
            for name in by_addr[addr]:
                if ".cold" in name:
                    continue
                if built is None or name in built:
                    written.append(name)
                written += sorted(clones.get(name, ()))
            write(g, written)
        if current is not None:
            out.write("# found by the fault pass\n")
            write(current, extra[current])
    print(f"order ({'names and sizes in ' + sys.argv[5] if built else 'traced build'}): "
          f"start-up and idle {counts[0]} names, {bytes_[0] / 1024:.0f} KiB; "
          f"API and tasks {counts[1]} names, {bytes_[1] / 1024:.0f} KiB; "
          f"{added} of them uninstrumented (static libstdc++, libgcc) reached by direct calls; "
          f"{unknown} traced addresses without a symbol")


if __name__ == "__main__":
    main()
