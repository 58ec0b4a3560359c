"""tests/e2e/berth_e2e.py — what the end-to-end tests share: a berthd started inside the network,
mount and pid namespaces that tests/e2e/run.sh made (never the host's), the real aws CLI pointed
at it with --endpoint-url, a client of its root-only unix socket (same ECS JSON 1.1 API, no
SigV4), and a small case runner that prints Boost.Test's report line so scripts/test.sh counts
each case ("N test cases out of M passed"), and fails when no case ran."""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

KEY_ID = "AKIDBERTHE2E"
SECRET = "berth-e2e-secret-key"
REGION = "us-east-1"
BUILD = os.environ.get("BERTH_BUILD_ROOT", "build")
SOURCE = os.environ.get("BERTH_SOURCE_ROOT", ".")
# BERTH_BENCH_BERTHD: another berthd binary (bench/berthd.sh side by side with a baseline's; its
# berth-supervisor is the one next to it, as berthd looks there first).
BERTHD = os.environ.get("BERTH_BENCH_BERTHD") or os.path.join(BUILD, "agent/berthd/berthd")
if os.environ.get("BERTH_BENCH_BERTHD"):  # said, so that a variable left exported is seen
    print(f"berth_e2e: berthd is {BERTHD} (BERTH_BENCH_BERTHD)", file=sys.stderr)
BERTH = os.path.join(BUILD, "agent/cli/berth")
RUNTIME = os.path.join(BUILD, "runtime/cli/berth-runtime")
HELLO = "berth.local/hello:latest"


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


def wait_for(what, probe, timeout=30.0, interval=0.05):
    """Calls probe() until it returns a true value; that value, or Failure naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, http.client.HTTPException) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise Failure(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hello_archive(work):
    """The offline demo image (examples/hello/build.sh), built once per run into `work`."""
    built = os.environ.get("BERTH_E2E_HELLO")  # tests/e2e/meson.build builds it once
    if built and os.path.exists(built):
        return built
    out = os.path.join(work, "hello.tar")
    if not os.path.exists(out):
        subprocess.run([os.path.join(SOURCE, "examples/hello/build.sh"), out], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, BERTH_HELLO_NAME=HELLO))
    return out


def sigv4(headers, host, payload):
    """AWS Signature Version 4 of a POST / to the ecs service, as botocore signs it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = dict(headers, Host=host, **{"X-Amz-Date": amz_date})
    signed = sorted(k.lower() for k in headers)
    canonical_headers = "".join(f"{k.lower()}:{headers[k].strip()}\n"
                                for k in sorted(headers, key=str.lower))
    canonical = "\n".join(["POST", "/", "", canonical_headers, ";".join(signed),
                           hashlib.sha256(payload.encode()).hexdigest()])
    scope = f"{day}/{REGION}/ecs/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SECRET).encode()
    for part in (day, REGION, "ecs", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return headers


def record_id(name):
    """A name run.sh looks for in cgroup paths when the run ends (task ids, cgroup roots)."""
    ids = os.environ.get("BERTH_E2E_IDS")
    if ids:
        with open(ids, "a", encoding="utf-8") as f:
            f.write(name + "\n")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Agent:
    """One berthd with its own state and runtime dirs and ports, in this process's namespaces."""

    def __init__(self, work, name="agent", env=None):
        self.dir = os.path.join(work, name)
        self.state = os.path.join(self.dir, "state")
        self.runtime = os.path.join(self.dir, "run")
        os.makedirs(self.state, exist_ok=True)
        os.makedirs(self.runtime, exist_ok=True)
        self.config = os.path.join(self.dir, "berth.conf")
        with open(self.config, "a", encoding="utf-8"):
            pass
        self.api_port = free_port()
        self.introspection_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.api_port}"
        self.log = os.path.join(self.dir, "berthd.log")
        # Its own cgroup root: several agents side by side; run.sh removes what is left of it.
        self.cgroup_root = f"/berth-e2e-{os.getpid()}-{name}"
        record_id(self.cgroup_root.lstrip("/"))
        self.extra_env = dict({"BERTH_CGROUP_ROOT": self.cgroup_root}, **(env or {}))
        self.proc = None
        self.conn = None

    def load(self, archive):
        """Loads an image archive into the agent's image store (<state>/images)."""
        out = subprocess.run([BERTH, "--root", os.path.join(self.state, "images"), "load", "-i",
                              archive], capture_output=True, text=True, check=False)
        check(out.returncode == 0, f"berth load failed: {out.stderr}")

    def start(self, timeout=30.0):
        check(os.access(BERTHD, os.X_OK), f"no berthd at {BERTHD} (build agent/berthd)")
        notify_path = os.path.join(self.dir, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        # berthd refuses unknown BERTH_*/ECS_* keys in its environment: pass only its own.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "ECS_"))}
        env.update(NOTIFY_SOCKET=notify_path, BERTH_API_ACCESS_KEY_ID=KEY_ID,
                   BERTH_API_SECRET_ACCESS_KEY=SECRET, ECS_LOGLEVEL="debug")
        env.update(self.extra_env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [BERTHD, "--config", self.config, "--state-dir", self.state, "--runtime-dir",
                 self.runtime, "--api-listen", f"127.0.0.1:{self.api_port}",
                 "--introspection-listen", f"127.0.0.1:{self.introspection_port}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        notify.settimeout(0.1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise Failure(f"berthd exited {self.proc.returncode} before READY=1:\n"
                                  + self.log_tail())
                if time.monotonic() > deadline:
                    raise Failure("berthd sent no READY=1 in time:\n" + self.log_tail())
                try:
                    if b"READY=1" in notify.recv(4096):
                        break
                except socket.timeout:
                    pass
        finally:
            notify.close()
            os.unlink(notify_path)
        self.conn = None

    def log_tail(self, lines=40):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self):
        """SIGKILL: the crash the agent must survive."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.conn = None

    def terminate(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("berthd ignored SIGTERM for 15 s")
            check(status == 0, f"berthd exited {status} on SIGTERM:\n{self.log_tail()}")
        self.conn = None

    # The root-only unix socket (the ECS API without SigV4), else the TCP API with SigV4 signed
    # here: both fast (the aws CLI costs ~1-2 s per call in Python start-up).
    def call(self, operation, body=None):
        payload = json.dumps(body or {})
        for attempt in range(2):
            socket_path = os.path.join(self.runtime, "berthd.sock")
            unix = os.path.exists(socket_path)
            if self.conn is None:
                self.conn = UnixHTTP(socket_path) if unix else http.client.HTTPConnection(
                    "127.0.0.1", self.api_port, timeout=30)
            headers = {"Content-Type": "application/x-amz-json-1.1",
                       "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + operation}
            if not unix:
                headers = sigv4(headers, f"127.0.0.1:{self.api_port}", payload)
            try:
                self.conn.request("POST", "/", payload, headers)
                response = self.conn.getresponse()
                text = response.read().decode()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if response.status != 200:
            raise Failure(f"{operation} answered {response.status}: {text}")
        return json.loads(text) if text else {}

    def describe(self, arn):
        out = self.call("DescribeTasks", {"tasks": [arn]})
        check(len(out.get("tasks", [])) == 1, f"DescribeTasks {arn}: {out}")
        return out["tasks"][0]

    def wait_status(self, arn, status, timeout=30.0):
        """Polls DescribeTasks until lastStatus is `status`; a task that STOPPED instead fails
        at once, with its stoppedReason and the containers' reasons."""
        def probe():
            task = self.describe(arn)
            if task.get("lastStatus") == status:
                return task
            if task.get("lastStatus") == "STOPPED":
                raise Failure(f"task {arn} STOPPED while waiting for {status}: "
                              f"{task.get('stoppedReason')}; containers: " + json.dumps(
                                  [{k: c.get(k) for k in ("name", "lastStatus", "reason",
                                                          "exitCode")}
                                   for c in task.get("containers", [])]))
            return None
        return wait_for(f"task {arn} {status}", probe, timeout)

    def container_pid(self, task_id, name):
        """The pid berth-runtime's state reports for a task's container (None once gone)."""
        out = subprocess.run([RUNTIME, "--root", os.path.join(self.runtime, "containers"),
                              "state", f"{task_id}-{name}"], capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            return None
        state = json.loads(out.stdout)
        return state.get("pid") if state.get("status") in ("running", "created") else None

    def berth(self, *args):
        """The berth CLI against this agent (its socket and state dir); stdout, or Failure."""
        out = subprocess.run([BERTH, "--state-dir", self.state, "--runtime-dir", self.runtime,
                              *args], capture_output=True, text=True, timeout=30, check=False)
        check(out.returncode == 0, f"berth {' '.join(args)} exited {out.returncode}: "
              f"{out.stderr}")
        return out.stdout

    def container_log(self, task_id, name):
        path = os.path.join(self.state, "logs", task_id, f"{name}.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            records = f.read().split("\n")[:-1]  # the last piece: a record still being written
        return [json.loads(record)["log"] for record in records if record.strip()]


def task_id(arn):
    """The task id (last ARN component), recorded for run.sh's cgroup clean-up."""
    tid = arn.rsplit("/", 1)[1]
    record_id(tid)
    return tid


def stop_everything(agent, timeout=30.0):
    """Stops every task the agent knows (so nothing outlives the case), then SIGTERMs it."""
    if agent.proc is None or agent.proc.poll() is not None:
        return
    try:
        arns = agent.call("ListTasks").get("taskArns", [])
        for arn in arns:
            task_id(arn)
            agent.call("StopTask", {"task": arn, "reason": "e2e clean-up"})
        for arn in arns:
            agent.wait_status(arn, "STOPPED", timeout)
    finally:
        agent.terminate()


def shared_agent(state, work):
    """The one berthd all the cases of a test file share, kept in state["agent"]: started with
    the offline hello image by the first case that asks for it."""
    if "agent" not in state:
        a = Agent(work)
        a.load(hello_archive(work))
        a.start()
        state["agent"] = a
    return state["agent"]


def stop_shared_agent(state):
    """The teardown for shared_agent(): its tasks stopped, then berthd."""
    if "agent" in state:
        stop_everything(state["agent"])


def container(task, name):
    for c in task.get("containers", []):
        if c.get("name") == name:
            return c
    raise Failure(f"task has no container {name}: {task}")


class Aws:
    """The real aws CLI (Debian's v2 at /usr/bin/aws, or v1 from pip/pyenv) with --endpoint-url."""

    def __init__(self, binary, endpoint):
        self.binary = binary
        self.endpoint = endpoint

    def run(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                   AWS_MAX_ATTEMPTS="1", AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
        return subprocess.run([self.binary, "ecs", *args, "--endpoint-url", self.endpoint,
                               "--region", REGION, "--output", "json"], capture_output=True,
                              text=True, env=env, timeout=60, check=False)

    def ok(self, *args):
        out = self.run(*args)
        check(out.returncode == 0, f"{self.binary} ecs {args[0]} failed: {out.stderr}")
        return json.loads(out.stdout) if out.stdout.strip() else {}


def aws_clis():
    """Debian's v2 always; v1 (pip or pyenv) when another `aws` is on PATH and works."""
    found = []
    if os.access("/usr/bin/aws", os.X_OK):
        found.append("/usr/bin/aws")
    for d in os.environ.get("PATH", "").split(":"):
        candidate = os.path.join(d, "aws")
        if candidate != "/usr/bin/aws" and os.path.realpath(candidate) != "/usr/bin/aws" \
                and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                                   check=False)
            if probe.returncode == 0:
                found.append(candidate)
            break
    check(found, "no aws CLI: scripts/install-deps.sh installs awscli")
    return found


def fetch(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode(errors="replace")


def run_cases(module, cases, teardown=None):
    """Runs each (name, function) in order; prints a Boost.Test-like report. Exit 1 unless every
    case passed and at least one ran."""
    passed = failed = 0
    work = tempfile.mkdtemp(prefix=f"{module}-", dir=os.environ.get("BERTH_E2E_PARENT", "/tmp"))
    print(f"Running {len(cases)} test cases... (module {module}, work dir {work})", flush=True)
    os.environ["BERTH_E2E_WORK"] = work
    try:
        for name, function in cases:
            started = time.monotonic()
            try:
                function(work)
            except Exception as e:  # pylint: disable=broad-except
                failed += 1
                detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
                print(f"{module}/{name}: FAILED: {detail}", flush=True)
            else:
                passed += 1
                print(f"{module}/{name}: passed ({time.monotonic() - started:.1f} s)", flush=True)
    finally:
        try:
            if teardown:
                teardown()
        except Exception:  # pylint: disable=broad-except
            failed += 1
            print(f"{module}: teardown FAILED: {traceback.format_exc()}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    total = passed + failed
    print(f"\nTest module \"{module}\" has {'passed' if failed == 0 else 'failed'} with:")
    if passed:
        print(f"  {passed} test case{'s' if passed != 1 else ''} out of {total} passed")
    if failed:
        print(f"  {failed} test case{'s' if failed != 1 else ''} out of {total} failed")
    if total == 0:
        print("  no test case ran")
    sys.exit(0 if total and not failed else 1)
