"""tests/e2e/quickstart_test.py — the README's main job, scripts/quickstart.sh, run for real
inside run.sh's namespaces (its bridge berth0, nftables table and API port are this network
namespace's, never the machine's): it starts berthd in standalone mode, builds and loads the
offline demo image, registers examples/web-sidecar-bridge.json with the real aws CLI, runs it with
a dynamic host port and fetches the page. The test tiers have installed the dependencies and
built already, so it runs with BERTH_QUICKSTART_SKIP_SETUP=1 (no apt, no build; it uses build/ of
the source tree, as the README's user does). Then `scripts/quickstart.sh stop` must leave nothing
running: the agent and its supervisor (by the pid files quickstart wrote), the task's containers,
their mounts and cgroups, the bridge and the table. Its containers' cgroups are in the machine's
hierarchies (the default root /berth): their task ids are recorded for run.sh. ~50 s, most of it
the stop (the example's sidecar ignores SIGTERM and is killed after the default 30 s)."""
import json
import os
import re
import subprocess

from berth_e2e import SOURCE, check, fetch, run_cases, task_id, wait_for

SCRIPT = os.path.join(SOURCE, "scripts/quickstart.sh")
# quickstart.sh's own build dir (never $BERTH_BUILD_ROOT: the asan tier runs this test too).
QS_BUILD = os.path.join(SOURCE, "build")
RUNTIME = os.path.join(QS_BUILD, "runtime/cli/berth-runtime")
API = "http://127.0.0.1:51680"  # quickstart's default, in run.sh's network namespace
STATE = {}


def quickstart(*args):
    """scripts/quickstart.sh [ARGS] with its directory under the work dir; (exit status, output).
    No BERTH_*/AWS_* variable of the test's environment reaches it but the two it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "AWS_"))}
    env.update(BERTH_QUICKSTART_DIR=STATE["dir"], BERTH_QUICKSTART_SKIP_SETUP="1")
    out = subprocess.run([SCRIPT, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env, timeout=200, check=False)
    print("".join(f"  | {line}\n" for line in out.stdout.splitlines()), end="", flush=True)
    for arn in re.findall(r"^== stopping (arn:\S+)$", out.stdout, re.M):
        task_id(arn)  # for run.sh's cgroup clean-up, should a task predate the first case's view
    return out.returncode, out.stdout


def aws(*args):
    """The aws CLI with the credentials quickstart generated (credentials.env), against its API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with open(os.path.join(STATE["dir"], "credentials.env"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^export (AWS_[A-Z_]+)=(\S+)$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    env.update(AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run(["aws", "ecs", *args, "--endpoint-url", API, "--region", "us-east-1",
                          "--output", "json"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    check(out.returncode == 0, f"aws ecs {args[0]} failed: {out.stderr}")
    return json.loads(out.stdout)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def pid_from(path, argument):
    """The pid on line 1 of a pid file quickstart (or berthd) wrote, checked as quickstart.sh's
    running() checks it: that process runs with `argument` on its command line."""
    with open(path, encoding="utf-8") as f:
        pid = int(f.readline())
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode()
    check(argument in cmdline, f"pid {pid} of {path} runs {cmdline!r}, not with {argument!r}")
    return pid


def container_pid(tid, name):
    """The pid berth-runtime's state reports for a task's container (None once gone)."""
    out = subprocess.run([RUNTIME, "--root", os.path.join(STATE["run"], "containers"), "state",
                          f"{tid}-{name}"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    state = json.loads(out.stdout)
    return state.get("pid") if state.get("status") in ("running", "created") else None


def in_container(pid, namespace, *command):
    out = subprocess.run(["nsenter", "--target", str(pid), f"--{namespace}", *command],
                         capture_output=True, text=True, timeout=10, check=False)
    check(out.returncode == 0, f"nsenter {namespace} {command}: {out.stderr}")
    return out.stdout


def quickstart_runs_the_web_task_and_fetches_its_page(work):
    for binary in ("agent/berthd/berthd", "agent/cli/berth", "runtime/cli/berth-runtime"):
        check(os.access(os.path.join(QS_BUILD, binary), os.X_OK),
              f"no {QS_BUILD}/{binary}: quickstart.sh uses build/ of the source tree")
    STATE["dir"] = os.path.join(work, "quickstart")
    STATE["run"] = os.path.join(STATE["dir"], "run")
    os.mkdir(STATE["dir"], 0o700)  # root's, not a symlink: quickstart refuses anything else
    status, out = quickstart()
    STATE["started"] = True
    check(status == 0, f"quickstart.sh exited {status}")
    setup = re.search(r"^== (installing dependencies|building \(scripts)", out, re.M)
    check("== BERTH_QUICKSTART_SKIP_SETUP=1" in out and not setup, "quickstart installed or built")
    arns = re.findall(r"^(arn:aws:ecs:[^:]*:[^:]*:task/\S+)$", out, re.M)
    check(len(arns) == 1, f"quickstart printed {len(arns)} task ARNs")
    arn = STATE["arn"] = arns[0]
    tid = STATE["tid"] = task_id(arn)
    m = re.search(r"^== the web task is RUNNING: (http://127\.0\.0\.1:(\d+)/)$", out, re.M)
    check(m, "quickstart printed no URL")
    url, port = m.group(1), int(m.group(2))
    page = out[m.end():].split("== left running", 1)[0]  # the fetched page, its tags stripped
    check("Hello from berth" in page, f"quickstart fetched no demo page: {page!r}")

    # The agent and its supervisor run, as the pid files say.
    STATE["berthd"] = pid_from(os.path.join(STATE["dir"], "berthd.pid"),
                               f"--config {STATE['dir']}/berth.conf")
    STATE["supervisor"] = pid_from(os.path.join(STATE["run"], "supervisor.pid"),
                                   f"--socket {STATE['run']}/supervisor.sock")

    # DescribeTasks through the aws CLI with quickstart's credentials: RUNNING, web's host port
    # is the URL's.
    described = aws("describe-tasks", "--tasks", arn)
    check(len(described.get("tasks", [])) == 1, f"describe-tasks: {described}")
    task = described["tasks"][0]
    check(task["lastStatus"] == "RUNNING", f"task {task['lastStatus']}: {task}")
    web = [c for c in task["containers"] if c["name"] == "web"]
    check(len(web) == 1 and web[0]["lastStatus"] == "RUNNING", f"web: {task['containers']}")
    bindings = web[0].get("networkBindings", [])
    check(len(bindings) == 1 and bindings[0]["hostPort"] == port and
          bindings[0]["containerPort"] == 80, f"web's bindings {bindings}, the URL's port {port}")
    check(arn in aws("list-tasks")["taskArns"], "list-tasks misses the task")

    # The page is the task's: it names the web container's hostname and its bridge address.
    pids = STATE["pids"] = {name: container_pid(tid, name) for name in ("web", "sidecar")}
    check(all(pids.values()), f"container pids from berth-runtime state: {pids}")
    hostname = in_container(pids["web"], "uts", "hostname").strip()
    check(hostname and f"Server name: {hostname}" in page,
          f"the page does not name the container's hostname {hostname!r}: {page!r}")
    addresses = [a.split()[3].split("/")[0] for a in in_container(
        pids["web"], "net", "ip", "-4", "-o", "addr", "show").splitlines()]
    addresses = [a for a in addresses if not a.startswith("127.")]
    lines = {line.strip() for line in page.splitlines()}
    check(addresses and all(a in lines for a in addresses),
          f"the page does not list the task's address(es) {addresses}: {page!r}")
    check("Hello from berth" in fetch(url), f"{url} no longer serves the page")


def stop_stops_the_task_the_agent_and_its_supervisor_and_removes_the_bridge(work):
    check("arn" in STATE and "supervisor" in STATE, "needs the first case's running quickstart")
    state_dir = os.path.join(STATE["dir"], "state")
    check(subprocess.run(["ip", "link", "show", "berth0"], capture_output=True,
                         check=False).returncode == 0, "no bridge berth0 before the stop")
    status, out = quickstart("stop")
    STATE["stopped"] = True
    check(status == 0, f"quickstart.sh stop exited {status}")
    check(f"== stopping {STATE['arn']}" in out, "stop did not stop the task")
    for what in ("berthd", "supervisor"):
        wait_for(f"{what} (pid {STATE[what]}) to exit", lambda p=STATE[what]: not alive(p),
                 timeout=15)
    for name, pid in STATE["pids"].items():
        check(not alive(pid), f"container {name} (pid {pid}) outlived the stop")
        check(container_pid(STATE["tid"], name) is None, f"berth-runtime still runs {name}")
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        mounts = [line.split()[4] for line in f if line.split()[4].startswith(state_dir + "/")]
    check(not mounts, f"mounts left under the state dir: {mounts}")
    cgroups = [root for root, _, _ in os.walk("/sys/fs/cgroup") if STATE["tid"] in root]
    check(not cgroups, f"the task's cgroups are left: {cgroups}")
    link = subprocess.run(["ip", "link", "show", "berth0"], capture_output=True, check=False)
    check(link.returncode != 0, "the bridge berth0 is left")
    table = subprocess.run(["nft", "list", "table", "ip", "berth"], capture_output=True,
                           check=False)
    check(table.returncode != 0, "the nftables table ip berth is left")


def teardown():
    """A failed case's agent, supervisor and tasks: stopped by quickstart.sh stop itself (the
    namespaces' end would kill them, but not remove their cgroups in the machine's hierarchies)."""
    if STATE.get("started") and not STATE.get("stopped"):
        quickstart("stop")


def main():
    run_cases("e2e_quickstart", [
        ("quickstart_starts_berthd_runs_the_bridge_example_and_fetches_its_page",
         quickstart_runs_the_web_task_and_fetches_its_page),
        ("quickstart_stop_stops_the_task_the_agent_and_its_supervisor_and_removes_the_bridge",
         stop_stops_the_task_the_agent_and_its_supervisor_and_removes_the_bridge),
    ], teardown)


if __name__ == "__main__":
    main()
