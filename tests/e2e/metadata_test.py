"""tests/e2e/metadata_test.py — the task metadata endpoint seen from inside a task, as an ECS
container sees it: in bridge, awsvpc and host modes a container fetches
${ECS_CONTAINER_METADATA_URI_V4} and its /task through 169.254.170.2 (busybox wget; berth's
nftables table DNATs it to berthd's listener) and prints them to its log; the test checks
DockerId, Name, Networks, Limits and the task, that an unknown id is a 404 from inside the task
too, the refusals (stats 501, credentials 400), and that the container's id still answers after
berthd is SIGKILLed and restarted. Runs inside run.sh's namespaces."""
import json
import subprocess
import urllib.error

from berth_e2e import (HELLO, Failure, check, container, fetch, run_cases, shared_agent,
                       stop_shared_agent, task_id, wait_for)

STATE = {}
METADATA = "http://127.0.0.1:51679"  # the default listener, in run.sh's netns
UNKNOWN = "00000000-0000-4000-8000-000000000000"

# Prints the URI, the container's and the task's metadata, then what wget says of an unknown id;
# each on a line of its own with a prefix. Keeps running (the task stays RUNNING).
PROBE = (
    'echo "URI=$ECS_CONTAINER_METADATA_URI_V4"; echo "V3=$ECS_CONTAINER_METADATA_URI"; '
    'for i in 1 2 3 4 5 6 7 8 9 10; do '
    '  c=$(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4") && break; sleep 0.3; done; '
    'echo "CONTAINER=$c"; '
    'echo "TASK=$(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task")"; '
    f'wget -q -O - http://169.254.170.2/v4/{UNKNOWN} >/dev/null 2>&1; echo "UNKNOWN=$?"; '
    'echo DONE; exec sleep 3600')


def agent(work):
    return shared_agent(STATE, work)


def task_definition(mode):
    return {"family": f"e2e-metadata-{mode}", "networkMode": mode, "cpu": "256",
            "memory": "128",
            "containerDefinitions": [{
                "name": "probe", "image": HELLO, "essential": True, "cpu": 128, "memory": 64,
                "entryPoint": ["sh", "-c"], "command": [PROBE], "stopTimeout": 2,
                "dockerLabels": {"team": "berth"}}]}


def probe_output(a, tid):
    def done():
        lines = a.container_log(tid, "probe")
        return lines if any(line.startswith("DONE") for line in lines) else None
    lines = wait_for("the probe's output", done, timeout=30)
    out = {}
    for line in lines:
        key, _, value = line.rstrip("\n").partition("=")
        out[key] = value
    return out


def status_of(url):
    try:
        fetch(url)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


def metadata_from_inside(work, mode):
    a = agent(work)
    td = a.call("RegisterTaskDefinition", task_definition(mode))["taskDefinition"]
    ran = a.call("RunTask", {"taskDefinition": td["taskDefinitionArn"], "count": 1})
    check(not ran.get("failures") and len(ran["tasks"]) == 1, f"RunTask: {ran}")
    arn = ran["tasks"][0]["taskArn"]
    tid = task_id(arn)
    task = a.wait_status(arn, "RUNNING", timeout=40)
    out = probe_output(a, tid)
    uri = out.get("URI", "")
    check(uri.startswith("http://169.254.170.2/v4/") and len(uri.rsplit("/", 1)[1]) == 36,
          f"ECS_CONTAINER_METADATA_URI_V4: {uri!r}")
    mid = uri.rsplit("/", 1)[1]
    check(out.get("V3") == f"http://169.254.170.2/v3/{mid}", f"ECS_CONTAINER_METADATA_URI: {out}")
    try:
        mine = json.loads(out.get("CONTAINER") or "null")
        whole = json.loads(out.get("TASK") or "null")
    except ValueError as e:
        raise Failure(f"the container read no JSON from 169.254.170.2: {out}") from e
    check(isinstance(mine, dict), f"the container could not reach its metadata: {out}")
    check(mine.get("DockerId") == f"{tid}-probe", f"DockerId: {mine}")
    check(mine.get("Name") == "probe" and mine.get("DockerName") == f"{tid}-probe", str(mine))
    check(mine.get("Limits") == {"CPU": 128, "Memory": 64}, f"Limits: {mine.get('Limits')}")
    check(mine.get("Labels", {}).get("team") == "berth" and
          mine["Labels"].get("com.amazonaws.ecs.task-arn") == arn, f"Labels: {mine}")
    check(mine.get("KnownStatus") == "RUNNING" and mine.get("Image") == HELLO, str(mine))
    if mode == "host":
        check(mine.get("Networks", [{}])[0].get("NetworkMode") == "host", str(mine))
        STATE[mode] = (arn, mid)
        return
    networks = mine.get("Networks", [])
    check(len(networks) == 1 and networks[0].get("NetworkMode") == mode, f"Networks: {networks}")
    if mode == "awsvpc":
        ip = container(task, "probe")["networkInterfaces"][0]["privateIpv4Address"]
        check(networks[0].get("IPv4Addresses") == [ip], f"Networks: {networks}, address {ip}")
    check(isinstance(whole, dict) and whole.get("TaskARN") == arn and
          whole.get("Family") == f"e2e-metadata-{mode}" and whole.get("Revision") == "1" and
          whole.get("LaunchType") == "EXTERNAL" and len(whole.get("Containers", [])) == 1 and
          whole.get("Limits") == {"CPU": 0.25, "Memory": 128}, f"task metadata: {whole}")
    check(out.get("UNKNOWN") == "1", f"an unknown id answered from inside the task: {out}")
    STATE[mode] = (arn, mid)


def bridge(work):
    metadata_from_inside(work, "bridge")


def awsvpc(work):
    metadata_from_inside(work, "awsvpc")


def host(work):
    """A host-mode container shares this netns: its 169.254.170.2 goes through the nat output
    chain, which needs a route for the address to exist first (a default route on a real host;
    here one through a veth pair of run.sh's own netns)."""
    for cmd in (["ip", "link", "add", "e2e-gw0", "type", "veth", "peer", "name", "e2e-gw1"],
                ["ip", "link", "set", "e2e-gw1", "up"], ["ip", "link", "set", "e2e-gw0", "up"],
                ["ip", "route", "add", "default", "dev", "e2e-gw0"]):
        subprocess.run(cmd, check=True)
    metadata_from_inside(work, "host")


def refusals_and_unknown_ids(work):
    a = agent(work)
    arn, mid = STATE.get("bridge") or (None, None)
    check(mid, "the bridge case made no task")
    check(status_of(f"{METADATA}/v4/{UNKNOWN}") == 404, "an unknown id is a 404")
    check(status_of(f"{METADATA}/v4/{UNKNOWN}/task") == 404, "an unknown id's task is a 404")
    check(status_of(f"{METADATA}/v4/{mid}/stats") == 501, "stats are refused with 501")
    check(status_of(f"{METADATA}/v4/{mid}/task/stats") == 501, "task stats: 501")
    check(status_of(f"{METADATA}/v2/credentials/{mid}") == 400, "credentials: 400")
    check(status_of(f"{METADATA}/v4/{mid}/nonsense") == 404, "an unknown path is a 404")
    check(json.loads(fetch(f"{METADATA}/v3/{mid}"))["DockerName"] == f"{task_id(arn)}-probe",
          "v3 answers the same container")
    check(a.proc.poll() is None, "berthd died")


def the_id_survives_a_restart(work):
    a = agent(work)
    arn, mid = STATE["bridge"]
    before = json.loads(fetch(f"{METADATA}/v4/{mid}"))
    a.kill()
    a.start()
    after = wait_for("metadata after the restart",
                     lambda: json.loads(fetch(f"{METADATA}/v4/{mid}")), timeout=15)
    check(after.get("DockerId") == before.get("DockerId") and
          after["Labels"]["com.amazonaws.ecs.task-arn"] == arn, f"{before} / {after}")


def teardown():
    stop_shared_agent(STATE)


if __name__ == "__main__":
    run_cases("metadata", [("bridge_container_reads_its_metadata_at_169_254_170_2", bridge),
                           ("awsvpc_container_reads_its_metadata_at_169_254_170_2", awsvpc),
                           ("host_container_reads_its_metadata_at_169_254_170_2", host),
                           ("unknown_ids_404_stats_501_credentials_400",
                            refusals_and_unknown_ids),
                           ("a_container_id_survives_a_berthd_restart",
                            the_id_survives_a_restart)],
              teardown)
