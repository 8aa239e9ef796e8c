"""The admin dashboard (issue 10 item 6, GET /api/v1/admin/dashboard) against the real daemons:
piles connected through the gateway by evsim-pile — pile A (OCPP 1.6J, two connectors) charges
once and leaves, B (1.6J) and C (2.0.1) stay connected and idle, B also sends faulty frames — a
handshake refused for an unknown EquipmentID, reviews waiting (a registration, a detection
application, an access application), and online-pile samples: the gateway's own, every second
here (dashboard_sample_s=1), and older ones written into the table, of which those past
dashboard_keep_days are pruned. Each figure is compared with the scenario; only admins may read
it.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_dashboard.py"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD, Platform, admin_client, detection_application,  # noqa: E402
                     gated_operator, pile_body, register, registration, setup_ok,
                     station_body, unique_pdf, until)

API = "/api/v1"
EVSIM = os.path.join(BUILD, "simulators", "evsim-pile")
DAY = 86400



class DashboardTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.platform = Platform({"EVGATE_DASHBOARD_SAMPLE_S": "1",
                                 "EVGATE_DASHBOARD_KEEP_DAYS": "1"})
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix="evgate-dashboard-")
        try:
            cls.platform.start(("mgmt",))
            cls.make_scenario()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        cls.platform.close()
        for name in os.listdir(cls.tmp):
            os.unlink(os.path.join(cls.tmp, name))
        os.rmdir(cls.tmp)

    @classmethod
    def evsim(cls, ids, *args, protocol="ocpp1.6", password=None, background=False):
        gw = "ws://127.0.0.1:%d/ocpp" % cls.platform.gateway_port
        cmd = [EVSIM, "--url", gw, "--protocol", protocol, "--quiet"]
        cmd += ["--ids", ",".join(ids)] if ids else []
        cmd += ["--password", password] if password else ["--passwords-file", cls.pw_file]
        p = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        cls.procs.append(p)
        if not background:
            out, _ = p.communicate(timeout=60)
            return p.returncode, out.decode(errors="replace")
        return p

    @classmethod
    def make_scenario(cls):
        p, ok = cls.platform, setup_ok
        cls.admin = admin = admin_client(p)
        op = gated_operator(p, admin)
        st = ok(op.post(API + "/stations", station_body()), 201, "station")
        sid = st["station_id"]
        cls.a = ok(op.post(API + "/piles", pile_body(sid, connectors=2)), 201, "A")["equipment_id"]
        cls.b = ok(op.post(API + "/piles", pile_body(sid, connectors=1)), 201, "B")["equipment_id"]
        cls.c = ok(op.post(API + "/piles", pile_body(sid, connectors=1, protocol="ocpp2.0.1")),
                   201, "C")["equipment_id"]
        app = ok(op.post(API + "/piles/submit", {"equipment_ids": [cls.a, cls.b, cls.c]}), 201,
                 "submit")
        ok(admin.post(API + "/admin/access-applications/%d/approve" % app["id"], {}), 200,
           "approve")
        pws = ok(op.post(API + "/access-applications/%d/pile-passwords" % app["id"]), 200, "pw")
        cls.pw_file = os.path.join(cls.tmp, "passwords.json")
        with open(cls.pw_file, "w") as f:
            json.dump(pws, f)
        # waiting for an admin: an access application (a draft pile submitted), a detection
        # application, a registration
        d = ok(op.post(API + "/piles", pile_body(sid, connectors=1)), 201, "D")["equipment_id"]
        ok(op.post(API + "/piles/submit", {"equipment_ids": [d]}), 201, "submit D")
        det = ok(op.post(API + "/detections", detection_application("self")), 201, "detection")
        ok(op.post_multipart(API + "/detections/%d/materials" % det["id"], {},
                             {"file": ("申请表.pdf", unique_pdf(), "application/pdf")}), 201, "mat")
        ok(op.post(API + "/detections/%d/submit" % det["id"], {}), 200, "submit detection")
        r, _ = register(p.mgmt(), registration(), ("licence.pdf", unique_pdf(), "application/pdf"))
        ok(r, 201, "registration")
        cls.operator = op

        # samples the gateway wrote before: 3 h and 23 h ago (shown), 2 days ago (pruned when it
        # writes the next one: dashboard_keep_days=1)
        now = int(time.time())
        cls.old_samples = {now - 3 * 3600: 7, now - 23 * 3600: 4}
        db = sqlite3.connect(p.env["EVGATE_DB"], timeout=10, isolation_level=None)
        try:
            for at, n in list(cls.old_samples.items()) + [(now - 2 * DAY, 9)]:
                db.execute("INSERT INTO pile_online_samples (at, online) VALUES (?, ?)", (at, n))
        finally:
            db.close()

        p.start(("gateway",))
        # A charges once (2 s, a meter value a second) and leaves; B sends faulty frames, then
        # B and C stay connected; an unknown pile is refused
        cls.charger = cls.evsim([cls.a], "--connectors", "2", "--scenario", "charge",
                                "--session", "2", "--meter-interval", "1", background=True)
        faulty = cls.evsim([cls.b], "--scenario", "faulty", background=True)
        until(lambda: cls.db_int("SELECT count(*) FROM pile_violations WHERE equipment_id = ?",
                                 (cls.b,)), "B's violations recorded", seconds=30)
        faulty.send_signal(signal.SIGTERM)
        faulty.communicate(timeout=30)
        cls.evsim([cls.b], "--scenario", "idle", background=True)
        cls.evsim([cls.c], "--scenario", "idle", protocol="ocpp2.0.1", background=True)
        rc, out = cls.evsim(["NOSUCHPILE1"], "--scenario", "boot", password="x" * 32)
        if "handshake failed, HTTP 404: 1" not in out:
            raise AssertionError("an unknown pile was not refused: " + out)
        until(lambda: cls.db_int("SELECT count(*) FROM ocpp_transactions WHERE equipment_id = ?"
                                 " AND stopped_at IS NOT NULL", (cls.a,)), "A's finished session",
              seconds=30)
        cls.charger.send_signal(signal.SIGTERM)
        cls.charger.communicate(timeout=30)
        # everything settled: A offline, B and C online, a sample taken since
        cls.dash = until(cls.settled, "the dashboard to show the scenario", seconds=30)

    @classmethod
    def db_int(cls, sql, args=()):
        db = sqlite3.connect(cls.platform.env["EVGATE_DB"], timeout=10)
        try:
            return db.execute(sql, args).fetchone()[0]
        finally:
            db.close()

    @classmethod
    def settled(cls):
        r = cls.admin.get(API + "/admin/dashboard")
        if r.status != 200:
            raise AssertionError("dashboard: %r" % r)
        d = r.json()
        points = d["online_24h"]["points"]
        by = {x["status"]: x["count"] for x in d["connectors"]["by_status"]}
        if d["piles"]["online"] == 2 and by.get("Offline") == 2 and by.get("Available") == 2 \
                and points and points[-1]["online"] == 2 and len(d["recent_violations"]) >= 2:
            return d
        return None

    def test_piles_by_protocol(self):
        piles = self.dash["piles"]
        self.assertEqual((piles["accessed"], piles["online"], piles["offline"]), (3, 2, 1))
        by = {x["protocol"]: (x["accessed"], x["online"], x["offline"])
              for x in piles["by_protocol"]}
        self.assertEqual(by, {"ocpp1.6": (2, 1, 1), "ocpp2.0.1": (1, 1, 0),
                              "platform": (0, 0, 0)})

    def test_connector_statuses(self):
        conns = self.dash["connectors"]
        # B's and C's connector idle; A's two offline since it left (connector 0 is not one)
        self.assertEqual(conns["by_status"], [{"status": "Available", "count": 2},
                                              {"status": "Offline", "count": 2}])
        self.assertEqual(conns["by_tcec_status"], [{"tcec_status": 0, "count": 2},
                                                   {"tcec_status": 1, "count": 2}])
        self.assertEqual(conns["reported"], 4)

    def test_today(self):
        today = self.dash["today"]
        db = sqlite3.connect(self.platform.env["EVGATE_DB"], timeout=10)
        try:
            since = int(db.execute("SELECT unixepoch(?)", (today["since_at"],)).fetchone()[0])
            rows = db.execute("SELECT started_at, stopped_at, energy_wh FROM ocpp_transactions"
                              " WHERE equipment_id = ?", (self.a,)).fetchall()
        finally:
            db.close()
        # midnight in China Standard Time
        self.assertEqual((since + 8 * 3600) % DAY, 0)
        self.assertLessEqual(time.time() - since, DAY)
        todays = [r for r in rows if r[0] >= since]
        self.assertGreaterEqual(len(rows), 1)
        self.assertEqual(today["sessions"], len(todays))
        self.assertEqual(today["finished"], sum(1 for r in todays if r[1] is not None))
        energy = sum(r[2] or 0 for r in todays)
        self.assertEqual(today["energy_wh"], energy)
        self.assertAlmostEqual(today["energy_kwh"], energy / 1000.0)
        if todays:  # (a run across midnight China time has its session yesterday)
            self.assertGreater(energy, 0, "the charging session metered energy")

    def test_pending_reviews(self):
        self.assertEqual(self.dash["pending"],
                         {"accounts": 1, "detections": 1, "access_applications": 1})

    def test_recent_violations(self):
        v = self.dash["recent_violations"]
        self.assertLessEqual(len(v), 10)
        refused = [x for x in v if x["kind"] == "handshake_refused"]
        self.assertEqual([(x["subject"], x["code"]) for x in refused],
                         [("NOSUCHPILE1", "unknown_pile")])
        self.assertTrue(refused[0]["detail"].startswith("HTTP 404"), refused[0])
        faulty = [x for x in v if x["kind"] == "ocpp_violation"]
        self.assertTrue(faulty, v)
        self.assertEqual({x["subject"] for x in faulty}, {self.b})
        ats = [x["at"] for x in v]
        self.assertEqual(ats, sorted(ats, reverse=True), "newest first")

    def test_online_series(self):
        s = self.dash["online_24h"]
        self.assertEqual(s["step_s"], 300)
        points = s["points"]
        db = sqlite3.connect(self.platform.env["EVGATE_DB"], timeout=10)
        try:
            at = [int(db.execute("SELECT unixepoch(?)", (p["at"],)).fetchone()[0])
                  for p in points]
            kept = db.execute("SELECT count(*) FROM pile_online_samples WHERE at < ?",
                              (int(time.time()) - DAY - 60,)).fetchone()[0]
        finally:
            db.close()
        self.assertEqual(at, sorted(at))
        old = {a: p["online"] for a, p in zip(at, points) if a in self.old_samples}
        self.assertEqual(old, self.old_samples, "the written samples are points")
        self.assertEqual(points[-1]["online"], 2, "the gateway's sample of B and C")
        self.assertEqual(kept, 0, "samples past dashboard_keep_days are pruned")
        # the gateway samples every second: one point per 5-minute step all the same
        steps = [a // 300 for a in at]
        self.assertEqual(len(steps), len(set(steps)))

    def test_z_refused_handshakes_are_recorded_within_a_budget(self):
        # last: anyone can cause refusals, so the gateway records at most
        # GW_REFUSALS_RECORDED_PER_MIN (60) a minute; 150 at once leave fewer than 150 rows
        # (at most two minutes' worth, 120) and every one counted in /metrics
        rc, out = self.evsim([], "--prefix", "FLOOD", "--count", "150", "--scenario", "boot",
                             "--rate", "2000", password="x" * 32)
        self.assertIn("handshake failed, HTTP 404: 150", out)
        # a later write through the gateway's writer (A boots again; answered once committed)
        # means the refusals before it are committed too
        rc, out = self.evsim([self.a], "--scenario", "boot")
        self.assertIn("piles connected 1", out)
        flood = self.db_int("SELECT count(*) FROM ocpp_refusals WHERE equipment_id LIKE 'FLOOD%'")
        self.assertGreaterEqual(flood, 1)
        self.assertLessEqual(flood, 120)
        metrics = self.platform.gateway().get("/metrics").body.decode()
        refused = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                      if not line.startswith("#") and "handshake" in line.split("{")[0]
                      and '"unknown_pile"' in line)
        self.assertEqual(refused, 151)

    def test_admins_only(self):
        self.assertEqual(self.operator.get(API + "/admin/dashboard").status, 403)
        self.assertEqual(self.platform.mgmt().get(API + "/admin/dashboard").status, 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
