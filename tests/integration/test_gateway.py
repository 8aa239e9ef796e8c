"""Integration tests of evgate-gateway's foundation (issue 2): /healthz, /metrics in Prometheus
text format, JSON 404 and 405, clean exit on SIGTERM and SIGINT, refusal of bad settings, of an
unusable database and of a busy port, and the connection gauge. The real daemon runs on a free
loopback port with a temporary database (harness.Platform).

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_gateway.py"""

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BUILD, Platform  # noqa: E402

GATEWAY = os.path.join(BUILD, "gateway", "evgate-gateway")
REQUIRED_METRICS = {
    "evgate_gateway_up": "gauge",
    "evgate_gateway_start_time_seconds": "gauge",
    "evgate_gateway_connections": "gauge",
    "evgate_gateway_http_requests_total": "counter",
    "evgate_gateway_writer_queue_depth": "gauge",
    "evgate_gateway_writer_commits_total": "counter",
    "evgate_gateway_writer_jobs_total": "counter",
    "evgate_gateway_writer_commit_seconds": ("histogram", "summary"),
    "evgate_gateway_wal_frames": "gauge",
    "evgate_gateway_wal_checkpoints_total": "counter",
}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE_RX = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*,?)?\})? (\S+)(?: -?\d+)?$"
                       % (_NAME, _LABEL, _LABEL))
LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_prometheus(test, text):
    """Checks `text` against the Prometheus text format 0.0.4 and returns
    ({family: type}, [(name, {label: value}, float)])."""
    helps, types, samples, seen = {}, {}, [], set()
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            name, _, text_ = line[7:].partition(" ")
            test.assertRegex(name, "^%s$" % _NAME)
            test.assertNotIn(name, helps, "two HELP lines for %s" % name)
            helps[name] = text_
        elif line.startswith("# TYPE "):
            parts = line[7:].split(" ")
            test.assertEqual(len(parts), 2, line)
            test.assertIn(parts[1], ("counter", "gauge", "histogram", "summary", "untyped"), line)
            test.assertNotIn(parts[0], seen, "TYPE after samples of %s" % parts[0])
            types[parts[0]] = parts[1]
        elif line.startswith("#"):
            continue
        else:
            m = SAMPLE_RX.match(line)
            test.assertIsNotNone(m, "not a sample line: %r" % line)
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            try:
                v = float(value)  # accepts NaN, +Inf, -Inf
            except ValueError:
                test.fail("bad value in %r" % line)
            fam = family_of(name, types)
            test.assertIsNotNone(fam, "sample %s has no TYPE before it" % name)
            test.assertIn(fam, helps, "metric %s has no HELP" % fam)
            seen.add(fam)
            samples.append((name, dict(LABEL_RX.findall(labels)), v))
    return types, samples


def family_of(name, types):
    if name in types:
        return name
    for suffix, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                          ("_count", ("histogram", "summary"))):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in kinds:
            return base
    return None


def value_of(samples, name, **labels):
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(x) for k, x in labels.items()):
            return v
    return None


def run(args, env, timeout=30):
    """Runs the binary to completion; a daemon that starts serving instead fails the test."""
    p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError("%s did not exit within %ds:\n%s"
                             % (args, timeout, out.decode(errors="replace")))
    return p.returncode, out.decode("utf-8", "replace")


@unittest.skipUnless(os.path.exists(GATEWAY), "gateway not built (%s)" % GATEWAY)
class GatewayHttpTest(unittest.TestCase):
    """One gateway for the read-only HTTP checks."""

    @classmethod
    def setUpClass(cls):
        cls.p = Platform().start(which=("gateway",))
        cls.d = cls.p.daemons["gateway"]

    @classmethod
    def tearDownClass(cls):
        cls.p.close()
        cls.d.proc.stdout.close()

    def metrics(self):
        r = self.p.gateway().get("/metrics")
        self.assertEqual(r.status, 200, r)
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        self.assertIn("version=0.0.4", ctype)
        return parse_prometheus(self, r.body.decode("utf-8"))

    def test_healthz(self):
        r = self.p.gateway().get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"))
        self.assertEqual(r.json(), {"status": "ok", "db": "ok", "version": "0.1.0"})
        r = self.p.gateway().get("/healthz?probe=1")  # the query is not part of the route
        self.assertEqual(r.status, 200, r)

    def test_metrics_are_prometheus_text(self):
        types, samples = self.metrics()
        for name, kind in REQUIRED_METRICS.items():
            self.assertIn(name, types, "missing metric %s" % name)
            self.assertIn(types[name], kind if isinstance(kind, tuple) else (kind,), name)
        self.assertEqual(value_of(samples, "evgate_gateway_up"), 1)
        start = value_of(samples, "evgate_gateway_start_time_seconds")
        self.assertTrue(time.time() - 3600 < start <= time.time() + 1, start)
        self.assertIsNotNone(value_of(samples, "evgate_gateway_writer_queue_depth"))
        if types["evgate_gateway_writer_commit_seconds"] == "histogram":
            buckets = [(l["le"], v) for n, l, v in samples
                       if n == "evgate_gateway_writer_commit_seconds_bucket"]
            self.assertEqual(buckets[-1][0], "+Inf")
            self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))
            self.assertEqual(buckets[-1][1],
                             value_of(samples, "evgate_gateway_writer_commit_seconds_count"))

    def test_request_counter_grows(self):
        _, before = self.metrics()
        n0 = value_of(before, "evgate_gateway_http_requests_total",
                      route="/healthz", status=200) or 0
        for _ in range(3):
            self.assertEqual(self.p.gateway().get("/healthz").status, 200)
        self.assertEqual(self.p.gateway().get("/no/such/thing").status, 404)
        _, after = self.metrics()
        self.assertEqual(value_of(after, "evgate_gateway_http_requests_total",
                                  route="/healthz", status=200), n0 + 3)
        self.assertGreaterEqual(value_of(after, "evgate_gateway_http_requests_total",
                                         route="other", status=404), 1)
        # unknown paths share one label value: the series set stays bounded
        paths = {l.get("route") for n, l, _ in after if n == "evgate_gateway_http_requests_total"}
        self.assertNotIn("/no/such/thing", paths)

    def test_event_loop_is_libev(self):
        _, samples = self.metrics()
        info = [l for n, l, _ in samples if n == "evgate_gateway_info"]
        self.assertEqual(info[0].get("event_loop"), "libev", info)
        self.assertFalse([l for l in self.d.log if "event_loop_fallback" in l], self.d.log)

    def test_malloc_is_mimalloc_unless_sanitized(self):
        # issue 8's figures assume mimalloc (glibc's malloc cost ~15 % of the gateway's CPU);
        # a sanitizer build must keep libc's, which ASan replaces
        lines = [l for l in self.d.log if " event_loop " in l and "malloc=" in l]
        self.assertEqual(len(lines), 1, self.d.log)
        malloc = lines[0].split("malloc=")[1].split()[0]
        if os.environ.get("EVGATE_SANITIZE", "none") == "none":
            self.assertRegex(malloc, r"^mimalloc-\d+\.\d+\.\d+$", lines[0])
        else:
            self.assertEqual(malloc, "libc", lines[0])

    def test_unknown_path_is_json_404(self):
        for path in ("/", "/nope", "/healthz/", "/metrics.txt", "/ocpp/../healthz2"):
            r = self.p.gateway().get(path)
            self.assertEqual(r.status, 404, (path, r))
            self.assertTrue((r.header("Content-Type") or "").startswith("application/json"))
            err = r.json()["error"]
            self.assertEqual(err["code"], "not_found")
            self.assertTrue(err["message"])

    def test_other_methods_are_405_and_keep_alive_survives(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.p.gateway_port, timeout=30)
        try:
            for method, body in (("POST", b'{"a":1}'), ("PUT", b"x" * 100000), ("DELETE", None)):
                conn.request(method, "/healthz", body=body)
                r = conn.getresponse()
                data = r.read()
                self.assertEqual(r.status, 405, (method, data))
                self.assertEqual(r.getheader("Allow"), "GET")
                self.assertEqual(json.loads(data)["error"]["code"],
                                 "method_not_allowed")
            conn.request("GET", "/healthz")  # same connection: the bodies were consumed
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["status"], "ok")
            conn.request("HEAD", "/metrics")
            r = conn.getresponse()
            self.assertEqual(r.status, 405)
            self.assertEqual(r.read(), b"")
        finally:
            conn.close()

    def test_websocket_upgrade_is_refused_for_now(self):
        s = socket.create_connection(("127.0.0.1", self.p.gateway_port), timeout=10)
        try:
            s.sendall(b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
            data = s.recv(4096)
            self.assertNotIn(b"101", data.split(b"\r\n")[0] if data else b"")
        finally:
            s.close()

    def test_connection_gauge_follows_connections(self):
        _, samples = self.metrics()
        base = value_of(samples, "evgate_gateway_connections")
        socks = [socket.create_connection(("127.0.0.1", self.p.gateway_port), timeout=10)
                 for _ in range(40)]
        try:
            # accepted in order, so when this request is served the 40 are accepted
            _, samples = self.metrics()
            self.assertGreaterEqual(value_of(samples, "evgate_gateway_connections"), base + 40)
        finally:
            for s in socks:
                s.close()
        deadline = time.monotonic() + 10
        while True:  # closes are noticed asynchronously
            _, samples = self.metrics()
            now = value_of(samples, "evgate_gateway_connections")
            if now <= base + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertLessEqual(now, base + 1)

    def test_a_burst_of_connections_is_accepted_in_batches_and_all_served(self):
        """A reconnect storm's shape: 300 connections queued at once (the gateway stopped while
        they connect). Each wake-up of the listener takes at most 64 (gateway/accept.h), so
        lws' timer list stays short; none is refused and every request is answered."""
        burst, batch = 300, 64
        _, samples = self.metrics()
        accepted0 = value_of(samples, "evgate_gateway_connections_accepted_total")
        full0 = value_of(samples, "evgate_gateway_accept_full_batches_total")
        socks = []
        os.kill(self.d.proc.pid, signal.SIGSTOP)
        try:
            for _ in range(burst):  # the kernel completes them and queues them for accept()
                s = socket.create_connection(("127.0.0.1", self.p.gateway_port), timeout=30)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                socks.append(s)
        finally:
            os.kill(self.d.proc.pid, signal.SIGCONT)
        try:
            for s in socks:
                answer = b""
                while len(answer) < 65536:  # until the gateway closes it (Connection: close)
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
                self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:200])
        finally:
            for s in socks:
                s.close()
        _, samples = self.metrics()
        self.assertGreaterEqual(
            value_of(samples, "evgate_gateway_connections_accepted_total") - accepted0, burst)
        self.assertGreaterEqual(
            value_of(samples, "evgate_gateway_accept_full_batches_total") - full0, burst // batch)
        self.assertEqual(value_of(samples, "evgate_gateway_connections_refused_fds_total"), 0)

    def test_a_silent_connection_is_counted_then_closed(self):
        """A connection that never sends waits outside lws (gateway/accept.h): it counts as a
        connection, and is closed after GW_ACCEPT_SILENT_S (10 s) as lws would have."""
        _, samples = self.metrics()
        base = value_of(samples, "evgate_gateway_connections")
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.p.gateway_port), timeout=30) as s:
            _, samples = self.metrics()  # accepted in order: the silent one is held by now
            self.assertGreaterEqual(value_of(samples, "evgate_gateway_connections"), base + 1)
            self.assertEqual(s.recv(1), b"")  # the gateway's close, not our timeout
        waited = time.monotonic() - t0
        self.assertGreaterEqual(waited, 9.0)
        self.assertLess(waited, 25.0)


@unittest.skipUnless(os.path.exists(GATEWAY), "gateway not built (%s)" % GATEWAY)
class GatewayLifecycleTest(unittest.TestCase):

    def setUp(self):
        self.platforms = []
        self.daemons = []

    def tearDown(self):
        for p in self.platforms:
            p.close()
        for d in self.daemons + [d for p in self.platforms for d in p.daemons.values()]:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(10)
            d.proc.stdout.close()

    def platform(self, extra_env=None):
        p = Platform(extra_env)
        self.platforms.append(p)
        return p

    def assertStopsCleanly(self, sig):
        p = self.platform().start(which=("gateway",))
        d = p.daemons["gateway"]
        self.assertEqual(p.gateway().get("/healthz").status, 200)
        rc = d.stop(sig, timeout=20)
        self.assertEqual(rc, 0, "exit %s on signal %d:\n%s" % (rc, sig, "\n".join(d.log)))
        self.assertTrue(any(re.search(r" info gateway stopped\b", l) for l in d.log),
                        "no `gateway stopped` line:\n%s" % "\n".join(d.log))
        self.assertTrue(any(re.search(r" info gateway listening addr=127\.0\.0\.1:%d\b"
                                      % p.gateway_port, l) for l in d.log), d.log)
        self.assertFalse([l for l in d.log if " error " in l], d.log)

    def test_sigterm_stops_with_0(self):
        self.assertStopsCleanly(signal.SIGTERM)

    def test_sigint_stops_with_0(self):
        self.assertStopsCleanly(signal.SIGINT)

    def test_restart_on_the_same_database_and_port(self):
        p = self.platform()
        for _ in range(2):
            p.start(which=("gateway",))
            self.daemons.append(p.daemons["gateway"])
            self.assertEqual(p.gateway().get("/healthz").status, 200)
            self.assertEqual(p.daemons["gateway"].stop(), 0)

    def test_help_lists_the_settings(self):
        p = self.platform()
        rc, out = run([GATEWAY, "--help"], p.env)
        self.assertEqual(rc, 0, out)
        for name in ("EVGATE_GATEWAY_LISTEN", "EVGATE_DB", "--gateway-listen",
                     "EVGATE_GW_MAX_CONNECTIONS", "EVGATE_GW_RX_BUFFER", "EVGATE_WRITER_BATCH_MS",
                     "EVGATE_WRITER_QUEUE_MAX"):
            self.assertIn(name, out, "--help does not list %s" % name)
        self.assertNotIn("EVGATE_MGMT_LISTEN", out)  # mgmt's settings are not the gateway's
        self.assertNotIn(" listening ", out)
        self.assertFalse(os.path.exists(p.env["EVGATE_DB"]), "--help created the database")

    def test_bad_settings_exit_nonzero_naming_them(self):
        p = self.platform()
        cases = [
            ({}, ["--gw-rx-buffer", "lots"], r"gw_rx_buffer"),
            ({}, ["--gw-max-connections=1"], r"gw_max_connections"),
            ({"EVGATE_WRITER_BATCH_MAX": "0"}, [], r"writer_batch_max"),
            ({"EVGATE_WRITER_QUEUE_MAX": "-5"}, [], r"writer_queue_max"),
            ({"EVGATE_GATEWAY_LISTEN": "no-port-here"}, [], r"gateway_listen"),
            ({"EVGATE_GATEWAY_LISTEN": "127.0.0.1:70000"}, [], r"gateway_listen"),
            ({"EVGATE_LOG_LEVEL": "loud"}, [], r"log_level"),
            ({}, ["--mgmt-listen", "127.0.0.1:1"], r"mgmt-listen"),  # not a gateway flag
        ]
        for env, args, rx in cases:
            with self.subTest(env=env, args=args):
                e = dict(p.env)
                e.update(env)
                rc, out = run([GATEWAY] + args, e)
                self.assertNotEqual(rc, 0, out)
                self.assertEqual(rc, 2, out)
                self.assertNotIn(" listening ", out)
                self.assertRegex(out, rx, "the message does not name the setting")

    def test_unusable_database_exits_1_with_a_clear_line(self):
        p = self.platform()
        os.makedirs(p.dir, exist_ok=True)
        newer = os.path.join(p.dir, "newer.db")
        con = sqlite3.connect(newer)
        con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        cases = [(p.dir, r" error gateway db_(open|migrate)_failed "),  # a directory
                 (newer, r" error gateway db_migrate_failed .*newer")]
        for path, rx in cases:
            with self.subTest(db=path):
                e = dict(p.env, EVGATE_DB=path)
                rc, out = run([GATEWAY], e)
                self.assertEqual(rc, 1, out)
                self.assertRegex(out, rx)
                self.assertNotIn(" listening ", out)

    def test_busy_port_exits_1(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            p = self.platform({"EVGATE_GATEWAY_LISTEN": "127.0.0.1:%d" % port})
            rc, out = run([GATEWAY], p.env)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r" error gateway listen_failed addr=127\.0\.0\.1:%d "
                              r"error=\"bind: Address already in use\"" % port)
        self.assertNotIn(" listening ", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
