"""tests/e2e/metadata_test.py — the task metadata endpoint seen from inside a task, as an ECS
container sees it: in bridge, awsvpc and host modes a container fetches
${ECS_CONTAINER_METADATA_URI_V4} and its /task through 169.254.170.2 (busybox wget; berth's
nftables table DNATs it to berthd's listener) and prints them to its log; the test checks
DockerId, Name, Networks, Limits, ImageID and the lifecycle times and the task, that an unknown
id is a 404 from inside the task too, /stats and /task/stats of the running container (Docker's
stats JSON with non-zero, sane figures: CPU time, memory under the container's limit, its pids,
the task netns's eth0 counters, precpu_stats from the previous read), the refusal of credentials
(400), and that the container's id still answers after berthd is SIGKILLed and restarted. Runs inside run.sh's namespaces."""
import calendar
import json
import re
import subprocess
import time
import urllib.error

from berth_e2e import (HELLO, Failure, check, container, fetch, run_cases, shared_agent,
                       stop_shared_agent, task_id, wait_for)

STATE = {}
METADATA = "http://127.0.0.1:51679"  # the default listener, in run.sh's netns
UNKNOWN = "00000000-0000-4000-8000-000000000000"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")

# Prints the URI, the container's and the task's metadata, then what wget says of an unknown id;
# each on a line of its own with a prefix. Keeps running (the task stays RUNNING). The container
# may ask before berthd has recorded it RUNNING (it shows PENDING then, as ECS would): it asks
# again until it reads RUNNING.
PROBE = (
    'echo "URI=$ECS_CONTAINER_METADATA_URI_V4"; echo "V3=$ECS_CONTAINER_METADATA_URI"; '
    'for i in 1 2 3 4 5 6 7 8 9 10; do '
    '  c=$(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4") && '
    '  case "$c" in *\'"KnownStatus":"RUNNING"\'*) break;; esac; sleep 0.3; done; '
    'echo "CONTAINER=$c"; '
    'echo "TASK=$(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task")"; '
    f'wget -q -O - http://169.254.170.2/v4/{UNKNOWN} >/dev/null 2>&1; echo "UNKNOWN=$?"; '
    'echo DONE; exec sleep 3600')


def seconds(rfc3339):
    """Epoch seconds of an RFC 3339 UTC time with an optional fraction (not ordered as text:
    trailing zeros are dropped, so "…30.03Z" sorts after "…30.034Z")."""
    whole, _, fraction = rfc3339.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (fraction or "0"))


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
    check(mine.get("ImageID", "").startswith("sha256:") and len(mine["ImageID"]) == 71,
          f"ImageID: {mine}")
    check(RFC3339.match(mine.get("CreatedAt", "")) and RFC3339.match(mine.get("StartedAt", "")) and
          seconds(mine["CreatedAt"]) <= seconds(mine["StartedAt"]) and "FinishedAt" not in mine,
          f"CreatedAt/StartedAt: {mine}")
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
    check(status_of(f"{METADATA}/v2/credentials/{mid}") == 400, "credentials: 400")
    check(status_of(f"{METADATA}/v4/{mid}/nonsense") == 404, "an unknown path is a 404")
    check(json.loads(fetch(f"{METADATA}/v3/{mid}"))["DockerName"] == f"{task_id(arn)}-probe",
          "v3 answers the same container")
    check(a.proc.poll() is None, "berthd died")


def stats_of_a_running_container(work):
    """/stats and /task/stats of the bridge task's probe (wget has used its eth0, sleep runs)."""
    a = agent(work)
    arn, mid = STATE.get("bridge") or (None, None)
    check(mid, "the bridge case made no task")
    docker_id = f"{task_id(arn)}-probe"
    first = json.loads(fetch(f"{METADATA}/v4/{mid}/stats"))
    check(first.get("id") == docker_id and first.get("name") == f"/{docker_id}", f"ids: {first}")
    check(RFC3339.match(first.get("read", "")), f"read: {first.get('read')}")
    cpu = first["cpu_stats"]
    check(cpu["cpu_usage"]["total_usage"] > 0 and cpu["system_cpu_usage"] > 0 and
          cpu["online_cpus"] >= 1, f"cpu_stats: {cpu}")
    check(cpu["cpu_usage"]["total_usage"] < cpu["system_cpu_usage"], f"cpu_stats: {cpu}")
    memory = first["memory_stats"]
    check(0 < memory["usage"] <= memory["limit"] == 64 * 1024 * 1024 and
          memory["max_usage"] >= memory["usage"] and memory["stats"], f"memory_stats: {memory}")
    check(1 <= first["pids_stats"]["current"] < 100, f"pids_stats: {first['pids_stats']}")
    check(isinstance(first["blkio_stats"]["io_service_bytes_recursive"], list), str(first))
    eth0 = first.get("networks", {}).get("eth0", {})
    check(eth0.get("rx_bytes", 0) > 0 and eth0.get("tx_bytes", 0) > 0 and
          eth0.get("rx_packets", 0) > 0, f"networks: {first.get('networks')}")
    check("lo" not in first["networks"], f"networks: {first['networks']}")
    second = json.loads(fetch(f"{METADATA}/v4/{mid}/stats"))
    check(second["preread"] == first["read"] and
          second["precpu_stats"]["cpu_usage"]["total_usage"] ==
          cpu["cpu_usage"]["total_usage"], f"precpu_stats: {second['precpu_stats']}")
    check(second["cpu_stats"]["cpu_usage"]["total_usage"] >= cpu["cpu_usage"]["total_usage"],
          "CPU time went back")
    check(second["network_rate_stats"]["rx_bytes_per_sec"] >= 0, str(second))
    whole = json.loads(fetch(f"{METADATA}/v4/{mid}/task/stats"))
    check(list(whole) == [docker_id] and whole[docker_id]["memory_stats"]["usage"] > 0,
          f"task stats: {whole}")
    v3 = json.loads(fetch(f"{METADATA}/v3/{mid}/stats"))
    check("network_rate_stats" not in v3 and v3["id"] == docker_id, "v3 stats")
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
                           ("unknown_ids_404_credentials_400", refusals_and_unknown_ids),
                           ("stats_of_a_running_container_are_dockers_and_sane",
                            stats_of_a_running_container),
                           ("a_container_id_survives_a_berthd_restart",
                            the_id_survives_a_restart)],
              teardown)
