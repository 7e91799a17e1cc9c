"""The `garcon` operating commands through the real binary against a real
`garcon server --memory` on loopback: tables, --json, exit codes, --follow,
waits and wrong arguments. Executions come from the example flow programs
($GARCON_EXAMPLES) and boto3."""
import json
import os
import subprocess
import time
import unittest

import boto3
from botocore.config import Config

from garcon_harness import GarconServer, built_program, free_port, garcon_binary

EXAMPLES = os.environ.get("GARCON_EXAMPLES", "")
DOMAIN = "dev"


def example(name):
    return built_program(EXAMPLES, name)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = GarconServer("--memory")
        cls.server.start()
        cls.endpoint = cls.server.endpoint
        cls.swf = boto3.client("swf", endpoint_url=cls.endpoint, region_name="us-east-1",
                               aws_access_key_id="x", aws_secret_access_key="y",
                               config=Config(retries={"max_attempts": 3}))
        # A whole run in one process: registers the domain and the types.
        done = subprocess.run([example("simple_flow"), "run", "--endpoint", cls.endpoint, "--json",
                               "--workflow-id", "simple-done"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        cls.done_run = json.loads(done.stdout.strip().splitlines()[-1]).get("runId")
        wf = cls.swf.list_workflow_types(domain=DOMAIN, name="simple_flow",
                                         registrationStatus="REGISTERED")["typeInfos"][0]
        cls.version = wf["workflowType"]["version"]
        cls.task_list = cls.swf.describe_workflow_type(
            domain=DOMAIN, workflowType=wf["workflowType"])["configuration"]["defaultTaskList"]["name"]
        cls.processes = []

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tearDown(self):
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.processes.clear()

    def garcon(self, *args, endpoint=True, timeout=60):
        command = [garcon_binary(), *args]
        if endpoint:
            command += ["--endpoint", self.endpoint]  # a global flag after the subcommand
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def garcon_json(self, *args):
        out = self.garcon(*args, "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def start_open(self, workflow_id):
        """An execution no decider serves: it stays open."""
        return self.swf.start_workflow_execution(
            domain=DOMAIN, workflowId=workflow_id,
            workflowType={"name": "simple_flow", "version": self.version}, input="{}")["runId"]

    # --- domains and types ---

    def test_domain_list_describe_register_deprecate(self):
        out = self.garcon("domain", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("NAME", out.stdout)
        self.assertRegex(out.stdout, r"\ndev\s+REGISTERED")
        self.assertIn("dev", [d["name"] for d in self.garcon_json("domain", "list")])
        described = self.garcon_json("domain", "describe", "dev")
        self.assertEqual(described["domainInfo"]["name"], "dev")
        self.assertIn("retention", self.garcon("domain", "describe", "dev").stdout)
        self.assertEqual(self.garcon("domain", "describe", "nosuch").returncode, 3)

        self.assertEqual(self.garcon("domain", "register", "ops", "--retention", "3",
                                     "--description", "operations").returncode, 0)
        self.assertEqual(self.garcon_json("domain", "describe", "ops")["configuration"]
                         ["workflowExecutionRetentionPeriodInDays"], "3")
        self.assertEqual(self.garcon("domain", "deprecate", "ops").returncode, 0)
        self.assertIn("ops", [d["name"] for d in self.garcon_json("domain", "list", "--deprecated")])
        self.assertEqual(self.garcon("domain", "undeprecate", "ops").returncode, 0)
        self.assertIn("ops", [d["name"] for d in self.garcon_json("domain", "list")])

    def test_type_list_and_describe(self):
        out = self.garcon("type", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, rf"simple_flow\s+{self.version}\s+REGISTERED")
        activities = self.garcon_json("type", "list", "--activity")
        self.assertIn("simple_flow_activity_1", [t["activityType"]["name"] for t in activities])
        described = self.garcon_json("type", "describe", "simple_flow", self.version)
        self.assertEqual(described["configuration"]["defaultTaskList"]["name"], self.task_list)
        self.assertIn(self.task_list, self.garcon("type", "describe", "simple_flow", self.version).stdout)
        self.assertEqual(self.garcon("type", "describe", "nosuch", "1").returncode, 3)

    # --- workflows ---

    def test_list_count_newest_first_with_filters_and_limit(self):
        self.start_open("list-open")
        infos = self.garcon_json("workflow", "list")
        ids = [i["execution"]["workflowId"] for i in infos]
        self.assertIn("simple-done", ids)
        self.assertIn("list-open", ids)
        starts = [i["startTimestamp"] for i in infos]
        self.assertEqual(starts, sorted(starts, reverse=True))
        closed = self.garcon_json("workflow", "list", "--closed", "--status", "COMPLETED")
        self.assertIn("simple-done", [i["execution"]["workflowId"] for i in closed])
        self.assertTrue(all(i["executionStatus"] == "CLOSED" for i in closed))
        opened = self.garcon_json("workflow", "list", "--open")
        self.assertNotIn("simple-done", [i["execution"]["workflowId"] for i in opened])
        by_id = self.garcon_json("workflow", "list", "--id", "simple-done")
        self.assertEqual([i["execution"]["workflowId"] for i in by_id], ["simple-done"])
        self.assertEqual(self.garcon_json("workflow", "list", "--since", "1h", "--type",
                                          f"simple_flow@{self.version}")[0]["workflowType"]["name"],
                         "simple_flow")
        limited = self.garcon("workflow", "list", "--limit", "1")
        self.assertEqual(limited.returncode, 0, limited.stderr)
        self.assertEqual(len(limited.stdout.strip().splitlines()), 2)  # header + 1
        self.assertIn("--all", limited.stderr)
        table = self.garcon("workflow", "list").stdout
        self.assertRegex(table, r"simple-done\s+\S+\s+simple_flow@\S+\s+COMPLETED")
        self.assertRegex(table, r"list-open\s+\S+\s+simple_flow@\S+\s+OPEN")
        counts = self.garcon_json("workflow", "count")
        self.assertGreaterEqual(counts["open"], 1)
        self.assertGreaterEqual(counts["closed"], 1)
        self.assertIn("closed:", self.garcon("workflow", "count").stdout)
        both = self.garcon("workflow", "list", "--tag", "a", "--id", "b")
        self.assertEqual(both.returncode, 2)

    def test_describe_latest_run_and_not_found(self):
        out = self.garcon("workflow", "describe", "simple-done")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("CLOSED COMPLETED", out.stdout)
        self.assertIn(self.done_run, out.stdout)
        info = self.garcon_json("workflow", "describe", "simple-done", "--run", self.done_run)
        self.assertEqual(info["executionInfo"]["closeStatus"], "COMPLETED")
        self.assertEqual(self.garcon("workflow", "describe", "nosuch").returncode, 3)
        self.assertEqual(self.garcon("workflow", "describe", "simple-done", "--run", "x").returncode, 3)

    def test_show_readable_events_and_json(self):
        out = self.garcon("workflow", "show", "simple-done")
        self.assertEqual(out.returncode, 0, out.stderr)
        for activity in ("activity_1", "activity_2", "activity_3", "activity_4"):
            self.assertRegex(out.stdout, rf"activity\s+simple_flow_{activity}\S*\s+#1\s.*completed: ")
        self.assertIn("decision", out.stdout)
        self.assertIn("COMPLETED at", out.stdout)
        self.assertIn("result: ", out.stdout)
        # The flow's DAG, from the run's garcon.graph marker, with each
        # activity's instances as far as they got.
        self.assertIn("graph of simple_flow@", out.stdout)
        self.assertRegex(out.stdout, r"activity_1\s+-\s+sync\S*\s+1 completed \(1 attempt\)")
        self.assertRegex(out.stdout, r"activity_2\s+activity_1\s+.*\d+ completed")
        events = self.garcon("workflow", "show", "simple-done", "--events")
        self.assertIn("ActivityTaskScheduled", events.stdout)
        self.assertIn("WorkflowExecutionCompleted", events.stdout)
        raw = self.garcon_json("workflow", "show", "simple-done")["events"]
        self.assertEqual(raw[0]["eventType"], "WorkflowExecutionStarted")
        self.assertEqual(raw[-1]["eventType"], "WorkflowExecutionCompleted")
        self.assertEqual(self.garcon("workflow", "show", "nosuch").returncode, 3)

    def test_an_input_past_swfs_limit_is_stored_as_a_payload_and_shown_whole(self):
        big = json.dumps({"text": "x" * 50000})
        self.garcon_json("workflow", "start", "simple_flow", "--id", "big-input", "--input", big)
        # As stored (boto3, raw SWF): a reference, not the value.
        listed = self.swf.list_open_workflow_executions(
            domain=DOMAIN, startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": "big-input"})["executionInfos"]
        history = self.swf.get_workflow_execution_history(
            domain=DOMAIN, execution=listed[0]["execution"])["events"]
        stored = history[0]["workflowExecutionStartedEventAttributes"]["input"]
        self.assertTrue(stored.startswith('{"garcon.payload":"engine:'), stored[:100])
        # As shown: the value.
        shown = self.garcon_json("workflow", "show", "big-input")["events"]
        self.assertEqual(json.loads(shown[0]["workflowExecutionStartedEventAttributes"]["input"]),
                         json.loads(big))

    def test_show_generator_values_of_a_fan_out(self):
        run = subprocess.run([example("country_flow"), "run", "--endpoint", self.endpoint, "--json",
                              "--workflow-id", "countries"],
                             capture_output=True, text=True, timeout=90)
        self.assertIn(run.returncode, (0, 1), run.stderr)
        out = self.garcon("workflow", "show", "countries")
        self.assertEqual(out.returncode, 0, out.stderr)
        for country in range(1, 6):
            self.assertIn(f"generator.country_id={country}", out.stdout)

    def test_show_timers_signals_and_child_runs(self):
        run = subprocess.run([example("order_flow"), "run", "--endpoint", self.endpoint, "--json",
                              "--workflow-id", "order-1", "--input", '{"inventory_failures": 1}',
                              "--signal", 'approved={"approver":"ana"}'],
                             capture_output=True, text=True, timeout=90)
        self.assertEqual(run.returncode, 0, run.stderr)
        out = self.garcon("workflow", "show", "order-1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"signal\s+approved\s+\{\"approver\":\"ana\"\}")
        self.assertRegex(out.stdout, r"activity\s+order_flow_reserve-1\s+#1\s.*failed: ")
        self.assertRegex(out.stdout, r"timer\s+retry-\d+\s.*fired")
        self.assertRegex(out.stdout, r"activity\s+order_flow_reserve-1\s+#2\s.*completed: reserved")
        self.assertRegex(out.stdout, r"timer\s+after-ship\s.*fired")
        self.assertRegex(out.stdout, r"child\s+order-1\.order_flow_pack-1\s+for order_flow_pack-1\s.*completed: ")
        self.assertRegex(out.stdout, r"decision\s.*1 StartChildWorkflowExecutionInitiated")
        self.assertIn("COMPLETED at", out.stdout)
        child = self.garcon_json("workflow", "list", "--type", "packing_flow")
        self.assertIn("order-1.order_flow_pack-1", [i["execution"]["workflowId"] for i in child])

    def test_start_signal_cancel_terminate_wait(self):
        started = self.garcon_json("workflow", "start", "simple_flow", "--id", "ops-1",
                                   "--input", '{"a": 1}', "--tag", "nightly")
        self.assertEqual(started["workflowId"], "ops-1")
        self.assertIn("ops-1", [i["execution"]["workflowId"]
                                for i in self.garcon_json("workflow", "list", "--tag", "nightly")])
        self.assertEqual(self.garcon("workflow", "start", "simple_flow", "--input", "{bad").returncode, 2)
        self.assertEqual(self.garcon("workflow", "start", "nosuch_flow").returncode, 3)
        # Pending decision task on the type's task list.
        pending = self.garcon_json("tasks", "count", "--decision", self.task_list)
        self.assertGreaterEqual(pending["count"], 1)
        self.assertIn("pending decision task", self.garcon("tasks", "count", "--decision",
                                                            self.task_list).stdout)
        self.assertEqual(self.garcon("tasks", "count").returncode, 2)
        idle = self.garcon_json("tasks", "count", "--activity", "simple_flow_activity_1@" + self.version)
        self.assertEqual(idle["count"], 0)
        self.assertEqual(idle["kind"], "activity")

        self.assertEqual(self.garcon("workflow", "signal", "ops-1", "go", "--input", "{}").returncode, 0)
        self.assertEqual(self.garcon("workflow", "cancel", "ops-1").returncode, 0)
        info = self.garcon_json("workflow", "describe", "ops-1")
        self.assertTrue(info["executionInfo"].get("cancelRequested"))
        events = self.garcon("workflow", "show", "ops-1", "--events").stdout
        self.assertIn("WorkflowExecutionSignaled", events)
        self.assertIn("WorkflowExecutionCancelRequested", events)
        self.assertRegex(self.garcon("workflow", "show", "ops-1").stdout, r"signal\s+go")

        waiter = subprocess.Popen([garcon_binary(), "workflow", "wait", "ops-1", "--json",
                                   "--endpoint", self.endpoint],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.processes.append(waiter)
        follower = subprocess.Popen([garcon_binary(), "workflow", "show", "ops-1", "--follow", "--json",
                                     "--endpoint", self.endpoint],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.processes.append(follower)
        time.sleep(1.0)
        self.assertIsNone(follower.poll())
        self.assertIsNone(waiter.poll())
        self.assertEqual(self.garcon("workflow", "terminate", "ops-1").returncode, 2)  # no --reason
        self.assertEqual(self.garcon("workflow", "terminate", "ops-1", "--reason", "test").returncode, 0)
        out, err = waiter.communicate(timeout=15)
        self.assertEqual(waiter.returncode, 1, err)
        summary = json.loads(out)
        self.assertEqual(summary["closeStatus"], "TERMINATED")
        self.assertEqual(summary["reason"], "test")
        out, err = follower.communicate(timeout=15)
        self.assertEqual(follower.returncode, 1, err)
        streamed = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(streamed[0]["eventType"], "WorkflowExecutionStarted")
        self.assertEqual(streamed[-1]["eventType"], "WorkflowExecutionTerminated")
        self.assertEqual([e["eventId"] for e in streamed], list(range(1, len(streamed) + 1)))
        again = self.garcon("workflow", "wait", "ops-1")
        self.assertEqual(again.returncode, 1)
        self.assertIn("TERMINATED", again.stdout)
        self.assertEqual(self.garcon("workflow", "terminate", "ops-1", "--reason", "x").returncode, 3)

    def test_start_wait_and_follow_end_on_close(self):
        started = self.garcon_json("workflow", "start", f"simple_flow@{self.version}", "--id", "follow-1")
        follow = subprocess.Popen([garcon_binary(), "--endpoint", self.endpoint, "workflow", "show",
                                   "follow-1", "--follow"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.processes.append(follow)
        time.sleep(1.0)
        self.assertIsNone(follow.poll())
        flow = example("simple_flow")
        for command in ("decider", "worker"):
            self.processes.append(subprocess.Popen([flow, command, "--endpoint", self.endpoint],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   stdin=subprocess.DEVNULL))
        out, err = follow.communicate(timeout=30)
        self.assertEqual(follow.returncode, 0, err)
        self.assertIn("WorkflowExecutionStarted", out)
        self.assertIn("ActivityTaskCompleted", out)
        self.assertIn("COMPLETED at", out)
        self.assertEqual(self.garcon_json("workflow", "describe", "follow-1", "--run", started["runId"])
                         ["executionInfo"]["closeStatus"], "COMPLETED")
        # start --wait with the decider and worker still running.
        begun = time.monotonic()
        waited = self.garcon("workflow", "start", "simple_flow", "--id", "wait-1", "--wait", "--json")
        self.assertEqual(waited.returncode, 0, waited.stderr)
        summary = json.loads(waited.stdout)
        self.assertEqual(summary["closeStatus"], "COMPLETED")
        self.assertIsInstance(summary["result"], dict)
        self.assertLess(time.monotonic() - begun, 30)

    # --- connection and usage errors ---

    def test_cannot_connect(self):
        out = subprocess.run([garcon_binary(), "--endpoint", f"http://127.0.0.1:{free_port()}",
                              "domain", "list"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 4, out.stderr)
        self.assertIn("cannot connect", out.stderr)

    def test_endpoint_from_the_environment_and_global_flags_anywhere(self):
        env = dict(os.environ, AWS_ENDPOINT_URL_SWF=self.endpoint)
        out = subprocess.run([garcon_binary(), "workflow", "list", "--id", "simple-done", "--json"],
                             capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)[0]["execution"]["workflowId"], "simple-done")
        verbose = subprocess.run([garcon_binary(), "domain", "list", "-v"],
                                 capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(verbose.returncode, 0, verbose.stderr)
        self.assertIn("sending unsigned requests", verbose.stderr)  # -v: info logs too
        quiet = subprocess.run([garcon_binary(), "domain", "list"],
                               capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(quiet.stderr, "")
        other = self.garcon("workflow", "list", "--domain", "nosuch")
        self.assertEqual(other.returncode, 3)
        self.assertIn("UnknownResourceFault", other.stderr)

    def test_wrong_arguments(self):
        out = self.garcon("workflw", "list")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown command 'workflw'", out.stderr)
        self.assertIn("did you mean 'workflow'", out.stderr)
        out = self.garcon("workflow", "lst")
        self.assertEqual(out.returncode, 2)
        self.assertIn("did you mean 'list'", out.stderr)
        self.assertEqual(self.garcon("workflow", "describe").returncode, 2)
        self.assertEqual(self.garcon("workflow").returncode, 2)
        self.assertEqual(self.garcon("workflow", "list", "--status", "BOGUS").returncode, 2)
        self.assertEqual(self.garcon("workflow", "list", "--since", "yesterday").returncode, 2)
        self.assertEqual(self.garcon("workflow", "list", "--nope").returncode, 2)
        out = self.garcon("workflow", "show", "x", "--folow")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown option '--folow'; did you mean '--follow'?", out.stderr)
        helped = self.garcon("workflow", "show", "--help")
        self.assertEqual(helped.returncode, 0)
        self.assertIn("Example", helped.stdout)
        self.assertIn("Exit codes", self.garcon("workflow", "--help").stdout)
        # Global flags before the subcommand too.
        before = subprocess.run([garcon_binary(), "--json", "--endpoint", self.endpoint, "domain", "list"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(before.returncode, 0, before.stderr)
        json.loads(before.stdout)


if __name__ == "__main__":
    unittest.main()
