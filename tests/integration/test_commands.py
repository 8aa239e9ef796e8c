"""Remote operations and per-pile OCPP settings (docs/api-commands.md) against the real mgmt.

The test plays the gateway: a thread polls the SQLite file for the queued row and writes the
pile's answer into it, as gateway/ does. "Online" is an open pile_sessions row written here.
Waiting is bounded polling, never a sleep used as synchronisation."""

import json
import os
import signal
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (MgmtCase, Platform, active_operator, admin_client, error_code,  # noqa: E402
                     error_details, gated_operator, pile_body, station_body, until)

API = "/api/v1"
CALL_TIMEOUT_S = 1  # mgmt then waits 1 + 10 s for the gateway


def db_connect(platform):
    c = sqlite3.connect(platform.env["EVGATE_DB"], timeout=10, isolation_level=None)
    c.execute("PRAGMA busy_timeout = 10000")
    return c



class FakeGateway:
    """Takes the queued commands of `equipment_id` like the gateway would: queued -> sent, then
    `finish(row)` returns (state, response, error) to write, or None to leave the row sent.
    With `take=False` it leaves rows queued (no gateway running)."""

    def __init__(self, platform, equipment_id, finish, count=1, take=True):
        self.platform, self.eid, self.finish = platform, equipment_id, finish
        self.count, self.take = count, take
        self.seen = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        db = db_connect(self.platform)
        try:
            end = time.monotonic() + 30
            while len(self.seen) < self.count and time.monotonic() < end:
                rows = db.execute("SELECT id, action, payload FROM pile_commands WHERE"
                                  " equipment_id = ? AND state = 'queued' ORDER BY id",
                                  (self.eid,)).fetchall()
                for cid, action, payload in rows:
                    if cid in [s[0] for s in self.seen]:
                        continue
                    self.seen.append((cid, action, json.loads(payload)))
                    if not self.take:
                        continue
                    now = int(time.time())
                    db.execute("UPDATE pile_commands SET state = 'sent', unique_id = ?,"
                               " sent_at = ? WHERE id = ? AND state = 'queued'",
                               ("u%d" % cid, now, cid))
                    out = self.finish(cid, action, json.loads(payload))
                    if out is None:
                        continue
                    state, response, err = out
                    db.execute("UPDATE pile_commands SET state = ?, response = ?, error = ?,"
                               " finished_at = ? WHERE id = ? AND state = 'sent'",
                               (state, json.dumps(response) if response is not None else None,
                                err, now, cid))
                time.sleep(0.02)
        except Exception as e:  # reported by join()
            self.error = e
        finally:
            db.close()

    def join(self):
        self.thread.join(40)
        if self.error:
            raise self.error
        return self.seen


def accepted(cid, action, payload):
    return ("answered", {"status": "Accepted"}, None)


class CommandsCase(MgmtCase):
    """An operator with accessed piles of both versions, a draft pile, and another operator."""

    extra_env = {"EVGATE_OCPP_CALL_TIMEOUT_S": str(CALL_TIMEOUT_S), "EVGATE_MGMT_THREADS": "1"}

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
        op = cls.op = gated_operator(cls.platform, cls.admin)
        cls.other = active_operator(cls.platform, cls.admin)
        sid = "CMDST" + op.operator_id[:6]
        assert op.post(API + "/stations", station_body(sid)).status == 201
        cls.p16 = pile_body(sid, protocol="ocpp1.6")["equipment_id"]
        cls.p201 = None
        ids = []
        for proto in ("ocpp1.6", "ocpp2.0.1", "ocpp1.6", "ocpp1.6"):
            b = pile_body(sid, protocol=proto)
            r = op.post(API + "/piles", b)
            assert r.status == 201, r
            ids.append(b["equipment_id"])
        cls.p16, cls.p201, cls.p16b, cls.busy = ids
        r = op.post(API + "/piles/submit", {"equipment_ids": ids})
        assert r.status == 201, r
        r = cls.admin.post(API + "/admin/access-applications/%d/approve" % r.json()["id"], {})
        assert r.status == 200, r
        b = pile_body(sid)
        assert op.post(API + "/piles", b).status == 201
        cls.draft = b["equipment_id"]
        cls.db = db_connect(cls.platform)
        for eid in (cls.p16, cls.p201, cls.p16b, cls.busy, cls.draft):
            cls.set_online(eid, True)

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        super().tearDownClass()

    @classmethod
    def set_online(cls, eid, online):
        if online:
            cls.db.execute("INSERT INTO pile_sessions (equipment_id, protocol, peer,"
                           " connected_at) VALUES (?, 'ocpp1.6', '127.0.0.1', ?)",
                           (eid, int(time.time())))
        else:
            cls.db.execute("UPDATE pile_sessions SET disconnected_at = ?, close_reason ="
                           " 'peer_closed' WHERE equipment_id = ? AND disconnected_at IS NULL",
                           (int(time.time()), eid))

    def post_cmd(self, eid, body, client=None):
        return (client or self.op).post(API + "/piles/%s/commands" % eid, body)

    def assertError(self, r, status, code, field=None, field_code=None):
        self.assertEqual(r.status, status, "expected %d %s, got %r" % (status, code, r))
        self.assertEqual(error_code(r), code, r)
        if field is not None:
            named = [d for d in error_details(r) if d.get("field") == field]
            self.assertTrue(named, "no detail names %r: %r" % (field, r))
            if field_code is not None:
                self.assertEqual(named[0].get("code"), field_code, r)

    def commands_of(self, eid):
        return self.db.execute("SELECT count(*) FROM pile_commands WHERE equipment_id = ?",
                               (eid,)).fetchone()[0]


class ValidationTest(CommandsCase):
    def test_another_operators_pile_is_404(self):
        for method, path in (("POST", "/commands"), ("GET", "/commands"),
                             ("GET", "/commands/1")):
            r = self.other.request(method, API + "/piles/" + self.p16 + path,
                                   json_body={"action": "Reset", "payload": {"type": "Soft"}}
                                   if method == "POST" else None)
            self.assertError(r, 404, "not_found")
        self.assertError(self.post_cmd("NOSUCHPILE", {"action": "Reset"}), 404, "not_found")
        self.assertEqual(self.commands_of(self.p16), 0)

    def test_pile_not_accessed_is_409(self):
        r = self.post_cmd(self.draft, {"action": "Reset", "payload": {"type": "Soft"}})
        self.assertError(r, 409, "wrong_state")

    def test_bad_body_is_400(self):
        for body in ({}, {"action": 5}, {"action": "Reset", "payload": []},
                     {"action": "Reset", "payload": {"type": "Soft"}, "extra": 1}):
            self.assertError(self.post_cmd(self.p16, body), 400, "bad_request")

    def test_unknown_action_names_the_field(self):
        for eid, action in ((self.p16, "BootNotification"), (self.p16, "RequestStartTransaction"),
                            (self.p201, "RemoteStartTransaction"), (self.p16, "NoSuchAction")):
            r = self.post_cmd(eid, {"action": action, "payload": {}})
            self.assertError(r, 422, "validation_failed", "action", "unknown_action")
        self.assertEqual(self.commands_of(self.p16) + self.commands_of(self.p201), 0)

    def test_bad_payload_names_payload_path(self):
        r = self.post_cmd(self.p16, {"action": "Reset", "payload": {"type": "Sideways"}})
        self.assertError(r, 422, "validation_failed", "payload.type", "enum")
        r = self.post_cmd(self.p16, {"action": "RemoteStartTransaction", "payload": {}})
        self.assertError(r, 422, "validation_failed", "payload.idTag", "required")
        r = self.post_cmd(self.p16, {"action": "Reset"})  # payload defaults to {}
        self.assertError(r, 422, "validation_failed", "payload.type", "required")
        r = self.post_cmd(self.p201, {"action": "GetVariables", "payload": {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {}}]}})
        self.assertError(r, 422, "validation_failed", "payload.getVariableData[0].variable.name",
                         "required")
        self.assertEqual(self.commands_of(self.p16) + self.commands_of(self.p201), 0)

    def test_offline_pile_is_409(self):
        self.set_online(self.p16b, False)
        try:
            r = self.post_cmd(self.p16b, {"action": "ClearCache", "payload": {}})
            self.assertError(r, 409, "pile_offline")
        finally:
            self.set_online(self.p16b, True)
        self.assertEqual(self.commands_of(self.p16b), 0)

    def test_too_many_unfinished_is_429(self):
        now = int(time.time())
        for _ in range(8):
            self.db.execute("INSERT INTO pile_commands (equipment_id, account_id, action, payload,"
                            " state, unique_id, created_at, sent_at) VALUES (?, 1, 'ClearCache',"
                            " '{}', 'sent', 'x', ?, ?)", (self.busy, now, now))
        r = self.post_cmd(self.busy, {"action": "ClearCache", "payload": {}})
        self.assertError(r, 429, "too_many_commands")
        self.assertEqual(self.commands_of(self.busy), 8)
        # one finished: room for one more, which the gateway answers
        self.db.execute("UPDATE pile_commands SET state = 'timeout', finished_at = ? WHERE id ="
                        " (SELECT min(id) FROM pile_commands WHERE equipment_id = ?)",
                        (now, self.busy))
        gw = FakeGateway(self.platform, self.busy, accepted)
        r = self.post_cmd(self.busy, {"action": "ClearCache", "payload": {}})
        gw.join()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "answered")


class AnswerTest(CommandsCase):
    def test_reset_is_answered(self):
        gw = FakeGateway(self.platform, self.p16, accepted)
        r = self.post_cmd(self.p16, {"action": "Reset", "payload": {"type": "Soft"}})
        seen = gw.join()
        self.assertEqual(r.status, 200, r)
        c = r.json()
        self.assertEqual(seen, [(c["id"], "Reset", {"type": "Soft"})])
        self.assertEqual(c["state"], "answered")
        self.assertEqual(c["action"], "Reset")
        self.assertEqual(c["equipment_id"], self.p16)
        self.assertEqual(c["payload"], {"type": "Soft"})
        self.assertEqual(c["response"], {"status": "Accepted"})
        self.assertEqual(c["account_id"], self.op.account["id"])
        self.assertRegex(c["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(c["finished_at"], r"Z$")
        # the same through GET, one and list
        one = self.op.get(API + "/piles/%s/commands/%d" % (self.p16, c["id"]))
        self.assertEqual(one.status, 200, one)
        self.assertEqual(one.json(), c)
        lst = self.admin.get(API + "/piles/%s/commands?page=1&page_size=5" % self.p16).json()
        self.assertEqual(lst["items"][0], c)
        self.assertGreaterEqual(lst["total"], 1)
        # another pile's path does not show it
        r = self.op.get(API + "/piles/%s/commands/%d" % (self.p201, c["id"]))
        self.assertEqual(r.status, 404, r)
        audit = self.db.execute("SELECT actor_account_id, detail FROM audit_log WHERE action ="
                                " 'pile_command' ORDER BY id DESC LIMIT 1").fetchone()
        self.assertEqual(audit[0], self.op.account["id"])
        self.assertEqual(json.loads(audit[1])["command_id"], c["id"])

    def test_callerror_and_admin_sender(self):
        def callerror(cid, action, payload):
            return ("error", {"code": "NotSupported", "description": "no", "details": {}}, None)
        gw = FakeGateway(self.platform, self.p201, callerror)
        r = self.post_cmd(self.p201, {"action": "GetVariables", "payload": {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}},
            client=self.admin)
        gw.join()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "error")
        self.assertEqual(r.json()["response"]["code"], "NotSupported")

    def test_waits_do_not_hold_the_only_thread(self):
        """mgmt has one worker thread; three POSTs wait at once while other requests answer."""
        results = {}
        piles = (self.p16, self.p201, self.p16b)
        bodies = {self.p16: {"action": "ClearCache", "payload": {}},
                  self.p201: {"action": "ClearCache", "payload": {}},
                  self.p16b: {"action": "UnlockConnector", "payload": {"connectorId": 1}}}

        def post(eid):
            results[eid] = self.post_cmd(eid, bodies[eid])
        threads = [threading.Thread(target=post, args=(e,)) for e in piles]
        for t in threads:
            t.start()
        # all three rows are queued: their requests are waiting
        until(lambda: self.db.execute(
            "SELECT count(*) FROM pile_commands WHERE state = 'queued' AND equipment_id IN"
            " (?, ?, ?)", piles).fetchone()[0] == 3, "three queued commands")
        t0 = time.monotonic()
        r = self.op.get(API + "/piles/" + self.p16)
        self.assertEqual(r.status, 200, r)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(r.json()["boot_status"], "Accepted")
        self.assertFalse(results, "a POST answered before its pile did")
        gws = [FakeGateway(self.platform, e, accepted) for e in piles]
        for g in gws:
            g.join()
        for t in threads:
            t.join(30)
        for e in piles:
            self.assertEqual(results[e].status, 200, results[e])
            self.assertEqual(results[e].json()["state"], "answered")

    def test_not_picked_up_and_still_sent(self):
        """No gateway: the row becomes failed / not_picked_up after mgmt's wait. A gateway that
        sent the CALL but has no answer yet: 202 with state sent."""
        nobody = FakeGateway(self.platform, self.p16, None, take=False)
        sent_only = FakeGateway(self.platform, self.p201, lambda *a: None)
        results = {}

        def post(eid):
            results[eid] = self.post_cmd(eid, {"action": "ClearCache", "payload": {}})
        threads = [threading.Thread(target=post, args=(e,)) for e in (self.p16, self.p201)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(40)
        waited = time.monotonic() - t0
        nobody.join()
        sent_only.join()
        self.assertGreaterEqual(waited, CALL_TIMEOUT_S + 10 - 0.5)
        r = results[self.p16]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "failed")
        self.assertEqual(r.json()["error"], "not_picked_up")
        r = results[self.p201]
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["state"], "sent")
        # finish it, as the gateway's timeout would
        self.db.execute("UPDATE pile_commands SET state = 'timeout', finished_at = ? WHERE id = ?",
                        (int(time.time()), r.json()["id"]))
        one = self.op.get(API + "/piles/%s/commands/%d" % (self.p201, r.json()["id"]))
        self.assertEqual(one.json()["state"], "timeout")


class SettingsTest(CommandsCase):
    def url(self, eid=None):
        return API + "/piles/%s/ocpp-settings" % (eid or self.p16)

    def test_defaults_shown(self):
        p = self.op.get(API + "/piles/" + self.p201).json()
        self.assertEqual((p["boot_status"], p["security_profile"]), ("Accepted", 1))
        items = self.op.get(API + "/piles?page_size=100").json()["items"]
        self.assertTrue(all(i["boot_status"] == "Accepted" for i in items), items)

    def test_admin_only(self):
        r = self.op.request("PUT", self.url(), json_body={"boot_status": "Pending"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.op.get(API + "/piles/" + self.p16).json()["boot_status"], "Accepted")

    def test_values_checked(self):
        for body, field in (({"boot_status": "pending"}, "boot_status"),
                            ({"security_profile": 4}, "security_profile"),
                            ({"security_profile": "2"}, "security_profile"),
                            ({"security_profile": 0}, "security_profile"),
                            ({"tls": True}, "tls")):
            r = self.admin.request("PUT", self.url(self.p16b), json_body=body)
            self.assertError(r, 422, "validation_failed", field)
        p = self.op.get(API + "/piles/" + self.p16b).json()
        self.assertEqual((p["boot_status"], p["security_profile"]), ("Accepted", 1))
        r = self.admin.request("PUT", self.url("NOSUCHPILE"), json_body={"boot_status": "Pending"})
        self.assertEqual(r.status, 404, r)

    def test_set_and_audit(self):
        r = self.admin.request("PUT", self.url(),
                               json_body={"boot_status": "Pending", "security_profile": 2})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["boot_status"], r.json()["security_profile"]), ("Pending", 2))
        self.assertEqual(r.json()["equipment_id"], self.p16)
        # one at a time keeps the other
        r = self.admin.request("PUT", self.url(), json_body={"security_profile": 3})
        self.assertEqual((r.json()["boot_status"], r.json()["security_profile"]), ("Pending", 3))
        p = self.op.get(API + "/piles/" + self.p16).json()
        self.assertEqual((p["boot_status"], p["security_profile"]), ("Pending", 3))
        row = self.db.execute("SELECT boot_status, security_profile FROM piles WHERE"
                              " equipment_id = ?", (self.p16,)).fetchone()
        self.assertEqual(row, ("Pending", 3))
        audits = self.db.execute("SELECT detail FROM audit_log WHERE action ="
                                 " 'pile_ocpp_settings' ORDER BY id").fetchall()
        self.assertEqual([json.loads(a[0]).get("security_profile") for a in audits][-2:], [2, 3])
        self.admin.request("PUT", self.url(), json_body={"boot_status": "Accepted",
                                                         "security_profile": 1})


class ShutdownTest(unittest.TestCase):
    def test_sigterm_answers_waiting_requests(self):
        with Platform({"EVGATE_OCPP_CALL_TIMEOUT_S": "60"}) as platform:
            platform.start(("mgmt",))
            admin = admin_client(platform)
            op = gated_operator(platform, admin)
            assert op.post(API + "/stations", station_body("SDST01")).status == 201
            b = pile_body("SDST01")
            assert op.post(API + "/piles", b).status == 201
            r = op.post(API + "/piles/submit", {"equipment_ids": [b["equipment_id"]]})
            admin.post(API + "/admin/access-applications/%d/approve" % r.json()["id"], {})
            db = db_connect(platform)
            db.execute("INSERT INTO pile_sessions (equipment_id, protocol, connected_at) VALUES"
                       " (?, 'ocpp1.6', ?)", (b["equipment_id"], int(time.time())))
            out = {}

            def post():
                out["r"] = op.post(API + "/piles/%s/commands" % b["equipment_id"],
                                   {"action": "ClearCache", "payload": {}})
            t = threading.Thread(target=post)
            t.start()
            until(lambda: db.execute("SELECT count(*) FROM pile_commands WHERE state ="
                                     " 'queued'").fetchone()[0] == 1, "the queued command")
            t0 = time.monotonic()
            rc = platform.daemons["mgmt"].stop(signal.SIGTERM)
            t.join(20)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 10)
            self.assertEqual(out["r"].status, 200, out["r"])
            self.assertEqual(out["r"].json()["error"], "not_picked_up")
            db.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
