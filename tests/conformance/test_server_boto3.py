"""garcon server through boto3, the AWS CLI and raw HTTP: every operation the
engine implements, long polls, paging, faults as botocore names them, and a
complete workflow run by a boto3 decider and a boto3 worker.

Run: GARCON_BIN=build/tools/garcon/garcon python3 -m unittest discover -s tests/conformance -v
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

from garcon_harness import GarconServer, wait_for

try:
    import boto3
    import botocore
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover
    boto3 = None

POLL_TIMEOUT = 5  # seconds the server holds an empty poll (SWF: 60)
SERVER = None


def setUpModule():
    global SERVER
    if boto3 is None:
        raise unittest.SkipTest("boto3 is not installed for this python3")
    SERVER = GarconServer(poll_timeout=POLL_TIMEOUT)
    SERVER.start()


def tearDownModule():
    if SERVER:
        code = SERVER.stop()
        stderr = SERVER.stderr.decode(errors="replace")
        if code != 0 or "Sanitizer" in stderr or "runtime error" in stderr:
            raise AssertionError(f"garcon server exited {code}:\n{stderr[-4000:]}")


def client(server=None, **config):
    server = server or SERVER
    options = dict(read_timeout=70, connect_timeout=5, retries={"max_attempts": 0})
    options.update(config)
    return boto3.client(
        "swf", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=config.pop("key", "x") if "key" in config else "x",
        aws_secret_access_key="y", config=Config(**options))


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def raw_post(server, target, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    h = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        h["X-Amz-Target"] = target
    h.update(headers or {})
    conn.request("POST", "/", body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data


WF_DEFAULTS = dict(
    defaultTaskStartToCloseTimeout="30", defaultExecutionStartToCloseTimeout="600",
    defaultChildPolicy="TERMINATE")
ACT_DEFAULTS = dict(
    defaultTaskStartToCloseTimeout="30", defaultTaskHeartbeatTimeout="NONE",
    defaultTaskScheduleToStartTimeout="60", defaultTaskScheduleToCloseTimeout="90")


def make_domain(swf, name=None):
    name = name or unique("dom")
    swf.register_domain(name=name, workflowExecutionRetentionPeriodInDays="1",
                        description="conformance")
    swf.register_workflow_type(domain=name, name="wf", version="1",
                               defaultTaskList={"name": "decisions"}, **WF_DEFAULTS)
    swf.register_activity_type(domain=name, name="step", version="1",
                               defaultTaskList={"name": "work"}, **ACT_DEFAULTS)
    return name


def start(swf, domain, workflow_id=None, **extra):
    workflow_id = workflow_id or unique("wf")
    run = swf.start_workflow_execution(
        domain=domain, workflowId=workflow_id, workflowType={"name": "wf", "version": "1"},
        **extra)
    return {"workflowId": workflow_id, "runId": run["runId"]}


def poll_decision(swf, domain, identity="decider", **extra):
    """A decision task with all its pages of events, or None."""
    task = swf.poll_for_decision_task(domain=domain, taskList={"name": "decisions"},
                                      identity=identity, **extra)
    if not task.get("taskToken"):
        return None
    events = list(task["events"])
    token = task.get("nextPageToken")
    while token:
        page = swf.poll_for_decision_task(domain=domain, taskList={"name": "decisions"},
                                          identity=identity, nextPageToken=token, **extra)
        assert page["taskToken"] == task["taskToken"]
        events += page["events"]
        token = page.get("nextPageToken")
    task["events"] = events
    return task


class RegistrationTest(unittest.TestCase):
    def setUp(self):
        self.swf = client()

    def test_domains(self):
        name = unique("dom")
        self.swf.register_domain(name=name, workflowExecutionRetentionPeriodInDays="3",
                                 description="d1")
        self.assertEqual(error_code(self.swf.register_domain, name=name,
                                    workflowExecutionRetentionPeriodInDays="3"),
                         "DomainAlreadyExistsFault")
        info = self.swf.describe_domain(name=name)
        self.assertEqual(info["domainInfo"]["name"], name)
        self.assertEqual(info["domainInfo"]["status"], "REGISTERED")
        self.assertEqual(info["configuration"]["workflowExecutionRetentionPeriodInDays"], "3")
        names = [d["name"] for d in self.swf.list_domains(
            registrationStatus="REGISTERED")["domainInfos"]]
        self.assertIn(name, names)

        self.swf.deprecate_domain(name=name)
        self.assertEqual(error_code(self.swf.deprecate_domain, name=name),
                         "DomainDeprecatedFault")
        deprecated = [d["name"] for d in self.swf.list_domains(
            registrationStatus="DEPRECATED")["domainInfos"]]
        self.assertIn(name, deprecated)
        self.swf.undeprecate_domain(name=name)
        self.assertEqual(self.swf.describe_domain(name=name)["domainInfo"]["status"],
                         "REGISTERED")
        self.assertEqual(error_code(self.swf.describe_domain, name=unique("nope")),
                         "UnknownResourceFault")

    def test_domain_paging(self):
        prefix = unique("page")
        for i in range(3):
            self.swf.register_domain(name=f"{prefix}-{i}",
                                     workflowExecutionRetentionPeriodInDays="1")
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"nextPageToken": token} if token else {}
            page = self.swf.list_domains(registrationStatus="REGISTERED",
                                         maximumPageSize=1, **kwargs)
            pages += 1
            seen += [d["name"] for d in page["domainInfos"]]
            token = page.get("nextPageToken")
            if not token:
                break
        self.assertEqual(seen, sorted(seen))
        for i in range(3):
            self.assertIn(f"{prefix}-{i}", seen)
        self.assertEqual(pages, len(seen))
        # The boto3 paginator agrees.
        paginated = [d["name"] for page in self.swf.get_paginator("list_domains").paginate(
            registrationStatus="REGISTERED", PaginationConfig={"PageSize": 2})
            for d in page["domainInfos"]]
        self.assertEqual(paginated, seen)
        reverse = [d["name"] for d in self.swf.list_domains(
            registrationStatus="REGISTERED", reverseOrder=True)["domainInfos"]]
        self.assertEqual(reverse, list(reversed(seen)))
        self.assertEqual(error_code(self.swf.list_domains, registrationStatus="REGISTERED",
                                    nextPageToken="garbage"), "ValidationException")

    def test_tags(self):
        name = unique("tagged")
        self.swf.register_domain(name=name, workflowExecutionRetentionPeriodInDays="1",
                                 tags=[{"key": "team", "value": "a"}])
        arn = self.swf.describe_domain(name=name)["domainInfo"]["arn"]
        self.swf.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "test"}])
        tags = {t["key"]: t.get("value") for t in
                self.swf.list_tags_for_resource(resourceArn=arn)["tags"]}
        self.assertEqual(tags, {"team": "a", "env": "test"})
        self.swf.untag_resource(resourceArn=arn, tagKeys=["team"])
        tags = [t["key"] for t in self.swf.list_tags_for_resource(resourceArn=arn)["tags"]]
        self.assertEqual(tags, ["env"])

    def test_workflow_types(self):
        domain = make_domain(self.swf)
        self.assertEqual(error_code(self.swf.register_workflow_type, domain=domain, name="wf",
                                    version="1"), "TypeAlreadyExistsFault")
        self.swf.register_workflow_type(domain=domain, name="wf", version="2")
        described = self.swf.describe_workflow_type(
            domain=domain, workflowType={"name": "wf", "version": "1"})
        self.assertEqual(described["typeInfo"]["status"], "REGISTERED")
        self.assertEqual(described["configuration"]["defaultTaskList"]["name"], "decisions")
        versions = [t["workflowType"]["version"] for t in self.swf.list_workflow_types(
            domain=domain, registrationStatus="REGISTERED")["typeInfos"]]
        self.assertEqual(versions, ["1", "2"])
        one = self.swf.list_workflow_types(domain=domain, registrationStatus="REGISTERED",
                                           maximumPageSize=1)
        self.assertEqual(len(one["typeInfos"]), 1)
        self.assertIn("nextPageToken", one)

        wf2 = {"name": "wf", "version": "2"}
        self.assertEqual(error_code(self.swf.delete_workflow_type, domain=domain,
                                    workflowType=wf2), "TypeNotDeprecatedFault")
        self.swf.deprecate_workflow_type(domain=domain, workflowType=wf2)
        self.assertEqual(error_code(self.swf.deprecate_workflow_type, domain=domain,
                                    workflowType=wf2), "TypeDeprecatedFault")
        self.swf.undeprecate_workflow_type(domain=domain, workflowType=wf2)
        self.swf.deprecate_workflow_type(domain=domain, workflowType=wf2)
        self.swf.delete_workflow_type(domain=domain, workflowType=wf2)
        self.assertEqual(error_code(self.swf.describe_workflow_type, domain=domain,
                                    workflowType=wf2), "UnknownResourceFault")

    def test_activity_types(self):
        domain = make_domain(self.swf)
        self.assertEqual(error_code(self.swf.register_activity_type, domain=domain,
                                    name="step", version="1"), "TypeAlreadyExistsFault")
        described = self.swf.describe_activity_type(
            domain=domain, activityType={"name": "step", "version": "1"})
        self.assertEqual(described["configuration"]["defaultTaskScheduleToCloseTimeout"], "90")
        self.swf.register_activity_type(domain=domain, name="other", version="1")
        names = [t["activityType"]["name"] for t in self.swf.list_activity_types(
            domain=domain, registrationStatus="REGISTERED")["typeInfos"]]
        self.assertEqual(names, ["other", "step"])
        other = {"name": "other", "version": "1"}
        self.swf.deprecate_activity_type(domain=domain, activityType=other)
        self.assertEqual(error_code(self.swf.deprecate_activity_type, domain=domain,
                                    activityType=other), "TypeDeprecatedFault")
        self.swf.undeprecate_activity_type(domain=domain, activityType=other)
        self.assertEqual(error_code(self.swf.delete_activity_type, domain=domain,
                                    activityType=other), "TypeNotDeprecatedFault")
        self.swf.deprecate_activity_type(domain=domain, activityType=other)
        self.swf.delete_activity_type(domain=domain, activityType=other)
        names = [t["activityType"]["name"] for t in self.swf.list_activity_types(
            domain=domain, registrationStatus="DEPRECATED")["typeInfos"]]
        self.assertNotIn("other", names)


class ExecutionsTest(unittest.TestCase):
    def setUp(self):
        self.swf = client()
        self.domain = make_domain(self.swf)

    def test_start_describe_signal_cancel_terminate_and_visibility(self):
        run = start(self.swf, self.domain, tagList=["blue"], input="hello")
        self.assertEqual(error_code(start, self.swf, self.domain, run["workflowId"]),
                         "WorkflowExecutionAlreadyStartedFault")
        described = self.swf.describe_workflow_execution(domain=self.domain, execution=run)
        self.assertEqual(described["executionInfo"]["executionStatus"], "OPEN")
        self.assertEqual(described["executionConfiguration"]["taskList"]["name"], "decisions")
        self.assertEqual(described["openCounts"]["openDecisionTasks"], 1)
        # Timestamps are epoch seconds on the wire; botocore makes datetimes.
        self.assertEqual(described["executionInfo"]["startTimestamp"].year,
                         time.gmtime().tm_year)

        self.assertEqual(self.swf.count_pending_decision_tasks(
            domain=self.domain, taskList={"name": "decisions"})["count"], 1)
        self.assertEqual(self.swf.count_pending_activity_tasks(
            domain=self.domain, taskList={"name": "work"})["count"], 0)

        self.swf.signal_workflow_execution(domain=self.domain, workflowId=run["workflowId"],
                                           signalName="poke", input="1")
        self.swf.request_cancel_workflow_execution(domain=self.domain,
                                                   workflowId=run["workflowId"])
        since = {"oldestDate": 0}
        opened = self.swf.list_open_workflow_executions(
            domain=self.domain, startTimeFilter=since)["executionInfos"]
        self.assertEqual([e["execution"]["runId"] for e in opened], [run["runId"]])
        self.assertTrue(opened[0]["cancelRequested"])
        self.assertEqual(self.swf.count_open_workflow_executions(
            domain=self.domain, startTimeFilter=since)["count"], 1)
        by_tag = self.swf.list_open_workflow_executions(
            domain=self.domain, startTimeFilter=since, tagFilter={"tag": "blue"})
        self.assertEqual(len(by_tag["executionInfos"]), 1)

        self.swf.terminate_workflow_execution(domain=self.domain, workflowId=run["workflowId"],
                                              reason="enough")
        closed = self.swf.list_closed_workflow_executions(
            domain=self.domain, startTimeFilter=since)["executionInfos"]
        self.assertEqual(closed[0]["closeStatus"], "TERMINATED")
        self.assertEqual(self.swf.count_closed_workflow_executions(
            domain=self.domain, closeTimeFilter=since,
            closeStatusFilter={"status": "TERMINATED"})["count"], 1)
        history = self.swf.get_workflow_execution_history(domain=self.domain, execution=run)
        types = [e["eventType"] for e in history["events"]]
        self.assertEqual(types[0], "WorkflowExecutionStarted")
        self.assertIn("WorkflowExecutionSignaled", types)
        self.assertIn("WorkflowExecutionCancelRequested", types)
        self.assertEqual(types[-1], "WorkflowExecutionTerminated")
        self.assertEqual(error_code(self.swf.signal_workflow_execution, domain=self.domain,
                                    workflowId=run["workflowId"], signalName="late"),
                         "UnknownResourceFault")

    def test_history_paging(self):
        run = start(self.swf, self.domain)
        for i in range(5):
            self.swf.signal_workflow_execution(domain=self.domain,
                                               workflowId=run["workflowId"], signalName=f"s{i}")
        ids, token = [], None
        while True:
            kwargs = {"nextPageToken": token} if token else {}
            page = self.swf.get_workflow_execution_history(
                domain=self.domain, execution=run, maximumPageSize=2, **kwargs)
            self.assertLessEqual(len(page["events"]), 2)
            ids += [e["eventId"] for e in page["events"]]
            token = page.get("nextPageToken")
            if not token:
                break
        self.assertEqual(ids, list(range(1, len(ids) + 1)))
        self.assertGreaterEqual(len(ids), 7)
        reverse = self.swf.get_workflow_execution_history(domain=self.domain, execution=run,
                                                          reverseOrder=True)
        self.assertEqual([e["eventId"] for e in reverse["events"]], list(reversed(ids)))
        paginated = [e["eventId"] for page in self.swf.get_paginator(
            "get_workflow_execution_history").paginate(
                domain=self.domain, execution=run, PaginationConfig={"PageSize": 3})
            for e in page["events"]]
        self.assertEqual(paginated, ids)


class LongPollTest(unittest.TestCase):
    def setUp(self):
        self.swf = client()
        self.domain = make_domain(self.swf)

    def test_empty_polls_omit_the_token(self):
        started = time.monotonic()
        decision = self.swf.poll_for_decision_task(domain=self.domain,
                                                   taskList={"name": "decisions"})
        self.assertNotIn("taskToken", decision)
        activity = self.swf.poll_for_activity_task(domain=self.domain,
                                                   taskList={"name": "work"})
        self.assertNotIn("taskToken", activity)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 2 * POLL_TIMEOUT - 1)

    def test_poll_returns_the_moment_a_task_arrives(self):
        result = {}

        def poll():
            t0 = time.monotonic()
            result["task"] = client().poll_for_decision_task(
                domain=self.domain, taskList={"name": "decisions"}, identity="waiting")
            result["returned"] = time.monotonic()
            result["held"] = result["returned"] - t0

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(1.0)  # the poll is now held by the server
        self.assertNotIn("task", result)
        arrived = time.monotonic()
        run = start(self.swf, self.domain)
        poller.join(POLL_TIMEOUT + 5)
        self.assertIn("taskToken", result["task"])
        self.assertEqual(result["task"]["workflowExecution"], run)
        self.assertLess(result["returned"] - arrived, 1.0)
        self.assertLess(result["held"], POLL_TIMEOUT)

    def test_decision_task_pages_are_the_same_task(self):
        run = start(self.swf, self.domain)
        for i in range(4):
            self.swf.signal_workflow_execution(domain=self.domain,
                                               workflowId=run["workflowId"], signalName=f"s{i}")
        first = self.swf.poll_for_decision_task(
            domain=self.domain, taskList={"name": "decisions"}, maximumPageSize=2)
        self.assertEqual(len(first["events"]), 2)
        self.assertIn("nextPageToken", first)
        events = list(first["events"])
        token = first["nextPageToken"]
        while token:
            page = self.swf.poll_for_decision_task(
                domain=self.domain, taskList={"name": "decisions"}, maximumPageSize=2,
                nextPageToken=token)
            self.assertEqual(page["taskToken"], first["taskToken"])
            events += page["events"]
            token = page.get("nextPageToken")
        self.assertEqual([e["eventId"] for e in events], list(range(1, len(events) + 1)))
        self.assertEqual(events[-1]["eventType"], "DecisionTaskStarted")

    def test_client_leaving_mid_poll_leaves_the_task_queued(self):
        body = json.dumps({"domain": self.domain, "taskList": {"name": "decisions"},
                           "identity": "leaver"}).encode()
        sock = socket.create_connection(("127.0.0.1", SERVER.port))
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
                     b"SimpleWorkflowService.PollForDecisionTask\r\nContent-Type: "
                     b"application/x-amz-json-1.0\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.3)
        sock.close()
        time.sleep(0.3)
        run = start(self.swf, self.domain)
        task = poll_decision(self.swf, self.domain, identity="stayer")
        self.assertIsNotNone(task)
        self.assertEqual(task["workflowExecution"], run)
        started = [e for e in task["events"] if e["eventType"] == "DecisionTaskStarted"]
        self.assertEqual(len(started), 1)
        self.assertEqual(started[0]["decisionTaskStartedEventAttributes"]["identity"], "stayer")


class ActivityTaskTest(unittest.TestCase):
    def setUp(self):
        self.swf = client()
        self.domain = make_domain(self.swf)

    def schedule(self, run, activity_ids):
        task = poll_decision(self.swf, self.domain)
        self.assertEqual(task["workflowExecution"], run)
        self.swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
            {"decisionType": "ScheduleActivityTask",
             "scheduleActivityTaskDecisionAttributes": {
                 "activityType": {"name": "step", "version": "1"},
                 "activityId": activity_id, "input": activity_id}}
            for activity_id in activity_ids])

    def test_heartbeat_cancel_fail_and_stale_tokens(self):
        run = start(self.swf, self.domain)
        self.schedule(run, ["a1", "a2"])
        self.assertEqual(self.swf.count_pending_activity_tasks(
            domain=self.domain, taskList={"name": "work"})["count"], 2)
        t1 = self.swf.poll_for_activity_task(domain=self.domain, taskList={"name": "work"},
                                             identity="w")
        t2 = self.swf.poll_for_activity_task(domain=self.domain, taskList={"name": "work"},
                                             identity="w")
        self.assertEqual({t1["activityId"], t2["activityId"]}, {"a1", "a2"})
        beat = self.swf.record_activity_task_heartbeat(taskToken=t1["taskToken"], details="50%")
        self.assertFalse(beat["cancelRequested"])

        # The decider asks to cancel the started a1: the next heartbeat says so.
        task = poll_decision(self.swf, self.domain)
        self.assertIsNone(task)  # nothing to decide yet: no decision task was scheduled
        self.swf.signal_workflow_execution(domain=self.domain, workflowId=run["workflowId"],
                                           signalName="wake")
        task = poll_decision(self.swf, self.domain)
        self.swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
            {"decisionType": "RequestCancelActivityTask",
             "requestCancelActivityTaskDecisionAttributes": {"activityId": t1["activityId"]}}])
        beat = self.swf.record_activity_task_heartbeat(taskToken=t1["taskToken"])
        self.assertTrue(beat["cancelRequested"])
        self.swf.respond_activity_task_canceled(taskToken=t1["taskToken"], details="ok")
        self.swf.respond_activity_task_failed(taskToken=t2["taskToken"], reason="boom",
                                              details="trace")
        for call, kwargs in ((self.swf.respond_activity_task_completed, {}),
                             (self.swf.record_activity_task_heartbeat, {})):
            self.assertEqual(error_code(call, taskToken=t2["taskToken"], **kwargs),
                             "UnknownResourceFault")
        task = poll_decision(self.swf, self.domain)
        types = [e["eventType"] for e in task["events"]]
        self.assertIn("ActivityTaskCanceled", types)
        self.assertIn("ActivityTaskFailed", types)
        failed = [e for e in task["events"] if e["eventType"] == "ActivityTaskFailed"][0]
        self.assertEqual(failed["activityTaskFailedEventAttributes"]["reason"], "boom")
        self.swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[
            {"decisionType": "FailWorkflowExecution",
             "failWorkflowExecutionDecisionAttributes": {"reason": "activity failed"}}])
        info = self.swf.describe_workflow_execution(domain=self.domain, execution=run)
        self.assertEqual(info["executionInfo"]["closeStatus"], "FAILED")


class CompleteWorkflowTest(unittest.TestCase):
    """A boto3 decider and a boto3 worker run a three-step workflow, one step
    failing once and retried, to COMPLETED."""

    def test_decider_and_worker(self):
        swf = client()
        domain = make_domain(swf)
        stop = threading.Event()
        errors = []
        attempts = {}

        def decider():
            c = client()
            while not stop.is_set():
                task = poll_decision(c, domain, identity="py-decider")
                if task is None:
                    continue
                events = task["events"]
                new = [e for e in events if e["eventId"] > task["previousStartedEventId"]]
                done_steps = sum(e["eventType"] == "ActivityTaskCompleted" for e in events)
                decisions = []
                if any(e["eventType"] in ("WorkflowExecutionStarted", "ActivityTaskCompleted",
                                          "ActivityTaskFailed") for e in new):
                    completed = [e["activityTaskCompletedEventAttributes"]["result"]
                                 for e in events if e["eventType"] == "ActivityTaskCompleted"]
                    scheduled = sum(e["eventType"] == "ActivityTaskScheduled" for e in events)
                    value = completed[-1] if completed else events[0][
                        "workflowExecutionStartedEventAttributes"]["input"]
                    step = len(completed) + 1
                    if step > 3:
                        decisions = [{"decisionType": "CompleteWorkflowExecution",
                                      "completeWorkflowExecutionDecisionAttributes": {
                                          "result": value}}]
                    else:
                        decisions = [{"decisionType": "ScheduleActivityTask",
                                      "scheduleActivityTaskDecisionAttributes": {
                                          "activityType": {"name": "step", "version": "1"},
                                          "activityId": f"step-{step}-{scheduled}",
                                          "input": json.dumps({"step": step, "value": value}),
                                          "heartbeatTimeout": "20"}}]
                c.respond_decision_task_completed(
                    taskToken=task["taskToken"], decisions=decisions,
                    executionContext=f"step {done_steps + 1}")

        def worker():
            c = client()
            while not stop.is_set():
                task = c.poll_for_activity_task(domain=domain, taskList={"name": "work"},
                                                identity="py-worker")
                if not task.get("taskToken"):
                    continue
                payload = json.loads(task["input"])
                c.record_activity_task_heartbeat(taskToken=task["taskToken"], details="busy")
                attempts[payload["step"]] = attempts.get(payload["step"], 0) + 1
                if payload["step"] == 2 and attempts[2] == 1:
                    c.respond_activity_task_failed(taskToken=task["taskToken"],
                                                   reason="flaky", details="first try")
                    continue
                c.respond_activity_task_completed(taskToken=task["taskToken"],
                                                  result=payload["value"] + f"+{payload['step']}")

        def guarded(fn):
            def run():
                try:
                    fn()
                except Exception as e:  # surfaced by the assertion below
                    errors.append(e)
                    stop.set()
            return run

        threads = [threading.Thread(target=guarded(decider)),
                   threading.Thread(target=guarded(worker))]
        for t in threads:
            t.start()
        run = start(swf, domain, input="start")
        try:
            closed = wait_for(lambda: swf.describe_workflow_execution(
                domain=domain, execution=run)["executionInfo"]["executionStatus"] == "CLOSED",
                timeout=60, interval=0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(POLL_TIMEOUT + 10)
        self.assertEqual(errors, [])
        self.assertTrue(closed)
        info = swf.describe_workflow_execution(domain=domain, execution=run)
        self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED")
        self.assertEqual(info["latestExecutionContext"], "step 4")
        events = [e for page in swf.get_paginator("get_workflow_execution_history").paginate(
            domain=domain, execution=run) for e in page["events"]]
        completed = [e for e in events if e["eventType"] == "WorkflowExecutionCompleted"]
        self.assertEqual(completed[0]["workflowExecutionCompletedEventAttributes"]["result"],
                         "start+1+2+3")
        self.assertEqual(attempts, {1: 1, 2: 2, 3: 1})


class FaultTest(unittest.TestCase):
    def test_validation_and_serialization(self):
        unchecked = client(parameter_validation=False)
        self.assertEqual(error_code(unchecked.list_domains, registrationStatus="MAYBE"),
                         "ValidationException")
        self.assertEqual(error_code(unchecked.describe_domain, name=5),
                         "SerializationException")
        self.assertEqual(error_code(unchecked.register_domain, name="a:b",
                                    workflowExecutionRetentionPeriodInDays="1"),
                         "ValidationException")
        status, headers, body = raw_post(SERVER, "SimpleWorkflowService.ListDomains", b"{nope")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"],
                         "com.amazon.coral.service#SerializationException")
        self.assertIn("x-amzn-requestid", headers)

    def test_unknown_operation(self):
        status, _, body = raw_post(SERVER, "SimpleWorkflowService.BrewCoffee", b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"],
                         "com.amazon.coral.service#UnknownOperationException")

    def test_oversize_body(self):
        unchecked = client(parameter_validation=False)
        try:
            unchecked.start_workflow_execution(
                domain="d", workflowId="w", workflowType={"name": "wf", "version": "1"},
                input="x" * (1024 * 1024 + 10))
            self.fail("accepted a body over 1 MB")
        except ClientError as e:
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 413)
            self.assertEqual(e.response["Error"]["Code"], "ValidationException")
            self.assertIn("exceeds the limit", e.response["Error"]["Message"])
        # Still serving.
        self.assertIn("domainInfos", client().list_domains(registrationStatus="REGISTERED"))

    def test_health_and_metrics(self):
        with urllib.request.urlopen(SERVER.endpoint + "/health", timeout=5) as r:
            self.assertEqual(json.loads(r.read()), {"status": "ok"})
        client().list_domains(registrationStatus="REGISTERED")
        with urllib.request.urlopen(SERVER.endpoint + "/metrics", timeout=5) as r:
            text = r.read().decode()
        self.assertIn('garcon_requests_total{operation="ListDomains",status="200"}', text)
        for gauge in ("garcon_open_executions", "garcon_queued_decision_tasks",
                      "garcon_queued_activity_tasks", "garcon_poll_waiters"):
            self.assertIn(gauge, text)
        # The suite's server keeps its state in SQLite: registrations committed.
        commits = [line for line in text.splitlines()
                   if line.startswith("garcon_store_commit_seconds_count ")]
        self.assertEqual(len(commits), 1, text)
        self.assertGreater(int(commits[0].split()[1]), 0)


class SignatureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "credentials")
        with open(path, "w") as f:
            f.write("# test credentials\nAKIDGOOD s3cr3t\nAKIDOTHER other\n")
        os.chmod(path, 0o600)
        cls.server = GarconServer("--credentials", path, poll_timeout=POLL_TIMEOUT)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def make(self, key, secret, **config):
        options = dict(read_timeout=70, retries={"max_attempts": 0})
        options.update(config)
        return boto3.client("swf", endpoint_url=self.server.endpoint, region_name="eu-west-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(**options))

    def test_good_signature(self):
        swf = self.make("AKIDGOOD", "s3cr3t")
        swf.register_domain(name=unique("signed"), workflowExecutionRetentionPeriodInDays="1")
        self.assertIn("domainInfos", swf.list_domains(registrationStatus="REGISTERED"))

    def test_bad_signatures(self):
        self.assertEqual(error_code(self.make("AKIDGOOD", "wrong").list_domains,
                                    registrationStatus="REGISTERED"),
                         "InvalidSignatureException")
        self.assertEqual(error_code(self.make("AKIDNOBODY", "s3cr3t").list_domains,
                                    registrationStatus="REGISTERED"),
                         "UnrecognizedClientException")
        self.assertEqual(error_code(self.make("AKIDGOOD", "s3cr3t",
                                              signature_version=UNSIGNED).list_domains,
                                    registrationStatus="REGISTERED"),
                         "MissingAuthenticationTokenException")
        # Still serving signed clients.
        self.assertIn("domainInfos", self.make("AKIDOTHER", "other").list_domains(
            registrationStatus="REGISTERED"))


class AwsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.aws = shutil.which("aws")
        if not cls.aws:
            raise unittest.SkipTest("the AWS CLI is not installed")

    def aws_cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        out = subprocess.run([self.aws, "swf", *args, "--endpoint-url", SERVER.endpoint,
                              "--output", "json"], env=env, capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return json.loads(out.stdout or b"{}")

    def test_list_domains_and_describe_execution(self):
        swf = client()
        domain = make_domain(swf)
        run = start(swf, domain)
        domains = self.aws_cli("list-domains", "--registration-status", "REGISTERED")
        self.assertIn(domain, [d["name"] for d in domains["domainInfos"]])
        described = self.aws_cli(
            "describe-workflow-execution", "--domain", domain, "--execution",
            f"workflowId={run['workflowId']},runId={run['runId']}")
        self.assertEqual(described["executionInfo"]["execution"], run)
        self.assertEqual(described["executionInfo"]["executionStatus"], "OPEN")


class CommandLineTest(unittest.TestCase):
    def run_garcon(self, *args):
        from garcon_harness import garcon_binary
        return subprocess.run([garcon_binary(), *args], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def test_db_that_is_not_a_store_is_refused(self):
        with tempfile.NamedTemporaryFile("w", suffix=".db") as f:
            f.write("not a database" * 100)
            f.flush()
            out = self.run_garcon("server", "--port", "0", "--db", f.name)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"not a database", out.stderr)

    def test_state_survives_a_restart_on_the_same_db(self):
        from garcon_harness import GarconServer
        tmpdir = tempfile.mkdtemp(prefix="garcon-restart-")
        db = os.path.join(tmpdir, "state.db")
        try:
            with GarconServer(db=db) as server:
                swf = client(server)
                swf.register_domain(name="durable", workflowExecutionRetentionPeriodInDays="1")
                swf.register_workflow_type(
                    domain="durable", name="wf", version="1",
                    defaultTaskList={"name": "deciders"},
                    defaultExecutionStartToCloseTimeout="3600",
                    defaultTaskStartToCloseTimeout="60", defaultChildPolicy="TERMINATE")
                run = swf.start_workflow_execution(
                    domain="durable", workflowId="kept", workflowType={"name": "wf", "version": "1"},
                    input="hello")
            with GarconServer(db=db) as server:
                swf = client(server)
                described = swf.describe_workflow_execution(
                    domain="durable", execution={"workflowId": "kept", "runId": run["runId"]})
                self.assertEqual(described["executionInfo"]["executionStatus"], "OPEN")
                task = swf.poll_for_decision_task(domain="durable", taskList={"name": "deciders"})
                self.assertEqual(task["workflowExecution"]["runId"], run["runId"])
                self.assertEqual(task["events"][0]["workflowExecutionStartedEventAttributes"]["input"],
                                 "hello")
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def test_bad_credentials_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".creds") as f:
            f.write("AKID secret extra\n")
            f.flush()
            out = self.run_garcon("server", "--port", "0", "--credentials", f.name)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b":1: expected 'ACCESS_KEY_ID SECRET'", out.stderr)

    def test_credentials_file_readable_by_others_is_refused(self):
        with tempfile.NamedTemporaryFile("w", suffix=".creds") as f:
            f.write("AKID secret\n")
            f.flush()
            os.chmod(f.name, 0o644)
            out = self.run_garcon("server", "--port", "0", "--memory", "--credentials", f.name)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"has mode 0644", out.stderr)
        self.assertIn(b"chmod 600", out.stderr)

    def test_other_than_loopback_needs_credentials_or_insecure(self):
        out = self.run_garcon("server", "--port", "0", "--memory", "--bind", "0.0.0.0")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"refusing to serve 0.0.0.0 without credentials", out.stderr)
        with GarconServer("--memory", "--bind", "0.0.0.0", "--insecure") as server:
            pass
        self.assertIn(b"--insecure", server.stderr)

    def test_port_in_use(self):
        out = self.run_garcon("server", "--port", str(SERVER.port))
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"cannot bind", out.stderr)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_answers_held_polls_and_exits_cleanly(self):
        with GarconServer(poll_timeout=60) as server:
            swf = client(server)
            domain = make_domain(swf)
            result = {}

            def poll():
                result["task"] = client(server).poll_for_decision_task(
                    domain=domain, taskList={"name": "decisions"})

            poller = threading.Thread(target=poll)
            poller.start()
            time.sleep(0.5)
            t0 = time.monotonic()
            self.assertEqual(server.terminate(), 0)
            poller.join(10)
            self.assertFalse(poller.is_alive())
            self.assertLess(time.monotonic() - t0, 10)
            self.assertNotIn("taskToken", result["task"])


if __name__ == "__main__":
    unittest.main()
