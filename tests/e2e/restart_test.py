"""tests/e2e/restart_test.py — berthd SIGKILLed and restarted, twice, with real containers:
first while tasks run and one is starting (gated on a health check), then while a container
exits. Proves that running containers are re-adopted (same pids, never restarted), that the
starting task is finished or cleanly stopped, that an exit code that happened while the agent
was down is reported, that logs kept flowing without a gap, and every state is right."""
import os
import time

from berth_e2e import (HELLO, Agent, check, container, hello_archive, run_cases,
                       stop_shared_agent, task_id, wait_for)

STATE = {}
TICKER = "i=0; trap 'exit 0' TERM; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"
EXITER = "echo waiting; while [ ! -e /ctl/exit ]; do sleep 0.1; done; echo bye; exit 7"
IDLE = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


def definition(family, containers, ctl):
    return {"family": family, "networkMode": "bridge", "containerDefinitions": containers,
            "volumes": [{"name": "ctl", "host": {"sourcePath": ctl}}]}


def shell(name, script, **extra):
    return dict({"name": name, "image": HELLO, "essential": True, "memory": 32,
                 "entryPoint": ["/bin/sh", "-c"], "command": [script], "stopTimeout": 3,
                 "mountPoints": [{"sourceVolume": "ctl", "containerPath": "/ctl"}]}, **extra)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def ticks(agent, tid):
    """The tick numbers of the ticker's log; they must run 1, 2, 3 ... without a gap."""
    numbers = [int(line.split()[1]) for line in agent.container_log(tid, "ticker")
               if line.startswith("tick ")]
    check(numbers == list(range(1, len(numbers) + 1)),
          f"the ticker's log has a gap or a repeat: {numbers[:5]}...{numbers[-5:]}")
    return len(numbers)


def run(agent, family):
    out = agent.call("RunTask", {"taskDefinition": family, "startedBy": "e2e-restart"})
    check(not out.get("failures") and len(out["tasks"]) == 1, f"RunTask {family}: {out}")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    return arn


def setup(work):
    a = Agent(work)
    a.load(hello_archive(work))
    a.start()
    STATE["agent"] = a
    ctl = os.path.join(work, "ctl")
    os.makedirs(ctl, exist_ok=True)
    STATE["ctl"] = ctl
    for td in (
            definition("ticker", [shell("ticker", TICKER)], ctl),
            definition("exiter", [shell("exiter", EXITER)], ctl),
            definition("starter", [
                shell("gate", IDLE, healthCheck={
                    "command": ["CMD-SHELL", "test -e /ctl/healthy"], "interval": 5,
                    "timeout": 2, "retries": 10, "startPeriod": 0}),
                shell("late", IDLE, essential=False,
                      dependsOn=[{"containerName": "gate", "condition": "HEALTHY"}])], ctl)):
        a.call("RegisterTaskDefinition", td)
    return a


def kill_while_running_and_starting(work):
    a = setup(work)
    arns = {name: run(a, name) for name in ("ticker", "exiter", "starter")}
    STATE["arns"] = arns
    ids = {name: task_id(arn) for name, arn in arns.items()}
    a.wait_status(arns["ticker"], "RUNNING")
    a.wait_status(arns["exiter"], "RUNNING")
    wait_for("the starter's gate container RUNNING", lambda: container(
        a.describe(arns["starter"]), "gate")["lastStatus"] == "RUNNING")
    starter = a.describe(arns["starter"])
    check(starter["lastStatus"] in ("PENDING", "ACTIVATING"), f"starter: {starter['lastStatus']}")
    check(container(starter, "late")["lastStatus"] != "RUNNING", "late started before HEALTHY")
    pids = {"ticker": a.container_pid(ids["ticker"], "ticker"),
            "exiter": a.container_pid(ids["exiter"], "exiter"),
            "gate": a.container_pid(ids["starter"], "gate")}
    check(all(pids.values()), f"container pids from berth-runtime state: {pids}")
    STATE["pids"] = pids
    wait_for("a few ticks", lambda: ticks(a, ids["ticker"]) >= 3, timeout=10)

    a.kill()
    down_ticks = ticks(a, ids["ticker"])
    time.sleep(1.0)  # the containers, and their logs, live on without the agent
    check(all(alive(p) for p in pids.values()), f"a container died with the agent: {pids}")
    check(ticks(a, ids["ticker"]) > down_ticks, "the ticker's log stopped with the agent")
    a.start()

    for name, cname in (("ticker", "ticker"), ("exiter", "exiter")):
        task = a.describe(arns[name])
        check(task["lastStatus"] == "RUNNING" and container(task, cname)["lastStatus"] ==
              "RUNNING", f"{name} after restart: {task}")
        check(a.container_pid(ids[name], cname) == pids[cname],
              f"{name} was not re-adopted: pid {pids[cname]} became "
              f"{a.container_pid(ids[name], cname)}")
    # The starting task: either it finishes (gate turns healthy, late starts) or it is stopped
    # cleanly, with nothing left behind. Either way it must not stay half-started.
    open(os.path.join(STATE["ctl"], "healthy"), "w", encoding="utf-8").close()
    task = wait_for("the starter RUNNING or STOPPED", lambda: (lambda t: t if t["lastStatus"] in (
        "RUNNING", "STOPPED") else None)(a.describe(arns["starter"])), timeout=30)
    print(f"the task caught starting ended {task['lastStatus']}", flush=True)
    if task["lastStatus"] == "RUNNING":
        check(a.container_pid(ids["starter"], "gate") == pids["gate"], "gate was restarted")
        check(a.container_pid(ids["starter"], "late"), "late RUNNING without a process")
    else:
        check(task.get("stoppedReason"), f"stopped without a reason: {task}")
        check(a.container_pid(ids["starter"], "gate") is None, "a stopped task left gate running")
    before = ticks(a, ids["ticker"])
    wait_for("new ticks after the restart", lambda: ticks(a, ids["ticker"]) > before, timeout=5)


def kill_while_a_container_exits(work):
    check("arns" in STATE, "needs the first case's tasks")
    a, arns, pids = STATE["agent"], STATE["arns"], STATE["pids"]
    ids = {name: task_id(arn) for name, arn in arns.items()}
    a.kill()
    open(os.path.join(STATE["ctl"], "exit"), "w", encoding="utf-8").close()
    wait_for("the exiter to exit while the agent is down", lambda: not alive(pids["exiter"]),
             timeout=10)
    a.start()

    task = a.wait_status(arns["exiter"], "STOPPED", timeout=20)
    exiter = container(task, "exiter")
    check(exiter.get("exitCode") == 7 and exiter["lastStatus"] == "STOPPED",
          f"the exit code that happened while the agent was down: {exiter}")
    check("ssential container" in task.get("stoppedReason", ""),
          f"stoppedReason: {task.get('stoppedReason')}")
    check(task.get("stopCode") == "EssentialContainerExited", f"stopCode: {task.get('stopCode')}")
    log = a.container_log(ids["exiter"], "exiter")
    check(log == ["waiting\n", "bye\n"], f"the exiter's log: {log}")

    ticker = a.describe(arns["ticker"])
    check(ticker["lastStatus"] == "RUNNING", f"ticker: {ticker['lastStatus']}")
    check(a.container_pid(ids["ticker"], "ticker") == pids["ticker"], "ticker restarted")
    before = ticks(a, ids["ticker"])
    wait_for("new ticks", lambda: ticks(a, ids["ticker"]) > before, timeout=5)

    listed = a.call("ListTasks")["taskArns"]
    check(arns["ticker"] in listed and arns["exiter"] not in listed, f"ListTasks: {listed}")


def the_cli_reads_logs_and_execs_into_readopted_containers_then_stops(work):
    check("arns" in STATE, "needs the first case's tasks")
    a, arns, pids = STATE["agent"], STATE["arns"], STATE["pids"]
    ids = {name: task_id(arn) for name, arn in arns.items()}
    check(a.berth("logs", ids["exiter"], "exiter") == "waiting\nbye\n", "berth logs exiter")
    check(ids["ticker"] in a.berth("--json", "ps"), "berth ps misses the re-adopted ticker")
    check(a.berth("exec", ids["ticker"], "ticker", "cat", "/proc/1/cmdline").startswith(
        "/bin/sh"), "berth exec into the re-adopted ticker")

    a.call("StopTask", {"task": arns["ticker"], "reason": "e2e done"})
    task = a.wait_status(arns["ticker"], "STOPPED", timeout=20)
    check(container(task, "ticker").get("exitCode") == 0, f"ticker: {task['containers']}")
    check(task.get("stoppedReason") == "e2e done", f"stoppedReason: {task.get('stoppedReason')}")
    check(not alive(pids["ticker"]), "the ticker's process outlived STOPPED")
    ticks(a, ids["ticker"])  # complete to the end


def teardown():
    stop_shared_agent(STATE)


def main():
    run_cases("e2e_restart", [
        ("sigkill_while_tasks_run_and_one_starts_readopts_containers_and_settles_the_start",
         kill_while_running_and_starting),
        ("sigkill_while_a_container_exits_reports_its_exit_code_and_keeps_the_logs",
         kill_while_a_container_exits),
        ("the_berth_cli_reads_logs_execs_into_readopted_containers_and_stops_them",
         the_cli_reads_logs_and_execs_into_readopted_containers_then_stops),
    ], teardown)


if __name__ == "__main__":
    main()
