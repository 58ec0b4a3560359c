"""bench/berthd_order_workload.py PHASES — the workload scripts/berthd-order.sh traces berthd
under (the one bench/berthd.sh measures): start and idle; API calls (unix socket and SigV4 over
TCP) and tasks run and stopped (bridge with a dynamic port as `start`, a container that ends at
once, 20 sleeping tasks as `rss`); idle again once the supervisor left; then SIGTERM. Runs as
root inside the namespaces tests/e2e/run.sh makes. Writes "phase CLOCK_MONOTONIC-ns" lines to
PHASES as each phase begins: ready, work, idle-again, stop."""
import http.client
import json
import os
import sys
import shutil
import tempfile
import time

from berth_e2e import HELLO, Failure, check, sigv4, task_id, stop_everything
from berthd_bench import IDLE, agent, berth_processes


def mark(phases, name):
    phases.write(f"{name} {time.monotonic_ns()}\n")
    phases.flush()


def tcp_call(a, operation, body):
    """One SigV4-signed call over the TCP API (the aws CLI's way in)."""
    payload = json.dumps(body)
    headers = sigv4({"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + operation},
                    f"127.0.0.1:{a.api_port}", payload)
    conn = http.client.HTTPConnection("127.0.0.1", a.api_port, timeout=30)
    try:
        conn.request("POST", "/", payload, headers)
        response = conn.getresponse()
        text = response.read().decode()
        check(response.status == 200, f"{operation} over TCP answered {response.status}: {text}")
        return json.loads(text)
    finally:
        conn.close()


def run_and_stop(a, family, count=1, timeout=60):
    out = a.call("RunTask", {"taskDefinition": family, "count": count})
    check(not out.get("failures"), f"RunTask: {out}")
    arns = [t["taskArn"] for t in out["tasks"]]
    for arn in arns:
        task_id(arn)
    return arns


def work(a):
    a.call("RegisterTaskDefinition", {
        "family": "order-start", "networkMode": "bridge", "containerDefinitions": [{
            "name": "web", "image": HELLO, "essential": True, "memory": 32,
            "entryPoint": ["/bin/sh", "-c"], "command": [IDLE], "stopTimeout": 2,
            "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]}]})
    a.call("RegisterTaskDefinition", {
        "family": "order-brief", "networkMode": "none", "containerDefinitions": [{
            "name": "brief", "image": HELLO, "essential": True, "memory": 16,
            "entryPoint": ["/bin/true"]}]})
    a.call("RegisterTaskDefinition", {
        "family": "order-idle", "networkMode": "bridge", "containerDefinitions": [{
            "name": "idle", "image": HELLO, "essential": True, "memory": 16,
            "entryPoint": ["/bin/sleep"], "command": ["1000000"], "stopTimeout": 2}]})
    tcp_call(a, "ListTaskDefinitions", {})
    tcp_call(a, "DescribeTaskDefinition", {"taskDefinition": "order-start"})
    for _ in range(5):  # bench/berthd.sh start: RunTask, DescribeTasks until RUNNING, StopTask
        arn = run_and_stop(a, "order-start")[0]
        a.wait_status(arn, "RUNNING")
        a.call("StopTask", {"task": arn})
        a.wait_status(arn, "STOPPED")
    a.wait_status(run_and_stop(a, "order-brief")[0], "STOPPED")
    arns = run_and_stop(a, "order-idle", 10) + run_and_stop(a, "order-idle", 10)
    for arn in arns:
        a.wait_status(arn, "RUNNING", timeout=120)
    tcp_call(a, "DescribeTasks", {"tasks": arns[:5]})
    tcp_call(a, "ListTasks", {})
    a.call("ListTasks")
    for arn in arns:
        a.call("StopTask", {"task": arn})
    for arn in arns:
        a.wait_status(arn, "STOPPED", timeout=120)


def main():
    with open(sys.argv[1], "w", encoding="utf-8") as phases:
        tmp = tempfile.mkdtemp(prefix="order-", dir=os.environ.get("BERTH_E2E_PARENT", "/tmp"))
        a = agent(tmp)
        try:
            mark(phases, "ready")
            time.sleep(5)  # the idle loop's timers
            mark(phases, "work")
            work(a)
            deadline = time.monotonic() + 90
            while any(c.startswith("berth-superviso") for _, c in berth_processes()):
                check(time.monotonic() < deadline, "the supervisor did not leave in 90 s")
                time.sleep(1)
            mark(phases, "idle-again")
            time.sleep(5)  # the idle trim and timers after work
            mark(phases, "stop")
        finally:
            try:
                stop_everything(a)
            except Failure:
                # Under perf record (BERTHD_ORDER_UNDER_PERF, scripts/berthd-order.sh's fault
                # passes) the exit status on SIGTERM is perf's (killed by the signal it passed
                # on to berthd), not berthd's.
                if os.environ.get("BERTHD_ORDER_UNDER_PERF") != "1":
                    raise
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
