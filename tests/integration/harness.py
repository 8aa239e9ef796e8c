"""Start the real evgate daemons on free loopback ports with a temporary database, and talk to
them over HTTP as a browser or a script would. Standard library only.

Daemons are ready when they log their `listening` event; nothing here sleeps to synchronise."""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import http.client

BUILD = os.environ.get("EVGATE_BUILD") or os.path.join(os.path.dirname(__file__), "../../build")
SRC = os.environ.get("EVGATE_SRC") or os.path.join(os.path.dirname(__file__), "../..")
ADMIN_PASSWORD = "Admin-pass-" + secrets.token_hex(4)
READY_TIMEOUT = 30


def until(fn, what, seconds=15.0, every=0.05):
    """Polls fn() (a condition on the database or a daemon, not a delay) until it returns a true
    value, which it returns; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One daemon process; its stderr is collected in `self.log` (a list of lines)."""

    def __init__(self, name, binary, env):
        self.name = name
        self.log = []
        self._ready = threading.Event()
        self._cond = threading.Condition()
        self.proc = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.log.append(line)
                self._cond.notify_all()
            if re.search(r" info \S+ listening ", line):
                self._ready.set()
        with self._cond:
            self._cond.notify_all()
        self._ready.set()  # process ended: wake waiters, they check returncode

    def wait_ready(self, timeout=READY_TIMEOUT):
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError("%s did not become ready:\n%s" % (self.name, "\n".join(self.log)))

    def wait_log(self, pattern, timeout=10):
        """Blocks until a log line matches `pattern`; returns it."""
        rx = re.compile(pattern)
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(rx.search(l) for l in self.log) or self.proc.poll() is not None,
                timeout)
            for l in self.log:
                if rx.search(l):
                    return l
        raise AssertionError("no log line matching %r (ok=%s):\n%s"
                             % (pattern, ok, "\n".join(self.log)))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc


class Platform:
    """A temporary evgate installation: its own directory, database and ports.

    Use as a context manager; `start()` launches the daemons named in `which`."""

    def __init__(self, extra_env=None):
        self.dir = tempfile.mkdtemp(prefix="evgate-test-")
        self.mgmt_port = free_port()
        self.gateway_port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "EVGATE_DB": os.path.join(self.dir, "evgate.db"),
            "EVGATE_DATA_DIR": os.path.join(self.dir, "data") + "/",
            "EVGATE_MGMT_LISTEN": "127.0.0.1:%d" % self.mgmt_port,
            "EVGATE_GATEWAY_LISTEN": "127.0.0.1:%d" % self.gateway_port,
            "EVGATE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "EVGATE_WEB_DIR": os.path.join(SRC, "mgmt", "web"),
            "EVGATE_LOG_LEVEL": "info",
        })
        if extra_env:
            self.env.update(extra_env)
        self.daemons = {}

    def binary(self, name):
        sub = {"mgmt": "mgmt/evgate-mgmt", "gateway": "gateway/evgate-gateway"}[name]
        return os.path.join(BUILD, sub)

    def launch(self, name):
        """Starts a daemon without waiting for it."""
        d = Daemon(name, self.binary(name), self.env)
        self.daemons[name] = d
        return d

    def start(self, which=("mgmt",)):
        for name in which:
            self.launch(name)
        for name in which:
            self.daemons[name].wait_ready()
        return self

    def mgmt(self):
        return Client("127.0.0.1", self.mgmt_port)

    def gateway(self):
        return Client("127.0.0.1", self.gateway_port)

    def close(self):
        for d in self.daemons.values():
            try:
                d.stop()
            except Exception:
                d.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def multipart(fields, files):
    """Encodes `fields` {name: str} and `files` {name: (filename, bytes, content_type)}."""
    boundary = "----evgate" + secrets.token_hex(12)
    out = bytearray()
    for k, v in fields.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                % (boundary, k)).encode()
        out += v.encode("utf-8") + b"\r\n"
    for k, (fname, data, ctype) in files.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, k, fname, ctype)).encode("utf-8")
        out += data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return bytes(out), "multipart/form-data; boundary=" + boundary


class Client:
    """An HTTP client with a cookie jar, an optional CSRF token and an optional bearer token."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.cookies = {}
        self.csrf = None
        self.bearer = None

    def request(self, method, path, body=None, headers=None, json_body=None, csrf=True):
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            hdrs["X-CSRF-Token"] = self.csrf
        if self.bearer:
            hdrs["Authorization"] = "Bearer " + self.bearer
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            headers = r.getheaders()
        finally:
            conn.close()
        for k, v in headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return Response(r.status, headers, data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def post_multipart(self, path, fields, files, **kw):
        body, ctype = multipart(fields, files)
        return self.request("POST", path, body=body, headers={"Content-Type": ctype}, **kw)

    def login(self, username, password):
        r = self.post("/api/v1/auth/login", {"username": username, "password": password})
        if r.status == 200:
            self.csrf = r.json()["csrf_token"]
        return r


# --- test data -------------------------------------------------------------------------------

_CC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(seed=None):
    """A valid unified social credit code (GB 32100-2015), distinct per call."""
    body = "914420" + "00" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY")
                                     for _ in range(9))
    s = sum(_CC_ALPHABET.index(c) * w for c, w in zip(body, _CC_WEIGHTS))
    c = 31 - s % 31
    return body + _CC_ALPHABET[0 if c == 31 else c]


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def registration(**over):
    """Registration fields for a fresh operator; override any with keyword arguments."""
    tag = secrets.token_hex(3)
    f = {
        "username": "op_" + tag,
        "password": "Correct-horse-1",
        "company_name": "中山市测试充电科技有限公司" + tag,
        "credit_code": credit_code(),
        "legal_representative": "张三",
        "contact_name": "李四",
        "mobile": "13800138000",
        "email": "ops-%s@example.com" % tag,
        "address": "广东省中山市东区中山四路1号",
    }
    f.update(over)
    return f


def register(client, fields=None, license=("licence.pdf", PDF, "application/pdf")):
    fields = fields or registration()
    return client.post_multipart("/api/v1/auth/register", fields, {"license": license}), fields


# --- helpers for the account-slice tests (issue 2); appended, the API above is unchanged ------

_source_lock = threading.Lock()
_source_count = [0]


def fresh_source_address():
    """A loopback address (127.1.x.y) this process has not handed out before. Linux routes all
    of 127.0.0.0/8 to `lo`, so a client bound to it reaches a daemon on 127.0.0.1 and the daemon
    sees a distinct client address: tests of the per-address login throttle stay apart."""
    with _source_lock:
        _source_count[0] += 1
        n = _source_count[0]
    return "127.1.%d.%d" % ((n // 250) % 250, n % 250 + 1)


class SourceClient(Client):
    """A Client whose connections come from the loopback address `source` (default: a fresh
    one from fresh_source_address())."""

    def __init__(self, host, port, source=None):
        super().__init__(host, port)
        self.source = source or fresh_source_address()

    def request(self, method, path, body=None, headers=None, json_body=None, csrf=True):
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            hdrs["X-CSRF-Token"] = self.csrf
        if self.bearer:
            hdrs["Authorization"] = "Bearer " + self.bearer
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                          source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            rheaders = r.getheaders()
        finally:
            conn.close()
        for k, v in rheaders:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return Response(r.status, rheaders, data)


def send_large(client, method, path, body, content_type, extra_headers=None):
    """Sends a big body over a raw socket and returns the Response even when the server answers
    (e.g. 413) and closes before it has read the whole body, which http.client cannot do."""
    hdrs = {"Host": "%s:%d" % (client.host, client.port), "Content-Type": content_type,
            "Content-Length": str(len(body)), "Connection": "close"}
    if client.cookies:
        hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in client.cookies.items())
    if client.csrf:
        hdrs["X-CSRF-Token"] = client.csrf
    if client.bearer:
        hdrs["Authorization"] = "Bearer " + client.bearer
    hdrs.update(extra_headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
    sock = socket.create_connection((client.host, client.port), timeout=60)
    try:
        try:
            sock.sendall(head.encode("latin-1"))
            view = memoryview(body)
            for i in range(0, len(body), 65536):
                sock.sendall(view[i:i + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early; read what it said
        r = http.client.HTTPResponse(sock)
        r.begin()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        sock.close()


def setup_ok(r, status=(200, 201), what=""):
    """A set-up step's answer: its JSON (None without a body) when its status is `status` (one
    or a tuple), else an AssertionError naming the step."""
    if r.status not in ((status,) if isinstance(status, int) else status):
        raise AssertionError("setup %s: %r" % (what, r))
    return r.json() if r.body else None


def error_code(resp):
    """The `error.code` of an error answer, or None."""
    try:
        return resp.json()["error"]["code"]
    except Exception:
        return None


def error_details(resp):
    """The `error.details` list of an error answer ([] when absent)."""
    try:
        return resp.json()["error"].get("details") or []
    except Exception:
        return []


def admin_client(platform, password=None):
    """A Client logged in as `admin` (cookie session with CSRF token)."""
    c = platform.mgmt()
    r = c.login("admin", password or ADMIN_PASSWORD)
    if r.status != 200:
        raise AssertionError("admin login failed: %r" % r)
    return c


JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00C\x00" + bytes(range(1, 65)) + b"\xff\xd9")


def account_of(body):
    """The account object of an answer that is an account, possibly with extra keys (`/me` adds
    csrf_token, admin detail adds audit) or wrapped as {"account": {...}}."""
    if isinstance(body, dict) and isinstance(body.get("account"), dict) and "username" not in body:
        return body["account"]
    return body


def unique_pdf(tag=None):
    """A small PDF whose bytes are unique to this call."""
    return PDF + ("%% evgate-test %s\n" % (tag or secrets.token_hex(8))).encode()


# --- helpers for the detection-application tests (issue 3); appended, the API above is unchanged

def active_operator(platform, admin=None, **over):
    """Registers a fresh operator (registration(**over)), has an admin approve it and returns a
    Client logged in as it (cookie session with CSRF token). The Client also carries
    `.account` (the account object), `.fields` (its registration fields) and `.operator_id`
    (characters 9-17 of its credit code)."""
    admin = admin or admin_client(platform)
    fields = registration(**over)
    r, _ = register(platform.mgmt(), fields, ("licence.pdf", unique_pdf(), "application/pdf"))
    if r.status != 201:
        raise AssertionError("registration failed: %r" % r)
    acct = account_of(r.json())
    r = admin.post("/api/v1/admin/accounts/%d/approve" % acct["id"])
    if r.status != 200:
        raise AssertionError("approval failed: %r" % r)
    c = platform.mgmt()
    r = c.login(fields["username"], fields["password"])
    if r.status != 200:
        raise AssertionError("login failed: %r" % r)
    c.account = acct
    c.fields = fields
    c.operator_id = fields["credit_code"][8:17]
    return c


def detection_application(mode="self", delegate_detection_id=None, tag=None):
    """A complete, valid detection application body (docs/api-detections.md) of `mode`;
    names carry `tag` (default: random) so that they are unique. For `delegated`, pass the
    id of a passed `self` application."""
    tag = tag or secrets.token_hex(3)
    app = {
        "mode": mode,
        "commissioning_unit": {"name": "中山市委托测试单位" + tag, "credit_code": credit_code(),
                               "address": "广东省中山市石岐区民族路" + tag + "号"},
        "contact": {"name": "联调王" + tag, "mobile": "139" + "".join(
            secrets.choice("0123456789") for _ in range(8)),
            "email": "joint-%s@example.com" % tag},
        "pile_summary": {"brands": "星星充电, 特来电 " + tag, "models": "DC-120, AC-7",
                         "ac_count": 10, "dc_count": 4, "protocols": ["ocpp1.6", "ocpp2.0.1"]},
    }
    if mode == "self":
        app["platform"] = {"name": "测试充电平台" + tag,
                           "base_url": "https://evcs-%s.example.com/evcs/v1/" % tag,
                           "protocol_version": "T/CEC 102-2016",
                           "source_ips": ["203.0.113.10", "2001:db8::/64"]}
        app["delegate_detection_id"] = None
    else:
        app["platform"] = None
        app["delegate_detection_id"] = delegate_detection_id
        app["delegation_scope"] = "委托范围：中山市全部充电站 " + tag
    return app


# --- helpers for the records and import tests (issue 4); appended, the API above is unchanged --

def gated_operator(platform, admin=None, **over):
    """An active operator (active_operator) that passes the access gate: it owns a `self`
    detection application driven draft → submitted → approved → passed (admin verdict). The
    Client also carries `.detection_id`."""
    admin = admin or admin_client(platform)
    op = active_operator(platform, admin, **over)
    r = op.post("/api/v1/detections", detection_application("self"))
    if r.status != 201:
        raise AssertionError("detection create failed: %r" % r)
    did = r.json()["id"]
    steps = [
        (op, "/api/v1/detections/%d/materials" % did, None),
        (op, "/api/v1/detections/%d/submit" % did, {}),
        (admin, "/api/v1/admin/detections/%d/approve" % did, {}),
        (admin, "/api/v1/admin/detections/%d/verdict" % did,
         {"verdict": "passed", "note": "线下联调通过"}),
    ]
    for client, path, body in steps:
        if body is None:
            r = client.post_multipart(path, {}, {"file": ("申请表.pdf", unique_pdf(),
                                                          "application/pdf")})
        else:
            r = client.post(path, body)
        if r.status not in (200, 201):
            raise AssertionError("gate step %s failed: %r" % (path, r))
    r = op.get("/api/v1/access-gate")
    if r.status != 200 or r.json().get("allowed") is not True:
        raise AssertionError("operator still not past the access gate: %r" % r)
    op.detection_id = did
    return op


def station_body(station_id=None, **over):
    """A valid station body (docs/api-records.md) in 中山市 (area code 442000)."""
    b = {
        "station_id": station_id or "ST" + secrets.token_hex(4).upper(),
        "name": "中山市东区测试充电站",
        "area_code": "442000",
        "address": "中山市东区中山四路88号",
        "station_tel": "0760-88888888",
        "service_tel": "400-800-8888",
        "station_type": 1,
        "station_status": 50,
        "park_nums": 12,
        "lng": 113.392614,
        "lat": 22.517646,
        "construction": 4,
        "site_guide": "地下停车场B2层",
        "business_hours": "00:00-24:00",
        "electricity_fee": "0.8元/度",
        "service_fee": "0.6元/度",
        "park_fee": "首两小时免费",
        "payment": "线上",
        "support_order": 0,
        "remark": "测试",
    }
    b.update(over)
    return b


def connector_body(connector_id, ocpp_connector_id, **over):
    """A valid connector: DC gun, 750 V × 200 A, 60 kW."""
    c = {
        "connector_id": connector_id,
        "ocpp_connector_id": ocpp_connector_id,
        "connector_name": "%d号枪" % ocpp_connector_id,
        "connector_type": 4,
        "voltage_upper_limits": 750,
        "voltage_lower_limits": 200,
        "current": 200,
        "power": 60,
        "park_no": "A%02d" % ocpp_connector_id,
        "national_standard": 2,
    }
    c.update(over)
    return c


def pile_body(station_id, equipment_id=None, connectors=2, **over):
    """A valid pile body of `station_id` with `connectors` connectors numbered 1..n whose ids
    are the equipment id + "C1", "C2", ..."""
    eid = equipment_id or "EQ" + secrets.token_hex(5).upper()
    b = {
        "equipment_id": eid,
        "station_id": station_id,
        "manufacturer_id": "MA4UJ9XY0",
        "manufacturer_name": "星星充电",
        "equipment_model": "DC-120",
        "production_date": "2024-05-01",
        "equipment_type": 1,
        "power": 120,
        "lng": 113.392614,
        "lat": 22.517646,
        "protocol": "ocpp1.6",
        "connectors": [connector_body("%sC%d" % (eid, i), i) for i in range(1, connectors + 1)],
    }
    b.update(over)
    return b


class MgmtCase(unittest.TestCase):
    """One Platform (mgmt only) per TestCase class, with an admin session in `cls.admin`; the
    base of the API tests. `extra_env` adds settings for the class's daemon."""

    extra_env = None

    @classmethod
    def setUpClass(cls):
        cls.platform = Platform(cls.extra_env)
        try:
            cls.platform.start(("mgmt",))
            cls.admin = admin_client(cls.platform)
        except BaseException:
            cls.platform.close()
            raise

    @classmethod
    def tearDownClass(cls):
        d = cls.platform.daemons.get("mgmt")
        died = d is not None and d.proc.poll() is not None
        cls.platform.close()
        if died:
            raise AssertionError("mgmt died during the tests:\n" + "\n".join(d.log[-50:]))

    def tearDown(self):
        d = self.platform.daemons["mgmt"]
        self.assertIsNone(d.proc.poll(), "mgmt exited (rc %s) during this test:\n%s"
                          % (d.proc.returncode, "\n".join(d.log[-40:])))

    def anon(self):
        return self.platform.mgmt()

    def check_details(self, r):
        """Called on every error answer assertError sees; a subclass checks its details."""

    def assertError(self, r, status, code=None, field=None, field_code=None):
        """`r` is an error answer {"error": {code, message, details}} with `status`; with
        `field` (a path or a tuple of acceptable paths), one detail names it (and has
        `field_code`, a str or a tuple of allowed ones)."""
        self.assertEqual(r.status, status, "expected %d %s, got %r" % (status, code, r))
        self.assertIn("application/json", r.header("Content-Type") or "",
                      "error answer is not JSON: %r" % r)
        body = r.json()
        self.assertIsInstance(body.get("error"), dict, r)
        self.assertIsInstance(body["error"].get("code"), str, r)
        self.assertIsInstance(body["error"].get("message"), str, r)
        if code is not None:
            self.assertEqual(body["error"]["code"], code, r)
        self.check_details(r)
        if field is not None:
            fields = (field,) if isinstance(field, str) else tuple(field)
            named = [d for d in error_details(r)
                     if isinstance(d, dict) and d.get("field") in fields]
            self.assertTrue(named, "no detail names field %r: %r" % (field, r))
            if field_code is not None:
                allowed = (field_code,) if isinstance(field_code, str) else tuple(field_code)
                self.assertTrue(any(d.get("code") in allowed for d in named),
                                "detail for %r has code %r, expected %r"
                                % (field, [d.get("code") for d in named], allowed))
        return body
