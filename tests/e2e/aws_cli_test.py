"""tests/e2e/aws_cli_test.py — berthd driven end to end by the real aws CLI (--endpoint-url), in
bridge and awsvpc modes: register a two-container task definition (an essential web server with
a dynamic host port, a sidecar that depends on it), run it, see it RUNNING, fetch the page through
the reported host port (bridge) or the task's own address (awsvpc), stop it and see STOPPED with
exit codes and the reason; the task's healthStatus follows its essential web container's health
check. Runs inside run.sh's namespaces; Debian's CLI v2 drives bridge mode,
the v1 CLI (pip/pyenv) awsvpc mode when present (else v2 again)."""
import copy
import json
import os
import subprocess
import time
import urllib.error

from berth_e2e import (HELLO, SOURCE, Aws, Failure, aws_clis, check, container, fetch, run_cases,
                       shared_agent, stop_shared_agent, task_id, wait_for)

STATE = {}


def task_definition(mode, family):
    """examples/web-sidecar-<mode>.json, made quick and observable: the offline hello image; the
    sidecar depends on web (HEALTHY in bridge mode, START in awsvpc mode) and exits 3 on SIGTERM;
    web (httpd as pid 1 ignores SIGTERM) is killed after a 2 s stopTimeout."""
    with open(os.path.join(SOURCE, "examples", f"web-sidecar-{mode}.json"), encoding="utf-8") as f:
        td = json.load(f)
    td = copy.deepcopy(td)
    td["family"] = family
    web, sidecar = td["containerDefinitions"]
    check(web["name"] == "web" and sidecar["name"] == "sidecar", "example changed shape")
    for c in (web, sidecar):
        c["image"] = HELLO
    web.pop("dependsOn", None)
    web["stopTimeout"] = 2
    web["healthCheck"].update(interval=5, timeout=2, retries=2, startPeriod=0)
    sidecar["dependsOn"] = [{"containerName": "web",
                             "condition": "HEALTHY" if mode == "bridge" else "START"}]
    sidecar["command"] = ["trap 'exit 3' TERM; while true; do date > /shared/now; sleep 1; done"]
    sidecar["stopTimeout"] = 5
    return td


def agent(work):
    return shared_agent(STATE, work)


def cli_for(mode):
    clis = aws_clis()
    return clis[-1] if mode == "awsvpc" else clis[0]


def web_task_end_to_end(work, mode):
    a = agent(work)
    aws = Aws(cli_for(mode), a.endpoint)
    family = f"e2e-web-{mode}"
    path = os.path.join(work, f"{family}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(task_definition(mode, family), f)

    registered = aws.ok("register-task-definition", "--cli-input-json", f"file://{path}")
    td = registered["taskDefinition"]
    check(td["taskDefinitionArn"].endswith(f":task-definition/{family}:1"), str(td))
    check(td["status"] == "ACTIVE" and len(td["containerDefinitions"]) == 2, str(td))

    ran = aws.ok("run-task", "--task-definition", family, "--started-by", "e2e")
    check(not ran.get("failures") and len(ran["tasks"]) == 1, f"run-task: {ran}")
    arn = ran["tasks"][0]["taskArn"]
    task_id(arn)
    check(ran["tasks"][0]["launchType"] == "EXTERNAL", str(ran))

    a.wait_status(arn, "RUNNING", timeout=40)  # fast polling on the unix socket
    task = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
    check(task["lastStatus"] == "RUNNING" and task["desiredStatus"] == "RUNNING", str(task))
    check(task.get("startedAt"), f"no startedAt: {task}")  # v2 prints it as ISO 8601
    web = container(task, "web")
    check(web["lastStatus"] == "RUNNING" and container(task, "sidecar")["lastStatus"] ==
          "RUNNING", f"containers not RUNNING: {task['containers']}")
    # The task's health is its essential web's (the sidecar is neither essential nor checked).
    # In bridge mode the sidecar waited for web HEALTHY, so the RUNNING task is HEALTHY already.
    if mode != "bridge":
        wait_for("the task HEALTHY", lambda: a.describe(arn).get("healthStatus") == "HEALTHY",
                 timeout=30)
        task = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
        web = container(task, "web")
    check(task.get("healthStatus") == "HEALTHY" and web.get("healthStatus") == "HEALTHY" and
          container(task, "sidecar").get("healthStatus") == "UNKNOWN",
          f"healthStatus: task {task.get('healthStatus')}, containers " +
          str({c["name"]: c.get("healthStatus") for c in task["containers"]}))
    if mode == "bridge":
        bindings = web.get("networkBindings", [])
        check(len(bindings) == 1 and bindings[0]["containerPort"] == 80 and
              bindings[0]["protocol"] == "tcp" and bindings[0]["hostPort"] > 0,
              f"web networkBindings: {bindings}")
        url = f"http://127.0.0.1:{bindings[0]['hostPort']}/"
    else:
        interfaces = web.get("networkInterfaces", [])
        check(len(interfaces) == 1 and interfaces[0].get("privateIpv4Address"),
              f"web networkInterfaces: {interfaces}")
        ip = interfaces[0]["privateIpv4Address"]
        url = f"http://{ip}/"
    page = wait_for(f"the page at {url}", lambda: fetch(url), timeout=15)
    check("Hello from berth" in page, f"unexpected page: {page[:300]}")
    if mode == "awsvpc":
        check(f"<li>{ip}</li>" in page, f"the page does not show the task address {ip}: {page}")

    if mode == "bridge":
        firewall_reload_is_repaired(url)

    listed = aws.ok("list-tasks")["taskArns"]  # desiredStatus RUNNING by default
    check(arn in listed, f"list-tasks misses the running task: {listed}")

    stopped = aws.ok("stop-task", "--task", arn, "--reason", f"e2e stop {mode}")["task"]
    check(stopped["desiredStatus"] == "STOPPED", str(stopped))
    a.wait_status(arn, "STOPPED", timeout=30)
    task = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
    check(task["lastStatus"] == "STOPPED" and task["stoppedReason"] == f"e2e stop {mode}",
          f"stopped task: {task}")
    check(task.get("stopCode") == "UserInitiated", f"stopCode: {task.get('stopCode')}")
    check(task.get("stoppedAt"), f"no stoppedAt: {task}")
    codes = {c["name"]: c.get("exitCode") for c in task["containers"]}
    check(codes.get("sidecar") == 3, f"sidecar exits 3 on SIGTERM; exit codes: {codes}")
    check(codes.get("web") in (137, 143), f"web killed by signal: 137/143; exit codes: {codes}")
    check(all(c["lastStatus"] == "STOPPED" for c in task["containers"]), str(task["containers"]))
    check(arn not in aws.ok("list-tasks")["taskArns"], "a stopped task is listed as RUNNING")
    check(arn in aws.ok("list-tasks", "--desired-status", "STOPPED")["taskArns"],
          "list-tasks --desired-status STOPPED misses the stopped task")
    try:
        fetch(url, timeout=2)
    except (OSError, urllib.error.URLError):
        pass
    else:
        raise Failure(f"{url} still answers after the task stopped")


def firewall_reload_is_repaired(url):
    """A firewall reload (`nft flush ruleset`, here in the test's own network namespace) takes
    the task's DNAT away; berthd notices the ruleset changed and rebuilds its table. The second
    flush comes right after the first repair, when berthd's 5 s poll has just been re-armed: a
    repair within 3 s is the nftables change event's doing (net::RulesetWatch)."""
    for attempt in (1, 2):
        subprocess.run(["nft", "flush", "ruleset"], check=True)
        start = time.monotonic()
        page = wait_for(f"the page at {url} after the ruleset was flushed", lambda: fetch(url),
                        timeout=20)
        took = time.monotonic() - start
        check("Hello from berth" in page, f"unexpected page after the repair: {page[:300]}")
        print(f"  flush {attempt}: page back after {took:.2f} s")
    check(took < 3, f"the second repair took {took:.1f} s: the change event did not wake berthd")


def bridge(work):
    web_task_end_to_end(work, "bridge")


def awsvpc(work):
    web_task_end_to_end(work, "awsvpc")


def unknown_arns_are_missing(work):
    a = agent(work)
    aws = Aws(aws_clis()[0], a.endpoint)
    missing = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef"
    out = aws.ok("describe-tasks", "--tasks", missing)
    check(out["tasks"] == [] and out["failures"] == [{"arn": missing, "reason": "MISSING"}],
          f"describe-tasks of an unknown ARN: {out}")


def teardown():
    stop_shared_agent(STATE)


def introspection(work):
    """The introspection server, as the ECS agent's, on the port the test gave berthd."""
    a = agent(work)
    base = f"http://127.0.0.1:{a.introspection_port}"
    try:
        metadata = json.loads(fetch(base + "/v1/metadata"))
        tasks = json.loads(fetch(base + "/v1/tasks"))
    except OSError as e:
        raise Failure(f"introspection on {base}: {e}") from e
    check(metadata.get("Cluster") == "default", f"/v1/metadata: {metadata}")
    check(isinstance(tasks.get("Tasks"), list), f"/v1/tasks: {tasks}")


def main():
    run_cases("e2e_aws_cli", [
        ("bridge_web_task_serves_its_page_on_the_dynamic_host_port_and_stops_with_exit_codes",
         bridge),
        ("awsvpc_web_task_serves_its_page_on_its_own_address_and_stops_with_exit_codes", awsvpc),
        ("describe_tasks_reports_an_unknown_arn_as_missing", unknown_arns_are_missing),
        ("the_introspection_server_answers_metadata_and_tasks", introspection),
    ], teardown)


if __name__ == "__main__":
    main()
