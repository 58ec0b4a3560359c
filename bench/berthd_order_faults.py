"""bench/berthd_order_faults.py BERTHD PERF_DATA PHASES ORDER — the second pass of
scripts/berthd-order.sh: the functions of BERTHD (linked with ORDER) at whose address berthd's
own process took a page fault in its text (perf record -d -e minor-faults -c 1 -k
CLOCK_MONOTONIC through bench/berthd_order_workload.py) and that ORDER does not list: code the
instrumented trace cannot see, such as the static libstdc++'s stream and locale functions
called through vtables. Each fault is the first touch of a fault-around block, so a pass finds
one function per block; the script runs two. Prints "group name" lines (0 start-up and idle,
1 the API and tasks) for bench/berthd_order_file.py --extra."""
import bisect
import re
import subprocess
import sys

MMAP = re.compile(r"^\s*(\d+)\s.*PERF_RECORD_MMAP2 \d+/\d+: \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ "
                  r"(0x[0-9a-f]+|0) .*\]: (r-xp|r--p) (\S+)$")


def main():
    binary, data, phases_path, order_path = sys.argv[1:5]
    with open(phases_path, encoding="utf-8") as f:
        phases = {name: int(ns) for name, ns in (line.split() for line in f)}
    with open(order_path, encoding="utf-8") as f:
        listed = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    syms = []
    out = subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tTwW":
            syms.append((int(fields[0], 16), fields[2]))
    starts = [a for a, _ in syms]
    script = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F",
                             "pid,time,addr"], capture_output=True, text=True, check=True).stdout
    pid = base = text = None
    found = {}
    for line in script.splitlines():
        m = MMAP.match(line)
        if m:
            if pid is None or int(m.group(1)) == pid:
                if m.group(6).endswith("/" + binary.rsplit("/", 1)[-1]):
                    pid = int(m.group(1))
                    start, size, offset = (int(m.group(i), 16) for i in (2, 3, 4))
                    if m.group(5) == "r--p" and offset == 0:
                        base = start
                    elif m.group(5) == "r-xp":
                        text = (start, start + size)
            continue
        fields = line.split()
        if pid is None or base is None or text is None or len(fields) != 3:
            continue
        if int(fields[0]) != pid:
            continue
        ns = int(round(float(fields[1].rstrip(":")) * 1e9))
        addr = int(fields[2], 16)
        if not text[0] <= addr < text[1] or ns >= phases["stop"]:
            continue
        i = bisect.bisect_right(starts, addr - base) - 1
        name = syms[i][1]
        if i >= 0 and name not in listed and ".cold" not in name:
            group = 0 if ns < phases["work"] else 1
            found[name] = min(found.get(name, group), group)
    for name, group in found.items():
        print(group, name)
    print(f"faults pass: {len(found)} unlisted functions", file=sys.stderr)


if __name__ == "__main__":
    main()
