#!/usr/bin/env python3
"""scripts/check-includes.py: the dependency direction of docs/ARCHITECTURE.md, checked on every
#include "dir/file.hpp" of the source tree. Run by the unit suite (meson test include_rules) and the
static tier (scripts/static-check.sh). Exit 1 with one line per violation.

A library includes its own directory's headers and the public headers of the libraries below
it. runtime/cli and agent/cli (binaries) use the public headers of the libraries below them.
tests/ and bench/ may include any public header, their own headers, and each library's one
test-visible internal header, <dir>/internal.hpp (white-box access). Only headers that exist in
this tree are checked: <net/if.h> is the system's.
    usage: scripts/check-includes.py [source_root]
           scripts/check-includes.py --self-test   (the rules catch what they should)
"""
import os
import re
import subprocess
import sys

# library -> the libraries it may use (the subdir() order of the root meson.build)
USES = {
    "base": [],
    "cgroups": ["base"],
    "net": ["base"],
    "image": ["base"],
    "runtime/spec": ["base", "cgroups"],  # the OCI spec model (cgroups' resource types only)
    "runtime": ["base", "cgroups", "runtime/spec"],
    "agent": ["base", "cgroups", "net", "image", "runtime/spec", "runtime", "agent/taskdef",
              "agent/engine", "agent/config"],
    "agent/taskdef": ["base", "cgroups", "image", "runtime/spec", "runtime"],  # task definitions -> specs
    "runtime/cli": ["base", "cgroups", "runtime/spec", "runtime"],  # the berth-runtime binary
    "agent/engine": ["base"],  # pure: the task state machine, resource accounting
    "agent/config": ["base"],  # berth.conf
    "agent/store": ["base"],
    "agent/api": ["base", "agent/store", "agent/taskdef"],
    # berthd's loop: composes everything below it (and implements agent/api's ControlPlane).
    "agent/daemon": ["base", "cgroups", "net", "image", "runtime/spec", "runtime",
                     "agent/taskdef", "agent/engine", "agent/config", "agent/store", "agent/api"],
    "agent/berthd": ["base", "agent/daemon", "agent/api", "agent/config", "agent/store"],
    "agent/cli": ["base", "cgroups", "net", "image", "runtime/spec", "runtime", "agent",
                  "agent/taskdef", "agent/engine", "agent/config"],  # the agent's binary
}
# What a library shows to the others. base/ is a toolkit: each small header is public.
PUBLIC = {
    "base": ["result.hpp", "fd.hpp", "files.hpp", "strings.hpp", "log.hpp", "trace.hpp",
             "console_socket.hpp", "dl.hpp", "fd_passing.hpp", "journal_native.hpp",
             "sd_listen.hpp", "sd_notify.hpp", "small_hash.hpp",
             "unix_datagram.hpp"],
    "cgroups": ["cgroups.hpp"],
    "net": ["net.hpp"],
    "image": ["image.hpp"],
    "runtime/spec": ["spec.hpp"],  # at runtime/spec.hpp (HEADER_OWNER)
    "runtime": ["runtime.hpp", "handles.hpp"],
    "agent": [],
    "agent/taskdef": ["taskdef.hpp"],
    "agent/engine": ["engine.hpp", "resources.hpp", "pulls.hpp"],
    "agent/config": ["config.hpp"],
    "agent/store": ["store.hpp"],
    "agent/api": ["api.hpp"],
    "agent/daemon": ["daemon.hpp"],
    "agent/berthd": [],
    "runtime/cli": [],
    "agent/cli": [],
}
# Public headers that sit outside their library's directory: runtime/spec.hpp kept its path when
# the spec model became a library of its own (runtime/spec/).
HEADER_OWNER = {"runtime/spec.hpp": "runtime/spec"}
# The one internal header per library that tests and fuzz harnesses may include.
TEST_VISIBLE = [
    "cgroups/internal.hpp",
    "runtime/internal.hpp",
    "net/internal.hpp",
    "image/internal.hpp",
    "agent/taskdef/internal.hpp",
    "agent/store/internal.hpp",
    "agent/api/internal.hpp",
    "agent/daemon/pure.hpp",  # overrides, state JSON, record conversions (unit-tested)
    "agent/cli/internal.hpp",
    "agent/berthd/berthd.hpp",  # the journal entries' fields (unit-tested)
]
# May include every public header, TEST_VISIBLE and their own headers.
CONSUMERS = ["tests", "bench"]

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def owner(path):
    """The library (or consumer) a source file belongs to: its longest known directory."""
    if path in HEADER_OWNER:
        return HEADER_OWNER[path]
    parts = path.split("/")
    for n in range(len(parts) - 1, 0, -1):
        d = "/".join(parts[:n])
        if d in USES or d in CONSUMERS:
            return d
    return None


def header_library(include, known):
    """(directory, file name) for an include of a header in this tree, else None. A path that is
    not in the tree is a system header, even when it starts like a berth directory (<net/if.h>)."""
    if include not in known:
        return None
    d, _, name = include.rpartition("/")
    return HEADER_OWNER.get(include, d), name


def check(path, text, known):
    me = owner(path)
    if me is None:
        return [f"{path}: not in a known directory (add it to scripts/check-includes.py)"]
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        include = m.group(1)
        quoted = '"' in line.split("include", 1)[1][:3]
        where = f"{path}:{number}: #include \"{include}\""
        if quoted and "/" not in include:
            problems.append(f"{where}: name the header from the source root (dir/file.hpp)")
            continue
        lib = header_library(include, known)
        if lib is None:
            continue
        d, name = lib
        if me in CONSUMERS:
            if d.split("/")[0] in CONSUMERS or name in PUBLIC.get(d, []) or include in TEST_VISIBLE:
                continue
            visible = [h for h in TEST_VISIBLE if h.startswith(d + "/")]
            hint = f"; white-box access goes through {visible[0]}" if visible else ""
            problems.append(f"{where}: {d}/{name} is internal to {d}/{hint}")
            continue
        if d == me:
            continue
        if d not in USES:
            problems.append(f"{where}: {me}/ may not include from {d}/")
        elif d not in USES[me]:
            problems.append(f"{where}: {me}/ may not use {d}/ (it may use: "
                            f"{', '.join(USES[me]) or 'nothing in berth'})")
        elif name not in PUBLIC[d]:
            problems.append(f"{where}: {d}/{name} is internal to {d}/ (public: "
                            f"{', '.join(d + '/' + h for h in PUBLIC[d])})")
    return problems


def self_test():
    """Each rule on a small tree: every bad include is reported, every good one is not."""
    import tempfile
    tree = {
        "cgroups/up.cpp": '#include "runtime/runtime.hpp"\n',              # upward
        "runtime/peek.cpp": '#include "cgroups/internal.hpp"\n',           # another's internal
        "net/side.cpp": '#include "runtime/spec.hpp"\n',                   # sideways/upward
        "tests/unit/deep_test.cpp": '#include "runtime/state_store.hpp"\n',  # not test-visible
        "runtime/short.cpp": '#include "spec.hpp"\n',                      # not root-relative
        "runtime/spec/up.cpp": '#include "runtime/runtime.hpp"\n',         # the spec model: upward
        "runtime/inside.cpp": '#include "runtime/spec/spec_json.hpp"\n',   # the spec's internal
        "runtime/spec/fine.cpp": '#include "runtime/spec.hpp"\n#include "cgroups/cgroups.hpp"\n'
                                 '#include "runtime/spec/spec_json.hpp"\n',
        "net/sys.cpp": '#include <net/if.h>\n#include "net/net.hpp"\n',   # a system header
        "runtime/fine.cpp": '#include <vector>\n#include "cgroups/cgroups.hpp"\n'
                            '#include "runtime/child_plan.hpp"\n#include "base/fd.hpp"\n',
        "agent/fine.cpp": '#include "net/net.hpp"\n#include "image/image.hpp"\n'
                          '#include "runtime/runtime.hpp"\n',
        "tests/unit/fine_test.cpp": '#include "cgroups/internal.hpp"\n#include "runtime/spec.hpp"'
                                    '\n#include "tests/support/bundle.hpp"\n',
    }
    bad = {"cgroups/up.cpp", "runtime/peek.cpp", "net/side.cpp", "tests/unit/deep_test.cpp",
           "runtime/short.cpp", "runtime/spec/up.cpp", "runtime/inside.cpp"}
    with tempfile.TemporaryDirectory() as root:
        for path, text in tree.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        known = set(tree) | {"runtime/runtime.hpp", "runtime/spec.hpp", "runtime/state_store.hpp",
                             "runtime/child_plan.hpp", "cgroups/cgroups.hpp", "cgroups/internal.hpp",
                             "base/fd.hpp", "net/net.hpp", "image/image.hpp", "spec.hpp",
                             "tests/support/bundle.hpp",
                             "runtime/spec/spec_json.hpp"}
        flagged = {p.split(":")[0] for path, text in tree.items()
                   for p in check(path, text, known)}
    if flagged != bad:
        print(f"check-includes self-test FAILED: flagged {sorted(flagged)}, expected {sorted(bad)}")
        return 1
    print(f"check-includes self-test: {len(bad)} bad includes flagged, "
          f"{len(tree) - len(bad)} good files passed")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    try:
        files = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                                "--exclude-standard", "*.cpp", "*.hpp", "*.h", "*.cc"],
                               check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        files = [os.path.relpath(os.path.join(d, f), root)
                 for d, _, names in os.walk(root) for f in names
                 if f.endswith((".cpp", ".hpp", ".h", ".cc")) and "/build" not in d]
    files = [f for f in files if os.path.exists(os.path.join(root, f))]
    if not files:
        print("check-includes: no sources found under " + root)
        return 1
    problems = []
    known = set(files)
    for f in sorted(files):
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as src:
            problems += check(f, src.read(), known)
    for p in problems:
        print(p)
    print(f"check-includes: {len(files)} files, {len(problems)} violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
