"""tests/e2e/pull_test.py — berthd pulls a task's image from a real registry (docker-registry on
127.0.0.1 inside run.sh's network namespace; loopback is plain HTTP) rather than loading the
offline archive: two tasks started by one RunTask --count 2 pull the image once (the registry's
access log shows one GET of the layer), and describe-tasks shows each task's pullStartedAt and
pullStoppedAt. A tag the registry does not have stops the task with CannotPullContainerError. berthd SIGKILLed
in the middle of a layer's download (through a relay that slows the registry's answers) and
restarted: the task is pulled again and runs, or is cleanly STOPPED; no half-unpacked layer is
left in the store, and a new task of the image runs (issue 17)."""
import hashlib
import json
import os
import socket
import subprocess
import tarfile
import threading
import time
import urllib.request

from berth_e2e import (Agent, Aws, aws_clis, check, container, free_port, hello_archive,
                       run_cases, stop_everything, task_id, wait_for)

STATE = {}
REPO = "e2e/hello"


class Registry:
    """docker-registry serving `storage` on 127.0.0.1:port; its log (and access log) in a file."""

    def __init__(self, work):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.dir = os.path.join(work, "registry")
        os.makedirs(self.dir, exist_ok=True)
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("version: 0.1\nlog:\n  level: info\n"
                    f"storage:\n  filesystem:\n    rootdirectory: {self.dir}/storage\n"
                    f"http:\n  addr: {self.host}\n")
        self.log = os.path.join(self.dir, "registry.log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", config],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for("docker-registry to answer /v2/", self.answers, timeout=15)

    def answers(self):
        check(self.proc.poll() is None, f"docker-registry exited {self.proc.returncode}")
        with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as r:
            return r.status == 200

    def request(self, method, path, body=None, headers=None):
        url = path if path.startswith("http") else f"http://{self.host}{path}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def push_blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        location = headers["Location"]
        location += ("&" if "?" in location else "?") + f"digest={digest}"
        status, _, _ = self.request("PUT", location, data,
                                    {"Content-Type": "application/octet-stream"})
        check(status == 201, f"blob upload {digest}: {status}")
        return digest

    def push_oci_archive(self, archive, repo, tag):
        """Pushes the one image of an OCI layout archive (examples/hello/build.sh's); returns
        the layer digests."""
        with tarfile.open(archive) as tar:
            def blob(digest):
                return tar.extractfile("blobs/sha256/" + digest.split(":", 1)[1]).read()
            index = json.loads(tar.extractfile("index.json").read())
            manifest_bytes = blob(index["manifests"][0]["digest"])
            manifest = json.loads(manifest_bytes)
            for item in [manifest["config"], *manifest["layers"]]:
                check(self.push_blob(repo, blob(item["digest"])) == item["digest"],
                      f"pushed digest differs: {item['digest']}")
        status, _, _ = self.request("PUT", f"/v2/{repo}/manifests/{tag}", manifest_bytes,
                                    {"Content-Type": manifest["mediaType"]})
        check(status == 201, f"manifest upload: {status}")
        return [layer["digest"] for layer in manifest["layers"]]

    def gets_of(self, repo, digest):
        """How many GETs of the blob the registry answered (its access log)."""
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f
                       if f'"GET /v2/{repo}/blobs/{digest} ' in line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class SlowRelay:
    """A TCP relay to the registry whose answers trickle (8 KiB every 20 ms, ~400 KiB/s) while
    `slow` is set, so that a layer's download takes seconds; counts the bytes it relayed back."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.slow = True
        self.relayed = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, True), daemon=True).start()

    def pump(self, source, sink, answers):
        try:
            while True:
                data = source.recv(8192)
                if not data:
                    break
                if answers and self.slow:
                    time.sleep(0.02)
                sink.sendall(data)
                if answers:
                    self.relayed += len(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def setup(work):
    """The registry with the hello image pushed as REPO:1, and a berthd with an empty image
    store (nothing loaded: every image comes from the registry)."""
    if "agent" not in STATE:
        registry = Registry(work)
        STATE["registry"] = registry
        STATE["layers"] = registry.push_oci_archive(hello_archive(work), REPO, "1")
        a = Agent(work, "puller")
        a.start()
        STATE["agent"] = a
    return STATE["agent"], STATE["registry"]


def register(aws, work, family, image):
    td = {"family": family, "containerDefinitions": [{
        "name": "main", "image": image, "memory": 32, "entryPoint": ["/bin/sh", "-c"],
        "command": ["trap 'exit 0' TERM; echo pulled; while true; do sleep 1; done"]}]}
    path = os.path.join(work, f"{family}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(td, f)
    aws.ok("register-task-definition", "--cli-input-json", f"file://{path}")


def two_tasks_pull_the_image_once(work):
    a, registry = setup(work)
    aws = Aws(aws_clis()[-1], a.endpoint)  # v1 when present: timestamps as epoch numbers
    image = f"{registry.host}/{REPO}:1"
    register(aws, work, "e2e-pull", image)
    before = {d: registry.gets_of(REPO, d) for d in STATE["layers"]}
    check(all(n == 0 for n in before.values()), f"layers fetched before any task: {before}")
    started = time.time()
    out = aws.ok("run-task", "--task-definition", "e2e-pull", "--count", "2")
    check(len(out.get("tasks", [])) == 2 and not out.get("failures"), f"run-task: {out}")
    arns = [t["taskArn"] for t in out["tasks"]]
    for arn in arns:
        task_id(arn)
    for arn in arns:
        a.wait_status(arn, "RUNNING", timeout=60)
    gets = {d: registry.gets_of(REPO, d) for d in STATE["layers"]}
    check(all(n == 1 for n in gets.values()),
          f"each layer should be fetched once for both tasks: {gets}")
    described = aws.ok("describe-tasks", "--tasks", *arns)["tasks"]
    check(len(described) == 2, f"describe-tasks: {described}")
    for task in described:
        begin, end = task.get("pullStartedAt"), task.get("pullStoppedAt")
        check(begin is not None and end is not None,
              f"pullStartedAt/pullStoppedAt missing: {task}")
        if isinstance(begin, (int, float)):  # v1 prints epoch seconds; v2 ISO 8601 text
            check(started - 2 <= begin <= end <= time.time() + 1,
                  f"pull times out of order: {begin} .. {end} (run at {started:.0f})")
            check(end <= task["startedAt"], f"pulled after the start: {task}")
        check(container(task, "main")["image"] == image, f"container image: {task}")
    for arn in arns:
        wait_for("the pulled image's container's output",
                 lambda arn=arn: "pulled\n" in a.container_log(task_id(arn), "main"), timeout=10)
    # A third task of the same image, now in the store, fetches nothing more.
    out = aws.ok("run-task", "--task-definition", "e2e-pull")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    a.wait_status(arn, "RUNNING", timeout=40)
    again = {d: registry.gets_of(REPO, d) for d in STATE["layers"]}
    check(again == gets, f"the stored image was fetched again: {gets} -> {again}")
    for arn in [*arns, arn]:
        aws.ok("stop-task", "--task", arn)
    for arn in [*arns, arn]:
        a.wait_status(arn, "STOPPED", timeout=30)


def a_tag_the_registry_lacks_stops_the_task(work):
    a, registry = setup(work)
    aws = Aws(aws_clis()[0], a.endpoint)
    register(aws, work, "e2e-pull-missing", f"{registry.host}/{REPO}:no-such-tag")
    out = aws.ok("run-task", "--task-definition", "e2e-pull-missing")
    arn = out["tasks"][0]["taskArn"]
    task_id(arn)
    task = wait_for("the task STOPPED", lambda: (lambda t: t if t.get("lastStatus") == "STOPPED"
                                                 else None)(a.describe(arn)), timeout=60)
    main = container(task, "main")
    check(task.get("stopCode") == "TaskFailedToStart" and
          "CannotPullContainerError" in main.get("reason", ""),
          f"stopCode {task.get('stopCode')}, reason {main.get('reason')!r}")


def berthd_killed_mid_pull_pulls_again_or_stops_cleanly(work):
    shared, registry = setup(work)
    stop_everything(shared)  # one berthd at a time: the task metadata listener's port
    relay = SlowRelay(registry.port)
    STATE["relay"] = relay
    # An empty image store of its own (the pull must happen); stopped tasks cleaned up at once.
    a = Agent(work, "midpull", env={"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": "1s"})
    STATE["midpull"] = a
    a.start()
    aws = Aws(aws_clis()[0], a.endpoint)
    image = f"{relay.host}/{REPO}:1"
    register(aws, work, "e2e-midpull", image)
    arn = a.call("RunTask", {"taskDefinition": "e2e-midpull"})["tasks"][0]["taskArn"]
    tid = task_id(arn)
    # Well into the layer (the manifest and config are a few KiB), far from its end.
    wait_for("a layer download under way", lambda: relay.relayed > 64 * 1024, timeout=30)
    a.kill()
    at_kill = relay.relayed
    check(at_kill < 512 * 1024, f"the pull got too far before the kill: {at_kill} bytes")
    ingest = os.path.join(a.state, "images", "ingest")
    relay.slow = False
    a.start()
    # recover() at open: the killed pull's half-unpacked layer is gone.
    check(not os.path.isdir(ingest) or not os.listdir(ingest),
          f"half-unpacked layers left: {os.listdir(ingest)}")
    task = wait_for("the task caught pulling RUNNING or STOPPED",
                    lambda: (lambda t: t if t.get("lastStatus") in ("RUNNING", "STOPPED")
                             else None)(a.describe(arn)), timeout=60)
    print(f"  the task caught pulling ({at_kill} bytes in) ended {task['lastStatus']}",
          flush=True)
    if task["lastStatus"] == "RUNNING":
        wait_for("the re-pulled image's output",
                 lambda: "pulled\n" in a.container_log(tid, "main"), timeout=10)
        a.call("StopTask", {"task": arn})
        a.wait_status(arn, "STOPPED", timeout=30)
    else:
        check(task.get("stoppedReason"), f"STOPPED without a reason: {task}")
    # The image is whole in the store: another task of it runs.
    again = a.call("RunTask", {"taskDefinition": "e2e-midpull"})["tasks"][0]["taskArn"]
    task_id(again)
    a.wait_status(again, "RUNNING", timeout=60)
    a.call("StopTask", {"task": again})
    a.wait_status(again, "STOPPED", timeout=30)
    # Both tasks cleaned up: no container state, rootfs or bundle left of either.
    for d in (os.path.join(a.runtime, "containers"), os.path.join(a.state, "images", "containers"),
              os.path.join(a.runtime, "bundles")):
        wait_for(f"{d} empty", lambda d=d: not os.path.isdir(d) or not os.listdir(d), timeout=30)


def teardown():
    try:
        for name in ("agent", "midpull"):
            if name in STATE:
                stop_everything(STATE[name])
        if "relay" in STATE:
            STATE["relay"].close()
    finally:
        if "registry" in STATE:
            STATE["registry"].stop()


def main():
    run_cases("e2e_pull", [
        ("two_tasks_started_together_pull_their_image_from_the_registry_once",
         two_tasks_pull_the_image_once),
        ("a_tag_the_registry_does_not_have_stops_the_task_with_cannotpullcontainererror",
         a_tag_the_registry_lacks_stops_the_task),
        ("berthd_sigkilled_mid_pull_pulls_again_or_stops_the_task_cleanly",
         berthd_killed_mid_pull_pulls_again_or_stops_cleanly),
    ], teardown)


if __name__ == "__main__":
    main()
