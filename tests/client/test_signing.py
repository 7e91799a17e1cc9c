"""The C++ client's requests, as they arrive on the wire, signed again by
botocore: the Authorization header must be the same byte for byte.

tests/server/sigv4_test.cc already checks the signer (src/protocol/sigv4)
against vectors botocore produced. This test checks the client end to end:
the headers it sends, the host it renders, the body it serializes and the
signature over them, for a table of requests. A loopback HTTP server records
what `swf_call` (the client, driven from stdin) sends; botocore's SigV4Auth
then signs the same method, URL, headers and body at the request's own
X-Amz-Date, and both headers are compared. boto3's own SWF client is sent to
the same server to check that we sign the same header list it does.

Run by ctest with the python3 on PATH (which has botocore and boto3), and
SWF_CALL naming the helper binary.
"""
import datetime
import http.server
import json
import os
import subprocess
import threading
import unittest
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SWF_CALL = os.environ.get("SWF_CALL", "")


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.captured.append(
            {"path": self.path, "headers": list(self.headers.items()), "body": body})
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def _header(headers, name):
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def _signed_headers(authorization):
    return authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0]


def _botocore_authorization(url, captured, key, secret, token, region):
    """Signs what arrived the way botocore signs a request it sends."""
    request = AWSRequest(method="POST", url=url, data=captured["body"])
    for name in ("X-Amz-Target", "Content-Type"):
        request.headers[name] = _header(captured["headers"], name)
    when = datetime.datetime.strptime(_header(captured["headers"], "X-Amz-Date"),
                                      "%Y%m%dT%H%M%SZ")
    signer = botocore.auth.SigV4Auth(Credentials(key, secret, token), "swf", region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        signer.add_auth(request)
    return request.headers["Authorization"], request.headers.get("X-Amz-Security-Token")


CASES = [
    dict(name="list-domains", host="127.0.0.1", path="", region="us-east-1",
         key="AKIDEXAMPLE", secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token="",
         operation="ListDomains", request={"registrationStatus": "REGISTERED"}),
    dict(name="unicode-body", host="127.0.0.1", path="", region="eu-west-1",
         key="AK2", secret="s3cr3t", token="",
         operation="SignalWorkflowExecution",
         request={"domain": "d", "workflowId": "w", "signalName": "s",
                  "input": "caf\u00e9 \u2603 \U0001F600 \"quoted\" back\\slash"}),
    dict(name="session-token", host="127.0.0.1", path="", region="us-west-2",
         key="ASIATEMP", secret="temp/secret+=", token="FQoGZXIvYXdzEJr//////////wEaDM+token==",
         operation="PollForDecisionTask",
         request={"domain": "d", "taskList": {"name": "t"}, "identity": "host:1",
                  "reverseOrder": True, "maximumPageSize": 100}),
    dict(name="host-name-and-path", host="LocalHost", path="/swf/", region="ap-southeast-2",
         key="AK3", secret="x", token="",
         operation="DescribeDomain", request={"name": "garcon"}),
    dict(name="large-body", host="127.0.0.1", path="", region="us-east-2",
         key="AK4", secret="y", token="",
         operation="StartWorkflowExecution",
         request={"domain": "d", "workflowId": "big",
                  "workflowType": {"name": "flow", "version": "1"},
                  "input": json.dumps({"k%d" % i: "v" * 20 for i in range(300)}),
                  "tagList": ["a", "b"]}),
    dict(name="decisions", host="127.0.0.1", path="", region="sa-east-1",
         key="AK5", secret="z", token="",
         operation="RespondDecisionTaskCompleted",
         request={"taskToken": "AAAA+/==", "decisions": [
             {"decisionType": "ScheduleActivityTask",
              "scheduleActivityTaskDecisionAttributes": {
                  "activityType": {"name": "a", "version": "1"}, "activityId": "x-1",
                  "input": "{}", "taskList": {"name": "tl"}}},
             {"decisionType": "CompleteWorkflowExecution",
              "completeWorkflowExecutionDecisionAttributes": {"result": "null"}}]}),
]


@unittest.skipUnless(SWF_CALL, "SWF_CALL (the swf_call helper) is not set")
class ClientSigningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        cls.server.captured = []
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def _call(self, case):
        self.server.captured.clear()
        url = "http://%s:%d%s" % (case["host"], self.port, case["path"])
        job = {"endpoint": url, "region": case["region"], "access_key_id": case["key"],
               "secret_access_key": case["secret"], "session_token": case["token"],
               "operation": case["operation"], "request": case["request"]}
        out = subprocess.run([SWF_CALL], input=json.dumps(job).encode(), capture_output=True,
                             timeout=60, check=True)
        result = json.loads(out.stdout)
        self.assertTrue(result["ok"], result)
        self.assertEqual(len(self.server.captured), 1)
        return url, self.server.captured[0]

    def test_authorization_equals_botocore(self):
        for case in CASES:
            with self.subTest(case["name"]):
                url, captured = self._call(case)
                headers = captured["headers"]
                self.assertEqual(captured["path"], case["path"] or "/")
                self.assertEqual(json.loads(captured["body"]), case["request"])
                self.assertEqual(_header(headers, "X-Amz-Target"),
                                 "SimpleWorkflowService." + case["operation"])
                self.assertEqual(_header(headers, "Content-Type"), "application/x-amz-json-1.0")
                ours = _header(headers, "Authorization")
                theirs, token = _botocore_authorization(
                    url, captured, case["key"], case["secret"], case["token"] or None,
                    case["region"])
                self.assertEqual(ours, theirs)
                self.assertEqual(_header(headers, "X-Amz-Security-Token"), token)

    def test_same_signed_headers_as_boto3(self):
        import boto3

        for token in (None, "SESSIONTOKEN"):
            with self.subTest(session_token=bool(token)):
                self.server.captured.clear()
                client = boto3.client(
                    "swf", region_name="us-east-1",
                    endpoint_url="http://127.0.0.1:%d" % self.port,
                    aws_access_key_id="AK", aws_secret_access_key="SK",
                    aws_session_token=token)
                client.list_domains(registrationStatus="REGISTERED")
                boto3_request = self.server.captured[0]
                boto3_auth = _header(boto3_request["headers"], "Authorization")
                # The oracle procedure itself: botocore re-signing boto3's own
                # request gives boto3's header.
                again, _ = _botocore_authorization(
                    "http://127.0.0.1:%d" % self.port, boto3_request, "AK", "SK", token,
                    "us-east-1")
                self.assertEqual(again, boto3_auth)

                _, ours = self._call(dict(
                    host="127.0.0.1", path="", region="us-east-1", key="AK", secret="SK",
                    token=token or "", operation="ListDomains",
                    request={"registrationStatus": "REGISTERED"}))
                self.assertEqual(_signed_headers(_header(ours["headers"], "Authorization")),
                                 _signed_headers(boto3_auth))


if __name__ == "__main__":
    unittest.main()
