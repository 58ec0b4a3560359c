#!/usr/bin/env python3
"""clang-tidy over translation units, with a result cache and a time budget (scripts/static-check.sh
runs it; the policy is in docs/QUALITY.md, "clang-tidy cache and budget").

Cache: a unit is skipped when an earlier run found it CLEAN under the same key. The key is a
SHA-256 of: this script's key version, `clang-tidy --version`, every .clang-tidy file of the tree
(contents), the header filter, the unit's path and compile command (the clone's absolute path
replaced, so two clones share entries), and the unit's text as clang's preprocessor sees it
(`clang++ -E -C`: every included file, comments kept, so a NOLINT change is a new key). Only a
clean result is ever stored; a unit with findings or an error is checked again on every run.
Entries are empty files named by the key under <cache>/tidy/, touched on every hit; the oldest
are removed beyond --max-entries.

Budget: no new unit starts after --budget seconds (0 = no budget: every unit is checked).
Uncached units go in this order: files with uncommitted changes first, then by the newest commit
touching the unit or any tree header it includes (newest first), ties in an order that rotates
with the HEAD commit, so units left over ("deferred") are different ones from run to run and
a later run with the cache filled by this one checks them.

Last line: "clang-tidy: P passed, F failed, D skipped" (P = cached + checked clean, F = units
with findings or errors, D = deferred), the form scripts/test.sh counts.
"""
import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

KEY_VERSION = "berth-tidy-cache-1"
FINDING = re.compile(r":\d+:\d+: (warning|error): ")


def compile_args(entry, compiler):
    """The unit's compile command as a list, without ccache, outputs, dependency files and
    -ffunction-sections (code layout only: neither the preprocessor nor clang-tidy sees it, and
    keys taken before meson.build added it stay valid)."""
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    if os.path.basename(args[0]) == "ccache":
        args = args[1:]
    out, skip = [compiler], False
    for a in args[1:]:
        if skip:
            skip = False
        elif a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
        elif a not in ("-c", "-MD", "-MMD", "-ffunction-sections") and not a.startswith("-fdiagnostics-color"):
            out.append(a)
    return out


def preprocess(entry):
    """clang++ -E -C of the unit (bytes), or None on an error."""
    args = compile_args(entry, "clang++") + ["-E", "-C", "-o", "-"]
    r = subprocess.run(args, cwd=entry["directory"], capture_output=True, check=False)
    return r.stdout if r.returncode == 0 else None


def tree_headers(text, top_rel_marker):
    """Tree files named in the preprocessor's line markers (# 1 "../base/result.hpp" ...)."""
    names = set(re.findall(rb'^# \d+ "([^"<]+)"', text, re.M))
    return {n.decode(errors="replace") for n in names if top_rel_marker(n)}


def git_times(top):
    """path (relative to top) -> newest commit time touching it; changed files -> now."""
    times = {}
    try:
        log = subprocess.run(["git", "-C", top, "log", "--format=%x01%ct", "--name-only"],
                             capture_output=True, text=True, check=True).stdout
        now = 0
        for line in log.splitlines():
            if line.startswith("\x01"):
                now = int(line[1:])
            elif line and line not in times:
                times[line] = now
        status = subprocess.run(["git", "-C", top, "status", "--porcelain"],
                                capture_output=True, text=True, check=True).stdout
        for line in status.splitlines():
            times[line[3:].split(" -> ")[-1]] = int(time.time())
        head = subprocess.run(["git", "-C", top, "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        head = ""
    return times, head


def config_key(top, header_filter, tidy):
    h = hashlib.sha256(KEY_VERSION.encode())
    h.update(subprocess.run([tidy, "--version"], capture_output=True, check=True).stdout)
    h.update(header_filter.encode())
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "build")))
        if ".clang-tidy" in files:
            path = os.path.join(root, ".clang-tidy")
            h.update(os.path.relpath(path, top).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def entry_path(cache, key):
    return os.path.join(cache, key[:2], key)


def prune(cache, max_entries):
    entries = []
    for d in os.scandir(cache):
        if d.is_dir():
            entries += [(e.stat().st_mtime, e.path) for e in os.scandir(d.path)]
    entries.sort()
    for _, path in entries[:max(0, len(entries) - max_entries)]:
        os.unlink(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-root", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--budget", type=float, default=0)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--header-filter", required=True)
    p.add_argument("--max-entries", type=int, default=20000)
    p.add_argument("--log", required=True)
    p.add_argument("--tidy", default="clang-tidy-14")
    p.add_argument("units", nargs="+")
    a = p.parse_args()
    start, wall_start = time.monotonic(), time.time() - 1
    top = os.path.realpath(a.source_root)
    cache = os.path.join(a.cache_dir, "tidy")
    os.makedirs(cache, exist_ok=True)

    db = {}
    with open(os.path.join(a.build_dir, "compile_commands.json")) as f:
        for e in json.load(f):
            db.setdefault(os.path.realpath(os.path.join(e["directory"], e["file"])), e)
    base = config_key(top, a.header_filter, a.tidy)
    times, head = git_times(top)

    def in_tree(marker):
        path = os.path.realpath(os.path.join(a.build_dir, marker.decode(errors="replace")))
        return path.startswith(top + "/")

    def key_of(unit):
        text = preprocess(db[unit])
        if text is None:  # clang-tidy will say why; never cached
            return unit, None, int(time.time()), []
        h = hashlib.sha256(base.encode())
        h.update(os.path.relpath(unit, top).encode() + b"\0")
        h.update(" ".join(compile_args(db[unit], "cc")).replace(top, "<top>").encode() + b"\0")
        newest = times.get(os.path.relpath(unit, top), 0)
        files = [unit]
        for hdr in tree_headers(text, in_tree):
            files.append(os.path.realpath(os.path.join(a.build_dir, hdr)))
            newest = max(newest, times.get(os.path.relpath(files[-1], top), 0))
        h.update(text.replace(top.encode(), b"<top>"))
        return unit, h.hexdigest(), newest, files

    units = [u for u in dict.fromkeys(os.path.realpath(u) for u in a.units) if u in db]
    missing = len(a.units) - len(units)
    with ThreadPoolExecutor(a.jobs) as ex:
        keyed = list(ex.map(key_of, units))
    cached, todo = [], []
    for unit, key, newest, files in keyed:
        if key and os.path.exists(entry_path(cache, key)):
            os.utime(entry_path(cache, key))
            cached.append(unit)
        else:
            rotation = hashlib.sha256((head + unit).encode()).hexdigest()
            todo.append((-newest, rotation, unit, key, files))
    todo.sort()
    print(f"clang-tidy: {len(units)} units, {len(cached)} clean in the cache, "
          f"{len(todo)} to check (keys in {time.monotonic() - start:.0f} s)", flush=True)

    def edited(files):  # a file changed after its key was taken: the key may not be what was checked
        try:
            return any(os.stat(f).st_mtime >= wall_start for f in files)
        except OSError:
            return True

    def check(unit, key, files):
        r = subprocess.run([a.tidy, "-p", a.build_dir, "--quiet", f"-header-filter={a.header_filter}",
                            unit], capture_output=True, text=True, check=False)
        out = r.stdout + r.stderr
        clean = r.returncode == 0 and not FINDING.search(out)
        if clean and key and not edited(files):
            path = entry_path(cache, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            open(tmp, "w").close()
            os.replace(tmp, path)
        return unit, clean, out

    checked, bad, deferred = [], [], []
    with open(a.log, "w") as log, ThreadPoolExecutor(a.jobs) as ex:
        pending = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < a.jobs:
                over = a.budget > 0 and time.monotonic() - start > a.budget
                if over and (checked or pending):  # at least one unit is always checked
                    deferred += [q[2] for q in queue]
                    queue = []
                    break
                _, _, unit, key, files = queue.pop(0)
                pending[ex.submit(check, unit, key, files)] = unit
            if not pending:
                break
            done = next(as_completed(pending))
            del pending[done]
            unit, clean, out = done.result()
            checked.append(unit)
            log.write(f"== {unit}\n{out}\n")
            if not clean:
                bad.append(unit)
                print(f"clang-tidy: findings in {os.path.relpath(unit, top)}:")
                for line in out.splitlines():
                    if FINDING.search(line) or not line.strip().endswith("generated."):
                        print("  " + line)
            sys.stdout.flush()
    prune(cache, a.max_entries)
    rel = lambda us: " ".join(os.path.relpath(u, top) for u in us)
    print(f"clang-tidy: {len(cached)} cached clean, {len(checked)} checked "
          f"({len(checked) - len(bad)} clean, {len(bad)} with findings), {len(deferred)} deferred "
          f"by the {a.budget:.0f} s budget, {missing} not in the compile database; "
          f"{time.monotonic() - start:.0f} s")
    if deferred:  # the first ones: those a later run checks first unless the tree changes
        more = f" and {len(deferred) - 12} more" if len(deferred) > 12 else ""
        print(f"clang-tidy: deferred (a later run checks them): {rel(deferred[:12])}{more}")
    if bad:
        print(f"clang-tidy: FAILED in {rel(bad)} (log: {a.log})")
    print(f"clang-tidy: {len(cached) + len(checked) - len(bad)} passed, "
          f"{len(bad) + missing} failed, {len(deferred)} skipped")
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
