#!/usr/bin/env python3
"""Produces sigv4_vectors.json: requests signed by botocore's SigV4Auth, the
oracle our C++ signer (src/protocol/sigv4.cc) must match byte for byte.

Run with the python3 that has botocore, from this folder:
    python3 gen_sigv4_vectors.py > sigv4_vectors.json
Each vector gives the request as botocore signed it (headers in order, the
Host header botocore derives from the URL made explicit), the timestamp, the
canonical request, the string to sign and the Authorization header.
"""
import datetime
import json
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AWS_SUITE_KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

CASES = [
    # AWS's published test suite, "get-vanilla" and "post-vanilla".
    dict(name="aws-get-vanilla", method="GET", url="https://example.amazonaws.com/",
         headers=[], body=b"", region="us-east-1", service="service",
         key=AWS_SUITE_KEY, when="20150830T123600Z"),
    dict(name="aws-post-vanilla", method="POST", url="https://example.amazonaws.com/",
         headers=[], body=b"", region="us-east-1", service="service",
         key=AWS_SUITE_KEY, when="20150830T123600Z"),
    dict(name="aws-get-vanilla-query-order", method="GET",
         url="https://example.amazonaws.com/?Param2=value2&Param1=value1",
         headers=[], body=b"", region="us-east-1", service="service",
         key=AWS_SUITE_KEY, when="20150830T123600Z"),
    # What boto3 sends to SWF.
    dict(name="swf-list-domains", method="POST", url="http://127.0.0.1:7800/",
         headers=[("X-Amz-Target", "SimpleWorkflowService.ListDomains"),
                  ("Content-Type", "application/x-amz-json-1.0"),
                  ("User-Agent", "Boto3/1.43 md/Botocore#1.43.11")],
         body=b'{"registrationStatus": "REGISTERED"}', region="us-east-1", service="swf",
         key=("x", "y"), when="20260101T000000Z"),
    dict(name="swf-real-endpoint", method="POST", url="https://swf.eu-west-1.amazonaws.com/",
         headers=[("X-Amz-Target", "SimpleWorkflowService.PollForDecisionTask"),
                  ("Content-Type", "application/x-amz-json-1.0")],
         body=json.dumps({"domain": "dev", "taskList": {"name": "flow"},
                          "identity": "host-1", "reverseOrder": True}).encode(),
         region="eu-west-1", service="swf",
         key=("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
         when="20260315T235959Z"),
    # Header values with runs of spaces, a repeated header, a unicode body.
    dict(name="swf-odd-headers", method="POST", url="http://localhost:7800/",
         headers=[("X-Amz-Target", "SimpleWorkflowService.SignalWorkflowExecution"),
                  ("Content-Type", "application/x-amz-json-1.0"),
                  ("X-Custom", "  a   b  c "), ("X-Multi", "one"), ("X-Multi", "two")],
         body=json.dumps({"domain": "d", "workflowId": "w", "signalName": "s",
                          "input": "caf\u00e9 \u2603"}, ensure_ascii=False).encode(),
         region="us-west-2", service="swf", key=("AK", "secret/with+chars="),
         when="20261231T120000Z"),
    # A path and query that need encoding.
    dict(name="path-and-query", method="GET",
         url="https://example.amazonaws.com/a/b%20c/../d/?b=2&a=1&a=0&empty=",
         headers=[], body=b"", region="ap-south-1", service="swf",
         key=("AK2", "s2"), when="20260601T010203Z"),
]


def sign(case):
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"])
    # AWSRequest keeps headers in a case-insensitive dict; repeated names go in
    # with add_header-like appends.
    for name, value in case["headers"]:
        if name in request.headers:
            request.headers.add_header(name, value) if hasattr(request.headers, "add_header") \
                else request.headers.__setitem__(name, request.headers[name] + "," + value)
        else:
            request.headers[name] = value
    when = datetime.datetime.strptime(case["when"], "%Y%m%dT%H%M%SZ")
    creds = Credentials(case["key"][0], case["key"][1])
    signer = botocore.auth.SigV4Auth(creds, case["service"], case["region"])
    recorded = {}
    original_sts = signer.string_to_sign

    def record_string_to_sign(req, canonical_request):
        recorded["canonical"] = canonical_request
        recorded["sts"] = original_sts(req, canonical_request)
        return recorded["sts"]

    signer.string_to_sign = record_string_to_sign
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        signer.add_auth(request)
    canonical, string_to_sign = recorded["canonical"], recorded["sts"]
    headers = []
    for name, value in request.headers.raw_items() if hasattr(request.headers, "raw_items") \
            else request.headers.items():
        headers.append([name, value])
    host = botocore.auth._host_from_url(request.url)
    if not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ["Host", host])
    split = request.url.split("://", 1)[1]
    path_query = "/" + split.split("/", 1)[1] if "/" in split else "/"
    path, _, query = path_query.partition("?")
    return {
        "name": case["name"],
        "method": case["method"],
        "path": path,
        "query": query,
        "headers": headers,
        "body": case["body"].decode("utf-8"),
        "region": case["region"],
        "service": case["service"],
        "access_key_id": case["key"][0],
        "secret": case["key"][1],
        "amz_date": case["when"],
        "canonical_request": canonical,
        "string_to_sign": string_to_sign,
        "authorization": request.headers["Authorization"],
    }


if __name__ == "__main__":
    print(json.dumps([sign(c) for c in CASES], indent=1, ensure_ascii=False))
