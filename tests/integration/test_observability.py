"""Integration tests of what an operator watches (issue 10 items 4 and 5): both daemons' /metrics
after a small real scenario, parsed strictly as the Prometheus text format 0.0.4 (names, types,
histograms consistent, the scenario's counts), and the logs: one parseable line per event in
both daemons, every line about a pile found by `grep equipment_id=<id>`, values from outside
that cannot forge a line, and log_level changed at run time by SIGHUP.

The scenario, on one mgmt and one gateway (harness.Platform): an operator past the access gate
imports a stations file with a bad row (rejected), then the good one and two piles (ocpp1.6 and
ocpp2.0.1); an admin approves; the pile passwords are issued; build/simulators/evsim-pile runs
pile A (1.6, idle: boot, statuses, heartbeats) and pile B (2.0.1, faulty: boot, then malformed and
schema-violating frames); a handshake and an mgmt request carry a forged log line in their path.

Needs python3-openpyxl (Debian package; the workbooks are filled as in test_import.py).

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_observability.py"""

import http.client
import math
import os
import re
import signal
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BUILD, Platform, admin_client, gated_operator  # noqa: E402
import test_import as wb  # noqa: E402  (its workbook helpers: station_row, pile_row, fill, ...)

API = "/api/v1"
EVSIM = os.path.join(BUILD, "simulators", "evsim-pile")

# --- the Prometheus text format 0.0.4, strictly ------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RX = re.compile(r"^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?\})? (\S+)$"
                       % (NAME, LABEL_NAME, LABEL_VALUE, LABEL_NAME, LABEL_VALUE))
PAIR_RX = re.compile(r"(%s)=(%s)" % (LABEL_NAME, LABEL_VALUE))
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v[1:-1])


def parse_exposition(text):
    """Parses `text` or raises AssertionError naming the line. Returns {family: {"type", "help",
    "samples": [(name, {label: value}, float)]}}. Checks: HELP and TYPE once each, before the
    family's samples; the samples of a family together; names of the family (with the
    histogram suffixes); no label twice; values that are numbers; counters named `_total`;
    unit-suffixed names in base units (no `_milliseconds`, `_ms`, `_kb`)."""
    fams, order, current = {}, [], None
    if not text.endswith("\n"):
        raise AssertionError("the exposition does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            name, _, arg = rest.partition(" ")
            if not re.fullmatch(NAME, name) or not arg:
                raise AssertionError("bad %s: %s" % (kind, where))
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if f["samples"]:
                raise AssertionError("%s after samples: %s" % (kind, where))
            key = "help" if kind == "HELP" else "type"
            if f[key] is not None:
                raise AssertionError("second %s: %s" % (kind, where))
            if key == "type" and arg not in ("counter", "gauge", "histogram", "summary",
                                             "untyped"):
                raise AssertionError("unknown type: %s" % where)
            f[key] = arg
            if name not in order:
                order.append(name)
            current = name
            continue
        if line.startswith("#") or not line:
            raise AssertionError("stray line: %s" % where)
        m = SAMPLE_RX.match(line)
        if not m:
            raise AssertionError("not a sample: %s" % where)
        name, labels_text, value = m.group(1), m.group(2) or "", m.group(3)
        fam = current
        suffixes = SUFFIXES.get(fams[fam]["type"], ("",)) if fam else ()
        if not fam or not any(name == fam + s for s in suffixes):
            raise AssertionError("sample outside its family %s: %s" % (current, where))
        labels = {}
        for k, v in PAIR_RX.findall(labels_text):
            if k in labels:
                raise AssertionError("label %s twice: %s" % (k, where))
            labels[k] = unescape(v)
        if value not in ("+Inf", "-Inf", "NaN") and not re.fullmatch(
                r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", value):
            raise AssertionError("bad value: %s" % where)
        fams[fam]["samples"].append((name, labels, float(value)))
    for name, f in fams.items():
        if f["type"] is None or f["help"] is None:
            raise AssertionError("%s lacks TYPE or HELP" % name)
        if f["type"] == "counter" and not name.endswith("_total"):
            raise AssertionError("counter %s is not named _total" % name)
        if re.search(r"_(milliseconds|ms|microseconds|us|kb|kib|mb|mib)(_|$)", name):
            raise AssertionError("%s is not in base units" % name)
    return fams


def check_histograms(test, fams):
    """Every histogram: per label set, `le` bounds increasing to +Inf, counts cumulative,
    +Inf == _count, a _sum; returns the number of label sets checked."""
    checked = 0
    for name, f in fams.items():
        if f["type"] != "histogram":
            continue
        series = {}
        for sname, labels, v in f["samples"]:
            key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
            if sname == name + "_bucket":
                test.assertIn("le", labels, sname)
                s["buckets"].append((float(labels["le"]), v))
            elif sname == name + "_sum":
                s["sum"] = v
            else:
                s["count"] = v
        for key, s in series.items():
            what = "%s%s" % (name, dict(key))
            les = [le for le, _ in s["buckets"]]
            test.assertEqual(les, sorted(set(les)), "%s: le increasing" % what)
            test.assertTrue(les and math.isinf(les[-1]), "%s: ends with +Inf" % what)
            counts = [c for _, c in s["buckets"]]
            test.assertEqual(counts, sorted(counts), "%s: buckets cumulative" % what)
            test.assertEqual(counts[-1], s["count"], "%s: +Inf == _count" % what)
            test.assertIsNotNone(s["sum"], "%s: _sum" % what)
            test.assertGreaterEqual(s["sum"], 0, what)
            checked += 1
    return checked


def value(fams, name, **labels):
    """The value of the one sample `name` with (at least) `labels`; None when absent."""
    fam = fams.get(name) or fams.get(re.sub(r"_(bucket|sum|count)$", "", name))
    for sname, l, v in (fam or {"samples": []})["samples"]:
        if sname == name and all(l.get(k) == str(x) for k, x in labels.items()):
            return v
    return None


# --- log lines ---------------------------------------------------------------------------------

# `ts level component event key=value ...`; a value is a run without spaces and quotes, or a
# double-quoted string with \" \\ \n \r \t \xNN escapes (docs/logs.md)
VALUE = r'(?:"(?:[^"\\\x00-\x1f]|\\["\\nrt]|\\x[0-9a-f]{2})*"|[^\s"]+)'
LINE_RX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) "
                     r"([a-z_]+) ([a-z_0-9]+)((?: [a-z_0-9]+=%s)*)$" % VALUE)
KV_RX = re.compile(r" ([a-z_0-9]+)=(%s)" % VALUE)


def parse_line(line):
    """(level, component, event, {key: raw value}) or None when `line` is not a log line."""
    m = LINE_RX.match(line)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3), dict(KV_RX.findall(m.group(4)))


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@unittest.skipUnless(os.path.exists(EVSIM), "evsim-pile not built (%s)" % EVSIM)
class ObservabilityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Platform()
        cls.conf = os.path.join(cls.p.dir, "evgate.conf")
        cls.write_conf("info")
        del cls.p.env["EVGATE_LOG_LEVEL"]  # the level comes from the file, so SIGHUP can change it
        cls.p.env["EVGATE_CONFIG"] = cls.conf
        cls.pile_a_proc = None
        try:
            cls.p.start(which=("mgmt", "gateway"))
            cls.mgmt, cls.gw = cls.p.daemons["mgmt"], cls.p.daemons["gateway"]
            cls.scenario()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.pile_a_proc and cls.pile_a_proc.poll() is None:
            cls.pile_a_proc.kill()
            cls.pile_a_proc.wait()
        cls.p.close()

    @classmethod
    def write_conf(cls, level):
        with open(cls.conf, "w") as f:
            f.write("# written by test_observability\nlog_level = %s\n" % level)

    @classmethod
    def scenario(cls):
        admin = admin_client(cls.p)
        op = gated_operator(cls.p, admin)
        tag = os.urandom(3).hex().upper()
        cls.ids = {"a": "OBS%sA1" % tag, "b": "OBS%sB2" % tag}
        templates = {}
        for which in ("stations", "piles"):
            r = op.get("%s/templates/%s.xlsx" % (API, which))
            assert r.status == 200, r
            templates[which] = r.body
        r = op.post(API + "/access-applications", {})
        assert r.status == 201, r
        cls.app_id = app_id = r.json()["id"]
        base = "%s/access-applications/%d" % (API, app_id)

        def upload(what, data):
            return op.post_multipart(base + "/" + what, {}, {"file": (
                what + ".xlsx", data, wb.XLSX_TYPE)})

        sid = "OBS%sS" % tag
        bad = wb.fill(templates["stations"], {"充电站": [wb.station_row(sid, 行政区划代码="99")]})
        r = upload("stations", bad)
        assert r.status == 422, r
        good = wb.fill(templates["stations"], {"充电站": [wb.station_row(sid)]})
        r = upload("stations", good)
        assert r.status == 200 and r.json()["staged"] == 1, r
        piles = [wb.pile_row(cls.ids["a"], sid),
                 wb.pile_row(cls.ids["b"], sid, 接入协议="ocpp2.0.1")]
        conns = [wb.connector_row(cls.ids[k] + "C1", cls.ids[k], 1) for k in ("a", "b")]
        r = upload("piles", wb.fill(templates["piles"], {"充电桩": piles, "充电枪": conns}))
        assert r.status == 200 and r.json()["staged"] == 2, r
        r = op.post(base + "/submit")
        assert r.status == 200, r
        r = admin.post("%s/admin/access-applications/%d/approve" % (API, app_id), {})
        assert r.status == 200, r
        r = op.post(base + "/pile-passwords")
        assert r.status == 200, r
        pw = {x["equipment_id"]: x["password"] for x in r.json()["items"]}

        url = "ws://127.0.0.1:%d/ocpp" % cls.p.gateway_port
        a, b = cls.ids["a"], cls.ids["b"]
        # pile A stays connected (idle) while the gateway is scraped; the gateway's pile table
        # reloads a moment after the approval (a refused handshake asks for it), so A's first
        # try may be refused and --reconnect tries again (back-off from 1 s); once A is in, B is
        cls.pile_a_proc = subprocess.Popen(
            [EVSIM, "--url", url, "--ids", a, "--password", pw[a], "--protocol", "ocpp1.6",
             "--scenario", "idle", "--reconnect"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.gw.wait_log(r" info gateway ocpp_boot equipment_id=%s " % a, timeout=30)
        # pile B sends bad frames over and over: stopped once the gateway answered one
        pile_b = subprocess.Popen(
            [EVSIM, "--url", url, "--ids", b, "--password", pw[b], "--protocol", "ocpp2.0.1",
             "--scenario", "faulty"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            cls.gw.wait_log(r" info gateway ocpp_violation equipment_id=%s " % b, timeout=30)
        finally:
            pile_b.send_signal(signal.SIGINT)
            pile_b.wait(20)
        cls.gw.wait_log(r" info gateway ocpp_disconnected equipment_id=%s " % b)
        cls.gw_while_connected = parse_exposition(
            get(cls.p.gateway_port, "/metrics")[1].decode("utf-8"))

        # values from outside carrying a forged log line: a pile's identity and an mgmt path
        forged = "%0A2026-01-01T00:00:00.000Z%20error%20gateway%20forged_line%20x=%22y"
        cls.forged_gw_status, _ = get(cls.p.gateway_port, "/ocpp/EVIL" + forged, {
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "ocpp1.6"})
        cls.forged_mgmt_status, _ = get(cls.p.mgmt_port,
                                        API + "/no-such" + forged.replace("gateway", "mgmt"))

        cls.pile_a_proc.send_signal(signal.SIGINT)
        cls.pile_a_proc.wait(20)
        cls.gw.wait_log(r" info gateway ocpp_disconnected equipment_id=%s " % a)
        cls.mgmt.wait_log(r" info mgmt request .*forged_line")
        cls.gw.wait_log(r" info gateway ocpp_refused equipment_id=\S*EVIL")

    # --- metrics --------------------------------------------------------------------------------

    def scrape(self, port):
        status, body = get(port, "/metrics")
        self.assertEqual(status, 200)
        return parse_exposition(body.decode("utf-8"))

    def test_gateway_metrics(self):
        fams = self.scrape(self.p.gateway_port)
        types = {
            "evgate_gateway_up": "gauge",
            "evgate_gateway_start_time_seconds": "gauge",
            "process_start_time_seconds": "gauge",
            "process_open_fds": "gauge",
            "process_resident_memory_bytes": "gauge",
            "process_cpu_seconds_total": "counter",
            "evgate_gateway_ocpp_connections": "gauge",
            "evgate_gateway_ocpp_handshakes_total": "counter",
            "evgate_gateway_ocpp_messages_total": "counter",
            "evgate_gateway_ocpp_errors_total": "counter",
            "evgate_gateway_http_requests_total": "counter",
            "evgate_gateway_http_request_duration_seconds": "histogram",
            "evgate_gateway_writer_queue_depth": "gauge",
            "evgate_gateway_writer_commit_seconds": "histogram",
            "evgate_gateway_ocpp_call_seconds": "histogram",
            "evgate_gateway_conform_runs_total": "counter",
            "evgate_gateway_tcec_requests_total": "counter",
            "evgate_gateway_tcec_platforms": "gauge",
            "evgate_gateway_tcec_platforms_reachable": "gauge",
        }
        for name, t in types.items():
            self.assertEqual(fams.get(name, {}).get("type"), t, name)
        self.assertGreaterEqual(check_histograms(self, fams), 3)

        # connected piles by protocol: A was connected at the first scrape, nobody is now
        during = self.gw_while_connected
        self.assertEqual(value(during, "evgate_gateway_ocpp_connections", protocol="ocpp1.6"), 1)
        self.assertEqual(value(during, "evgate_gateway_ocpp_connections", protocol="ocpp2.0.1"),
                         0)
        self.assertEqual(value(fams, "evgate_gateway_ocpp_connections", protocol="ocpp1.6"), 0)
        # messages by version and action, and the faulty pile's errors by code
        msgs = "evgate_gateway_ocpp_messages_total"
        self.assertGreaterEqual(value(fams, msgs, version="ocpp1.6", action="BootNotification"), 1)
        self.assertGreaterEqual(value(fams, msgs, version="ocpp2.0.1",
                                      action="BootNotification"), 1)
        # B's first bad frame is an unknown action (NotImplemented); the test stops B after it
        bad = sum(value(fams, msgs, version="ocpp2.0.1", action=a) or 0
                  for a in ("unknown", "invalid"))
        self.assertGreaterEqual(bad, 1)
        errors = sum(v for _, _, v in fams["evgate_gateway_ocpp_errors_total"]["samples"])
        self.assertGreaterEqual(errors, bad)
        self.assertGreaterEqual(value(fams, "evgate_gateway_ocpp_errors_total",
                                      code="NotImplemented"), 1)
        self.assertGreaterEqual(value(fams, "evgate_gateway_ocpp_handshakes_total",
                                      result="accepted"), 2)
        # the forged handshake was refused and counted under the route, not its path
        routes = {l.get("route") for _, l, _ in fams["evgate_gateway_http_requests_total"]
                  ["samples"]}
        self.assertIn("/ocpp", routes)
        self.assertIn("/metrics", routes)
        self.assertFalse([r for r in routes if "EVIL" in r or self.ids["a"] in r], routes)
        # latency histogram of /metrics: this scrape's predecessors were observed
        self.assertGreaterEqual(value(fams, "evgate_gateway_http_request_duration_seconds_count",
                                      route="/metrics"), 1)
        # the writer committed the scenario's messages, and each stored CALL's time to its
        # answer was observed: at least the two BootNotifications
        self.assertGreaterEqual(value(fams, "evgate_gateway_writer_commit_seconds_count"), 1)
        calls = value(fams, "evgate_gateway_ocpp_call_seconds_count")
        self.assertGreaterEqual(calls, 2)
        self.assertLessEqual(calls, sum(v for _, _, v in fams[msgs]["samples"]))
        self.assertGreater(value(fams, "evgate_gateway_ocpp_call_seconds_sum"), 0)
        # a gauge of the jobs waiting now: the scenario's are done, but the dashboard's sampler
        # and the once-a-second last-contact writes may be queued at the moment of the scrape
        depth = value(fams, "evgate_gateway_writer_queue_depth")
        self.assertEqual(depth, int(depth))
        self.assertTrue(0 <= depth <= 8, depth)
        self.assertGreater(value(fams, "process_open_fds"), 3)
        self.assertGreater(value(fams, "process_resident_memory_bytes"), 1 << 20)
        # no operator platform has credentials here: none polled
        self.assertEqual(value(fams, "evgate_gateway_tcec_platforms"), 0)
        for state in ("passed", "failed", "error", "cancelled", "other"):
            self.assertEqual(value(fams, "evgate_gateway_conform_runs_total", state=state), 0)
        # bounded label sets: no pile id anywhere in the labels
        for f in fams.values():
            for _, l, _ in f["samples"]:
                self.assertNotIn("equipment_id", l)
                for v in l.values():
                    self.assertNotIn(self.ids["a"], v)
                    self.assertNotIn(self.ids["b"], v)

    def test_mgmt_metrics(self):
        fams = self.scrape(self.p.mgmt_port)
        for name, t in (("evgate_mgmt_up", "gauge"), ("process_open_fds", "gauge"),
                        ("process_resident_memory_bytes", "gauge"),
                        ("evgate_mgmt_http_requests_total", "counter"),
                        ("evgate_mgmt_http_request_duration_seconds", "histogram"),
                        ("evgate_mgmt_import_duration_seconds", "histogram"),
                        ("evgate_mgmt_import_rows", "histogram")):
            self.assertEqual(fams.get(name, {}).get("type"), t, name)
        self.assertGreaterEqual(check_histograms(self, fams), 5)
        imp = "evgate_mgmt_import_duration_seconds_count"
        self.assertEqual(value(fams, imp, kind="stations", outcome="rejected"), 1)
        self.assertEqual(value(fams, imp, kind="stations", outcome="staged"), 1)
        self.assertEqual(value(fams, imp, kind="piles", outcome="staged"), 1)
        self.assertEqual(value(fams, "evgate_mgmt_import_rows_sum", kind="piles",
                               outcome="staged"), 2)
        self.assertEqual(value(fams, "evgate_mgmt_import_rows_bucket", kind="piles",
                               outcome="staged", le="1"), 0)
        self.assertEqual(value(fams, "evgate_mgmt_import_rows_bucket", kind="piles",
                               outcome="staged", le="10"), 1)
        # requests by route pattern and status, never by path
        req = "evgate_mgmt_http_requests_total"
        self.assertEqual(value(fams, req, route="/api/v1/access-applications/{id}/stations",
                               status=422), 1)
        self.assertEqual(value(fams, req, route="/api/v1/access-applications/{id}/stations",
                               status=200), 1)
        self.assertGreaterEqual(value(fams, req, route="/api/v1/auth/login", status=200), 2)
        routes = {l["route"] for _, l, _ in fams[req]["samples"]}
        self.assertFalse([r for r in routes if str(self.app_id) in r.split("/") or "no-such" in r],
                         routes)

    # --- logs -----------------------------------------------------------------------------------

    def test_every_line_is_one_parseable_event(self):
        for d in (self.mgmt, self.gw):
            for line in list(d.log):
                self.assertIsNotNone(parse_line(line), "%s: not a log line: %r" % (d.name, line))

    def test_grep_equipment_id_finds_one_piles_lines_and_only_them(self):
        for key, other in (("a", "b"), ("b", "a")):
            pile, rx = self.ids[key], re.compile(r" equipment_id=%s( |$)" % self.ids[key])
            lines = [l for l in list(self.gw.log) if rx.search(l)]
            # everything the gateway said about the pile carries the key
            self.assertEqual([l for l in list(self.gw.log) if pile in l], lines)
            self.assertFalse([l for l in lines if self.ids[other] in l])
            events = [parse_line(l)[2] for l in lines]
            for e in ("ocpp_connected", "ocpp_boot", "ocpp_disconnected"):
                self.assertIn(e, events, "%s: %s" % (pile, "\n".join(lines)))
        lines_b = [parse_line(l) for l in self.gw.log if "equipment_id=%s " % self.ids["b"] in l]
        self.assertIn("ocpp_violation", [e for _, _, e, _ in lines_b])

    def test_a_forged_value_stays_in_its_line(self):
        self.assertIn(self.forged_gw_status, (400, 401, 404))
        self.assertEqual(self.forged_mgmt_status, 404)
        for d in (self.mgmt, self.gw):
            self.assertFalse([l for l in d.log if "forged_line" in l and " request " not in l
                              and " ocpp_refused " not in l], d.log)
            self.assertFalse([l for l in d.log if l.startswith("2026-01-01T00:00:00.000Z")])
        line = self.mgmt.wait_log(r" info mgmt request .*forged_line")
        kv = parse_line(line)[3]
        self.assertEqual(kv["route"], "unmatched")
        self.assertTrue(kv["path"].startswith('"/api/v1/no-such\\n2026-01-01T00:00:00.000Z '),
                        line)
        self.assertIn('x=\\"y"', kv["path"])
        self.assertEqual(kv["status"], "404")
        self.assertEqual(kv["client"], "127.0.0.1")
        self.assertRegex(kv["bytes"], r"^\d+$")
        self.assertRegex(kv["ms"], r"^\d+\.\d$")
        line = self.gw.wait_log(r" info gateway ocpp_refused equipment_id=\S*EVIL")
        self.assertEqual(parse_line(line)[2], "ocpp_refused")

    def test_mgmt_access_log_names_route_account_and_client(self):
        lines = [parse_line(l) for l in list(self.mgmt.log) if " info mgmt request " in l]
        uploads = [kv for _, _, _, kv in lines
                   if kv["route"] == "/api/v1/access-applications/{id}/stations"]
        self.assertEqual([kv["status"] for kv in uploads], ["422", "200"])
        for kv in uploads:
            self.assertEqual(kv["method"], "POST")
            self.assertEqual(kv["path"], "/api/v1/access-applications/%d/stations" % self.app_id)
            self.assertNotEqual(kv["account"], "0")
            self.assertEqual(kv["client"], "127.0.0.1")
            self.assertGreater(int(kv["bytes"]), 0)

    def test_z_log_level_changes_at_run_time(self):
        # named to run last: it leaves the gateway at debug and mgmt at warn
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
        # gateway: an upgrade to a non-OCPP path logs upgrade_refused at debug only (and the
        # gateway drops the connection)
        def refused_upgrade():
            with self.assertRaises(ConnectionError):
                get(self.p.gateway_port, "/healthz", upgrade)

        refused_upgrade()
        self.write_conf("debug")
        self.gw.proc.send_signal(signal.SIGHUP)
        changed = self.gw.wait_log(r" warn config log_level_changed from=info level=debug")
        at = self.gw.log.index(changed)
        self.assertFalse([l for l in self.gw.log[:at] if " debug " in l])
        refused_upgrade()
        self.gw.wait_log(r" debug gateway upgrade_refused ")
        self.assertTrue(self.gw.proc.poll() is None)

        # mgmt: at warn its access lines stop; a second SIGHUP's line is the barrier
        self.write_conf("warn")
        self.mgmt.proc.send_signal(signal.SIGHUP)
        self.mgmt.wait_log(r" warn config log_level_changed from=info level=warn")
        self.assertEqual(get(self.p.mgmt_port, API + "/marker-after-warn")[0], 404)
        self.write_conf("bogus")
        self.mgmt.proc.send_signal(signal.SIGHUP)
        self.mgmt.wait_log(r" warn config log_level_unchanged level=warn ")
        self.assertFalse([l for l in self.mgmt.log if "marker-after-warn" in l])
        self.assertTrue(self.mgmt.proc.poll() is None)
        self.write_conf("info")
        self.mgmt.proc.send_signal(signal.SIGHUP)
        self.mgmt.wait_log(r" warn config log_level_changed from=warn level=info")
        self.assertEqual(get(self.p.mgmt_port, API + "/marker-after-info")[0], 404)
        self.mgmt.wait_log(r" info mgmt request .*marker-after-info")


if __name__ == "__main__":
    unittest.main(verbosity=2)
