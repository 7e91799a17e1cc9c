#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers (fuzz/corpus/<fuzzer>/) and the
dictionary fuzz/swf.dict. Deterministic: rerunning gives the same files.

    python3 fuzz/make_corpus.py            # rewrites fuzz/corpus and fuzz/swf.dict

The FuzzedDataProvider-based fuzzers (sigv4, decider, store) read strings
from the front of the input and integers from its back; `Fdp` below builds
inputs in that layout, mirroring the order in which each fuzzer consumes.
"""
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def load_model():
    text = open(os.path.join(ROOT, "src/protocol/swf_model.inc"), encoding="utf-8").read()
    chunks = re.findall(r'R"SWF\((.*?)\)SWF"', text, re.S)
    return json.loads("".join(chunks))


MODEL = load_model()
OPERATIONS = sorted(MODEL["operations"])  # Model::OperationNames() order
assert len(OPERATIONS) == 39, len(OPERATIONS)


class Fdp:
    """Builds an input for FuzzedDataProvider: strings (and the remaining
    bytes) from the front, integers from the back, in consumption order."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in consumption order (last byte of the input first)

    def int_in_range(self, lo, hi, value, size=8):
        assert lo <= value <= hi, (lo, value, hi)
        rng = hi - lo
        offset = 0
        nbytes = 0
        while offset < size * 8 and (rng >> offset) > 0:
            nbytes += 1
            offset += 8
        v = value - lo
        for i in range(nbytes):
            self.back.append((v >> (8 * (nbytes - 1 - i))) & 0xFF)
        return self

    def u8(self, value):
        return self.int_in_range(0, 255, value, size=1)

    def bool(self, value):
        return self.u8(1 if value else 0)

    def string(self, s, max_length):
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        assert len(data) <= max_length, (data, max_length)
        self.front += data.replace(b"\\", b"\\\\")
        if len(data) < max_length:
            self.front += b"\\x"  # ends the string
        return self

    def rest(self, s):
        self.front += s.encode("utf-8") if isinstance(s, str) else bytes(s)
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


def write(fuzzer, name, data):
    d = os.path.join(CORPUS, fuzzer)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


# --- request_fuzzer ------------------------------------------------------------

WF = {"name": "wf", "version": "1"}
ACT = {"name": "act", "version": "1"}
EXEC = {"workflowId": "@wid", "runId": "@run"}
ARN = "arn:aws:swf:us-east-1:123456789012:/domain/d"
SINCE = {"oldestDate": 0}

DECISIONS = {
    "ScheduleActivityTask": {"activityType": ACT, "activityId": "a9", "input": "{}",
                             "heartbeatTimeout": "5", "scheduleToStartTimeout": "10",
                             "taskList": {"name": "activities"}},
    "RequestCancelActivityTask": {"activityId": "a1"},
    "CompleteWorkflowExecution": {"result": "done"},
    "FailWorkflowExecution": {"reason": "r", "details": "d"},
    "CancelWorkflowExecution": {"details": "c"},
    "ContinueAsNewWorkflowExecution": {"input": "again", "tagList": ["t"],
                                       "executionStartToCloseTimeout": "100"},
    "RecordMarker": {"markerName": "m", "details": "x"},
    "StartTimer": {"timerId": "t9", "startToFireTimeout": "1"},
    "CancelTimer": {"timerId": "t"},
    "SignalExternalWorkflowExecution": {"workflowId": "w", "signalName": "s", "input": "i"},
    "RequestCancelExternalWorkflowExecution": {"workflowId": "w"},
    "StartChildWorkflowExecution": {"workflowType": WF, "workflowId": "child",
                                    "childPolicy": "TERMINATE"},
    "ScheduleLambdaFunction": {"id": "l", "name": "fn"},
}


def decision(kind):
    key = kind[0].lower() + kind[1:] + "DecisionAttributes"
    return {"decisionType": kind, key: DECISIONS[kind]}


REQUESTS = {
    "CountClosedWorkflowExecutions": [{"domain": "d", "startTimeFilter": SINCE}],
    "CountOpenWorkflowExecutions": [{"domain": "d", "startTimeFilter": SINCE,
                                     "executionFilter": {"workflowId": "w"}}],
    "CountPendingActivityTasks": [{"domain": "d", "taskList": {"name": "activities"}}],
    "CountPendingDecisionTasks": [{"domain": "d", "taskList": {"name": "decisions"}}],
    "DeleteActivityType": [{"domain": "d", "activityType": ACT}],
    "DeleteWorkflowType": [{"domain": "d", "workflowType": WF}],
    "DeprecateActivityType": [{"domain": "d", "activityType": ACT}],
    "DeprecateDomain": [{"name": "d"}],
    "DeprecateWorkflowType": [{"domain": "d", "workflowType": WF}],
    "DescribeActivityType": [{"domain": "d", "activityType": ACT}],
    "DescribeDomain": [{"name": "d"}],
    "DescribeWorkflowExecution": [{"domain": "d", "execution": EXEC}],
    "DescribeWorkflowType": [{"domain": "d", "workflowType": WF}],
    "GetWorkflowExecutionHistory": [
        {"domain": "d", "execution": EXEC, "maximumPageSize": 2, "reverseOrder": True},
        {"domain": "d", "execution": EXEC, "nextPageToken": "AAAA"}],
    "ListActivityTypes": [{"domain": "d", "registrationStatus": "REGISTERED", "name": "act"}],
    "ListClosedWorkflowExecutions": [
        {"domain": "d", "closeTimeFilter": SINCE, "closeStatusFilter": {"status": "COMPLETED"}},
        {"domain": "d", "startTimeFilter": SINCE, "tagFilter": {"tag": "t1"},
         "maximumPageSize": 1, "reverseOrder": True}],
    "ListDomains": [{"registrationStatus": "REGISTERED", "maximumPageSize": 1}],
    "ListOpenWorkflowExecutions": [{"domain": "d", "startTimeFilter": SINCE,
                                    "typeFilter": {"name": "wf", "version": "1"}}],
    "ListTagsForResource": [{"resourceArn": ARN}],
    "ListWorkflowTypes": [{"domain": "d", "registrationStatus": "DEPRECATED"}],
    "PollForActivityTask": [{"domain": "d", "taskList": {"name": "activities"}, "identity": "x"}],
    "PollForDecisionTask": [{"domain": "d", "taskList": {"name": "decisions"},
                             "reverseOrder": True, "maximumPageSize": 1}],
    "RecordActivityTaskHeartbeat": [{"taskToken": "@activity", "details": "50%"}],
    "RegisterActivityType": [{"domain": "d", "name": "act2", "version": "1",
                              "defaultTaskList": {"name": "activities"},
                              "defaultTaskHeartbeatTimeout": "NONE",
                              "defaultTaskScheduleToCloseTimeout": "60"}],
    "RegisterDomain": [{"name": "d2", "workflowExecutionRetentionPeriodInDays": "0",
                        "tags": [{"key": "k", "value": "v"}]}],
    "RegisterWorkflowType": [{"domain": "d", "name": "wf2", "version": "1",
                              "defaultChildPolicy": "ABANDON",
                              "defaultTaskStartToCloseTimeout": "1",
                              "defaultExecutionStartToCloseTimeout": "2"}],
    "RequestCancelWorkflowExecution": [{"domain": "d", "workflowId": "w"}],
    "RespondActivityTaskCanceled": [{"taskToken": "@activity", "details": "x"}],
    "RespondActivityTaskCompleted": [{"taskToken": "@activity", "result": "{}"}],
    "RespondActivityTaskFailed": [{"taskToken": "@activity", "reason": "r", "details": "d"}],
    "RespondDecisionTaskCompleted": [{"taskToken": "@decision", "executionContext": "c",
                                      "decisions": [decision(k)]} for k in DECISIONS]
    + [{"taskToken": "@decision",
        "decisions": [decision("ScheduleActivityTask"), decision("StartTimer"),
                      decision("CompleteWorkflowExecution")]}],
    "SignalWorkflowExecution": [{"domain": "d", "workflowId": "w", "signalName": "s",
                                 "input": "x", "runId": "@run"}],
    "StartWorkflowExecution": [{"domain": "d", "workflowId": "w2", "workflowType": WF,
                                "tagList": ["a"], "executionStartToCloseTimeout": "5",
                                "taskStartToCloseTimeout": "2", "childPolicy": "ABANDON",
                                "taskList": {"name": "decisions"}, "input": "{}"}],
    "TagResource": [{"resourceArn": ARN, "tags": [{"key": "k", "value": "v"}]}],
    "TerminateWorkflowExecution": [{"domain": "d", "workflowId": "w",
                                    "childPolicy": "REQUEST_CANCEL", "reason": "r"}],
    "UndeprecateActivityType": [{"domain": "d", "activityType": ACT}],
    "UndeprecateDomain": [{"name": "d"}],
    "UndeprecateWorkflowType": [{"domain": "d", "workflowType": WF}],
    "UntagResource": [{"resourceArn": ARN, "tagKeys": ["k"]}],
}
assert sorted(REQUESTS) == OPERATIONS


def request_corpus():
    for op, bodies in REQUESTS.items():
        index = OPERATIONS.index(op)
        for n, body in enumerate(bodies):
            data = bytes([index]) + json.dumps(body, separators=(",", ":")).encode()
            write("request_fuzzer", f"{op}-{n}", data)
    # The clock moves before the call (byte / 39 = 3..6): timeouts fire first.
    for step, op in ((4, "RecordActivityTaskHeartbeat"), (5, "DescribeWorkflowExecution"),
                     (5, "RespondDecisionTaskCompleted"), (3, "PollForDecisionTask"),
                     (6, "CountPendingActivityTasks")):
        data = bytes([OPERATIONS.index(op) + 39 * step])
        data += json.dumps(REQUESTS[op][0], separators=(",", ":")).encode()
        write("request_fuzzer", f"{op}-after-{step}", data)
    write("request_fuzzer", "empty-body-ListDomains", bytes([OPERATIONS.index("ListDomains")]))


# --- http_fuzzer ---------------------------------------------------------------

def http_request(op, body, extra="", method="POST", target="/", version="HTTP/1.1"):
    body = body if isinstance(body, str) else json.dumps(body)
    head = (f"{method} {target} {version}\r\nHost: 127.0.0.1\r\n"
            f"X-Amz-Target: SimpleWorkflowService.{op}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\n"
            f"Content-Length: {len(body.encode())}\r\n{extra}\r\n")
    return head + body


def sigv4_headers(op, body, amz_date="20260101T120000Z", key="AKIDFUZZ",
                  secret="fuzz-secret-key", host="127.0.0.1"):
    headers = {"content-type": "application/x-amz-json-1.0", "host": host,
               "x-amz-date": amz_date, "x-amz-target": f"SimpleWorkflowService.{op}"}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "",
                           "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names),
                           hashlib.sha256(body.encode()).hexdigest()])
    date = amz_date[:8]
    scope = f"{date}/us-east-1/swf/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date, "us-east-1", "swf", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={';'.join(names)}, "
            f"Signature={signature}")
    return (f"POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Date: {amz_date}\r\n"
            f"X-Amz-Target: SimpleWorkflowService.{op}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\n"
            f"Authorization: {auth}\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}")


def http_corpus():
    w = lambda name, text: write("http_fuzzer", name, text)
    list_domains = {"registrationStatus": "REGISTERED"}
    w("list-domains", http_request("ListDomains", list_domains))
    w("start", http_request("StartWorkflowExecution", REQUESTS["StartWorkflowExecution"][0]))
    w("describe", http_request("DescribeWorkflowExecution",
                               {"domain": "d", "execution": {"workflowId": "w", "runId": "x"}}))
    w("poll-decision", http_request("PollForDecisionTask", REQUESTS["PollForDecisionTask"][0]))
    w("poll-activity", http_request("PollForActivityTask", REQUESTS["PollForActivityTask"][0]))
    w("register-domain", http_request("RegisterDomain", REQUESTS["RegisterDomain"][0]))
    w("bad-json", http_request("ListDomains", '{"registrationStatus": '))
    w("array-body", http_request("ListDomains", "[1,2]"))
    w("empty-body", http_request("ListDomains", ""))
    w("unknown-op", http_request("NoSuchOperation", {}))
    w("no-target", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    w("health", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    w("metrics", "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    w("not-found", "GET /nope HTTP/1.0\r\n\r\n")
    w("put", http_request("ListDomains", list_domains, method="PUT"))
    chunks = ['{"registrationSt', 'atus": "REGISTERED"}']
    w("chunked", "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains"
                 "\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + "".join(f"{len(c):x}\r\n{c}\r\n" for c in chunks) + "0\r\n\r\n")
    w("te-gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    w("te-not-chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")
    w("expect-continue", http_request("ListDomains", list_domains, "Expect: 100-continue\r\n"))
    w("oversize", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{}")
    w("short-body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{}")
    w("http10-keepalive", http_request("ListDomains", list_domains,
                                       "Connection: keep-alive\r\n", version="HTTP/1.0"))
    w("pipelined", http_request("ListDomains", list_domains)
      + http_request("PollForDecisionTask", REQUESTS["PollForDecisionTask"][0])
      + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    w("garbage", "\x00\x01\x02 GET / HTTP/9.9\r\n\r\n")
    w("bad-utf8", http_request("ListDomains", '{"registrationStatus":"\xff\xfe"}'))
    # Signed requests, for the verifying server (inputs with "Credential=").
    body = json.dumps(list_domains)
    w("signed-list-domains", sigv4_headers("ListDomains", body))
    w("signed-start", sigv4_headers("StartWorkflowExecution",
                                    json.dumps(REQUESTS["StartWorkflowExecution"][0])))
    w("signed-expired", sigv4_headers("ListDomains", body, amz_date="20250101T120000Z"))
    w("signed-unknown-key", sigv4_headers("ListDomains", body, key="NOPE"))
    w("signed-wrong-secret", sigv4_headers("ListDomains", body, secret="wrong"))
    w("unsigned-to-verifier", http_request("ListDomains", list_domains,
                                           "Authorization: AWS4-HMAC-SHA256 Credential=x\r\n"))


# --- sigv4_fuzzer --------------------------------------------------------------

def sigv4_corpus():
    w = lambda name, f: write("sigv4_fuzzer", name, f.bytes())
    # Mode 1: round trip.
    def round_trip(method, path, query, port, headers, body, skew, flip, flip_at=0, token=""):
        f = Fdp().int_in_range(0, 2, 1)
        f.int_in_range(0, 3, method)
        if method == 3:
            f.string(token, 8)
        f.string(path, 48).string(query, 48)
        f.int_in_range(0, 65535, port, size=2)
        f.int_in_range(0, 12, len(headers))
        for name, value in headers:
            f.string(name, 24).string(value, 64)
        f.string(body, 256)
        f.int_in_range(-1800, 1800, skew)
        f.bool(flip)
        f.int_in_range(0, 2**64 - 1, flip_at)
        return f
    target = [("X-Amz-Target", "SimpleWorkflowService.ListDomains"),
              ("Content-Type", "application/x-amz-json-1.0")]
    w("rt-basic", round_trip(0, "", "", 7800, target, '{"registrationStatus":"REGISTERED"}', 0, True, 3))
    w("rt-skew-in", round_trip(1, "a/./b/../c", "b=2&a=1&a=0", 443, target, "{}", 899, False))
    w("rt-skew-out", round_trip(2, "x", "", 80, [], "", -901, False))
    w("rt-spaces", round_trip(3, "%20a b", "k", 1, [("X-Odd", "  a   b\t c  "), ("x-odd", "2"),
                                                     ("Date", "Thu, 01 Jan 2026 00:00:00 GMT")],
                              "body", 10, True, 1, token="PATCH"))
    w("rt-many", round_trip(0, "~/-_.", "=&=&x=", 9, [(f"H{i}", "v" * i) for i in range(12)],
                            "\u00e9\u4e2d", -10, True, 7))
    # Mode 0: raw, assembled authorization.
    def raw(assembled, parts, date_kind, date_value, headers, body, method="POST", path="/", query=""):
        f = Fdp().int_in_range(0, 2, 0)
        f.bool(method == "POST")
        if method != "POST":
            f.string(method, 8)
        f.string(path, 64).string(query, 64)
        f.bool(not assembled)
        if not assembled:
            f.string(parts, 512)
        else:
            for default, value, limit in parts:
                f.bool(value is None)
                if value is not None:
                    f.string(value, limit)
        f.int_in_range(0, 3, date_kind)
        if date_kind in (1, 2):
            f.string(date_value, 20 if date_kind == 1 else 40)
        f.int_in_range(0, 6, len(headers))
        for name, value in headers:
            f.string(name, 24).string(value, 64)
        f.rest(body)
        return f
    # Assembled: key, date, region, service, terminator, signed headers (each
    # None = the valid default), then signature (always a string) and sep.
    def assembled(key=None, date=None, region=None, service=None, term=None, signed=None,
                  signature="0" * 64, sep=None):
        parts = [(1, key, 16), (1, date, 10), (1, region, 12), (1, service, 6), (1, term, 14),
                 (1, signed, 64)]
        return parts, signature, sep
    def raw_assembled(name, date_kind=0, date_value="", headers=(), body="{}", **kw):
        parts, signature, sep = assembled(**kw)
        f = Fdp().int_in_range(0, 2, 0)
        f.bool(True)
        f.string("/", 64).string("", 64)
        f.bool(False)
        for _, value, limit in parts:
            f.bool(value is None)
            if value is not None:
                f.string(value, limit)
        f.string(signature, 80)
        f.bool(sep is None)
        if sep is not None:
            f.string(sep, 3)
        f.int_in_range(0, 3, date_kind)
        if date_kind in (1, 2):
            f.string(date_value, 20 if date_kind == 1 else 40)
        f.int_in_range(0, 6, len(headers))
        for hname, value in headers:
            f.string(hname, 24).string(value, 64)
        f.rest(body)
        w(name, f)
    raw_assembled("raw-valid-scope")
    raw_assembled("raw-other-service", service="s3")
    raw_assembled("raw-bad-terminator", term="aws4_requesx")
    raw_assembled("raw-no-host", signed="x-amz-date")
    raw_assembled("raw-http-date", date_kind=2, date_value="Thu, 01 Jan 2026 12:00:00 GMT")
    raw_assembled("raw-bad-date", date_kind=1, date_value="2026-01-01T12:00:00Z")
    raw_assembled("raw-no-date", date_kind=3)
    raw_assembled("raw-content-sha", headers=[("X-Amz-Content-SHA256", "abc")])
    raw_assembled("raw-sep", sep=",")
    raw_assembled("raw-unknown-key", key="OTHER")
    raw_assembled("raw-empty-secret", key="EMPTY")
    f = Fdp().int_in_range(0, 2, 0)
    f.bool(True).string("/", 64).string("", 64).bool(True)
    f.string("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=00", 512)
    f.int_in_range(0, 3, 0).int_in_range(0, 6, 0).rest("")
    w("raw-string", f)
    f = Fdp().int_in_range(0, 2, 0)
    f.bool(True).string("/", 64).string("", 64).bool(True)
    f.string("Basic dXNlcjpwYXNz", 512)
    f.int_in_range(0, 3, 3).int_in_range(0, 6, 0).rest("")
    w("raw-basic", f)
    # Mode 2: building blocks.
    for n, (a, b, c) in enumerate([
            ("20260101T120000Z", "Thu, 01 Jan 2026 12:00:00 GMT", "/a/../b/%2F?x=1&y"),
            ("21991231T235960Z", "Mon, 31 Dec 2199 23:59:60 GMT", "Credential=AKID/x, "),
            ("19700101T000000Z", "Sun, 06 Nov 1994 08:49:37 GMT", "b=2&a=1&a&=&"),
            ("2026010", "Thu, 32 Foo 2026 25:61:61 GMT", "\u00e9/./../..//")]):
        f = Fdp().int_in_range(0, 2, 2).string(a, 64).string(b, 64).rest(c)
        w(f"blocks-{n}", f)


# --- decider_fuzzer --------------------------------------------------------------

def fuzzer_event_types():
    """The fuzzer's own table (kEventTypes in decider_fuzzer.cc): seeds pick
    event types by their index in it, so there is one list, not two."""
    with open(os.path.join(HERE, "decider_fuzzer.cc")) as f:
        text = f.read()
    table = re.search(r"kEventTypes\[\] = \{(.*?)\};", text, re.S).group(1)
    return re.findall(r'"([A-Za-z]+)"', table)


EVENT_TYPES = fuzzer_event_types()
KEYS = ["n", "tag", "user", "again", "i", "execution.run_id"]


class DeciderSeed:
    """Mirrors HistoryMaker's consumption. Events are (type, args) where args
    say what each choice should be."""

    def __init__(self, flow_generated=True, page_size=2, cache=1):
        self.f = Fdp().int_in_range(0, 2, 0)
        self.f.bool(flow_generated)
        self.f.int_in_range(1, 8, page_size)
        self.f.int_in_range(0, 2, cache)
        self.events = []

    def value(self, v, depth=0):
        f = self.f
        hi = 4 if depth > 1 else 7
        if isinstance(v, bool):
            f.int_in_range(0, hi, 2).bool(v)
        elif v is None:
            f.int_in_range(0, hi, 3)
        elif isinstance(v, int):
            f.int_in_range(0, hi, 0).int_in_range(-3, 50, v)
        elif isinstance(v, str) and v.startswith("BIG:"):
            f.int_in_range(0, hi, 5).int_in_range(0, 40, int(v[4:]))
        elif isinstance(v, str):
            f.int_in_range(0, hi, 1).string(v, 24)
        elif isinstance(v, list):
            f.int_in_range(0, hi, 6).int_in_range(0, 3, len(v))
            for e in v:
                self.value(e, depth + 1)
        else:
            f.int_in_range(0, hi, 7)
            self.object(v, depth + 1)

    def object(self, obj, depth=0):
        self.f.int_in_range(0, 4, len(obj))
        for k, v in obj.items():
            self.f.int_in_range(0, 6, KEYS.index(k))
            self.value(v, depth)

    def data(self, d):
        if d is None:
            self.f.int_in_range(0, 5, 0)
        elif isinstance(d, str):
            self.f.int_in_range(0, 5, 1).string(d, 40)
        else:
            self.f.int_in_range(0, 5, 3)
            self.object(d)

    def event(self, kind, first=False, fuzzed_id=None, **a):
        f = self.f
        if first:
            f.int_in_range(0, 7, 1 if kind == "WorkflowExecutionStarted" else 0)
        if not (first and kind == "WorkflowExecutionStarted"):
            f.int_in_range(0, len(EVENT_TYPES) - 1, EVENT_TYPES.index(kind))
        if fuzzed_id is None:
            f.int_in_range(0, 15, 1)
        else:
            f.int_in_range(0, 15, 0).int_in_range(-2, 100, fuzzed_id)
        sched = lambda: f.u8(a.get("sched", 0))  # 0: the latest ActivityTaskScheduled
        if kind == "WorkflowExecutionStarted":
            self.data(a.get("input"))
        elif kind == "ActivityTaskScheduled":
            if "text" in a:  # 255: this id, whatever the flow decided
                f.u8(255).string(a["text"], 40)
            else:
                f.u8(a.get("pick", 0))  # 0: the latest learned activity id
        elif kind == "ActivityTaskStarted":
            sched()
            f.string("worker", 20)
        elif kind == "ActivityTaskCompleted":
            sched()
            self.data(a.get("result"))
        elif kind == "ActivityTaskFailed":
            sched()
            f.bool("reason" in a)
            if "reason" in a:
                f.string(a["reason"], 256)
            f.bool("details" in a)
            if "details" in a:
                f.bool(a["details"] != "HUGE")
                if a["details"] != "HUGE":
                    f.string(a["details"], 300)
        elif kind == "ActivityTaskTimedOut":
            sched()
            f.int_in_range(0, 3, a.get("timeout", 0)).bool(False)
        elif kind == "ActivityTaskCanceled":
            sched()
            f.bool(False)
        elif kind == "ScheduleActivityTaskFailed":
            f.u8(a.get("pick", 0)).int_in_range(0, 3, a.get("cause", 0))
        elif kind == "DecisionTaskCompleted":
            f.bool(False)
        elif kind == "WorkflowExecutionSignaled":
            f.string("sig", 16)
            self.data(a.get("input"))
        elif kind == "WorkflowExecutionFailed":
            f.string("failed", 64)
        elif kind in ("TimerStarted", "TimerFired"):
            f.string("t1", 16)
        if kind not in ("DecisionTaskStarted", "WorkflowExecutionStarted"):
            f.int_in_range(0, 15, 0 if a.get("learn") else 1)
        self.events.append(kind)
        return self

    def decision_task(self):
        return (self.event("DecisionTaskScheduled").event("DecisionTaskStarted")
                .event("DecisionTaskCompleted"))

    def bytes(self, prefix):
        # Make() reads the count first: rebuild with it in front of the events.
        out = Fdp()
        out.front = self.f.front
        # back = [mode, flow, page, cache] + [count] + events... + [prefix]
        back = self.f.back
        head, events = back[:4], back[4:]
        out.back = bytearray(head)
        out.int_in_range(0, 60, len(self.events))
        out.back += events
        if self.events:
            out.int_in_range(0, len(self.events), prefix)
        return out.bytes()


def decider_corpus():
    w = lambda name, data: write("decider_fuzzer", name, data)
    start = {"user": "ann", "n": 2}
    # The generated flow to completion: a1, then a2 x2 and a3, then a4.
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input=start).decision_task()
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={"tag": "x"}).decision_task()
    w("generated-a1-done", s.bytes(3))
    for pick in (0, 1, 2):  # a3, a2 #2, a2 #1 (latest learned first)
        s.event("ActivityTaskScheduled", pick=pick)
    for sched in (0, 1, 2):
        s.event("ActivityTaskStarted", sched=sched)
        s.event("ActivityTaskCompleted", sched=sched, result={"i": sched})
    s.decision_task()
    w("generated-a2-a3-done", s.bytes(8))
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={"again": True}).decision_task()
    w("generated-complete", s.bytes(20))
    # Failures and retries.
    s = DeciderSeed(page_size=3).event("WorkflowExecutionStarted", first=True, input=start)
    s.decision_task().event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskFailed", reason="boom \u00e9\u4e2d", details="why")
    s.decision_task()
    w("generated-a1-failed", s.bytes(2))
    s.event("ActivityTaskScheduled").event("ActivityTaskTimedOut", timeout=3).decision_task()
    w("generated-a1-timed-out", s.bytes(6))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input=start)
    s.decision_task().event("ScheduleActivityTaskFailed", cause=0).decision_task()
    w("generated-schedule-failed", s.bytes(1))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input="not json")
    s.decision_task()
    w("generated-bad-input", s.bytes(0))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True,
                            input={"n": 30, "tag": ["BIG:30", None]})
    s.decision_task().event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={"tag": {"user": "BIG:20"}}).decision_task()
    w("generated-big-context", s.bytes(4))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input={"n": "two"})
    s.decision_task().event("ActivityTaskScheduled", text="flow_a1-1").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={}).decision_task()
    w("generated-generator-throws", s.bytes(5))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input=start).decision_task()
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskFailed", reason="x" * 256, details="HUGE")
    s.event("WorkflowExecutionSignaled", input={"user": "bob"})
    s.event("TimerStarted").event("TimerFired").event("MarkerRecorded").decision_task()
    w("generated-long-reason", s.bytes(7))
    # A cancel request while a1 runs, then its cancellation.
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input=start).decision_task()
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("WorkflowExecutionCancelRequested").decision_task()
    w("generated-cancel-requested", s.bytes(6))
    s.event("ActivityTaskCancelRequested").event("ActivityTaskCanceled").decision_task()
    w("generated-cancel-done", s.bytes(9))
    s = DeciderSeed().event("WorkflowExecutionStarted", first=True, input=start).decision_task()
    s.event("WorkflowExecutionCompleted")
    w("generated-closed", s.bytes(2))
    s = DeciderSeed().event("DecisionTaskScheduled", first=True, fuzzed_id=7)
    s.event("DecisionTaskStarted", fuzzed_id=3)
    w("generated-no-start", s.bytes(1))
    # The custom decider: first, second (with retry), third when "again".
    s = DeciderSeed(flow_generated=False, page_size=1, cache=0)
    s.event("WorkflowExecutionStarted", first=True, input={"user": "ann"}).decision_task()
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={"again": True}).decision_task()
    w("custom-first-done", s.bytes(4))
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskFailed", reason="r").decision_task()
    s.event("ActivityTaskScheduled").event("ActivityTaskStarted")
    s.event("ActivityTaskCompleted", result={"again": True}).decision_task()
    w("custom-second-retried", s.bytes(12))
    # Raw JSON (mode 2): whole histories and malformed ones.
    def raw(name, text, generated=True):
        f = Fdp().int_in_range(0, 2, 2).bool(generated).rest(text)
        w(name, f.bytes())
    def ev(i, kind, **attrs):
        key = kind[0].lower() + kind[1:] + "EventAttributes"
        return {"eventId": i, "eventTimestamp": 1767225600 + i, "eventType": kind, key: attrs}
    history = [
        ev(1, "WorkflowExecutionStarted", input='{"user":"ann","n":1}',
           workflowType={"name": "flow", "version": "1.0"}, taskList={"name": "flow"},
           childPolicy="TERMINATE"),
        ev(2, "DecisionTaskScheduled", taskList={"name": "flow"}),
        ev(3, "DecisionTaskStarted", scheduledEventId=2),
        ev(4, "DecisionTaskCompleted", scheduledEventId=2, startedEventId=3),
        ev(5, "ActivityTaskScheduled", activityId="flow_a1-1",
           activityType={"name": "flow_a1", "version": "1.0"}, taskList={"name": "flow_a1"},
           decisionTaskCompletedEventId=4),
        ev(6, "ActivityTaskStarted", scheduledEventId=5),
        ev(7, "ActivityTaskCompleted", scheduledEventId=5, startedEventId=6, result='{"tag":1}'),
        ev(8, "DecisionTaskScheduled", taskList={"name": "flow"}),
        ev(9, "DecisionTaskStarted", scheduledEventId=8),
    ]
    raw("raw-history", json.dumps(history))
    raw("raw-history-custom", json.dumps(history[:4]), generated=False)
    raw("raw-task-page", json.dumps({
        "taskToken": "tok", "startedEventId": 9, "events": list(reversed(history)),
        "workflowExecution": {"workflowId": "wf-1", "runId": "run-1"},
        "workflowType": {"name": "flow", "version": "1.0"}}))
    raw("raw-ids-as-strings", json.dumps([{"eventId": "1", "eventType": 3}]))
    raw("raw-not-objects", json.dumps([1, "x", None, [], {"eventType": ""}]))
    raw("raw-task-no-token", json.dumps({"taskToken": 5, "events": {}}))


# --- store_fuzzer ------------------------------------------------------------------

def store_corpus():
    # The edits depend on row counts and column contents, so these are small
    # byte strings that select each kind of edit (what = 0..9) with the
    # default choices, plus random ones; the fuzzer takes it from there.
    for what in range(10):
        for variant in range(2):
            f = Fdp().int_in_range(1, 4, 1).int_in_range(0, 9, what)
            f.int_in_range(0, 5, 2 + variant * 3)
            f.rest(b"\x01\x00\x02")
            write("store_fuzzer", f"edit-{what}-{variant}", f.bytes())
    rng = random.Random(1234)
    for n in range(12):
        write("store_fuzzer", f"random-{n}", bytes(rng.randrange(256) for _ in range(8 + 4 * n)))


# --- dictionary ----------------------------------------------------------------------

def dictionary():
    words = set()
    def walk(shape):
        for member in shape.get("members", {}):
            words.add(member)
        for value in shape.get("enum", []):
            words.add(value)
    for shape in MODEL["shapes"].values():
        walk(shape)
    words.update(OPERATIONS)
    words.update(["@decision", "@activity", "@run", "@wid", "NONE", "d", "wf", "act",
                  "decisions", "activities", "SimpleWorkflowService.", "X-Amz-Target",
                  "Content-Length", "Transfer-Encoding", "chunked", "Authorization",
                  "AWS4-HMAC-SHA256", "Credential=", "SignedHeaders=", "Signature=",
                  "X-Amz-Date", "aws4_request", "application/x-amz-json-1.0", "HTTP/1.1",
                  "keep-alive", "100-continue"])
    lines = ["# SWF member names, enum values and operations (fuzz/make_corpus.py)"]
    for word in sorted(words):
        escaped = word.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{escaped}"')
    with open(os.path.join(HERE, "swf.dict"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    request_corpus()
    http_corpus()
    sigv4_corpus()
    decider_corpus()
    store_corpus()
    dictionary()
    for name in sorted(os.listdir(CORPUS)):
        print(f"{name}: {len(os.listdir(os.path.join(CORPUS, name)))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
