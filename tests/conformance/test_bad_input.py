"""Bad input through `garcon server` over raw HTTP on loopback: a table of
requests, each with the exact HTTP status and fault `__type` (the part after
'#') SWF / AWS JSON 1.0 answers; after every case the server must still answer
`GET /health` and a valid ListDomains.

Sections:
- MODEL: generated from the official model (../shared/swf/service-2.json) for
  every operation: each member of each input shape, recursively through
  nested structures and lists: wrong JSON type (SerializationException),
  too long / empty / not in the enum / out of range / missing / null
  (ValidationException); and each operation's minimal valid body against a
  domain that does not exist (UnknownResourceFault).
- JSON, HTTP framing, tokens, domains, page tokens: hand-written tables.
- Signatures: a second server with --credentials.

Run: GARCON_BIN=build/tools/garcon/garcon python3 -m unittest test_bad_input -v
"""
import base64
import datetime
import hashlib
import hmac
import json
import re
import os
import socket
import stat
import tempfile
import unittest
from dataclasses import dataclass, field

from garcon_harness import ROOT, GarconServer

MODEL_PATH = os.path.join(ROOT, "..", "shared", "swf", "service-2.json")
TARGET = "SimpleWorkflowService."
JSON_TYPE = "application/x-amz-json-1.0"
BODY_LIMIT = 1 << 20          # ServerOptions::max_body_bytes
HEADER_LIMIT = 16 * 1024      # kHeaderLimit in src/server/http_server.cc
NO_DOMAIN = "bad-input-no-such-domain"
NO_ARN = "arn:aws:swf:us-east-1:000000000000:/domain/" + NO_DOMAIN
# Library internals that must never reach a fault message.
INTERNALS = ("json.exception", "std::", "bad_alloc", "what()", "nlohmann", "boost", "beast")

# Expected fault names (the part of __type after '#').
SER = "SerializationException"
VAL = "ValidationException"
UNKNOWN = "UnknownResourceFault"
UNKNOWN_OP = "UnknownOperationException"
OK = None  # 200 with a JSON object body
CLOSE = "close"  # flag: the server must close the connection after answering


# --- raw HTTP --------------------------------------------------------------------------


@dataclass
class Req:
    """Bytes to send as they are; `after_continue` is sent once the server
    answered `100 Continue`."""
    data: bytes
    after_continue: bytes = None

    def summary(self):
        text = self.data[:300].decode("latin-1")
        if len(self.data) > 300:
            text += f"... ({len(self.data)} bytes)"
        return text.replace("\r\n", "\\r\\n ")


@dataclass
class Resp:
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    interim: list = field(default_factory=list)
    error: str = ""      # "connection dropped", "timeout", ...
    closed: bool = None  # checked only when asked

    def fault(self):
        try:
            doc = json.loads(self.body)
        except ValueError:
            return None, None
        if not isinstance(doc, dict):
            return None, None
        t = doc.get("__type")
        return (t.rsplit("#", 1)[-1] if isinstance(t, str) else None), doc.get("message")


def http_request(method, path, headers=(), body=b"", version="HTTP/1.1", host=True,
                 content_length=True):
    lines = [f"{method} {path} {version}"]
    if host:
        lines.append("Host: 127.0.0.1")
    lines += [f"{k}: {v}" for k, v in headers]
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def encode(body):
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":")).encode()


def swf(op, body=None, *, target=None, headers=(), **kw):
    """POST / for an SWF operation; `body` a dict (JSON), str or raw bytes."""
    h = [("Content-Type", JSON_TYPE)]
    t = target if target is not None else TARGET + op
    if t is not False:
        h.append(("X-Amz-Target", t))
    h += list(headers)
    return Req(http_request("POST", "/", h, encode({} if body is None else body), **kw))


class Conn:
    def __init__(self, port, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False  # the server may answer (and close) before reading it all

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection dropped")
        self.buf += chunk

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_message(self):
        """One response (a 1xx counts as one). Raises ConnectionError / socket.timeout."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        if 100 <= status < 200 or status in (204, 304):
            return status, headers, body
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body, self.buf = self.buf, b""
        return status, headers, body

    def peer_closed(self, wait=3.0):
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True


def exchange(port, req, check_close=False, timeout=15):
    resp = Resp()
    try:
        conn = Conn(port, timeout)
    except OSError as e:
        resp.error = f"cannot connect: {e}"
        return resp
    try:
        conn.send(req.data)
        status, headers, body = conn.read_message()
        while 100 <= status < 200:
            resp.interim.append(status)
            if status == 100 and req.after_continue is not None:
                conn.send(req.after_continue)
            status, headers, body = conn.read_message()
        resp.status, resp.headers, resp.body = status, headers, body
        if check_close:
            resp.closed = conn.peer_closed()
    except socket.timeout:
        resp.error = "no response (timeout)"
    except ConnectionError as e:
        resp.error = str(e) or "connection dropped"
    except OSError as e:
        resp.error = f"connection dropped ({e})"
    finally:
        conn.close()
    return resp


# --- SigV4 (independent of the server's implementation) ---------------------------------


def amz_now(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y%m%dT%H%M%SZ")


def sigv4(host, target, body, key, secret, amz_date, region="us-east-1", service="swf"):
    """The Authorization header botocore would send for this request."""
    def mac(k, msg):
        return hmac.new(k, msg.encode(), hashlib.sha256).digest()
    headers = {"content-type": JSON_TYPE, "host": host, "x-amz-date": amz_date,
               "x-amz-target": target}
    names = sorted(headers)
    signed = ";".join(names)
    canonical = "\n".join(["POST", "/", "", "".join(f"{n}:{headers[n]}\n" for n in names),
                           signed, hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    k = mac(("AWS4" + secret).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        k = mac(k, part)
    signature = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, "
            f"Signature={signature}")


def signed(op, body, key="AKIDGOOD", secret="s3cr3t", *, date=None, auth=None, send_body=None,
           drop_date=False, extra=()):
    """A request builder (ctx -> Req) signed for the server's host; `auth`
    replaces the Authorization header (a string, or a function of the good one)."""
    def build(ctx):
        raw = encode(body)
        host = f"127.0.0.1:{ctx.port}"
        d = date or amz_now()
        good = sigv4(host, TARGET + op, raw, key, secret, d)
        a = auth(good) if callable(auth) else (good if auth is None else auth)
        h = [("Host", host), ("Content-Type", JSON_TYPE), ("X-Amz-Target", TARGET + op)]
        if not drop_date:
            h.append(("X-Amz-Date", d))
        if a is not False:
            h.append(("Authorization", a))
        h += list(extra)
        return Req(http_request("POST", "/", h, encode(send_body) if send_body is not None
                                else raw, host=False))
    return build


# --- cases generated from the model ------------------------------------------------------

def load_model():
    """The official SWF model beside the project (../shared/swf) when it is
    there; else the reduced model the server itself is built from
    (src/protocol/swf_model.inc, generated from it by tools/gen_model.py),
    put back into the official model's form."""
    if os.path.exists(MODEL_PATH):
        with open(MODEL_PATH) as f:
            return json.load(f)
    with open(os.path.join(ROOT, "src", "protocol", "swf_model.inc")) as f:
        reduced = json.loads("".join(re.findall(r'R"SWF\((.*?)\)SWF"', f.read(), re.S)))
    shapes = {}
    for name, shape in reduced["shapes"].items():
        shape = dict(shape)
        if "members" in shape:
            shape["members"] = {m: {"shape": t} for m, t in shape["members"].items()}
        if "member" in shape:
            shape["member"] = {"shape": shape["member"]}
        shapes[name] = shape
    operations = {op: {"name": op, **({"input": {"shape": o["input"]}} if o.get("input") else {})}
                  for op, o in reduced["operations"].items()}
    return {"operations": operations, "shapes": shapes}


MODEL = load_model()
SHAPES = MODEL["shapes"]
OPERATIONS = sorted(MODEL["operations"])

# Minimal valid values where "x" will not do.
SAMPLE_STRINGS = {
    "DomainName": NO_DOMAIN, "Arn": NO_ARN, "TaskToken": "bm90LWEtdG9rZW4",
    "DurationInDays": "1", "DurationInSeconds": "10", "DurationInSecondsOptional": "10",
    "TaskPriority": "0",
}
# What each operation's minimal valid body answers (the domain does not exist).
BASE_ANSWER = {"ListDomains": (200, OK), "RegisterDomain": (200, OK)}
# Members added to the required ones so that the body is valid beyond the model.
BASE_EXTRA = {
    "ListClosedWorkflowExecutions": {"startTimeFilter": {"oldestDate": 0}},
    "CountClosedWorkflowExecutions": {"startTimeFilter": {"oldestDate": 0}},
    "RegisterDomain": {"name": "bad-input-registered-by-base-case"},
}


def shape(name):
    return SHAPES[name]


def sample(shape_name):
    s = shape(shape_name)
    t = s["type"]
    if t == "structure":
        return {m: sample(ms["shape"]) for m, ms in s.get("members", {}).items()
                if m in s.get("required", [])}
    if t == "list":
        return [sample(s["member"]["shape"]) for _ in range(s.get("min", 0))]
    if t == "string":
        if "enum" in s:
            return s["enum"][0]
        if shape_name in SAMPLE_STRINGS:
            return SAMPLE_STRINGS[shape_name]
        return "x" * max(1, s.get("min", 1))
    if t in ("integer", "long"):
        return max(s.get("min", 0), min(10, s.get("max", 10)))
    if t == "boolean":
        return False
    if t in ("timestamp", "double", "float"):
        return 0
    raise AssertionError(f"no sample for {shape_name} ({t})")


def base_body(op):
    body = sample(MODEL["operations"][op]["input"]["shape"])
    body.update(json.loads(json.dumps(BASE_EXTRA.get(op, {}))))
    return body


def walk(shape_name, path=()):
    """(path, member shape name, required) for every member below a structure,
    through nested structures and lists (a list's element is path + (0,))."""
    s = shape(shape_name)
    for member, ms in s.get("members", {}).items():
        p = path + (member,)
        ms_name = ms["shape"]
        yield p, ms_name, member in s.get("required", [])
        sub = shape(ms_name)
        if sub["type"] == "structure":
            yield from walk(ms_name, p)
        elif sub["type"] == "list":
            elem = sub["member"]["shape"]
            yield p + (0,), elem, False
            if shape(elem)["type"] == "structure":
                yield from walk(elem, p + (0,))


def with_member(op, path, value=None, delete=False):
    """The operation's minimal body with the member at `path` set (or deleted),
    creating the optional structures and one-element lists on the way."""
    body = base_body(op)
    node, node_shape = body, MODEL["operations"][op]["input"]["shape"]
    for i, key in enumerate(path[:-1]):
        s = shape(node_shape)
        if s["type"] == "list":
            child_shape = s["member"]["shape"]
            if not node:
                node.append(sample(child_shape))
        else:
            child_shape = s["members"][key]["shape"]
            if key not in node:
                node[key] = sample(child_shape)
        # A Decision gets the decisionType matching the attributes under test.
        nxt = path[i + 1]
        if (child_shape == "Decision" and isinstance(nxt, str)
                and nxt.endswith("DecisionAttributes")):
            node[key]["decisionType"] = nxt[0].upper() + nxt[1:-len("DecisionAttributes")]
        node, node_shape = node[key], child_shape
    last = path[-1]
    if delete:
        if isinstance(node, dict):
            node.pop(last, None)
    elif isinstance(node, list):
        if node:
            node[0] = value
        else:
            node.append(value)
    else:
        node[last] = value
    return body


def path_text(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + p
    return out


# A value of the wrong JSON type for each model type (two per member).
WRONG_TYPES = {
    "string": (7, {"a": "b"}),
    "structure": ("x", []),
    "list": ("x", {}),
    "integer": ("10", 1.5),
    "long": ("10", 1.5),
    "boolean": ("true", 1),
    "timestamp": ("yesterday", {}),
}


def model_cases():
    cases = []
    for op in OPERATIONS:
        status, ftype = BASE_ANSWER.get(op, (400, UNKNOWN))
        cases.append((f"{op} minimal valid body", swf(op, base_body(op)), status, ftype))
        for path, sname, required in walk(MODEL["operations"][op]["input"]["shape"]):
            s = shape(sname)
            t = s["type"]
            name = f"{op} {path_text(path)}"
            for bad in WRONG_TYPES.get(t, ()):
                cases.append((f"{name} = {json.dumps(bad)} (wrong type)",
                              swf(op, with_member(op, path, bad)), 400, SER))
            if required and path[-1] != 0:
                cases.append((f"{name} missing", swf(op, with_member(op, path, delete=True)),
                              400, VAL))
                cases.append((f"{name} null", swf(op, with_member(op, path, None)), 400, VAL))
            if t == "string":
                if "max" in s:
                    cases.append((f"{name} {s['max'] + 1} chars (max {s['max']})",
                                  swf(op, with_member(op, path, "a" * (s["max"] + 1))), 400, VAL))
                if s.get("min", 0) >= 1:
                    cases.append((f"{name} empty (min {s['min']})",
                                  swf(op, with_member(op, path, "")), 400, VAL))
                if "enum" in s:
                    cases.append((f"{name} not in enum",
                                  swf(op, with_member(op, path, "NOT_A_VALUE")), 400, VAL))
            elif t in ("integer", "long"):
                if "max" in s:
                    cases.append((f"{name} = {s['max'] + 1} (max {s['max']})",
                                  swf(op, with_member(op, path, s["max"] + 1)), 400, VAL))
                if "min" in s:
                    cases.append((f"{name} = {s['min'] - 1} (min {s['min']})",
                                  swf(op, with_member(op, path, s["min"] - 1)), 400, VAL))
            elif t == "list":
                elem = sample(s["member"]["shape"])
                if "max" in s:
                    cases.append((f"{name} {s['max'] + 1} items (max {s['max']})",
                                  swf(op, with_member(op, path, [elem] * (s["max"] + 1))),
                                  400, VAL))
                cases.append((f"{name} [null]", swf(op, with_member(op, path, [None])), 400, VAL))
    return cases


MODEL_CASES = model_cases()


# --- hand-written: JSON ------------------------------------------------------------------

LD = "ListDomains"
LD_OK = {"registrationStatus": "REGISTERED"}


def ld_raw(text):
    return swf(LD, text.encode("utf-8") if isinstance(text, str) else text)


def nested(n, open_="[", close="]", inner=""):
    return open_ * n + inner + close * n


JSON_CASES = [
    ("empty body, required members", swf("DescribeDomain", b""), 400, VAL),
    ("whitespace body, required members", swf("DescribeDomain", b"  \r\n "), 400, VAL),
    ("body []", ld_raw("[]"), 400, SER),
    ('body "x"', ld_raw('"x"'), 400, SER),
    ("body 1", ld_raw("1"), 400, SER),
    ("body null", ld_raw("null"), 400, SER),
    ("body true", ld_raw("true"), 400, SER),
    ("truncated object", ld_raw('{"registrationStatus":"REGIS'), 400, SER),
    ("truncated after colon", ld_raw('{"registrationStatus":'), 400, SER),
    ("lone {", ld_raw("{"), 400, SER),
    ("unquoted key", ld_raw('{registrationStatus:"REGISTERED"}'), 400, SER),
    ("single quotes", ld_raw("{'registrationStatus':'REGISTERED'}"), 400, SER),
    ("trailing comma", ld_raw('{"registrationStatus":"REGISTERED",}'), 400, SER),
    ("trailing garbage", ld_raw('{"registrationStatus":"REGISTERED"} x'), 400, SER),
    ("two objects", ld_raw('{"registrationStatus":"REGISTERED"}{}'), 400, SER),
    ("UTF-8 BOM before the object", ld_raw(b"\xef\xbb\xbf" + encode(LD_OK)), 400, SER),
    ("NUL byte after the object", ld_raw(encode(LD_OK) + b"\x00"), 400, SER),
    ("NUL byte before the object", ld_raw(b"\x00" + encode(LD_OK)), 400, SER),
    ("raw control character in a string", ld_raw(b'{"registrationStatus":"REG\x01"}'), 400, SER),
    ("invalid UTF-8 in a string value",
     ld_raw(b'{"registrationStatus":"REGISTERED","x":"\xff\xfe"}'), 400, SER),
    ("invalid UTF-8 in a key", ld_raw(b'{"registrationStatus":"REGISTERED","\xc3":1}'), 400, SER),
    ("overlong UTF-8 in a string", ld_raw(b'{"registrationStatus":"\xc0\xafREGISTERED"}'),
     400, SER),
    ("lone surrogate escape", ld_raw('{"registrationStatus":"REGISTERED","x":"\\ud800"}'),
     400, SER),
    ("bad escape", ld_raw('{"registrationStatus":"REGISTERED","x":"\\q"}'), 400, SER),
    ("NaN literal", ld_raw('{"registrationStatus":"REGISTERED","x":NaN}'), 400, SER),
    ("Infinity literal", ld_raw('{"registrationStatus":"REGISTERED","x":Infinity}'), 400, SER),
    ("100,000 nested [ in an unknown member",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + nested(100000) + "}"), 400, SER),
    ("100,000 unclosed [ in an unknown member",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + "[" * 100000), 400, SER),
    ("100,000 nested objects in an unknown member",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + nested(100000, '{"a":', "}", "1") + "}"),
     400, SER),
    ("70 nested [ (over the 64-level limit)",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + nested(70) + "}"), 400, SER),
    ("20 nested [ (within the limit)",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + nested(20) + "}"), 200, OK),
    ("maximumPageSize 1e400", ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":1e400}'),
     400, SER),
    ("maximumPageSize -1e400",
     ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":-1e400}'), 400, SER),
    ("maximumPageSize 400-digit integer",
     ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":' + "9" * 400 + "}"), 400, SER),
    ("maximumPageSize 2^31 (over Integer)",
     ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":2147483648}'), 400, SER),
    ("maximumPageSize 2^64", ld_raw(
        '{"registrationStatus":"REGISTERED","maximumPageSize":18446744073709551616}'), 400, SER),
    ("maximumPageSize 1.5", ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":1.5}'),
     400, SER),
    ("maximumPageSize 1001", ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":1001}'),
     400, VAL),
    ("maximumPageSize -1", ld_raw('{"registrationStatus":"REGISTERED","maximumPageSize":-1}'),
     400, VAL),
    ("unknown member 1e400", ld_raw('{"registrationStatus":"REGISTERED","x":1e400}'), 400, SER),
    ("unknown member -1e400", ld_raw('{"registrationStatus":"REGISTERED","x":-1e400}'), 400, SER),
    ("unknown member 400-digit integer",
     ld_raw('{"registrationStatus":"REGISTERED","x":' + "1" * 400 + "}"), 400, SER),
    ("unknown member -400-digit integer",
     ld_raw('{"registrationStatus":"REGISTERED","x":-' + "1" * 400 + "}"), 400, SER),
    ("unknown members ignored", ld_raw('{"registrationStatus":"REGISTERED","x":[1,{"y":null}]}'),
     200, OK),
    # Jackson (coral) keeps the last of duplicate keys; so does this table.
    ("duplicate key, last valid",
     ld_raw('{"registrationStatus":"BOGUS","registrationStatus":"REGISTERED"}'), 200, OK),
    ("duplicate key, last invalid",
     ld_raw('{"registrationStatus":"REGISTERED","registrationStatus":"BOGUS"}'), 400, VAL),
]


# --- hand-written: HTTP framing --------------------------------------------------------

LD_BODY = encode(LD_OK)
LD_HEADERS = [("Content-Type", JSON_TYPE), ("X-Amz-Target", TARGET + LD)]


def ld_request(headers=(), body=LD_BODY, **kw):
    return Req(http_request("POST", "/", LD_HEADERS + list(headers), body, **kw))


def chunked(body, sizes=None):
    out = b""
    pos = 0
    for n in sizes or [len(body)]:
        out += b"%x\r\n" % n + body[pos:pos + n] + b"\r\n"
        pos += n
    return out + b"0\r\n\r\n"


TE_CHUNKED = [("Transfer-Encoding", "chunked")]

HTTP_CASES = [
    ("PUT /", Req(http_request("PUT", "/", LD_HEADERS, LD_BODY)), 405, UNKNOWN_OP),
    ("DELETE /", Req(http_request("DELETE", "/")), 405, UNKNOWN_OP),
    ("PATCH /", Req(http_request("PATCH", "/", LD_HEADERS, LD_BODY)), 405, UNKNOWN_OP),
    ("OPTIONS /", Req(http_request("OPTIONS", "/")), 405, UNKNOWN_OP),
    ("GET /nope", Req(http_request("GET", "/nope", content_length=False)), 404, UNKNOWN_OP),
    ("POST /nope", Req(http_request("POST", "/nope", LD_HEADERS, LD_BODY)), 404, UNKNOWN_OP),
    ("POST //", Req(http_request("POST", "//", LD_HEADERS, LD_BODY)), 404, UNKNOWN_OP),
    ("POST /?x=1 (query ignored)", Req(http_request("POST", "/?x=1", LD_HEADERS, LD_BODY)),
     200, OK),
    ("missing X-Amz-Target", swf(LD, LD_OK, target=False), 400, UNKNOWN_OP),
    ("empty X-Amz-Target", swf(LD, LD_OK, target=""), 400, UNKNOWN_OP),
    ("unknown operation", swf(LD, LD_OK, target=TARGET + "BrewCoffee"), 400, UNKNOWN_OP),
    ("prefix only", swf(LD, LD_OK, target=TARGET), 400, UNKNOWN_OP),
    ("wrong prefix", swf(LD, LD_OK, target="DynamoDB_20120810.ListDomains"), 400, UNKNOWN_OP),
    ("lower-case prefix", swf(LD, LD_OK, target="simpleworkflowservice.ListDomains"),
     400, UNKNOWN_OP),
    ("lower-case operation", swf(LD, LD_OK, target=TARGET + "listDomains"), 400, UNKNOWN_OP),
    ("operation with a suffix", swf(LD, LD_OK, target=TARGET + "ListDomainsX"), 400, UNKNOWN_OP),
    ("operation without a prefix", swf(LD, LD_OK, target="ListDomains"), 400, UNKNOWN_OP),
    ("Content-Length over the body limit",
     Req(http_request("POST", "/", LD_HEADERS + [("Content-Length", str(BODY_LIMIT + 1))],
                      content_length=False)), 413, VAL, CLOSE),
    ("Content-Length 10 GB",
     Req(http_request("POST", "/", LD_HEADERS + [("Content-Length", str(10 << 30))],
                      content_length=False)), 413, VAL, CLOSE),
    ("valid chunked body", ld_request(TE_CHUNKED, chunked(LD_BODY), content_length=False),
     200, OK),
    ("valid chunked body, 1-byte chunks",
     ld_request(TE_CHUNKED, chunked(LD_BODY, [1] * len(LD_BODY)), content_length=False), 200, OK),
    ("chunked with an extension and a trailer",
     ld_request(TE_CHUNKED, b"%x;ext=1\r\n" % len(LD_BODY) + LD_BODY + b"\r\n0\r\nX-T: 1\r\n\r\n",
                content_length=False), 200, OK),
    ("chunk size not hex",
     ld_request(TE_CHUNKED, b"zz\r\n" + LD_BODY + b"\r\n0\r\n\r\n", content_length=False),
     400, SER, CLOSE),
    ("chunk size negative",
     ld_request(TE_CHUNKED, b"-5\r\n" + LD_BODY + b"\r\n0\r\n\r\n", content_length=False),
     400, SER, CLOSE),
    ("chunk size 64-bit overflow",
     ld_request(TE_CHUNKED, b"1" + b"0" * 20 + b"\r\n" + LD_BODY + b"\r\n0\r\n\r\n",
                content_length=False), 400, SER, CLOSE),
    ("chunk size over the body limit",
     ld_request(TE_CHUNKED, b"%x\r\n" % (BODY_LIMIT * 2) + b"{", content_length=False),
     413, VAL, CLOSE),
    ("chunk without CRLF after data",
     ld_request(TE_CHUNKED, b"%x\r\n" % len(LD_BODY) + LD_BODY + b"XX0\r\n\r\n",
                content_length=False), 400, SER, CLOSE),
    ("Transfer-Encoding: gzip (not chunked)",
     ld_request([("Transfer-Encoding", "gzip")], LD_BODY, content_length=False), 400, SER, CLOSE),
    # 501: a transfer coding the server does not implement. The fault name
    # follows the server's convention for HTTP-level faults (431: Serialization).
    ("Transfer-Encoding: gzip, chunked",
     ld_request([("Transfer-Encoding", "gzip, chunked")], chunked(LD_BODY), content_length=False),
     501, SER, CLOSE),
    ("Content-Length and Transfer-Encoding",
     ld_request(TE_CHUNKED + [("Content-Length", str(len(chunked(LD_BODY))))], chunked(LD_BODY),
                content_length=False), 400, SER, CLOSE),
    ("two different Content-Lengths",
     ld_request([("Content-Length", str(len(LD_BODY))), ("Content-Length", "5")], LD_BODY,
                content_length=False), 400, SER, CLOSE),
    ("Content-Length abc", ld_request([("Content-Length", "abc")], LD_BODY, content_length=False),
     400, SER, CLOSE),
    ("Content-Length -1", ld_request([("Content-Length", "-1")], LD_BODY, content_length=False),
     400, SER, CLOSE),
    ("Content-Length +36", ld_request([("Content-Length", "+" + str(len(LD_BODY)))], LD_BODY,
                                      content_length=False), 400, SER, CLOSE),
    ("Content-Length 99999999999999999999999",
     ld_request([("Content-Length", "9" * 23)], LD_BODY, content_length=False), 400, SER, CLOSE),
    ("header section over 16 KB",
     ld_request([("X-Pad", "a" * (HEADER_LIMIT + 100))]), 431, SER, CLOSE),
    ("many headers over 16 KB",
     ld_request([(f"X-Pad-{i}", "a" * 100) for i in range(200)]), 431, SER, CLOSE),
    ("request line garbage", Req(b"\x16\x03\x01\x02\x00garbage\r\n\r\n"), 400, SER, CLOSE),
    ("request line without version", Req(b"POST /\r\n\r\n"), 400, SER, CLOSE),
    ("HTTP/2.0 preface", Req(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400, SER, CLOSE),
    ("header without colon", Req(b"POST / HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n"),
     400, SER, CLOSE),
    ("header name with a space",
     Req(b"POST / HTTP/1.1\r\nHost: x\r\nX Amz: 1\r\nContent-Length: 0\r\n\r\n"), 400, SER, CLOSE),
    ("bare LF line endings", Req(b"POST / HTTP/1.1\nHost: x\nContent-Length: 0\n\n"),
     400, SER, CLOSE),
    ("HTTP/1.0 request", ld_request(version="HTTP/1.0"), 200, OK),
    ("HTTP/1.0 request, keep-alive", ld_request([("Connection", "keep-alive")],
                                                version="HTTP/1.0"), 200, OK),
    ("Expect: 100-continue",
     Req(http_request("POST", "/", LD_HEADERS + [("Expect", "100-continue"),
                                                ("Content-Length", str(len(LD_BODY)))],
                      content_length=False), after_continue=LD_BODY), 200, OK),
    ("Expect: 100-continue, oversize",
     Req(http_request("POST", "/", LD_HEADERS + [("Expect", "100-continue"),
                                                ("Content-Length", str(BODY_LIMIT + 1))],
                      content_length=False)), 413, VAL, CLOSE),
]


# --- hand-written: task tokens -----------------------------------------------------------


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge_secret(token):
    """The same run, kind and event ids with another secret."""
    parts = unb64url(token).split(b"|")
    parts[-1] = b"0" * len(parts[-1]) if parts[-1] != b"0" * len(parts[-1]) else b"1" * 32
    return b64url(b"|".join(parts))


def forge_run(token):
    parts = unb64url(token).split(b"|")
    parts[1] = b"NoSuchRun" + b"x" * 35
    return b64url(b"|".join(parts))


RANDOM_B64 = b64url(bytes(range(48)))
TOKEN_OPS = {"RespondActivityTaskCompleted": {}, "RecordActivityTaskHeartbeat": {},
             "RespondDecisionTaskCompleted": {"decisions": []}}


def tok(op, token, **extra):
    """A builder: `token` a value or a function of the fixture context."""
    def build(ctx):
        t = token(ctx) if callable(token) else token
        return swf(op, {"taskToken": t, **TOKEN_OPS.get(op, {}), **extra})
    return build


TOKEN_CASES = []
for _op in TOKEN_OPS:
    TOKEN_CASES += [
        (f"{_op} random base64 token", tok(_op, RANDOM_B64), 400, UNKNOWN),
        (f"{_op} not base64", tok(_op, "!!not*base64!!"), 400, UNKNOWN),
        (f"{_op} empty token", tok(_op, ""), 400, VAL),
        (f"{_op} 1025-char token", tok(_op, "A" * 1025), 400, VAL),
        (f"{_op} 1024-char token (valid length, unknown)", tok(_op, "A" * 1024), 400, UNKNOWN),
        (f"{_op} token is a number", tok(_op, 12345), 400, SER),
        (f"{_op} token of an unknown run", tok(_op, lambda c: forge_run(c.activity_token)),
         400, UNKNOWN),
    ]
TOKEN_CASES += [
    # Valid shape, forged secret.
    ("RecordActivityTaskHeartbeat forged secret",
     tok("RecordActivityTaskHeartbeat", lambda c: forge_secret(c.activity_token)), 400, UNKNOWN),
    ("RespondActivityTaskCompleted forged secret",
     tok("RespondActivityTaskCompleted", lambda c: forge_secret(c.activity_token)), 400, UNKNOWN),
    ("RespondDecisionTaskCompleted forged secret",
     tok("RespondDecisionTaskCompleted", lambda c: forge_secret(c.decision_token)), 400, UNKNOWN),
    # A token of the other kind.
    ("RespondActivityTaskCompleted with a decision token",
     tok("RespondActivityTaskCompleted", lambda c: c.decision_token), 400, UNKNOWN),
    ("RecordActivityTaskHeartbeat with a decision token",
     tok("RecordActivityTaskHeartbeat", lambda c: c.decision_token), 400, UNKNOWN),
    ("RespondDecisionTaskCompleted with an activity token",
     tok("RespondDecisionTaskCompleted", lambda c: c.activity_token), 400, UNKNOWN),
    # The same token used twice (the first use is valid).
    ("RecordActivityTaskHeartbeat valid token",
     tok("RecordActivityTaskHeartbeat", lambda c: c.activity_token), 200, OK),
    ("RespondActivityTaskCompleted valid token",
     tok("RespondActivityTaskCompleted", lambda c: c.activity_token, result="done"), 200, OK),
    ("RespondActivityTaskCompleted same token again",
     tok("RespondActivityTaskCompleted", lambda c: c.activity_token), 400, UNKNOWN),
    ("RecordActivityTaskHeartbeat after completion",
     tok("RecordActivityTaskHeartbeat", lambda c: c.activity_token), 400, UNKNOWN),
    ("RespondDecisionTaskCompleted valid token",
     tok("RespondDecisionTaskCompleted", lambda c: c.decision_token), 200, OK),
    ("RespondDecisionTaskCompleted same token again",
     tok("RespondDecisionTaskCompleted", lambda c: c.decision_token), 400, UNKNOWN),
]


# --- hand-written: domains and names ------------------------------------------------------

LIVE = "bad-input-live"        # a registered domain (with types), see fixtures
OLD = "bad-input-deprecated"   # a registered, then deprecated domain


def reg_domain(name):
    return swf("RegisterDomain", {"name": name, "workflowExecutionRetentionPeriodInDays": "1"})


BAD_NAMES = [("colon", "a:b"), ("slash", "a/b"), ("pipe", "a|b"), ("NUL", "a\u0000b"),
             ("tab", "a\tb"), ("newline", "a\nb"), ("U+001F", "a\u001fb"), ("DEL", "a\u007fb"),
             ("U+0085", "a\u0085b"), ("U+009F", "a\u009fb"), ("literal arn", "arn"),
             ("arn: prefix", "arn:aws:swf")]

DOMAIN_CASES = []
for _what, _name in BAD_NAMES:
    DOMAIN_CASES.append((f"RegisterDomain name with {_what}", reg_domain(_name), 400, VAL))
DOMAIN_CASES += [
    ("RegisterDomain name 257 chars", reg_domain("d" * 257), 400, VAL),
    ("RegisterDomain name 257 two-byte chars", reg_domain("\u00e9" * 257), 400, VAL),
    ("RegisterDomain name empty", reg_domain(""), 400, VAL),
    ("RegisterDomain name invalid UTF-8",
     swf("RegisterDomain", b'{"name":"a\xffb","workflowExecutionRetentionPeriodInDays":"1"}'),
     400, SER),
    ("RegisterDomain name 256 chars", reg_domain("d" * 256), 200, OK),
    ("RegisterDomain name 256 two-byte chars", reg_domain("\u00e9" * 256), 200, OK),
    ("RegisterDomain name 'ARN' (only lower-case 'arn' is reserved)", reg_domain("ARN"), 200, OK),
    ("RegisterDomain name 'arnold'", reg_domain("arnold"), 200, OK),
    ("RegisterDomain retention 9 chars", swf("RegisterDomain", {
        "name": "bad-input-r", "workflowExecutionRetentionPeriodInDays": "123456789"}), 400, VAL),
    ("RegisterDomain existing name", reg_domain(LIVE), 400, "DomainAlreadyExistsFault"),
    ("RegisterDomain deprecated name", reg_domain(OLD), 400, "DomainAlreadyExistsFault"),
    ("DescribeDomain name with colon", swf("DescribeDomain", {"name": "a:b"}), 400, UNKNOWN),
    ("DescribeDomain name 'arn'", swf("DescribeDomain", {"name": "arn"}), 400, UNKNOWN),
    ("DescribeDomain name 257 chars", swf("DescribeDomain", {"name": "d" * 257}), 400, VAL),
    ("RegisterWorkflowType name with colon", swf("RegisterWorkflowType", {
        "domain": LIVE, "name": "w:f", "version": "1"}), 400, VAL),
    ("RegisterWorkflowType version with pipe", swf("RegisterWorkflowType", {
        "domain": LIVE, "name": "wf2", "version": "1|2"}), 400, VAL),
    ("RegisterWorkflowType task list with control char", swf("RegisterWorkflowType", {
        "domain": LIVE, "name": "wf3", "version": "1",
        "defaultTaskList": {"name": "t\u0001"}}), 400, VAL),
    ("RegisterActivityType name 'arn'", swf("RegisterActivityType", {
        "domain": LIVE, "name": "arn", "version": "1"}), 400, VAL),
    ("RegisterActivityType version 65 chars", swf("RegisterActivityType", {
        "domain": LIVE, "name": "act2", "version": "v" * 65}), 400, VAL),
    ("StartWorkflowExecution workflowId with slash", swf("StartWorkflowExecution", {
        "domain": LIVE, "workflowId": "a/b", "workflowType": {"name": "wf", "version": "1"}}),
     400, VAL),
    ("StartWorkflowExecution task list with pipe", swf("StartWorkflowExecution", {
        "domain": LIVE, "workflowId": "w1", "workflowType": {"name": "wf", "version": "1"},
        "taskList": {"name": "a|b"}}), 400, VAL),
    ("PollForActivityTask task list 'arn'", swf("PollForActivityTask", {
        "domain": LIVE, "taskList": {"name": "arn"}}), 400, VAL),
    # Operations on a deprecated domain.
    ("DeprecateDomain on a deprecated domain", swf("DeprecateDomain", {"name": OLD}),
     400, "DomainDeprecatedFault"),
    ("RegisterWorkflowType in a deprecated domain", swf("RegisterWorkflowType", {
        "domain": OLD, "name": "wf-new", "version": "1"}), 400, "DomainDeprecatedFault"),
    ("RegisterActivityType in a deprecated domain", swf("RegisterActivityType", {
        "domain": OLD, "name": "act-new", "version": "1"}), 400, "DomainDeprecatedFault"),
    ("StartWorkflowExecution in a deprecated domain", swf("StartWorkflowExecution", {
        "domain": OLD, "workflowId": "w1", "workflowType": {"name": "wf", "version": "1"}}),
     400, "DomainDeprecatedFault"),
    ("DescribeDomain of a deprecated domain (visibility still works)",
     swf("DescribeDomain", {"name": OLD}), 200, OK),
    ("UndeprecateDomain of a registered domain", swf("UndeprecateDomain", {"name": LIVE}),
     400, "DomainAlreadyExistsFault"),
]


# --- hand-written: page tokens ------------------------------------------------------------


def page_token(fields):
    return "gp1." + b64url(json.dumps(fields).encode())


def with_token(op, base, token):
    def build(ctx):
        t = token(ctx) if callable(token) else token
        return swf(op, {**base, "nextPageToken": t})
    return build


PAGED = [
    ("ListDomains", {"registrationStatus": "REGISTERED"}),
    ("ListActivityTypes", {"domain": LIVE, "registrationStatus": "REGISTERED"}),
    ("ListWorkflowTypes", {"domain": LIVE, "registrationStatus": "REGISTERED"}),
    ("ListOpenWorkflowExecutions", {"domain": LIVE, "startTimeFilter": {"oldestDate": 0}}),
    ("ListClosedWorkflowExecutions", {"domain": LIVE, "startTimeFilter": {"oldestDate": 0}}),
    ("GetWorkflowExecutionHistory", "execution"),
    ("PollForDecisionTask", {"domain": LIVE, "taskList": {"name": "decisions"}}),
]

PAGE_CASES = []
for _op, _base in PAGED:
    if _base == "execution":
        def _b(ctx, tokfn):
            t = tokfn(ctx) if callable(tokfn) else tokfn
            return swf("GetWorkflowExecutionHistory", {
                "domain": LIVE, "execution": ctx.execution, "nextPageToken": t})

        def _mk(tokfn, _b=_b):
            return lambda ctx: _b(ctx, tokfn)
    else:
        def _mk(tokfn, _op=_op, _base=_base):
            return with_token(_op, _base, tokfn)
    PAGE_CASES += [
        (f"{_op} garbage page token", _mk("garbage"), 400, VAL),
        (f"{_op} base64 garbage page token", _mk("gp1." + RANDOM_B64), 400, VAL),
        (f"{_op} page token of another operation", _mk(lambda c: c.domains_page_token)
         if _op != "ListDomains" else _mk(page_token({"k": "history", "o": 1})), 400, VAL),
        (f"{_op} page token far past the end", _mk(page_token({"k": "domains", "o": 10**9})),
         400, VAL),
        (f"{_op} page token 2049 chars", _mk("g" * 2049), 400, VAL),
        (f"{_op} page token a number", _mk(5), 400, SER),
    ]
PAGE_CASES.append(("ListDomains real page token works",
                   with_token("ListDomains", {"registrationStatus": "REGISTERED",
                                              "maximumPageSize": 1},
                              lambda c: c.domains_page_token), 200, OK))


# --- signatures ----------------------------------------------------------------------------


def replace_in(old, new):
    return lambda good: good.replace(old, new)


SIG_OK = {"registrationStatus": "REGISTERED"}
INCOMPLETE = "IncompleteSignatureException"

SIGNATURE_CASES = [
    ("valid signature", signed(LD, SIG_OK), 200, OK),
    ("missing Authorization", signed(LD, SIG_OK, auth=False), 400,
     "MissingAuthenticationTokenException"),
    ("empty Authorization", signed(LD, SIG_OK, auth=""), 400,
     "MissingAuthenticationTokenException"),
    ("no Credential=", signed(LD, SIG_OK, auth=lambda g: g.replace("Credential=", "Cred=")),
     400, INCOMPLETE),
    ("no Signature=", signed(LD, SIG_OK, auth=lambda g: g.split(", Signature=")[0]),
     400, INCOMPLETE),
    ("no SignedHeaders=", signed(LD, SIG_OK, auth=replace_in("SignedHeaders=", "Signed=")),
     400, INCOMPLETE),
    ("wrong algorithm", signed(LD, SIG_OK, auth=replace_in("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")),
     400, INCOMPLETE),
    ("Basic auth scheme", signed(LD, SIG_OK, auth="Basic QUtJREdPT0Q6czNjcjN0"), 400, INCOMPLETE),
    ("scheme only", signed(LD, SIG_OK, auth="AWS4-HMAC-SHA256"), 400, INCOMPLETE),
    ("credential with 3 parts", signed(LD, SIG_OK, auth=replace_in("/swf/aws4_request", "")),
     400, INCOMPLETE),
    ("no X-Amz-Date or Date", signed(LD, SIG_OK, drop_date=True), 400, INCOMPLETE),
    ("X-Amz-Date malformed", signed(LD, SIG_OK, date="yesterday"), 400, INCOMPLETE),
    ("Authorization over 4096 bytes",
     signed(LD, SIG_OK, auth=lambda g: g.replace("SignedHeaders=", "SignedHeaders=" + "x" * 4200
                                                 + ";")), 400, INCOMPLETE),
    ("Authorization over 4096 bytes (long signature)",
     signed(LD, SIG_OK, auth=lambda g: g + "0" * 4100), 400, INCOMPLETE),
    ("unknown access key", signed(LD, SIG_OK, key="AKIDNOBODY"), 400,
     "UnrecognizedClientException"),
    ("wrong secret", signed(LD, SIG_OK, secret="wrong"), 400, "InvalidSignatureException"),
    ("signature flipped",
     signed(LD, SIG_OK, auth=lambda g: g[:-1] + ("0" if g[-1] != "0" else "1")),
     400, "InvalidSignatureException"),
    ("body changed after signing", signed(LD, SIG_OK, send_body={"registrationStatus":
                                                                 "DEPRECATED"}),
     400, "InvalidSignatureException"),
    ("other service in scope", signed(LD, SIG_OK, auth=replace_in("/swf/", "/sqs/")),
     400, "InvalidSignatureException"),
    ("extra unsigned header is fine", signed(LD, SIG_OK, extra=[("X-Other", "1")]), 200, OK),
    # Clock skew: what the server answers today (RequestExpired), kept.
    ("X-Amz-Date 1 hour old", signed(LD, SIG_OK, date=amz_now(-3600)), 400, "RequestExpired"),
    ("X-Amz-Date 1 hour ahead", signed(LD, SIG_OK, date=amz_now(3600)), 400, "RequestExpired"),
    ("X-Amz-Date 2 minutes old is fine", signed(LD, SIG_OK, date=amz_now(-120)), 200, OK),
]


# --- the runner ------------------------------------------------------------------------------


class Ctx:
    port = None


def raw_call(port, op, body):
    resp = exchange(port, swf(op, body))
    if resp.status != 200:
        raise AssertionError(f"{op} {body}: {resp.status} {resp.error} {resp.body[:300]!r}")
    return json.loads(resp.body or b"{}")


class TableTest(unittest.TestCase):
    server_args = ("--memory",)
    server = None
    ctx = None

    @classmethod
    def setUpClass(cls):
        cls.start_server()

    @classmethod
    def start_server(cls):
        if cls.server is not None:  # a restart after the server died
            cls.server.stop()
        cls.server = GarconServer(*cls.server_args, poll_timeout=1)
        cls.server.start()
        cls.ctx = Ctx()
        cls.ctx.port = cls.server.port
        cls.fixtures(cls.ctx)

    @classmethod
    def fixtures(cls, ctx):
        pass

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            code = cls.server.stop()
            stderr = cls.server.stderr.decode(errors="replace")
            if code != 0 or "Sanitizer" in stderr or "runtime error" in stderr:
                raise AssertionError(f"garcon server exited {code}:\n{stderr[-4000:]}")

    def still_serving(self):
        """'' when /health and a valid call answer, else what went wrong."""
        port = self.ctx.port
        health = exchange(port, Req(http_request("GET", "/health", content_length=False)))
        if health.status != 200:
            return f"GET /health -> {health.status or health.error}"
        valid = exchange(port, self.valid_call(self.ctx))
        if valid.status != 200:
            return f"valid ListDomains -> {valid.status or valid.error} {valid.body[:200]!r}"
        return ""

    def valid_call(self, ctx):
        return swf(LD, LD_OK)

    def run_table(self, table):
        for entry in table:
            name, request, status, ftype = entry[:4]
            flags = entry[4:]
            with self.subTest(name):
                try:
                    req = request(self.ctx) if callable(request) else request
                except AttributeError as e:  # a fixture is missing (server restarted)
                    self.fail(f"fixture missing: {e}")
                resp = exchange(self.ctx.port, req, check_close=CLOSE in flags)
                problems = self.check(resp, status, ftype, flags)
                alive = self.still_serving()
                if alive:
                    died = self.server.proc.poll()
                    problems.append(f"server died (exit {died})" if died is not None
                                    else f"afterwards: {alive}")
                    if died is not None:
                        type(self).start_server()
                if problems:
                    got_type, message = resp.fault()
                    self.fail(f"{'; '.join(problems)}\n  request: {req.summary()}\n"
                              f"  expected: {status} {ftype}\n  actual: "
                              f"{resp.status or resp.error} {got_type} {str(message)[:300]!r}")

    def check(self, resp, status, ftype, flags):
        problems = []
        if resp.error:
            return [resp.error]
        got_type, message = resp.fault()
        if resp.status != status:
            problems.append(f"status {resp.status} != {status}")
        if resp.status >= 500 and resp.status != status:
            problems.append("unexpected 5xx")
        if ftype is None:
            try:
                doc = json.loads(resp.body or b"{}")
                if not isinstance(doc, dict) or "__type" in doc:
                    problems.append("not a success body")
            except ValueError:
                problems.append("body is not JSON")
        else:
            if got_type != ftype:
                problems.append(f"type {got_type} != {ftype}")
        if got_type is not None:
            leaked = [w for w in INTERNALS if w in str(message)]
            if leaked:
                problems.append(f"message leaks {leaked}")
        if CLOSE in flags and not resp.closed:
            problems.append("connection not closed after the response")
        return problems


class ModelCasesTest(TableTest):
    """Generated from service-2.json: every member of every operation's input."""

    def test_every_operation_is_covered(self):
        self.assertEqual(len(OPERATIONS), 39)
        covered = {name.split(" ")[0] for name, *_ in MODEL_CASES}
        self.assertEqual(covered, set(OPERATIONS))

    def test_model_cases(self):
        self.run_table(MODEL_CASES)


class HandWrittenTest(TableTest):
    @classmethod
    def fixtures(cls, ctx):
        port = ctx.port
        for name in (LIVE, OLD, "bad-input-z1", "bad-input-z2"):
            raw_call(port, "RegisterDomain", {"name": name,
                                              "workflowExecutionRetentionPeriodInDays": "1"})
        for domain in (LIVE, OLD):
            raw_call(port, "RegisterWorkflowType", {
                "domain": domain, "name": "wf", "version": "1",
                "defaultTaskList": {"name": "decisions"}, "defaultTaskStartToCloseTimeout": "300",
                "defaultExecutionStartToCloseTimeout": "600", "defaultChildPolicy": "TERMINATE"})
            raw_call(port, "RegisterActivityType", {
                "domain": domain, "name": "step", "version": "1",
                "defaultTaskList": {"name": "work"}, "defaultTaskStartToCloseTimeout": "300",
                "defaultTaskHeartbeatTimeout": "NONE", "defaultTaskScheduleToStartTimeout": "300",
                "defaultTaskScheduleToCloseTimeout": "600"})
        raw_call(port, "DeprecateDomain", {"name": OLD})
        wf = {"name": "wf", "version": "1"}
        run = raw_call(port, "StartWorkflowExecution", {
            "domain": LIVE, "workflowId": "w-activity", "workflowType": wf})
        ctx.execution = {"workflowId": "w-activity", "runId": run["runId"]}
        task = raw_call(port, "PollForDecisionTask", {
            "domain": LIVE, "taskList": {"name": "decisions"}, "identity": "t"})
        raw_call(port, "RespondDecisionTaskCompleted", {
            "taskToken": task["taskToken"], "decisions": [{
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": {"name": "step", "version": "1"}, "activityId": "a1"}}]})
        ctx.activity_token = raw_call(port, "PollForActivityTask", {
            "domain": LIVE, "taskList": {"name": "work"}})["taskToken"]
        raw_call(port, "StartWorkflowExecution", {
            "domain": LIVE, "workflowId": "w-decision", "workflowType": wf})
        ctx.decision_token = raw_call(port, "PollForDecisionTask", {
            "domain": LIVE, "taskList": {"name": "decisions"}})["taskToken"]
        ctx.domains_page_token = raw_call(port, "ListDomains", {
            "registrationStatus": "REGISTERED", "maximumPageSize": 1})["nextPageToken"]

    def test_json(self):
        self.run_table(JSON_CASES)

    def test_http_framing(self):
        self.run_table(HTTP_CASES)

    def test_task_tokens(self):
        self.run_table(TOKEN_CASES)

    def test_domains_and_names(self):
        self.run_table(DOMAIN_CASES)

    def test_page_tokens(self):
        self.run_table(PAGE_CASES)

    def test_expect_continue_is_answered(self):
        req = Req(http_request("POST", "/", LD_HEADERS + [
            ("Expect", "100-continue"), ("Content-Length", str(len(LD_BODY)))],
            content_length=False), after_continue=LD_BODY)
        resp = exchange(self.ctx.port, req)
        self.assertEqual(resp.interim, [100])
        self.assertEqual(resp.status, 200)


class SignatureTest(TableTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(cls.tmp.name, "credentials")
        with open(path, "w") as f:
            f.write("AKIDGOOD s3cr3t\nAKIDOTHER other\n")
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        cls.server_args = ("--memory", "--credentials", path)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.tmp.cleanup()

    def valid_call(self, ctx):
        return signed(LD, LD_OK, "AKIDOTHER", "other")(ctx)

    def test_signatures(self):
        self.run_table(SIGNATURE_CASES)


def all_cases():
    return (MODEL_CASES + JSON_CASES + HTTP_CASES + TOKEN_CASES + DOMAIN_CASES + PAGE_CASES
            + SIGNATURE_CASES)


if __name__ == "__main__":
    unittest.main()
