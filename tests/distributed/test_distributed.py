"""Flow programs run as separate processes.

Against `garcon server` (SQLite): two decider processes and three worker
processes of country_flow complete 50 workflows exactly once; then a worker
is killed with SIGKILL in the middle of an activity, which is retried on
another worker after its heartbeat timeout. Against moto's server (an SWF
implementation written elsewhere): the example flows run to completion.
"""
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
from botocore.config import Config

from garcon_harness import GarconServer, built_program, free_port

EXAMPLES = os.environ.get("GARCON_EXAMPLES", "")
TEST_FLOWS = os.environ.get("GARCON_TEST_FLOWS", "")
DOMAIN = "dev"


def example(name):
    return built_program(EXAMPLES, name)


def test_flow(name):
    return built_program(TEST_FLOWS, name)


def client(endpoint):
    return boto3.client("swf", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="y",
                        config=Config(read_timeout=70, retries={"max_attempts": 3}))


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def history(swf, workflow_id, run_id):
    events, token = [], None
    while True:
        kwargs = {"nextPageToken": token} if token else {}
        page = swf.get_workflow_execution_history(
            domain=DOMAIN, execution={"workflowId": workflow_id, "runId": run_id}, **kwargs)
        events += page["events"]
        token = page.get("nextPageToken")
        if not token:
            return events


def country_activity_id(country_id):
    key = f"'generator.country_id':'{country_id}';".encode()
    return "country_flow_activity_2-" + hashlib.sha1(key).hexdigest()


class MultiProcessTest(unittest.TestCase):
    def setUp(self):
        self.server = GarconServer(poll_timeout=60)
        self.server.start()
        self.endpoint = self.server.endpoint
        self.swf = client(self.endpoint)
        self.logs = tempfile.TemporaryDirectory(prefix="garcon-dist-")
        self.procs = []
        flow = example("country_flow")
        for i in range(2):
            self.procs.append(self.spawn(f"decider-{i}", flow, "decider"))
        self.workers = [self.spawn(f"worker-{i}", flow, "worker") for i in range(3)]
        self.procs += self.workers

    def spawn(self, name, flow, command):
        log = open(os.path.join(self.logs.name, name + ".log"), "wb")
        proc = subprocess.Popen([flow, command, "--endpoint", self.endpoint],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        proc.log = log
        proc.name = name
        return proc

    def tearDown(self):
        codes = {}
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                codes[proc.name] = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[proc.name] = "hung"
            proc.log.close()
        self.server.stop()
        self.logs.cleanup()
        # Every process still alive at the end stopped cleanly on SIGTERM.
        for name, code in codes.items():
            if name != getattr(self, "killed", None):
                self.assertEqual(code, 0, f"{name} exited {code}")

    def registered(self):
        try:
            self.swf.describe_workflow_type(
                domain=DOMAIN, workflowType={"name": "country_flow", "version": "1.0"})
            self.swf.describe_activity_type(
                domain=DOMAIN, activityType={"name": "country_flow_activity_3", "version": "1.0"})
            return True
        except self.swf.exceptions.UnknownResourceFault:
            return False

    def start(self, workflow_id, input_json):
        return self.swf.start_workflow_execution(
            domain=DOMAIN, workflowId=workflow_id,
            workflowType={"name": "country_flow", "version": "1.0"},
            taskList={"name": "country_flow@1.0"}, input=input_json,
            executionStartToCloseTimeout="600", taskStartToCloseTimeout="10",
            childPolicy="TERMINATE")["runId"]

    def closed(self, workflow_id, run_id):
        info = self.swf.describe_workflow_execution(
            domain=DOMAIN, execution={"workflowId": workflow_id, "runId": run_id})
        return info["executionInfo"]["executionStatus"] == "CLOSED" and info

    def test_fifty_workflows_then_a_worker_killed_mid_activity(self):
        wait_until(self.registered, 30, "registration by the flow processes")
        runs = {f"wf-{i}": self.start(f"wf-{i}", '{"failures": {}}') for i in range(50)}

        for workflow_id, run_id in runs.items():
            info = wait_until(lambda: self.closed(workflow_id, run_id), 120, workflow_id)
            self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED", workflow_id)
        identities = set()
        for workflow_id, run_id in runs.items():
            events = history(self.swf, workflow_id, run_id)
            completed = [e["activityTaskCompletedEventAttributes"]["scheduledEventId"]
                         for e in events if e["eventType"] == "ActivityTaskCompleted"]
            scheduled = {e["eventId"]: e["activityTaskScheduledEventAttributes"]["activityId"]
                         for e in events if e["eventType"] == "ActivityTaskScheduled"}
            ids = [scheduled[s] for s in completed]
            # 7 activities (1, five countries, 3), each completed exactly once.
            self.assertEqual(len(ids), 7, workflow_id)
            self.assertEqual(len(set(ids)), 7, workflow_id)
            closes = [e for e in events if e["eventType"].startswith("WorkflowExecution")
                      and e["eventType"] != "WorkflowExecutionStarted"]
            self.assertEqual([e["eventType"] for e in closes], ["WorkflowExecutionCompleted"])
            identities |= {e["activityTaskStartedEventAttributes"]["identity"]
                           for e in events if e["eventType"] == "ActivityTaskStarted"}
        self.assertGreater(len(identities), 1, "the work was shared between worker processes")

        # Country 3's first attempt in a process takes 8 s: kill the worker
        # running it.
        run_id = self.start("slow", '{"failures": {}, "delays": {"3": 8000}}')
        slow_id = country_activity_id(3)

        def started_by():
            events = history(self.swf, "slow", run_id)
            scheduled = [e["eventId"] for e in events if e["eventType"] == "ActivityTaskScheduled"
                         and e["activityTaskScheduledEventAttributes"]["activityId"] == slow_id]
            for e in events:
                a = e.get("activityTaskStartedEventAttributes")
                if a and scheduled and a["scheduledEventId"] == scheduled[0]:
                    return a["identity"]
            return None

        identity = wait_until(started_by, 60, "the slow activity to start")
        pid = int(identity.split(":")[1])
        victim = next(p for p in self.workers if p.pid == pid)
        time.sleep(0.5)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.killed = victim.name

        info = wait_until(lambda: self.closed("slow", run_id), 90, "the slow workflow")
        self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED")
        events = history(self.swf, "slow", run_id)
        timed_out = [e for e in events if e["eventType"] == "ActivityTaskTimedOut"]
        self.assertEqual(len(timed_out), 1)
        self.assertEqual(timed_out[0]["activityTaskTimedOutEventAttributes"]["timeoutType"],
                         "HEARTBEAT")
        rescheduled = [e for e in events if e["eventType"] == "ActivityTaskScheduled"
                       and e["activityTaskScheduledEventAttributes"]["activityId"] == slow_id]
        self.assertEqual(len(rescheduled), 2, "retried once after the heartbeat timeout")
        self.assertGreater(rescheduled[1]["eventId"], timed_out[0]["eventId"])


    def test_a_cancel_request_stops_the_flow_across_processes(self):
        wait_until(self.registered, 30, "registration by the flow processes")
        run_id = self.start("to-cancel", '{"failures": {}, "delays": {"3": 30000}}')
        slow_id = country_activity_id(3)

        def slow_started():
            events = history(self.swf, "to-cancel", run_id)
            scheduled = [e["eventId"] for e in events if e["eventType"] == "ActivityTaskScheduled"
                         and e["activityTaskScheduledEventAttributes"]["activityId"] == slow_id]
            return scheduled and any(
                e["eventType"] == "ActivityTaskStarted"
                and e["activityTaskStartedEventAttributes"]["scheduledEventId"] == scheduled[0]
                for e in events)

        wait_until(slow_started, 60, "the slow activity to start")
        # What `aws swf request-cancel-workflow-execution` sends.
        self.swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId="to-cancel")
        info = wait_until(lambda: self.closed("to-cancel", run_id), 30, "the canceled workflow")
        self.assertEqual(info["executionInfo"]["closeStatus"], "CANCELED")
        events = history(self.swf, "to-cancel", run_id)
        canceled = [e["activityTaskCanceledEventAttributes"] for e in events
                    if e["eventType"] == "ActivityTaskCanceled"]
        self.assertIn("country 3 stopped: canceled", [c.get("details") for c in canceled])
        activity_ids = [e["activityTaskScheduledEventAttributes"]["activityId"] for e in events
                        if e["eventType"] == "ActivityTaskScheduled"]
        self.assertFalse([a for a in activity_ids if "activity_3" in a],
                         "nothing after the canceled activity is scheduled")
        self.assertEqual(events[-1]["eventType"], "WorkflowExecutionCanceled")


class VersionTest(unittest.TestCase):
    """Two versions of one flow served at once by their own deciders and
    workers: no task of one version is taken by the other's processes, and a
    `run` of the flow keeps its tasks to itself."""

    def setUp(self):
        self.server = GarconServer(poll_timeout=60)
        self.server.start()
        self.swf = client(self.server.endpoint)
        self.logs = tempfile.TemporaryDirectory(prefix="garcon-versions-")
        self.procs = {}
        for version in (1, 2):
            flow = test_flow(f"versioned_flow_v{version}")
            for command in ("decider", "worker"):
                name = f"v{version}-{command}"
                log = open(os.path.join(self.logs.name, name + ".log"), "wb")
                proc = subprocess.Popen([flow, command, "--endpoint", self.server.endpoint],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
                proc.log = log
                self.procs[name] = proc

    def tearDown(self):
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = "hung"
            proc.log.close()
        self.server.stop()
        self.logs.cleanup()
        for name, code in codes.items():
            self.assertEqual(code, 0, f"{name} exited {code}")

    def registered(self):
        try:
            for version in ("1.0", "2.0"):
                self.swf.describe_workflow_type(
                    domain=DOMAIN, workflowType={"name": "versioned_flow", "version": version})
                self.swf.describe_activity_type(
                    domain=DOMAIN,
                    activityType={"name": f"versioned_flow_only_v{version[0]}", "version": version})
            return True
        except self.swf.exceptions.UnknownResourceFault:
            return False

    def result(self, workflow_id, run_id):
        def closed():
            info = self.swf.describe_workflow_execution(
                domain=DOMAIN, execution={"workflowId": workflow_id, "runId": run_id})
            return info["executionInfo"]["executionStatus"] == "CLOSED" and info
        info = wait_until(closed, 60, workflow_id)
        self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED", workflow_id)
        events = history(self.swf, workflow_id, run_id)
        import json
        return json.loads(events[-1]["workflowExecutionCompletedEventAttributes"]["result"]), events

    def test_each_version_runs_only_on_its_own_deciders_and_workers(self):
        wait_until(self.registered, 30, "registration by both versions")
        # The default task list registered with each type is the version's:
        # a start that names no task list goes to that version's deciders.
        described = self.swf.describe_workflow_type(
            domain=DOMAIN, workflowType={"name": "versioned_flow", "version": "2.0"})
        self.assertEqual(described["configuration"]["defaultTaskList"]["name"],
                         "versioned_flow@2.0")
        runs = []
        for i in range(10):
            version = "1.0" if i % 2 == 0 else "2.0"
            workflow_id = f"v-{i}"
            run_id = self.swf.start_workflow_execution(
                domain=DOMAIN, workflowId=workflow_id,
                workflowType={"name": "versioned_flow", "version": version},
                input="{}")["runId"]
            runs.append((version, workflow_id, run_id))
        workers = {1: self.procs["v1-worker"].pid, 2: self.procs["v2-worker"].pid}
        deciders = {1: self.procs["v1-decider"].pid, 2: self.procs["v2-decider"].pid}
        for version, workflow_id, run_id in runs:
            number = int(version[0])
            result, events = self.result(workflow_id, run_id)
            other = 3 - number
            self.assertIn(f"only_v{number}.version", result, workflow_id)
            self.assertNotIn(f"only_v{other}.version", result, workflow_id)
            self.assertEqual(result["prepare.version"], number, workflow_id)
            self.assertEqual(result["prepare.pid"], workers[number], workflow_id)
            self.assertEqual(result[f"only_v{number}.pid"], workers[number], workflow_id)
            for e in events:
                if e["eventType"] == "DecisionTaskStarted":
                    identity = e["decisionTaskStartedEventAttributes"]["identity"]
                    self.assertEqual(int(identity.split(":")[1]), deciders[number], workflow_id)
                if e["eventType"] == "ActivityTaskScheduled":
                    a = e["activityTaskScheduledEventAttributes"]
                    self.assertEqual(a["activityType"]["version"], version)
                    self.assertTrue(a["taskList"]["name"].endswith("@" + version))

    def test_run_keeps_its_tasks_from_the_running_deciders_and_workers(self):
        wait_until(self.registered, 30, "registration by both versions")
        import json
        out = subprocess.run(
            [test_flow("versioned_flow_v1"), "run", "--endpoint", self.server.endpoint, "--json",
             "--workflow-id", "private"],
            capture_output=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        summary = json.loads(out.stdout.decode().strip().splitlines()[-1])
        result = summary["result"]
        # Run in the `run` process itself, not by the v1 worker that serves
        # the shared list all along.
        self.assertNotEqual(result["prepare.pid"], self.procs["v1-worker"].pid)
        self.assertEqual(result["prepare.pid"], result["only_v1.pid"])
        events = history(self.swf, "private", summary["runId"])
        lists = {e["activityTaskScheduledEventAttributes"]["taskList"]["name"]
                 for e in events if e["eventType"] == "ActivityTaskScheduled"}
        self.assertTrue(all("@1.0~run-" in name for name in lists), lists)


class SignalTest(unittest.TestCase):
    """order_flow's decider and worker as separate processes: a run waits for
    its approval signal, sent with the flow program's `signal` command, and
    what the signal carried reaches the activity; its child flow is served by
    the same processes."""

    def setUp(self):
        self.server = GarconServer(poll_timeout=60)
        self.server.start()
        self.swf = client(self.server.endpoint)
        self.logs = tempfile.TemporaryDirectory(prefix="garcon-signals-")
        self.flow = example("order_flow")
        self.procs = []
        for command in ("decider", "worker"):
            log = open(os.path.join(self.logs.name, command + ".log"), "wb")
            proc = subprocess.Popen([self.flow, command, "--endpoint", self.server.endpoint],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            proc.log = log
            self.procs.append(proc)

    def tearDown(self):
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            self.assertEqual(proc.wait(timeout=20), 0)
            proc.log.close()
        self.server.stop()
        self.logs.cleanup()

    def cli(self, *args):
        out = subprocess.run([self.flow, *args, "--endpoint", self.server.endpoint, "--json"],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        import json
        return json.loads(out.stdout.decode().strip().splitlines()[-1])

    def describe_calls(self):
        import re
        import urllib.request
        text = urllib.request.urlopen(self.server.endpoint + "/metrics").read().decode()
        return sum(int(n) for n in re.findall(
            r'garcon_requests_total\{operation="DescribeWorkflowExecution",status="\d+"\} (\d+)',
            text))

    def test_start_wait_polls_at_most_twice_a_second(self):
        waiting = subprocess.Popen(
            [self.flow, "start", "--endpoint", self.server.endpoint, "--workflow-id", "slow-42",
             "--wait", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        before = self.describe_calls()
        started = time.monotonic()
        time.sleep(4)  # the run waits for its approval meanwhile
        calls = self.describe_calls() - before
        seconds = time.monotonic() - started
        self.assertLessEqual(calls, 2 * seconds + 1, f"{calls} Describe calls in {seconds:.1f} s")
        self.cli("signal", "slow-42", "approved")
        out, err = waiting.communicate(timeout=60)
        self.assertEqual(waiting.returncode, 0, err.decode())

    def test_a_run_waits_for_its_signal_then_completes(self):
        started = self.cli("start", "--workflow-id", "order-42", "--input", '{"amount": 12.5}')
        run_id = started["runId"]

        def events():
            return history(self.swf, "order-42", run_id)

        def reserved():
            return any(e["eventType"] == "ActivityTaskCompleted" for e in events())

        wait_until(reserved, 30, "the reservation")
        time.sleep(0.5)
        info = self.swf.describe_workflow_execution(
            domain=DOMAIN, execution={"workflowId": "order-42", "runId": run_id})
        self.assertEqual(info["executionInfo"]["executionStatus"], "OPEN",
                         "waits for the approval")
        self.assertEqual(info["openCounts"]["openActivityTasks"], 0)

        self.cli("signal", "order-42", "approved", "--input", '{"approver": "ana"}')

        def closed():
            info = self.swf.describe_workflow_execution(
                domain=DOMAIN, execution={"workflowId": "order-42", "runId": run_id})
            return info["executionInfo"]["executionStatus"] == "CLOSED" and info

        info = wait_until(closed, 30, "the approved order")
        self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED")
        import json
        final = events()
        result = json.loads(final[-1]["workflowExecutionCompletedEventAttributes"]["result"])
        self.assertEqual(result["approved_by"], "ana")
        self.assertEqual(result["charged"], 12.5)
        types = [e["eventType"] for e in final]
        self.assertIn("WorkflowExecutionSignaled", types)
        self.assertIn("TimerFired", types, "the delay before shipping is a timer")
        # Packed by the child flow, served by the same decider and worker
        # processes.
        self.assertIn("ChildWorkflowExecutionCompleted", types)
        self.assertEqual(result["boxes"], 1)


class MotoTest(unittest.TestCase):
    """The example flows against moto's SWF server."""

    @classmethod
    def setUpClass(cls):
        try:
            import moto  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("moto is not installed for this python3")
        cls.port = free_port()
        cls.moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(cls.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: cls._listening(), 30, "moto")

    @classmethod
    def _listening(cls):
        try:
            socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
            return True
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        cls.moto.terminate()
        cls.moto.wait(timeout=20)

    def run_flow(self, name, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
        out = subprocess.run(
            [example(name), "run", "--endpoint", f"http://127.0.0.1:{self.port}", "--json", *args],
            capture_output=True, timeout=180, env=env)
        import json
        summary = json.loads(out.stdout.decode().strip().splitlines()[-1])
        return out.returncode, summary

    def test_simple_flow(self):
        code, summary = self.run_flow("simple_flow")
        self.assertEqual(code, 0, summary)
        self.assertEqual(summary["result"]["activity_4"], "done")

    def test_serial_flow(self):
        code, summary = self.run_flow("serial_flow")
        self.assertEqual(code, 0, summary)
        self.assertEqual(summary["result"]["c_tasks.saw"], "Now don't be givin him sambuca!")

    def test_country_flow(self):
        # Without failures: moto refuses to reuse an activity id after the
        # earlier attempt closed (ACTIVITY_ID_ALREADY_IN_USE), which SWF
        # allows and retries rely on (docs/protocol.md).
        code, summary = self.run_flow("country_flow", "--input", '{"failures": {}}')
        self.assertEqual(code, 0, summary)
        self.assertEqual(sorted(k for k in summary["result"] if k.startswith("country.")),
                         [f"country.{i}" for i in range(1, 6)])

    def test_coffee_shop(self):
        code, summary = self.run_flow("coffee_shop")
        self.assertEqual(code, 0, summary)
        self.assertEqual(summary["result"]["paid"], 4.75)


if __name__ == "__main__":
    unittest.main()
