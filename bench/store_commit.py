#!/usr/bin/env python3
"""bench/store_commit.py — what one berthd store commit costs on this disk (issue 17, "the store's
fsync on the loop"): a put_task-sized transaction (a task row and two container rows replaced,
~3 KiB) in SQLite WAL mode, committed N times with synchronous=FULL (berthd today), NORMAL (no
fsync per commit in WAL: durable against a process crash, not a power loss) and FULL with K
snapshots batched per transaction (one commit per loop turn). Modes alternate in rounds of 20 so
the shared machine's load falls on each alike. Prints p50/p90/p99/max per commit (per batch for
the batched mode, then per snapshot).

    python3 bench/store_commit.py [N=200] [DIR=/var/tmp] [K=4]
"""
import os
import sqlite3
import statistics
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
DIR = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp"
K = int(sys.argv[3]) if len(sys.argv) > 3 else 4
STATE = "x" * 2048  # an engine snapshot's JSON is 1-3 KiB


def open_db(path, synchronous):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("CREATE TABLE IF NOT EXISTS tasks (arn TEXT PRIMARY KEY, state TEXT, v INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS containers (arn TEXT, name TEXT, status TEXT, "
               "PRIMARY KEY (arn, name))")
    return db


def put(db, i):
    arn = f"task/{i % 50}"
    db.execute("INSERT OR REPLACE INTO tasks VALUES (?, ?, ?)", (arn, STATE, i))
    for name in ("web", "sidecar"):
        db.execute("INSERT OR REPLACE INTO containers VALUES (?, ?, ?)", (arn, name, "RUNNING"))


def commit(db, i, batch):
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for j in range(batch):
        put(db, i * batch + j)
    db.execute("COMMIT")
    return (time.perf_counter() - start) * 1000


def summary(name, ms, per=1):
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100)
    print(f"{name:34s} p50 {q[49]:6.2f} ms  p90 {q[89]:6.2f} ms  p99 {q[98]:6.2f} ms  "
          f"max {ms[-1]:6.2f} ms" + (f"  (per snapshot p50 {q[49] / per:5.2f} ms)" if per > 1 else ""))


def main():
    with tempfile.TemporaryDirectory(dir=DIR, prefix="berth-store-bench-") as d:
        modes = {"FULL (berthd today)": (open_db(f"{d}/full.db", "FULL"), 1),
                 "NORMAL": (open_db(f"{d}/normal.db", "NORMAL"), 1),
                 f"FULL, {K} snapshots a commit": (open_db(f"{d}/batch.db", "FULL"), K)}
        times = {name: [] for name in modes}
        done = 0
        while done < N:
            for name, (db, batch) in modes.items():
                times[name] += [commit(db, done + i, batch) for i in range(20)]
            done += 20
        print(f"{N} commits each, {DIR}, load average {os.getloadavg()[0]:.1f}")
        for name, (db, batch) in modes.items():
            summary(name, times[name], batch)
            db.close()


if __name__ == "__main__":
    main()
