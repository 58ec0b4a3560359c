"""tests/e2e/task_api_test.py — the task operations' options, driven through berthd's API by the
real aws CLI (--endpoint-url), each checked where it shows: StartTask onto this node's container
instance (and MISSING for one that is not), RunTask --tags read back by list-tags-for-resource
and describe-tasks --include TAGS, --overrides seen by the running container and in
describe-tasks, a task whose essential container fails its health check reported UNHEALTHY, and
RunTask refusing what does not fit the node (RESOURCE:MEMORY / CPU / PORTS in failures[],
nothing run). Runs inside run.sh's namespaces; Debian's CLI v2 and, when present, v1 (pip/pyenv)
share the cases."""
import json
import os

from berth_e2e import (HELLO, Aws, aws_clis, check, container, run_cases, shared_agent,
                       stop_shared_agent, task_id, wait_for)

STATE = {}
MISSING_INSTANCE = ("arn:aws:ecs:us-east-1:000000000000:container-instance/default/"
                    "0123456789abcdef0123456789abcdef")


def agent(work):
    return shared_agent(STATE, work)


def cli(work, which=0):
    """Debian's v2 (which=0) or the last found, v1 when present (which=-1)."""
    return Aws(aws_clis()[which], agent(work).endpoint)


def register(aws, work, family, containers, **task_fields):
    """Registers a task definition of `containers` (HELLO image, memory 32 unless given)."""
    for c in containers:
        c.setdefault("image", HELLO)
        c.setdefault("memory", 32)
    td = dict({"family": family, "containerDefinitions": containers}, **task_fields)
    path = os.path.join(work, f"{family}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(td, f)
    registered = aws.ok("register-task-definition", "--cli-input-json", f"file://{path}")
    return registered["taskDefinition"]["taskDefinitionArn"]


def shell(name, script, **fields):
    """A container that runs `script` with /bin/sh -c and ends at once on SIGTERM."""
    return dict({"name": name, "entryPoint": ["/bin/sh", "-c"],
                 "command": [f"trap 'exit 0' TERM; {script}; while true; do sleep 1; done"]},
                **fields)


def logged(a, tid, name, text):
    """Whether a line of the container's json-file log contains `text`."""
    return any(text in line for line in a.container_log(tid, name))


def stop(a, aws, arn):
    aws.ok("stop-task", "--task", arn, "--reason", "e2e done")
    a.wait_status(arn, "STOPPED", timeout=30)


def all_task_arns(aws):
    return set(aws.ok("list-tasks")["taskArns"]) | set(
        aws.ok("list-tasks", "--desired-status", "STOPPED")["taskArns"])


def this_instance(aws):
    arns = aws.ok("list-container-instances")["containerInstanceArns"]
    check(len(arns) == 1, f"list-container-instances: {arns}")
    return arns[0]


def start_task_runs_on_this_node(work):
    a = agent(work)
    aws = cli(work)
    register(aws, work, "e2e-start", [shell("main", "echo started")])
    instance = this_instance(aws)
    out = aws.ok("start-task", "--task-definition", "e2e-start", "--container-instances", instance,
                 "--started-by", "e2e-start-task")
    check(not out.get("failures") and len(out.get("tasks", [])) == 1, f"start-task: {out}")
    arn = out["tasks"][0]["taskArn"]
    tid = task_id(arn)
    check(out["tasks"][0]["containerInstanceArn"] == instance, f"start-task: {out}")
    a.wait_status(arn, "RUNNING", timeout=40)
    task = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
    check(task["lastStatus"] == "RUNNING" and task["containerInstanceArn"] == instance and
          task["startedBy"] == "e2e-start-task" and task["launchType"] == "EXTERNAL" and
          task["taskDefinitionArn"].endswith(":task-definition/e2e-start:1"),
          f"describe-tasks of the started task: {task}")
    check(container(task, "main")["lastStatus"] == "RUNNING", str(task["containers"]))
    wait_for("the started container's output", lambda: logged(a, tid, "main", "started"),
             timeout=10)
    listed = aws.ok("list-tasks", "--container-instance", instance)["taskArns"]
    check(arn in listed, f"list-tasks --container-instance misses the started task: {listed}")
    stop(a, aws, arn)


def start_task_onto_an_unknown_instance_is_missing(work):
    """ECS answers a container instance it does not know with a failures[] entry MISSING (its
    arn the one asked for); one that is known still gets its task."""
    a = agent(work)
    aws = cli(work, -1)
    register(aws, work, "e2e-start-missing", [shell("main", "echo started")])
    before = all_task_arns(aws)
    out = aws.ok("start-task", "--task-definition", "e2e-start-missing",
                 "--container-instances", MISSING_INSTANCE)
    check(out.get("tasks") == [] and out.get("failures") ==
          [{"arn": MISSING_INSTANCE, "reason": "MISSING"}], f"start-task unknown instance: {out}")
    check(all_task_arns(aws) == before, "a refused start-task left a task behind")

    instance = this_instance(aws)
    out = aws.ok("start-task", "--task-definition", "e2e-start-missing",
                 "--container-instances", MISSING_INSTANCE, instance)
    check(len(out.get("tasks", [])) == 1 and out.get("failures") ==
          [{"arn": MISSING_INSTANCE, "reason": "MISSING"}], f"start-task, one of two: {out}")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    a.wait_status(arn, "RUNNING", timeout=40)
    stop(a, aws, arn)
    # An unknown task definition is refused as a whole, as RunTask refuses it.
    failed = aws.run("start-task", "--task-definition", "e2e-no-such-family",
                     "--container-instances", instance)
    check(failed.returncode != 0 and "ClientException" in failed.stderr,
          f"start-task of an unknown task definition: {failed.returncode} {failed.stderr}")


def run_task_tags_are_read_back(work):
    a = agent(work)
    aws = cli(work, -1)
    register(aws, work, "e2e-tags", [shell("main", "echo tagged")])
    out = aws.ok("run-task", "--task-definition", "e2e-tags", "--tags", "key=team,value=berth",
                 "key=env,value=e2e")
    check(not out.get("failures") and len(out["tasks"]) == 1, f"run-task --tags: {out}")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    wanted = [{"key": "env", "value": "e2e"}, {"key": "team", "value": "berth"}]
    tags = aws.ok("list-tags-for-resource", "--resource-arn", arn)["tags"]
    check(sorted(tags, key=lambda t: t["key"]) == wanted, f"list-tags-for-resource: {tags}")
    described = aws.ok("describe-tasks", "--tasks", arn, "--include", "TAGS")["tasks"][0]
    check(sorted(described.get("tags", []), key=lambda t: t["key"]) == wanted,
          f"describe-tasks --include TAGS: {described.get('tags')}")
    plain = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
    check(not plain.get("tags"), f"tags without --include TAGS: {plain.get('tags')}")
    # Tagging the task afterwards adds to them; untagging removes one.
    aws.ok("tag-resource", "--resource-arn", arn, "--tags", "key=later,value=yes")
    aws.ok("untag-resource", "--resource-arn", arn, "--tag-keys", "env")
    tags = aws.ok("list-tags-for-resource", "--resource-arn", arn)["tags"]
    check(sorted(t["key"] for t in tags) == ["later", "team"], f"after tag/untag: {tags}")
    a.wait_status(arn, "RUNNING", timeout=40)
    stop(a, aws, arn)
    # A stopped task keeps its tags while it is described.
    tags = aws.ok("list-tags-for-resource", "--resource-arn", arn)["tags"]
    check(sorted(t["key"] for t in tags) == ["later", "team"], f"tags of the stopped task: {tags}")


def run_task_overrides_reach_the_container(work):
    a = agent(work)
    aws = cli(work)
    register(aws, work, "e2e-overrides",
             [shell("main", "echo \"default $GREETING\"",
                    environment=[{"name": "GREETING", "value": "from the definition"},
                                 {"name": "KEPT", "value": "kept"}])])
    overrides = {"containerOverrides": [{
        "name": "main",
        "command": ["trap 'exit 0' TERM; echo \"override $GREETING $KEPT $ADDED\"; "
                    "while true; do sleep 1; done"],
        "environment": [{"name": "GREETING", "value": "from the override"},
                        {"name": "ADDED", "value": "added"}]}]}
    out = aws.ok("run-task", "--task-definition", "e2e-overrides", "--overrides",
                 json.dumps(overrides))
    check(not out.get("failures") and len(out["tasks"]) == 1, f"run-task --overrides: {out}")
    arn = out["tasks"][0]["taskArn"]
    tid = task_id(arn)
    a.wait_status(arn, "RUNNING", timeout=40)
    line = "override from the override kept added"
    wait_for(f"{line!r} in the container's log",
             lambda: logged(a, tid, "main", line), timeout=10)
    check(not any(text.startswith("default") for text in a.container_log(tid, "main")),
          f"the definition's command ran too: {a.container_log(tid, 'main')}")
    env = a.berth("exec", tid, "main", "/bin/sh", "-c", 'echo "$GREETING|$KEPT|$ADDED"')
    check(env == "from the override|kept|added\n", f"berth exec echo: {env!r}")
    task = aws.ok("describe-tasks", "--tasks", arn)["tasks"][0]
    shown = task.get("overrides", {}).get("containerOverrides", [])
    check(len(shown) == 1 and shown[0].get("name") == "main" and
          shown[0].get("command") == overrides["containerOverrides"][0]["command"] and
          shown[0].get("environment") == overrides["containerOverrides"][0]["environment"],
          f"describe-tasks overrides: {task.get('overrides')}")
    stop(a, aws, arn)
    # An override naming no container of the task is refused as a whole, nothing run.
    before = all_task_arns(aws)
    bad = aws.run("run-task", "--task-definition", "e2e-overrides", "--overrides",
                  json.dumps({"containerOverrides": [{"name": "nope", "command": ["true"]}]}))
    check(bad.returncode != 0 and "InvalidParameterException" in bad.stderr and
          "nope" in bad.stderr, f"run-task with an override of no container: {bad.stderr}")
    check(all_task_arns(aws) == before, "a refused run-task left a task behind")


def task_health_follows_its_essential_containers(work):
    """An essential container whose health check fails makes the task UNHEALTHY (and the task
    runs on: ECS stops only a service's unhealthy tasks); one whose check passes, beside a
    non-essential container that fails its own, makes it HEALTHY."""
    a = agent(work)
    aws = cli(work)
    check_of = {"interval": 5, "timeout": 2, "retries": 1, "startPeriod": 0}
    register(aws, work, "e2e-health", [
        shell("good", "echo good",
              healthCheck=dict(check_of, command=["CMD-SHELL", "true"])),
        shell("helper", "echo helper", essential=False,
              healthCheck=dict(check_of, command=["CMD-SHELL", "exit 1"])),
        shell("plain", "echo plain"),  # essential, no health check: does not count
    ])
    register(aws, work, "e2e-unhealthy", [
        shell("bad", "echo bad", healthCheck=dict(check_of, command=["CMD-SHELL", "exit 1"])),
    ])
    arns = {}
    for family in ("e2e-health", "e2e-unhealthy"):
        out = aws.ok("run-task", "--task-definition", family)
        check(not out.get("failures"), f"run-task {family}: {out}")
        arns[family] = out["tasks"][0]["taskArn"]
        task_id(arns[family])
        check(out["tasks"][0]["healthStatus"] == "UNKNOWN", f"a new task's health: {out}")

    def health_is(arn, wanted):
        return lambda: a.describe(arn).get("healthStatus") == wanted
    wait_for("task e2e-health HEALTHY", health_is(arns["e2e-health"], "HEALTHY"), timeout=40)
    wait_for("task e2e-unhealthy UNHEALTHY", health_is(arns["e2e-unhealthy"], "UNHEALTHY"),
             timeout=40)
    wait_for("the non-essential helper UNHEALTHY", lambda: container(
        a.describe(arns["e2e-health"]), "helper").get("healthStatus") == "UNHEALTHY", timeout=40)
    out = aws.ok("describe-tasks", "--tasks", arns["e2e-health"], arns["e2e-unhealthy"])
    shown = {t["taskArn"]: t for t in out["tasks"]}
    healthy, unhealthy = shown[arns["e2e-health"]], shown[arns["e2e-unhealthy"]]
    check(healthy["healthStatus"] == "HEALTHY", f"e2e-health: {healthy}")
    check({c["name"]: c["healthStatus"] for c in healthy["containers"]} ==
          {"good": "HEALTHY", "helper": "UNHEALTHY", "plain": "UNKNOWN"},
          f"e2e-health containers: {healthy['containers']}")
    check(unhealthy["healthStatus"] == "UNHEALTHY" and unhealthy["lastStatus"] == "RUNNING",
          f"e2e-unhealthy: {unhealthy}")
    for arn in arns.values():
        stop(a, aws, arn)


def run_task_that_does_not_fit_is_refused(work):
    """What the node cannot hold is a failures[] entry with ECS's reason (the container
    instance's ARN, RESOURCE:MEMORY / RESOURCE:CPU / RESOURCE:PORTS) and no task."""
    a = agent(work)
    aws = cli(work)
    instance = this_instance(aws)
    register(aws, work, "e2e-too-much-memory", [shell("main", "true", memory=4_000_000)])
    register(aws, work, "e2e-too-much-cpu", [shell("main", "true", cpu=262_144)])
    register(aws, work, "e2e-reserved-port",
             [shell("main", "true", portMappings=[{"containerPort": 80, "hostPort": 22}])])
    register(aws, work, "e2e-fixed-port",
             [shell("main", "true", portMappings=[{"containerPort": 80, "hostPort": 18080}])])
    before = all_task_arns(aws)
    for family, reason in (("e2e-too-much-memory", "RESOURCE:MEMORY"),
                           ("e2e-too-much-cpu", "RESOURCE:CPU"),
                           ("e2e-reserved-port", "RESOURCE:PORTS")):
        out = aws.ok("run-task", "--task-definition", family)
        failures = out.get("failures", [])
        check(out.get("tasks") == [] and len(failures) == 1 and
              failures[0]["arn"] == instance and failures[0]["reason"] == reason,
              f"run-task {family}: wanted {reason}: {out}")
    check(all_task_arns(aws) == before, "a refused run-task left a task behind")

    # Two tasks that want the same fixed host port: the first runs, the second is refused.
    out = aws.ok("run-task", "--task-definition", "e2e-fixed-port", "--count", "2")
    check(len(out.get("tasks", [])) == 1 and len(out.get("failures", [])) == 1 and
          out["failures"][0]["reason"] == "RESOURCE:PORTS" and
          "18080" in out["failures"][0].get("detail", ""), f"run-task --count 2: {out}")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    a.wait_status(arn, "RUNNING", timeout=40)
    again = aws.ok("run-task", "--task-definition", "e2e-fixed-port")
    check(again.get("tasks") == [] and again["failures"][0]["reason"] == "RESOURCE:PORTS",
          f"run-task while the port is held: {again}")
    stop(a, aws, arn)
    # Stopped, the task gives the port back.
    out = aws.ok("run-task", "--task-definition", "e2e-fixed-port")
    check(len(out.get("tasks", [])) == 1 and not out.get("failures"),
          f"run-task after the holder stopped: {out}")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    a.wait_status(arn, "RUNNING", timeout=40)
    stop(a, aws, arn)


def teardown():
    stop_shared_agent(STATE)


def main():
    run_cases("e2e_task_api", [
        ("start_task_runs_a_task_on_this_nodes_container_instance_and_describes_it",
         start_task_runs_on_this_node),
        ("start_task_onto_an_unknown_container_instance_answers_missing",
         start_task_onto_an_unknown_instance_is_missing),
        ("run_task_tags_are_read_by_list_tags_for_resource_and_describe_tasks",
         run_task_tags_are_read_back),
        ("run_task_overrides_reach_the_running_container_and_describe_tasks",
         run_task_overrides_reach_the_container),
        ("task_health_is_derived_from_its_essential_containers_health_checks",
         task_health_follows_its_essential_containers),
        ("run_task_that_does_not_fit_the_node_answers_resource_failures_and_runs_nothing",
         run_task_that_does_not_fit_is_refused),
    ], teardown)


if __name__ == "__main__":
    main()
