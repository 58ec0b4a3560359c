#!/usr/bin/env python3
"""tests/unit/berthd_order_fresh.py BERTHD ORDER_FILE — berthd's function order still names the
functions berthd has.

lld skips a name of --symbol-ordering-file that the binary does not define, and berthd is linked
with --no-warn-symbol-ordering (the file is written from one build and used by others), so a
stale order would only show as berthd's text growing resident again. This fails once more than
MAX_STALE of the order's names are gone, and says how to write the order again."""
import subprocess
import sys

MAX_STALE = 0.05


def main() -> int:
    berthd, order_file = sys.argv[1], sys.argv[2]
    with open(order_file, encoding="utf-8") as f:
        wanted = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    if not wanted:
        print(f"FAILED: {order_file} names no function")
        return 1
    nm = subprocess.run(["nm", "--defined-only", berthd], capture_output=True, text=True,
                        check=False)
    if nm.returncode != 0:
        print(f"FAILED: nm {berthd}: {nm.stderr.strip()}")
        return 1
    defined = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    stale = sorted(wanted - defined)
    share = len(stale) / len(wanted)
    print(f"{len(stale)} of {len(wanted)} names in {order_file} are not in {berthd} "
          f"({share:.1%}; at most {MAX_STALE:.0%} allowed)")
    for name in stale[:20]:
        print(f"  {name}")
    if share > MAX_STALE:
        print("FAILED: the function order is stale: write it again with scripts/berthd-order.sh")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
