"""Conformance runs, mgmt's side (docs/api-runs.md, docs/conformance.md) against the real mgmt:
the plans, queueing runs of piles and of an operator platform with every refusal, who sees what,
lists, cancel, a person's confirmation, and the JSON and PDF reports.

No gateway runs: the test plays it in SQLite, writing the rows exactly as db_run_start,
db_run_check_start, db_run_check_verdict and db_run_finish do. "Online" is an open pile_sessions
row written here, as the gateway writes it."""

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import (MgmtCase, active_operator, detection_application,  # noqa: E402
                     error_code, error_details, gated_operator, pile_body, station_body,
                     unique_pdf)

API = "/api/v1"
PLAN_SIZES = {"ocpp16-core": 36, "ocpp201-core": 34, "tcec102-platform": 20}


def db_connect(platform):
    c = sqlite3.connect(platform.env["EVGATE_DB"], timeout=10, isolation_level=None)
    c.execute("PRAGMA busy_timeout = 10000")
    return c


def pdf_text(case, data):
    """The text of PDF bytes by pdftotext, with every space and line break removed (a table cell
    wraps wherever it likes); skips the test without pdftotext (poppler-utils)."""
    if not shutil.which("pdftotext"):
        case.skipTest("needs pdftotext (poppler-utils)")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                         capture_output=True, check=True, timeout=60).stdout.decode("utf-8")
    return "".join(out.split())


def squash(s):
    return "".join(s.split())


class RunsCase(MgmtCase):
    """Operator A (past the access gate) with accessed piles of both versions, an offline one
    and a draft one; operator B with nothing; operator P with an approved `self` detection
    (its platform); the admin."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.setUpData()
        except BaseException:
            cls.platform.close()
            raise

    @classmethod
    def setUpData(cls):
        a = cls.a = gated_operator(cls.platform, cls.admin)
        cls.b = active_operator(cls.platform, cls.admin)
        cls.db = db_connect(cls.platform)
        sid = "RUNST" + a.operator_id[:6]
        assert a.post(API + "/stations", station_body(sid)).status == 201
        protos = ["ocpp1.6"] * 9 + ["ocpp2.0.1"]
        ids = []
        for proto in protos:
            b = pile_body(sid, protocol=proto)
            r = a.post(API + "/piles", b)
            assert r.status == 201, r
            ids.append(b["equipment_id"])
        r = a.post(API + "/piles/submit", {"equipment_ids": ids})
        assert r.status == 201, r
        r = cls.admin.post(API + "/admin/access-applications/%d/approve" % r.json()["id"], {})
        assert r.status == 200, r
        cls.offline = ids.pop(0)
        cls.p201 = ids.pop()
        cls.free16 = ids  # one per test that needs a fresh 1.6 pile
        b = pile_body(sid)
        assert a.post(API + "/piles", b).status == 201
        cls.draft = b["equipment_id"]
        for eid in cls.free16 + [cls.p201, cls.draft]:
            cls.db.execute("INSERT INTO pile_sessions (equipment_id, protocol, peer, connected_at)"
                           " VALUES (?, 'ocpp1.6', '127.0.0.1', ?)", (eid, int(time.time())))
        # a pile that was connected once: a closed session is not online
        cls.db.execute("INSERT INTO pile_sessions (equipment_id, protocol, peer, connected_at,"
                       " disconnected_at, close_reason) VALUES (?, 'ocpp1.6', '127.0.0.1', ?, ?,"
                       " 'peer_closed')", (cls.offline, int(time.time()) - 60, int(time.time())))
        # P: an approved self application (not yet passed), its platform's credentials later
        p = cls.p = active_operator(cls.platform, cls.admin)
        r = p.post(API + "/detections", detection_application("self"))
        assert r.status == 201, r
        did = cls.p_detection = r.json()["id"]
        r = p.post_multipart(API + "/detections/%d/materials" % did, {},
                             {"file": ("申请表.pdf", unique_pdf(), "application/pdf")})
        assert r.status == 201, r
        assert p.post(API + "/detections/%d/submit" % did, {}).status == 200
        assert cls.admin.post(API + "/admin/detections/%d/approve" % did, {}).status == 200

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        super().tearDownClass()

    def pile(self):
        """A connected, accessed ocpp1.6 pile of A that no other test uses."""
        return type(self).free16.pop()

    def start(self, eid, client=None, plan="ocpp16-core"):
        r = (client or self.a).post(API + "/conformance-runs", {"plan": plan, "equipment_id": eid})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def assertError(self, r, status, code, field=None, field_code=None):
        body = super().assertError(r, status, code, field, field_code)
        return body

    def runs_of(self, target):
        return self.db.execute("SELECT count(*) FROM conformance_runs WHERE target = ?",
                               (target,)).fetchone()[0]

    # --- the gateway, played in SQLite (the statements of db/runs.c) ---------------------------

    def gw_start(self, rid):
        n = self.db.execute("UPDATE conformance_runs SET state = 'running', started_at = ?"
                            " WHERE id = ? AND state = 'queued'", (int(time.time()), rid)).rowcount
        self.assertEqual(n, 1)

    def gw_check_start(self, rid, seq):
        n = self.db.execute("UPDATE conformance_checks SET verdict = 'running', started_at = ?"
                            " WHERE run_id = ? AND seq = ? AND verdict = 'pending'",
                            (int(time.time()), rid, seq)).rowcount
        self.assertEqual(n, 1)

    def gw_verdict(self, rid, seq, verdict, reason=None, frames=(), dropped=0):
        now = int(time.time())
        n = self.db.execute(
            "UPDATE conformance_checks SET verdict = ?, reason = ?, frames = ?,"
            " frames_dropped = ?, started_at = coalesce(started_at, ?), finished_at = ?"
            " WHERE run_id = ? AND seq = ? AND verdict IN ('pending', 'running')",
            (verdict, reason, json.dumps(list(frames), ensure_ascii=False), dropped, now, now,
             rid, seq)).rowcount
        self.assertEqual(n, 1)

    def gw_finish(self, rid, state, reason):
        """db_run_finish: undecided checks skipped (error: a running one errs) with the reason it
        gives them, then the run."""
        now = int(time.time())
        why = {"passed": "the run ended before this check", "failed":
               "the run ended before this check", "cancelled": "cancelled"}.get(state, reason)
        self.db.execute("UPDATE conformance_checks SET verdict = CASE WHEN verdict = 'running'"
                        " AND ? = 'error' THEN 'error' ELSE 'skipped' END, reason = ?,"
                        " finished_at = ? WHERE run_id = ? AND verdict IN ('pending', 'running')",
                        (state, why, now, rid))
        n = self.db.execute("UPDATE conformance_runs SET state = ?, reason = ?, finished_at = ?"
                            " WHERE id = ? AND state = 'running'", (state, reason, now, rid)).rowcount
        self.assertEqual(n, 1)


BOOT_OUT = '[2,"c1","Reset",{"type":"Hard"}]'
BOOT_IN = '[2,"p1","BootNotification",{"chargePointVendor":"evgate","chargePointModel":"sim"}]'
HB_REASON = "心跳间隔 300 s，超出设定的 60 s (heartbeat interval 300 s, expected 60 s)"


class PlansTest(RunsCase):
    def test_every_plan_with_its_checks(self):
        r = self.b.get(API + "/conformance-plans")  # any active account
        self.assertEqual(r.status, 200, r)
        plans = {p["name"]: p for p in r.json()["items"]}
        self.assertEqual(set(plans), set(PLAN_SIZES))
        for name, size in PLAN_SIZES.items():
            p = plans[name]
            self.assertEqual(len(p["checks"]), size, name)
            self.assertEqual([c["seq"] for c in p["checks"]], list(range(1, size + 1)))
            for c in p["checks"]:
                self.assertEqual(set(c), {"seq", "id", "title_zh", "title_en", "what",
                                          "required", "needs", "timeout_s"}, c)
                self.assertTrue(c["title_zh"] and c["title_en"] and c["what"], c)
                self.assertTrue(1 <= c["timeout_s"] <= 600, c)
                self.assertTrue(set(c["needs"]) <= {"person", "cable", "card"}, c)
        self.assertEqual((plans["ocpp16-core"]["target_kind"], plans["ocpp16-core"]["protocol"]),
                         ("pile", "ocpp1.6"))
        self.assertEqual(plans["ocpp201-core"]["protocol"], "ocpp2.0.1")
        self.assertEqual((plans["tcec102-platform"]["target_kind"],
                          plans["tcec102-platform"]["protocol"]), ("platform", None))
        # the plans' titles (protocol/plans.h), as the report and the UI name them
        self.assertEqual({n: (p["title_zh"], p["title_en"]) for n, p in plans.items()}, {
            "ocpp16-core": ("OCPP 1.6 核心功能检测", "OCPP 1.6 core"),
            "ocpp201-core": ("OCPP 2.0.1 核心功能检测", "OCPP 2.0.1 core"),
            "tcec102-platform": ("T/CEC 102 平台互联检测", "T/CEC 102 platform interconnection")})
        self.assertEqual(set(plans["ocpp16-core"]), {"name", "title_zh", "title_en", "target_kind",
                                                     "protocol", "checks"})
        c16 = {c["id"]: c for c in plans["ocpp16-core"]["checks"]}
        first = plans["ocpp16-core"]["checks"][0]
        self.assertEqual((first["id"], first["title_zh"], first["needs"], first["timeout_s"],
                          first["required"]),
                         ("boot.first-message", "冷启动后首条消息为 BootNotification", [], 300, True))
        self.assertEqual(c16["authorize.card"]["needs"], ["card"])
        self.assertEqual(c16["tx.local-start"]["needs"], ["cable"])
        self.assertFalse(c16["trigger.diagnostics-status"]["required"])
        self.assertEqual(plans["tcec102-platform"]["checks"][0]["id"], "token.evgate-obtains")

    def test_needs_a_login(self):
        self.assertError(self.anon().get(API + "/conformance-plans"), 401, "unauthenticated")
        self.assertError(self.anon().get(API + "/conformance-runs"), 401, "unauthenticated")


class CreateTest(RunsCase):
    def test_body_errors_name_the_field(self):
        eid = self.free16[0]
        cases = [
            ({}, "plan", "required"),
            ({"plan": "nope", "equipment_id": eid}, "plan", "unknown_plan"),
            ({"plan": 7, "equipment_id": eid}, "plan", "unknown_plan"),
            ({"plan": "ocpp16-core"}, "equipment_id", "required"),
            ({"plan": "ocpp16-core", "equipment_id": 12}, "equipment_id", "bad_format"),
            ({"plan": "ocpp16-core", "equipment_id": eid, "detection_id": 1}, "detection_id",
             "not_allowed"),
            ({"plan": "tcec102-platform"}, "detection_id", "required"),
            ({"plan": "tcec102-platform", "detection_id": "1"}, "detection_id", "bad_format"),
            ({"plan": "tcec102-platform", "detection_id": 0}, "detection_id", "bad_format"),
            ({"plan": "ocpp16-core", "equipment_id": eid, "extra": 1}, "extra", "unknown_field"),
        ]
        for body, field, code in cases:
            r = self.a.post(API + "/conformance-runs", body)
            self.assertError(r, 400, "bad_request", field, code)
        self.assertError(self.a.post(API + "/conformance-runs", [1]), 400, "bad_request")
        self.assertEqual(self.runs_of(eid), 0)

    def test_unknown_or_another_operators_pile_is_404(self):
        eid = self.free16[0]
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": "NOSUCHPILE"})
        self.assertError(r, 404, "not_found", "equipment_id")
        r = self.b.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": eid})
        self.assertError(r, 404, "not_found", "equipment_id")
        self.assertEqual(self.runs_of(eid), 0)

    def test_pile_refusals_are_409(self):
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": self.draft})
        body = self.assertError(r, 409, "wrong_state", "equipment_id", "not_accessed")
        self.assertEqual(error_details(r)[0].get("current"), "draft", body)
        # the pile's protocol is not the plan's, both ways round
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp201-core", "equipment_id": self.free16[0]})
        self.assertError(r, 409, "wrong_protocol", "equipment_id")
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": self.p201})
        self.assertError(r, 409, "wrong_protocol", "equipment_id")
        # a pile plan on a platform is refused by plan, not by the pile
        r = self.a.post(API + "/conformance-runs", {"plan": "tcec102-platform",
                                        "equipment_id": self.free16[0]})
        self.assertError(r, 400, "bad_request", "equipment_id", "not_allowed")
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": self.offline})
        self.assertError(r, 409, "pile_offline", "equipment_id")
        for eid in (self.draft, self.offline, self.free16[0]):
            self.assertEqual(self.runs_of(eid), 0, eid)
        self.assertEqual(self.db.execute("SELECT count(*) FROM conformance_runs WHERE target = ?"
                                         " AND plan = 'ocpp16-core'", (self.p201,)).fetchone()[0], 0)

    def test_queue_a_pile_run(self):
        eid = self.pile()
        run = self.start(eid)
        self.assertEqual((run["plan"], run["target_kind"], run["target"], run["state"]),
                         ("ocpp16-core", "pile", eid, "queued"))
        self.assertIsNone(run["detection_id"])
        self.assertEqual(run["account_id"], self.a.account["id"])
        self.assertEqual(run["started_by"], self.a.fields["username"])
        self.assertEqual(run["target_name"], "中山市东区测试充电站 DC-120")
        self.assertEqual(run["target_company"], self.a.fields["company_name"])
        self.assertEqual(run["plan_title_zh"], "OCPP 1.6 核心功能检测")
        self.assertRegex(run["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(run["started_at"])
        self.assertFalse(run["cancel_requested"])
        self.assertEqual(run["summary"]["total"], 36)
        self.assertEqual(run["summary"]["pending"], 36)
        checks = run["checks"]
        self.assertEqual([c["seq"] for c in checks], list(range(1, 37)))
        self.assertTrue(all(c["verdict"] == "pending" and c["frames"] == [] for c in checks))
        self.assertEqual((checks[0]["check_id"], checks[0]["title_zh"], checks[0]["needs"],
                          checks[0]["timeout_s"]),
                         ("boot.first-message", "冷启动后首条消息为 BootNotification", [], 300))
        self.assertEqual(checks[23]["check_id"], "authorize.card")
        self.assertEqual(checks[23]["needs"], ["card"])
        self.assertIn("title_en", checks[0])
        self.assertIn("what", checks[0])
        # one row per plan entry, in plan order, as stored
        rows = self.db.execute("SELECT seq, check_id, required, verdict FROM conformance_checks"
                               " WHERE run_id = ? ORDER BY seq", (run["id"],)).fetchall()
        self.assertEqual(len(rows), 36)
        self.assertEqual(rows[11], (12, "trigger.diagnostics-status", 0, "pending"))
        self.assertEqual(self.db.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'run.created' AND object_type = 'run'"
            " AND object_id = ? AND actor_account_id = ? AND json_extract(detail, '$.target') = ?",
            (run["id"], self.a.account["id"], eid)).fetchone()[0],
            1)
        # GET answers the same run
        r = self.a.get(API + "/conformance-runs/%d" % run["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), run)
        # one active run per pile: the second is refused and names the first
        r = self.a.post(API + "/conformance-runs", {"plan": "ocpp16-core", "equipment_id": eid})
        self.assertError(r, 409, "run_active", "equipment_id", "run_active")
        self.assertEqual(error_details(r)[0]["run_id"], run["id"])
        self.assertEqual(self.runs_of(eid), 1)

    def test_admin_queues_on_any_pile_and_the_owner_sees_it(self):
        eid = self.pile()
        run = self.start(eid, client=self.admin)
        self.assertEqual(run["started_by"], "admin")
        r = self.a.get(API + "/conformance-runs/%d" % run["id"])
        self.assertEqual(r.status, 200, r)
        ids = [x["id"] for x in self.a.get(API + "/conformance-runs?target=" + eid).json()["items"]]
        self.assertEqual(ids, [run["id"]])

    def test_ocpp201_plan_on_a_201_pile(self):
        run = self.start(self.p201, plan="ocpp201-core")
        self.assertEqual(len(run["checks"]), 34)
        self.assertEqual(run["checks"][0]["check_id"], "boot.first-message")
        r = self.a.post(API + "/conformance-runs/%d/cancel" % run["id"])
        self.assertEqual(r.status, 200, r)


class VisibilityTest(RunsCase):
    def test_another_operator_sees_nothing_of_a_run(self):
        run = self.start(self.pile())
        rid = run["id"]
        for method, path in (("GET", "/conformance-runs/%d"), ("GET", "/conformance-runs/%d?frames=0"),
                             ("GET", "/conformance-runs/%d/checks/1"), ("GET", "/conformance-runs/%d/checks/99"),
                             ("POST", "/conformance-runs/%d/cancel"),
                             ("POST", "/conformance-runs/%d/checks/24/confirm"), ("GET", "/conformance-runs/%d/report.json"),
                             ("GET", "/conformance-runs/%d/report.pdf")):
            r = self.b.request(method, API + path % rid, json_body={} if method == "POST" else None)
            self.assertError(r, 404, "not_found")
        r = self.b.get(API + "/conformance-runs")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["total"], r.json()["items"]), (0, []))
        r = self.b.get(API + "/conformance-runs?target=" + run["target"])
        self.assertEqual(r.json()["total"], 0)
        # nothing changed by B's attempts
        row = self.db.execute("SELECT state, cancel_requested FROM conformance_runs WHERE id = ?",
                              (rid,)).fetchone()
        self.assertEqual(row, ("queued", 0))
        self.assertIsNone(self.db.execute("SELECT confirmed_at FROM conformance_checks WHERE"
                                          " run_id = ? AND seq = 24", (rid,)).fetchone()[0])
        # the admin sees it, and so does a 404 for a run that does not exist
        self.assertEqual(self.admin.get(API + "/conformance-runs/%d" % rid).status, 200)
        self.assertError(self.a.get(API + "/conformance-runs/%d" % (rid + 100000)), 404, "not_found")


class ListTest(RunsCase):
    def test_filters_and_paging(self):
        e1, e2 = self.pile(), self.pile()
        r1 = self.start(e1)
        self.gw_start(r1["id"])
        self.gw_finish(r1["id"], "error", "the pile disconnected")
        r2 = self.start(e1)
        r3 = self.start(e2)
        mine = [r3["id"], r2["id"], r1["id"]]

        def ids(client, query=""):
            r = client.get(API + "/conformance-runs" + query)
            self.assertEqual(r.status, 200, r)
            return r.json()

        body = ids(self.a, "?target=%s" % e1)
        self.assertEqual([x["id"] for x in body["items"]], [r2["id"], r1["id"]])
        self.assertEqual(body["total"], 2)
        item = body["items"][0]
        self.assertNotIn("checks", item)
        self.assertEqual(item["summary"]["total"], 36)
        self.assertEqual(item["target_name"], "中山市东区测试充电站 DC-120")
        self.assertRegex(item["created_at"], r"Z$")
        self.assertEqual([x["id"] for x in ids(self.a, "?state=error")["items"]
                          if x["id"] in mine], [r1["id"]])
        got = [x["id"] for x in ids(self.a, "?plan=ocpp16-core&page_size=200")["items"]]
        self.assertEqual([i for i in got if i in mine], mine)  # newest first
        self.assertEqual(ids(self.a, "?plan=tcec102-platform")["total"], 0)
        # paging: the admin's list (this class's runs only), one per page, newest first
        for page, want in ((1, r3["id"]), (2, r2["id"]), (3, r1["id"])):
            body = ids(self.admin, "?page_size=1&page=%d&%s" % (
                page, urllib.parse.urlencode({"plan": "ocpp16-core"})))
            self.assertEqual((body["page"], body["page_size"], body["total"]), (page, 1, 3))
            self.assertEqual([x["id"] for x in body["items"]], [want])
        self.assertEqual(ids(self.admin, "?page_size=1&page=4")["items"], [])
        body = ids(self.admin, "?target=%s&page_size=1&page=2" % e1)
        self.assertEqual(([x["id"] for x in body["items"]], body["total"], body["page"]),
                         ([r1["id"]], 2, 2))
        for bad, field in (("state=done", "state"), ("plan=nope", "plan"),
                           ("target=a-b", "target"), ("page_size=100000", "page_size"),
                           ("page=0", "page")):
            r = self.a.get(API + "/conformance-runs?" + bad)
            self.assertError(r, 422, "validation_failed", field)


class ProgressTest(RunsCase):
    def test_the_gateways_progress_shows(self):
        eid = self.pile()
        rid = self.start(eid)["id"]
        self.gw_start(rid)
        self.gw_check_start(rid, 1)
        self.gw_verdict(rid, 1, "pass", None,
                        [{"dir": "out", "ms": 0, "text": BOOT_OUT},
                         {"dir": "in", "ms": 5210, "text": BOOT_IN}])
        self.gw_check_start(rid, 2)
        self.gw_verdict(rid, 2, "pass")
        self.gw_check_start(rid, 3)
        self.gw_verdict(rid, 3, "fail", HB_REASON,
                        [{"dir": "in", "ms": 300000, "text": '[2,"p9","Heartbeat",{}]'}])
        self.gw_check_start(rid, 4)
        r = self.a.get(API + "/conformance-runs/%d" % rid)
        self.assertEqual(r.status, 200, r)
        run = r.json()
        self.assertEqual(run["state"], "running")
        self.assertRegex(run["started_at"], r"Z$")
        c = run["checks"]
        self.assertEqual([x["verdict"] for x in c[:5]], ["pass", "pass", "fail", "running",
                                                          "pending"])
        self.assertEqual(c[0]["frames"][1], {"dir": "in", "ms": 5210, "text": BOOT_IN})
        self.assertEqual(c[2]["reason"], HB_REASON)
        self.assertEqual(c[2]["title_zh"], "按设定间隔发送心跳")
        self.assertRegex(c[2]["finished_at"], r"Z$")
        self.assertEqual(run["summary"], {"total": 36, "pending": 32, "running": 1, "pass": 2,
                                          "fail": 1, "skipped": 0, "error": 0})

        # a person confirms the card of check 24 while it waits
        r = self.a.post(API + "/conformance-runs/%d/checks/24/confirm" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["seq"], r.json()["check_id"]), (24, "authorize.card"))
        self.assertRegex(r.json()["confirmed_at"], r"Z$")
        self.assertIsNotNone(self.db.execute("SELECT confirmed_at FROM conformance_checks WHERE"
                                             " run_id = ? AND seq = 24", (rid,)).fetchone()[0])
        self.assertEqual(self.a.post(API + "/conformance-runs/%d/checks/24/confirm" % rid).status, 200)
        self.assertEqual(self.db.execute("SELECT count(*) FROM audit_log WHERE action ="
                                         " 'run.check_confirmed' AND object_id = ?",
                                         (rid,)).fetchone()[0], 2)
        # a check without a manual step, a decided one, one that does not exist
        r = self.a.post(API + "/conformance-runs/%d/checks/5/confirm" % rid)
        self.assertError(r, 400, "bad_request", "seq", "no_manual_step")
        self.db.execute("UPDATE conformance_checks SET verdict = 'skipped', reason = 'no card'"
                        " WHERE run_id = ? AND seq = 27", (rid,))
        r = self.a.post(API + "/conformance-runs/%d/checks/27/confirm" % rid)
        self.assertError(r, 409, "check_decided", "seq", "decided")
        r = self.a.post(API + "/conformance-runs/%d/checks/99/confirm" % rid)
        self.assertError(r, 404, "not_found", "seq")
        self.assertIsNone(self.db.execute("SELECT confirmed_at FROM conformance_checks WHERE"
                                          " run_id = ? AND seq = 5", (rid,)).fetchone()[0])

        # cancel while running: only a request to the engine
        r = self.a.post(API + "/conformance-runs/%d/cancel" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"id": rid, "state": "running", "cancel_requested": True})
        self.assertEqual(self.db.execute("SELECT state, cancel_requested FROM conformance_runs"
                                         " WHERE id = ?", (rid,)).fetchone(), ("running", 1))
        # the engine ends it
        self.gw_finish(rid, "cancelled", "cancelled")
        run = self.a.get(API + "/conformance-runs/%d" % rid).json()
        self.assertEqual(run["state"], "cancelled")
        self.assertEqual(run["checks"][3]["verdict"], "skipped")
        r = self.a.post(API + "/conformance-runs/%d/cancel" % rid)
        self.assertError(r, 409, "run_finished", "state")
        r = self.a.post(API + "/conformance-runs/%d/checks/25/confirm" % rid)
        self.assertError(r, 409, "run_finished", "state")
        # the pile takes a new run now
        self.start(eid)

    def test_poll_without_frames_then_one_check_with_them(self):
        eid = self.pile()
        rid = self.start(eid)["id"]
        self.gw_start(rid)
        frames = [{"dir": "out", "ms": 0, "text": BOOT_OUT},
                  {"dir": "in", "ms": 5210, "text": BOOT_IN}]
        self.gw_verdict(rid, 1, "pass", None, frames)
        self.gw_verdict(rid, 3, "fail", HB_REASON,
                        [{"dir": "in", "ms": 300000, "text": '[2,"p9","Heartbeat",{}]'}], dropped=5)
        self.gw_check_start(rid, 4)
        full = self.a.get(API + "/conformance-runs/%d" % rid).json()
        # ?frames=0: the same run, each check without frames but with their number
        r = self.a.get(API + "/conformance-runs/%d?frames=0" % rid)
        self.assertEqual(r.status, 200, r)
        light = r.json()
        self.assertEqual(len(light["checks"]), 36)
        for c, f in zip(light["checks"], full["checks"]):
            self.assertNotIn("frames", c)
            self.assertEqual(c["frames_count"], len(f["frames"]), c)
            self.assertEqual({k: v for k, v in c.items() if k != "frames_count"},
                             {k: v for k, v in f.items() if k != "frames"})
        self.assertEqual({k: v for k, v in light.items() if k != "checks"},
                         {k: v for k, v in full.items() if k != "checks"})
        self.assertEqual(self.admin.get(API + "/conformance-runs/%d?frames=0" % rid).json(), light)
        c = light["checks"]
        self.assertEqual((c[0]["frames_count"], c[0]["frames_dropped"]), (2, 0))
        self.assertEqual((c[2]["frames_count"], c[2]["frames_dropped"], c[2]["verdict"]),
                         (1, 5, "fail"))
        self.assertEqual((c[3]["frames_count"], c[3]["verdict"]), (0, "running"))
        # ?frames=1 or an empty value is the whole run, as without the parameter
        for query in ("?frames=1", "?frames="):
            self.assertEqual(self.a.get(API + "/conformance-runs/%d%s" % (rid, query)).json(), full)
        self.assertNotIn("frames_count", full["checks"][0])
        for bad in ("2", "no", "false", "00"):
            r = self.a.get(API + "/conformance-runs/%d?frames=%s" % (rid, bad))
            self.assertError(r, 422, "validation_failed", "frames", "bad_format")

        # one check with its frames, as it stands in the whole run
        r = self.a.get(API + "/conformance-runs/%d/checks/1" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), full["checks"][0])
        self.assertEqual(r.json()["frames"], frames)
        self.assertEqual(r.json()["title_zh"], "冷启动后首条消息为 BootNotification")
        self.assertRegex(r.json()["finished_at"], r"Z$")
        check = self.a.get(API + "/conformance-runs/%d/checks/3" % rid).json()
        self.assertEqual((check["seq"], check["check_id"], check["verdict"], check["reason"],
                          check["frames_dropped"], check["timeout_s"]),
                         (3, "heartbeat.interval", "fail", HB_REASON, 5, 150))
        self.assertEqual(len(check["frames"]), 1)
        self.assertIn("what", check)
        self.assertEqual(check["needs"], [])
        self.assertEqual(self.a.get(API + "/conformance-runs/%d/checks/24" % rid).json()["needs"], ["card"])
        self.assertEqual(self.admin.get(API + "/conformance-runs/%d/checks/1" % rid).json(), full["checks"][0])
        # another operator's run, no such check, no such run
        self.assertError(self.b.get(API + "/conformance-runs/%d?frames=0" % rid), 404, "not_found")
        self.assertError(self.b.get(API + "/conformance-runs/%d/checks/1" % rid), 404, "not_found")
        self.assertError(self.a.get(API + "/conformance-runs/%d/checks/37" % rid), 404, "not_found", "seq",
                         "not_found")
        self.assertError(self.a.get(API + "/conformance-runs/%d/checks/1" % (rid + 100000)), 404,
                         "not_found")
        self.assertError(self.a.get(API + "/conformance-runs/%d?frames=0" % (rid + 100000)), 404,
                         "not_found")

    def test_cancel_a_queued_run_ends_it_at_once(self):
        eid = self.pile()
        rid = self.start(eid)["id"]
        r = self.a.post(API + "/conformance-runs/%d/cancel" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"id": rid, "state": "cancelled", "cancel_requested": False})
        row = self.db.execute("SELECT state, finished_at IS NOT NULL FROM conformance_runs"
                              " WHERE id = ?", (rid,)).fetchone()
        self.assertEqual(row, ("cancelled", 1))
        self.assertEqual(self.db.execute("SELECT count(*) FROM conformance_checks WHERE run_id = ?"
                                         " AND verdict <> 'skipped'", (rid,)).fetchone()[0], 0)
        self.assertEqual(self.db.execute("SELECT count(*) FROM audit_log WHERE action ="
                                         " 'run.cancel' AND object_id = ?", (rid,)).fetchone()[0],
                         1)
        self.assertError(self.a.post(API + "/conformance-runs/%d/cancel" % rid), 409, "run_finished")
        # the admin cancels an operator's run too
        rid = self.start(eid)["id"]
        r = self.admin.post(API + "/conformance-runs/%d/cancel" % rid)
        self.assertEqual((r.status, r.json()["state"]), (200, "cancelled"))


class ReportTest(RunsCase):
    def finished_run(self):
        """A failed run: check 1 passes, 2 fails with a long reason, 3 fails with 40 frames, one
        of them longer than 4 KiB (cut by the store)."""
        eid = self.pile()
        rid = self.start(eid)["id"]
        self.gw_start(rid)
        self.gw_verdict(rid, 1, "pass", None, [{"dir": "in", "ms": 1, "text": BOOT_IN}])
        self.gw_verdict(rid, 2, "fail", "只上报了 1 号枪的状态，缺少 0 号（整桩）" + "，原因很长" * 80,
                        [{"dir": "in", "ms": 12, "text": '[2,"s1","StatusNotification",'
                                                          '{"connectorId":1,"status":"Available",'
                                                          '"errorCode":"NoError"}]'}])
        frames = [{"dir": "out" if i % 2 else "in", "ms": i * 1000,
                   "text": '[2,"h%d","Heartbeat",{"pad":"%s"}]' % (i, "x" * (i * 30))}
                  for i in range(40)]
        frames[39]["text"] = "[2,\"big\",\"DataTransfer\",{\"data\":\"" + "y" * 6000 + "\"}]"
        frames[39]["cut"] = 6036
        frames[39]["text"] = frames[39]["text"][:4096]
        self.gw_verdict(rid, 3, "fail", HB_REASON, frames, dropped=7)
        self.gw_verdict(rid, 5, "skipped", "skipped: boot.first-message did not pass")
        self.gw_verdict(rid, 6, "error", "the pile disconnected during the check",
                        [{"dir": "out", "ms": 0, "text": '[2,"c6","ChangeConfiguration",{}]'}])
        self.gw_verdict(rid, 24, "skipped", "nobody presented a card (needs: card)",
                        [{"dir": "in", "ms": 90000, "text": '[2,"p24","Heartbeat",{}]'}])
        self.gw_finish(rid, "failed", "2 required checks did not pass")
        return eid, rid

    def test_json_report(self):
        eid, rid = self.finished_run()
        r = self.a.get(API + "/conformance-runs/%d/report.json" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/json", r.header("Content-Type"))
        self.assertEqual(r.header("Cache-Control"), "private, no-store")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="run-%d.json"' % rid)
        rep = r.json()
        self.assertEqual((rep["id"], rep["state"], rep["target"], rep["plan_title_zh"]),
                         (rid, "failed", eid, "OCPP 1.6 核心功能检测"))
        self.assertRegex(rep["generated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(len(rep["checks"]), 36)
        self.assertEqual(len(rep["checks"][2]["frames"]), 40)
        self.assertEqual(rep["checks"][2]["frames_dropped"], 7)
        self.assertEqual(rep["checks"][2]["frames"][39]["cut"], 6036)
        self.assertEqual(rep["checks"][2]["title_zh"], "按设定间隔发送心跳")
        self.assertEqual(rep["checks"][3]["verdict"], "skipped")
        self.assertEqual(rep["summary"]["fail"], 2)

    def test_pdf_report(self):
        eid, rid = self.finished_run()
        r = self.a.get(API + "/conformance-runs/%d/report.pdf" % rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        self.assertEqual(r.header("Content-Disposition"),
                         'attachment; filename="run-%d.pdf"' % rid)
        self.assertTrue(r.body.startswith(b"%PDF-"), r.body[:20])
        text = pdf_text(self, r.body)
        for want in ("桩平台检测报告", eid, "OCPP1.6核心功能检测", self.a.fields["company_name"],
                     "按设定间隔发送心跳", squash(HB_REASON), "冷启动后首条消息为BootNotification",
                     "只上报了1号枪的状态", "不通过", "通过", "跳过",
                     "中间16条报文从略",        # 40 frames: the first 8 and the last 16
                     "另有7条报文超出记录上限",  # frames_dropped
                     "原长6036字节",             # the stored cut
                     '"h0"', '"h30"', '"big"'):
            self.assertIn(squash(want), text, want)
        self.assertNotIn('"h20"', text)  # one of the frames left out
        # section 二: failed and erred checks, skipped ones only with frames
        self.assertIn("第6项", text)
        self.assertIn("thepiledisconnectedduringthecheck", text)
        self.assertIn("第24项", text)
        self.assertIn("nobodypresentedacard", text)
        self.assertNotIn("第5项", text)
        self.assertNotIn("第1项", text)
        # many pages, numbered: the last page says it is the last
        pages = text.count("桩平台检测报告（续）") + 1
        self.assertGreaterEqual(pages, 3)
        self.assertIn("第%d页共%d页" % (pages, pages), text)
        self.assertNotIn("第%d页" % (pages + 1), text)

    def test_pdf_of_a_queued_run_shows_progress(self):
        eid = self.pile()
        rid = self.start(eid)["id"]
        r = self.a.get(API + "/conformance-runs/%d/report.pdf" % rid)
        self.assertEqual(r.status, 200, r)
        text = pdf_text(self, r.body)
        self.assertIn("桩平台检测报告", text)
        self.assertIn("排队中", text)
        self.assertIn("检测尚未结束", text)
        self.assertIn("等待中", text)
        self.assertIn("没有未通过的检查项", text)
        self.assertEqual(self.b.get(API + "/conformance-runs/%d/report.pdf" % rid).status, 404)


class PlatformRunTest(RunsCase):
    def test_platform_run_of_an_approved_self_detection(self):
        did, p = self.p_detection, self.p
        body = {"plan": "tcec102-platform", "detection_id": did}
        # no live credentials yet: the engine could not call the platform
        self.assertError(p.post(API + "/conformance-runs", body), 409, "no_credentials", "detection_id")
        r = p.post(API + "/detections/%d/credentials" % did)
        self.assertEqual(r.status, 200, r)
        operator_id = r.json()["operator_id"]
        # another operator's application, or none: 404; a passed one (A's gate): 409
        self.assertError(self.b.post(API + "/conformance-runs", body), 404, "not_found", "detection_id")
        self.assertError(self.a.post(API + "/conformance-runs", body), 404, "not_found", "detection_id")
        r = p.post(API + "/conformance-runs", {"plan": "tcec102-platform", "detection_id": did + 100000})
        self.assertError(r, 404, "not_found", "detection_id")
        r = self.a.post(API + "/conformance-runs", {"plan": "tcec102-platform",
                                        "detection_id": self.a.detection_id})
        self.assertError(r, 409, "wrong_state", "detection_id", "wrong_state")
        self.assertEqual(self.runs_of(operator_id), 0)

        r = p.post(API + "/conformance-runs", body)
        self.assertEqual(r.status, 201, r)
        run = r.json()
        self.assertEqual((run["target_kind"], run["target"], run["detection_id"], run["state"]),
                         ("platform", operator_id, did, "queued"))
        self.assertEqual(len(run["checks"]), 20)
        self.assertEqual(run["checks"][0]["check_id"], "token.evgate-obtains")
        self.assertTrue(run["target_name"].startswith("测试充电平台"), run["target_name"])
        det = p.get(API + "/detections/%d" % did).json()
        self.assertEqual(det["status"], "testing")
        # a second run while it tests names the first
        r = p.post(API + "/conformance-runs", body)
        self.assertError(r, 409, "run_active", "detection_id", "run_active")
        self.assertEqual(error_details(r)[0]["run_id"], run["id"])
        # P sees it, A and B do not
        self.assertEqual([x["id"] for x in p.get(API + "/conformance-runs").json()["items"]], [run["id"]])
        self.assertNotIn(run["id"], [x["id"] for x in self.a.get(API + "/conformance-runs?page_size=200")
                                     .json()["items"]])
        self.assertError(self.a.get(API + "/conformance-runs/%d" % run["id"]), 404, "not_found")
        self.assertIn(run["id"], [x["id"] for x in self.admin.get(
            API + "/conformance-runs?plan=tcec102-platform").json()["items"]])
        # cancelling the queued run gives the application back
        r = p.post(API + "/conformance-runs/%d/cancel" % run["id"])
        self.assertEqual((r.status, r.json()["state"]), (200, "cancelled"))
        self.assertEqual(p.get(API + "/detections/%d" % did).json()["status"], "approved")


if __name__ == "__main__":
    unittest.main(verbosity=2)
