"""SIGKILL soak of `garcon server --db FILE` under eight boto3 clients.

Eight client threads start workflows and drive their decision and activity
tasks through boto3 while the server is killed with SIGKILL at random (at
least GARCON_SOAK_KILLS times, 30 by default) and restarted on the same file
and port. Every call that got an answer is recorded; afterwards every
recorded effect must be in the file:
- each acknowledged start is an execution that can be described;
- each task handed out is in its history as a started event, each
  acknowledged completion as a closing event;
- histories have ids 1..n without gaps, and every scheduled task is started
  and closed at most once;
and every workflow then completes (lost tasks time out and are scheduled
again by the deciders).

Not named test_*.py: ctest runs it as its own entry (`server_soak`), in
parallel with the conformance suite.
"""
import os
import random
import socket
import subprocess
import threading
import time
import unittest

import boto3
from botocore.config import Config

from garcon_harness import GarconServer

KILLS = int(os.environ.get("GARCON_SOAK_KILLS", "30"))
CLIENTS = 8
DOMAIN = "soak"
WORKFLOW = {"name": "soak-flow", "version": "1"}
ACTIVITY = {"name": "soak-step", "version": "1"}
TASK_LIST = "soak-decisions"
ACTIVITY_LIST = "soak-activities"
# Short task timeouts so that tasks lost with a killed connection come back
# quickly.
TASK_TIMEOUT = "3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_client(port):
    return boto3.client(
        "swf", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="soak", aws_secret_access_key="soak",
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      connect_timeout=1, read_timeout=5, tcp_keepalive=False))


class Acks:
    """What the server acknowledged, recorded by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.starts = {}                 # workflowId -> runId
        self.decision_started = []       # (runId, startedEventId)
        self.decision_completed = []     # (runId, startedEventId)
        self.activity_started = []       # (runId, startedEventId)
        self.activity_completed = []     # (runId, startedEventId)
        self.calls = 0

    def add(self, kind, value):
        with self.lock:
            self.calls += 1
            if kind == "start":
                self.starts[value[0]] = value[1]
            else:
                getattr(self, kind).append(value)


def decide(events):
    """The soak flow: one activity; scheduled again when it times out or fails;
    the workflow completes once it completed."""
    scheduled = 0
    open_activity = False
    for e in events:
        t = e["eventType"]
        if t == "ActivityTaskCompleted":
            return [{"decisionType": "CompleteWorkflowExecution",
                     "completeWorkflowExecutionDecisionAttributes": {"result": "done"}}]
        if t == "ActivityTaskScheduled":
            scheduled += 1
            open_activity = True
        elif t in ("ActivityTaskTimedOut", "ActivityTaskFailed", "ScheduleActivityTaskFailed"):
            open_activity = False
    if open_activity:
        return []
    return [{"decisionType": "ScheduleActivityTask",
             "scheduleActivityTaskDecisionAttributes": {
                 "activityType": ACTIVITY, "activityId": f"step-{scheduled}",
                 "taskList": {"name": ACTIVITY_LIST}, "input": "x",
                 "scheduleToStartTimeout": "NONE", "scheduleToCloseTimeout": "NONE",
                 "startToCloseTimeout": TASK_TIMEOUT, "heartbeatTimeout": "NONE"}}]


class Client(threading.Thread):
    def __init__(self, number, port, acks, stop, starting):
        super().__init__(daemon=True)
        self.number = number
        self.port = port
        self.acks = acks
        self.stop = stop
        self.starting = starting
        self.next_workflow = 0
        self.errors = 0

    def run(self):
        swf = make_client(self.port)
        rng = random.Random(self.number)
        while not self.stop.is_set():
            try:
                if self.starting.is_set() and rng.random() < 0.3:
                    self.start_workflow(swf)
                elif rng.random() < 0.5:
                    self.decision(swf)
                else:
                    self.activity(swf)
            except Exception:  # the server was killed mid-call: not acknowledged
                self.errors += 1
                time.sleep(0.05)

    def start_workflow(self, swf):
        workflow_id = f"soak-{self.number}-{self.next_workflow}"
        self.next_workflow += 1
        run = swf.start_workflow_execution(
            domain=DOMAIN, workflowId=workflow_id, workflowType=WORKFLOW,
            taskList={"name": TASK_LIST}, input="in",
            executionStartToCloseTimeout="600", taskStartToCloseTimeout=TASK_TIMEOUT,
            childPolicy="TERMINATE")
        self.acks.add("start", (workflow_id, run["runId"]))

    def decision(self, swf):
        task = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": TASK_LIST},
                                          identity=f"decider-{self.number}")
        if not task.get("taskToken"):
            return
        run_id = task["workflowExecution"]["runId"]
        self.acks.add("decision_started", (run_id, task["startedEventId"]))
        events = list(task["events"])
        page = task.get("nextPageToken")
        while page:
            more = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": TASK_LIST},
                                              nextPageToken=page)
            events += more["events"]
            page = more.get("nextPageToken")
        swf.respond_decision_task_completed(taskToken=task["taskToken"],
                                            decisions=decide(events))
        self.acks.add("decision_completed", (run_id, task["startedEventId"]))

    def activity(self, swf):
        task = swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": ACTIVITY_LIST},
                                          identity=f"worker-{self.number}")
        if not task.get("taskToken"):
            return
        run_id = task["workflowExecution"]["runId"]
        self.acks.add("activity_started", (run_id, task["startedEventId"]))
        swf.respond_activity_task_completed(taskToken=task["taskToken"], result="ok")
        self.acks.add("activity_completed", (run_id, task["startedEventId"]))


class ServerSoakTest(unittest.TestCase):
    def test_acknowledged_calls_survive_sigkills_and_every_workflow_completes(self):
        port = free_port()
        server = GarconServer(poll_timeout=1, port=port)
        server.start()
        try:
            self.soak(server, port)
        finally:
            server.stop()

    def soak(self, server, port):
        setup = make_client(port)
        setup.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
        setup.register_workflow_type(domain=DOMAIN, **WORKFLOW)
        setup.register_activity_type(domain=DOMAIN, **ACTIVITY)

        acks = Acks()
        stop = threading.Event()
        starting = threading.Event()
        starting.set()
        clients = [Client(i, port, acks, stop, starting) for i in range(CLIENTS)]
        for c in clients:
            c.start()

        rng = random.Random(int(os.environ.get("GARCON_SOAK_SEED", time.time())))
        kills = 0
        began = time.monotonic()
        while kills < KILLS:
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            kills += 1
            # The port is ours again at once (SO_REUSEADDR); the clients'
            # calls fail until the server listens.
            server.start()
        kill_seconds = time.monotonic() - began

        # No more kills and no more starts: every workflow must complete.
        starting.clear()
        counter = make_client(port)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            open_count = counter.count_open_workflow_executions(
                domain=DOMAIN, startTimeFilter={"oldestDate": 0})["count"]
            if open_count == 0:
                break
            time.sleep(0.5)
        stop.set()
        for c in clients:
            c.join(10)
        print(f"\nsoak: {kills} kills in {kill_seconds:.1f} s, {acks.calls} acknowledged calls, "
              f"{len(acks.starts)} workflows, {sum(c.errors for c in clients)} calls cut by kills")
        self.assertGreaterEqual(kills, KILLS)
        self.assertGreater(len(acks.starts), 0)
        self.assertEqual(open_count, 0, "workflows still open 90 s after the last kill")

        # Every acknowledged start is a run that completed.
        for workflow_id, run_id in acks.starts.items():
            execution = {"workflowId": workflow_id, "runId": run_id}
            info = counter.describe_workflow_execution(domain=DOMAIN, execution=execution)
            self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED", workflow_id)

        # Every acknowledged effect is in the file. The histories read are
        # those of every run in the domain, not only of acknowledged starts: a
        # start committed but cut by a kill before its answer is a run like any
        # other, whose tasks the clients take and whose acknowledgements count.
        runs = {}
        for page in counter.get_paginator("list_closed_workflow_executions").paginate(
                domain=DOMAIN, startTimeFilter={"oldestDate": 0}):
            for info in page["executionInfos"]:
                runs[info["execution"]["runId"]] = info["execution"]
                self.assertEqual(info["closeStatus"], "COMPLETED", info["execution"])
        for run_id in acks.starts.values():
            self.assertIn(run_id, runs, "an acknowledged start is not listed")
        print(f"soak: {len(runs) - len(acks.starts)} runs started by calls cut by kills")
        histories = {}
        for run_id, execution in runs.items():
            events = []
            pages = counter.get_paginator("get_workflow_execution_history").paginate(
                domain=DOMAIN, execution=execution)
            for page in pages:
                events += page["events"]
            histories[run_id] = events
            with self.subTest(workflow=execution["workflowId"]):
                self.check_history(events)

        def has(run_id, predicate):
            return any(predicate(e) for e in histories.get(run_id, []))

        for run_id, started in acks.decision_started:
            self.assertTrue(has(run_id, lambda e: e["eventId"] == started and
                                e["eventType"] == "DecisionTaskStarted"),
                            f"decision task started at {started} of {run_id} lost")
        for run_id, started in acks.decision_completed:
            self.assertTrue(has(run_id, lambda e: e["eventType"] == "DecisionTaskCompleted" and
                                e["decisionTaskCompletedEventAttributes"]["startedEventId"]
                                == started),
                            f"decision completion of {started} in {run_id} lost")
        for run_id, started in acks.activity_started:
            self.assertTrue(has(run_id, lambda e: e["eventId"] == started and
                                e["eventType"] == "ActivityTaskStarted"),
                            f"activity task started at {started} of {run_id} lost")
        for run_id, started in acks.activity_completed:
            self.assertTrue(has(run_id, lambda e: e["eventType"] == "ActivityTaskCompleted" and
                                e["activityTaskCompletedEventAttributes"]["startedEventId"]
                                == started),
                            f"activity completion of {started} in {run_id} lost")

    def check_history(self, events):
        self.assertEqual([e["eventId"] for e in events], list(range(1, len(events) + 1)))
        self.assertEqual(events[0]["eventType"], "WorkflowExecutionStarted")
        self.assertEqual(events[-1]["eventType"], "WorkflowExecutionCompleted")
        starts, closes = {}, {}
        for e in events:
            t = e["eventType"]
            for prefix in ("DecisionTask", "ActivityTask"):
                if not t.startswith(prefix) or t.endswith("Scheduled") or t.endswith(
                        "CancelRequested"):
                    continue
                attrs = next(v for k, v in e.items() if k.endswith("EventAttributes"))
                scheduled = attrs["scheduledEventId"]
                bucket = starts if t.endswith("Started") else closes
                bucket[scheduled] = bucket.get(scheduled, 0) + 1
        for scheduled, n in starts.items():
            self.assertLessEqual(n, 1, f"task scheduled at {scheduled} started {n} times")
        for scheduled, n in closes.items():
            self.assertLessEqual(n, 1, f"task scheduled at {scheduled} closed {n} times")


if __name__ == "__main__":
    unittest.main()
