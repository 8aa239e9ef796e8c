"""Integration tests of the T/CEC interconnection view (issue 6 item 5) against the real mgmt
daemon: GET /api/v1/tcec/platforms, /tcec/platforms/{operator_id} and .../exchanges
(docs/api-platforms.md). Two operators take T/CEC credentials for approved `self` detections;
the exchange log is written straight into the test's database with the sqlite3 module, as the
gateway would write it, so that the gateway is not needed. Some stored payloads carry the real
secrets on purpose: the answers must redact them anyway.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_platforms.py"""

import calendar
import json
import os
import secrets
import sqlite3
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import MgmtCase, gated_operator  # noqa: E402

API = "/api/v1/tcec/platforms"
SECRET_KEYS = ("operator_secret", "data_secret", "data_secret_iv", "sig_secret")
DAY = 86400
CST = 8 * 3600


def iso_epoch(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def today_start(now):
    return now - (now + CST) % DAY


class PlatformsTest(MgmtCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.op_a = cls.with_credentials(gated_operator(cls.platform, cls.admin))
            cls.op_b = cls.with_credentials(gated_operator(cls.platform, cls.admin))
            cls.token = "TOK" + secrets.token_hex(20)
            cls.now = int(time.time())
            cls.write_log()
        except BaseException:
            cls.platform.close()
            raise

    @classmethod
    def with_credentials(cls, op):
        r = op.post("/api/v1/detections/%d/credentials" % op.detection_id)
        if r.status != 200:
            raise AssertionError("credentials failed: %r" % r)
        op.cred = r.json()
        assert op.cred["operator_id"] == op.operator_id, op.cred
        return op

    @classmethod
    def write_log(cls):
        a, b, now = cls.op_a.operator_id, cls.op_b.operator_id, cls.now
        ca = cls.op_a.cred
        # start of today in China Standard Time, and a moment safely inside today
        t0 = max(today_start(now), now - 3600)
        status = {"ConnectorStatusInfo": {"ConnectorID": "EQ1C1", "Status": 3}}
        rows = [
            # operator A, inbound (a platform called evgate)
            (a, "in", "query_token", "203.0.113.10", t0 + 1, 0, "", None,
             {"OperatorID": a, "OperatorSecret": ca["operator_secret"]},
             {"OperatorID": a, "SuccStat": 0, "AccessToken": cls.token,
              "TokenAvailableTime": 7200, "FailReason": 0}),
            (a, "in", "notification_stationStatus", "203.0.113.10", t0 + 2, 0, "", None,
             status, {"Status": 0}),
            (a, "in", "notification_stationStatus", "203.0.113.10", t0 + 3, 4001,
             "签名错误", "signature", status, None),
            (a, "in", "notification_stationStatus", "203.0.113.10", t0 + 4, 4001,
             "签名错误", "signature", None, None),
            (a, "in", "notification_stationStatus", "203.0.113.10", t0 + 5, 4001,
             "签名错误", "signature", None, None),
            (a, "in", "notification_stationInfo", "203.0.113.10", t0 + 6, 4004,
             "StationID ST9 is not yours", "not_owner", {"StationInfo": {"StationID": "ST9"}},
             None),
            (a, "in", "notification_stationInfo", "203.0.113.10", t0 + 7, 4004,
             "StationID ST8 is not yours", "not_owner", {"StationInfo": {"StationID": "ST8"}},
             None),
            (a, "in", "notification_stationStatus", "198.51.100.7", t0 + 8, 4002,
             "token expired", "token", "(not JSON)", None),
            # the secret inside a message, as free text: still not shown
            (a, "in", "notification_charge_order_info", "203.0.113.10", t0 + 9, 4003,
             "Seq replayed with key " + ca["sig_secret"], "replay",
             {"Nested": [{"DataSecret": ca["data_secret"]}, "iv=" + ca["data_secret_iv"]]},
             None),
            # an old refusal: counted in the totals, not today
            (a, "in", "notification_stationStatus", "203.0.113.10", now - 3 * DAY, 4001,
             "签名错误", "signature", None, None),
            # operator A, outbound (evgate called the platform)
            (a, "out", "query_token", "https://evcs.example.com", t0 + 10, 0, "", None,
             {"OperatorID": "MA0000000", "OperatorSecret": "***"},
             {"OperatorID": a, "SuccStat": 0, "AccessToken": "***",
              "TokenAvailableTime": 7200, "FailReason": 0}),
            (a, "out", "query_stations_info", "https://evcs.example.com", t0 + 11, None,
             "connection refused", "network", {"PageNo": 1, "PageSize": 100}, None),
            (a, "out", "query_station_status", "https://evcs.example.com", t0 + 12, None,
             "HTTP 502", "http_status", {"StationIDs": ["ST1"]}, None),
            # operator B
            (b, "in", "notification_stationStatus", "192.0.2.1", t0 + 13, 4001, "签名错误",
             "signature", None, None),
            # a failure without a reason code counts under "ret"
            (b, "in", "notification_stationStatus", "192.0.2.1", t0 + 14, 500, "系统错误", None,
             None, None),
        ]
        db = sqlite3.connect(cls.platform.env["EVGATE_DB"], timeout=30)
        with db:
            db.executemany(
                "INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret,"
                " msg, reason, request, response, duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [r[:8] + tuple(None if p is None else p if isinstance(p, str) else
                               json.dumps(p, ensure_ascii=False) for p in r[8:10]) + (12,)
                 for r in rows])
        db.close()
        cls.t0 = t0

    # --- helpers

    def ok(self, client, path):
        r = client.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertNoSecret(r)
        return r.json()

    def assertNoSecret(self, r):
        for op in (self.op_a, self.op_b):
            for k in SECRET_KEYS:
                self.assertNotIn(op.cred[k].encode(), r.body, "%s leaked in %r" % (k, r))
        self.assertNotIn(self.token.encode(), r.body, "AccessToken leaked")

    def exchanges(self, client, op, **query):
        q = urllib.parse.urlencode(query)
        return self.ok(client, "%s/%s/exchanges%s" % (API, op.operator_id, "?" + q if q else ""))

    # --- the list

    def test_admin_lists_every_platform_and_filters_by_company_or_operator_id(self):
        body = self.ok(self.admin, API + "?page_size=200")
        for k in ("items", "total", "page", "page_size"):
            self.assertIn(k, body)
        by_id = {p["operator_id"]: p for p in body["items"]}
        self.assertIn(self.op_a.operator_id, by_id)
        self.assertIn(self.op_b.operator_id, by_id)
        a = by_id[self.op_a.operator_id]
        self.assertEqual(a["detection_id"], self.op_a.detection_id)
        self.assertEqual(a["company_name"], self.op_a.fields["company_name"])
        self.assertTrue(a["platform_name"].startswith("测试充电平台"), a)
        self.assertTrue(a["base_url"].startswith("https://"), a)
        self.assertEqual(iso_epoch(a["last_in_at"]), self.t0 + 9)
        self.assertEqual(iso_epoch(a["last_out_at"]), self.t0 + 12)
        self.assertEqual(a["exchanges_today"], 12)
        self.assertEqual(a["refused_in_today"], 7)
        self.assertEqual(a["failed_out_today"], 2)
        for k in SECRET_KEYS:
            self.assertNotIn(k, a)

        body = self.ok(self.admin, API + "?q=" + urllib.parse.quote(
            self.op_a.fields["company_name"]))
        self.assertEqual([p["operator_id"] for p in body["items"]], [self.op_a.operator_id])
        self.assertEqual(body["total"], 1)
        body = self.ok(self.admin, API + "?q=" + self.op_b.operator_id.lower())
        self.assertEqual([p["operator_id"] for p in body["items"]], [self.op_b.operator_id])
        body = self.ok(self.admin, API + "?q=no-such-company-" + secrets.token_hex(4))
        self.assertEqual((body["items"], body["total"]), ([], 0))

    def test_admin_list_pages(self):
        all_ = self.ok(self.admin, API + "?page_size=200")
        total = all_["total"]
        self.assertGreaterEqual(total, 2)
        p1 = self.ok(self.admin, API + "?page=1&page_size=1")
        p2 = self.ok(self.admin, API + "?page=2&page_size=1")
        self.assertEqual((p1["total"], len(p1["items"]), p1["page"], p1["page_size"]),
                         (total, 1, 1, 1))
        self.assertEqual(p2["page"], 2)
        self.assertNotEqual(p1["items"][0]["operator_id"], p2["items"][0]["operator_id"])
        self.assertError(self.admin.get(API + "?page_size=0"), 422, "validation_failed",
                         "page_size")

    def test_operator_lists_only_its_own_platform(self):
        body = self.ok(self.op_a, API)
        self.assertEqual([p["operator_id"] for p in body["items"]], [self.op_a.operator_id])
        self.assertEqual(body["total"], 1)
        # q never reaches other operators' names
        body = self.ok(self.op_b, API + "?q=" + urllib.parse.quote(
            self.op_a.fields["company_name"]))
        self.assertEqual([p["operator_id"] for p in body["items"]], [self.op_b.operator_id])

    def test_needs_a_login(self):
        self.assertError(self.anon().get(API), 401, "unauthenticated")
        self.assertError(self.anon().get("%s/%s" % (API, self.op_a.operator_id)), 401)

    # --- one platform

    def test_platform_with_last_contacts_and_refusals_by_reason(self):
        p = self.ok(self.op_a, "%s/%s" % (API, self.op_a.operator_id))
        self.assertEqual(p["operator_id"], self.op_a.operator_id)
        self.assertEqual(p["last_in"]["interface"], "notification_charge_order_info")
        self.assertEqual(p["last_in"]["ret"], 4003)
        self.assertEqual(p["last_in"]["reason"], "replay")
        self.assertEqual(iso_epoch(p["last_in"]["at"]), self.t0 + 9)
        self.assertEqual(p["last_out"]["interface"], "query_station_status")
        self.assertIsNone(p["last_out"]["ret"])
        self.assertEqual(p["last_out"]["reason"], "http_status")
        self.assertEqual(p["totals"], {"in": 10, "out": 3, "refused_in": 8, "failed_out": 2})
        ins = {x["reason"]: x for x in p["refusals"]["in"]}
        self.assertEqual({k: (v["count"], v["today"]) for k, v in ins.items()},
                         {"signature": (4, 3), "not_owner": (2, 2), "token": (1, 1),
                          "replay": (1, 1)})
        self.assertEqual(p["refusals"]["in"][0]["reason"], "signature")  # most frequent first
        self.assertEqual(iso_epoch(ins["signature"]["last_at"]), self.t0 + 5)
        outs = {x["reason"]: x["count"] for x in p["refusals"]["out"]}
        self.assertEqual(outs, {"network": 1, "http_status": 1})
        # the admin reads it too
        q = self.ok(self.admin, "%s/%s" % (API, self.op_a.operator_id))
        self.assertEqual(q["totals"], p["totals"])

    def test_another_operators_platform_is_not_found(self):
        for path in ("%s/%s" % (API, self.op_b.operator_id),
                     "%s/%s/exchanges" % (API, self.op_b.operator_id),
                     "%s/ZZZZZZZZ9" % API, "%s/ZZZZZZZZ9/exchanges" % API):
            self.assertError(self.op_a.get(path), 404, "not_found")
        self.assertError(self.admin.get("%s/ZZZZZZZZ9" % API), 404, "not_found")

    def test_a_platform_without_outbound_exchanges(self):
        # B has inbound rows only: last_out is null, refusals.out empty
        p = self.ok(self.op_b, "%s/%s" % (API, self.op_b.operator_id))
        self.assertIsNone(p["last_out"])
        self.assertEqual(p["refusals"]["out"], [])
        self.assertEqual(p["totals"], {"in": 2, "out": 0, "refused_in": 2, "failed_out": 0})
        self.assertEqual({x["reason"]: x["count"] for x in p["refusals"]["in"]},
                         {"signature": 1, "ret": 1})
        # the reason "ret" finds the failure stored without a reason
        body = self.exchanges(self.op_b, self.op_b, reason="ret")
        self.assertEqual(body["total"], 1)
        x = body["items"][0]
        self.assertEqual((x["ret"], x["reason"], x["failed"]), (500, None, True))

    # --- the exchanges

    def test_exchanges_newest_first_with_decoded_payloads(self):
        body = self.exchanges(self.op_a, self.op_a, page_size=50)
        self.assertEqual(body["total"], 13)
        ats = [iso_epoch(x["at"]) for x in body["items"]]
        self.assertEqual(ats, sorted(ats, reverse=True))
        by_itf = {}
        for x in body["items"]:
            by_itf.setdefault((x["direction"], x["interface"]), []).append(x)
            for k in ("id", "peer", "ret", "msg", "reason", "failed", "duration_ms", "request",
                      "response"):
                self.assertIn(k, x)
        tok = by_itf[("in", "query_token")][0]
        self.assertIsInstance(tok["request"], dict)
        self.assertEqual(tok["request"]["OperatorSecret"], "***")
        self.assertEqual(tok["response"]["AccessToken"], "***")
        self.assertEqual(tok["response"]["TokenAvailableTime"], 7200)
        self.assertIs(tok["failed"], False)
        ok_status = [x for x in by_itf[("in", "notification_stationStatus")] if x["ret"] == 0][0]
        self.assertEqual(ok_status["request"],
                         {"ConnectorStatusInfo": {"ConnectorID": "EQ1C1", "Status": 3}})
        self.assertEqual(ok_status["response"], {"Status": 0})
        token = [x for x in by_itf[("in", "notification_stationStatus")] if x["ret"] == 4002][0]
        self.assertEqual(token["request"], "(not JSON)")  # not JSON: the text
        self.assertIsNone(token["response"])
        self.assertIs(token["failed"], True)
        replay = by_itf[("in", "notification_charge_order_info")][0]
        self.assertEqual(replay["request"]["Nested"][0]["DataSecret"], "***")
        self.assertEqual(replay["request"]["Nested"][1], "iv=***")
        self.assertEqual(replay["msg"], "Seq replayed with key ***")
        # nothing of operator B
        self.assertFalse([x for x in body["items"] if x["peer"] == "192.0.2.1"])

    def test_exchange_filters(self):
        op = self.op_a
        out = self.exchanges(op, op, direction="out")
        self.assertEqual(out["total"], 3)
        self.assertEqual({x["direction"] for x in out["items"]}, {"out"})
        failed = self.exchanges(op, op, failed=1)
        self.assertEqual(failed["total"], 10)
        self.assertTrue(all(x["failed"] for x in failed["items"]))
        failed_out = self.exchanges(op, op, failed=1, direction="out")
        self.assertEqual([x["reason"] for x in failed_out["items"]], ["http_status", "network"])
        itf = self.exchanges(op, op, interface="notification_stationInfo")
        self.assertEqual(itf["total"], 2)
        self.assertEqual({x["interface"] for x in itf["items"]}, {"notification_stationInfo"})
        ret = self.exchanges(op, op, ret=4001)
        self.assertEqual(ret["total"], 4)
        self.assertEqual(self.exchanges(op, op, ret=0)["total"], 3)
        why = self.exchanges(op, op, reason="not_owner")
        self.assertEqual(why["total"], 2)
        self.assertEqual(why["items"][0]["msg"], "StationID ST8 is not yours")
        both = self.exchanges(op, op, direction="in", interface="notification_stationStatus",
                              failed=1)
        self.assertEqual(both["total"], 5)
        for bad in ({"direction": "sideways"}, {"ret": "x"}, {"interface": "a b"},
                    {"failed": "maybe"}, {"reason": "Bad-Reason"}, {"page": 0}):
            r = op.get("%s/%s/exchanges?%s" % (API, op.operator_id, urllib.parse.urlencode(bad)))
            self.assertError(r, 422, "validation_failed", list(bad)[0])

    def test_exchange_paging(self):
        op = self.op_a
        full = self.exchanges(op, op, page_size=50)["items"]
        seen = []
        for page in (1, 2, 3, 4, 5):
            body = self.exchanges(op, op, page=page, page_size=3)
            self.assertEqual((body["total"], body["page"], body["page_size"]), (13, page, 3))
            seen += [x["id"] for x in body["items"]]
        self.assertEqual(seen, [x["id"] for x in full])
        self.assertEqual(self.exchanges(op, op, page=9, page_size=3)["items"], [])

    def test_admin_reads_any_platforms_exchanges(self):
        body = self.exchanges(self.admin, self.op_b)
        self.assertEqual(body["total"], 2)
        self.assertEqual({x["peer"] for x in body["items"]}, {"192.0.2.1"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
