"""Integration tests of stations, piles and connectors (我的充电站 / 我的充电桩, issue 4) against
the real mgmt daemon: CRUD through the JSON API, every field rule naming its field and code,
lists with filters and paging, xlsx exports read back with openpyxl, and authorisation. The
contract is docs/api-records.md (conventions of docs/api-accounts.md) and SPEC §5, §11.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_records.py"""

import copy
import datetime
import io
import os
import re
import secrets
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Platform, active_operator, admin_client, connector_body,  # noqa: E402
                     error_code, error_details, gated_operator, pile_body, register,
                     registration, station_body, unique_pdf)

import openpyxl  # noqa: E402  (Debian package python3-openpyxl)

API = "/api/v1"
HEX32 = re.compile(r"^[0-9a-f]{32}$")

STATION_LABELS = ["充电站编号", "充电站名称", "行政区划代码", "详细地址", "站点电话", "服务电话",
                  "站点类型", "站点状态", "车位数量", "经度", "纬度", "建设场所", "站点引导",
                  "营业时间", "充电电费", "服务费", "停车费", "支付方式", "是否支持预约", "备注"]
STATION_FIELDS = ["station_id", "name", "area_code", "address", "station_tel", "service_tel",
                  "station_type", "station_status", "park_nums", "lng", "lat", "construction",
                  "site_guide", "business_hours", "electricity_fee", "service_fee", "park_fee",
                  "payment", "support_order", "remark"]
STATION_REQUIRED = ["station_id", "name", "area_code", "address", "service_tel", "station_type",
                    "station_status", "park_nums", "lng", "lat", "construction"]
PILE_LABELS = ["充电桩编码", "充电站编号", "生产商组织机构代码", "生产商名称", "设备型号",
               "生产日期", "设备类型", "额定功率(kW)", "经度", "纬度", "接入协议"]
PILE_FIELDS = ["equipment_id", "station_id", "manufacturer_id", "manufacturer_name",
               "equipment_model", "production_date", "equipment_type", "power", "lng", "lat",
               "protocol"]
PILE_REQUIRED = ["equipment_id", "station_id", "equipment_type", "power", "protocol"]
CONNECTOR_LABELS = ["充电接口编码", "充电桩编码", "接口序号", "接口名称", "接口类型",
                    "额定电压上限(V)", "额定电压下限(V)", "额定电流(A)", "额定功率(kW)", "车位号",
                    "国家标准"]
CONNECTOR_FIELDS = ["connector_id", "equipment_id", "ocpp_connector_id", "connector_name",
                    "connector_type", "voltage_upper_limits", "voltage_lower_limits", "current",
                    "power", "park_no", "national_standard"]
CONNECTOR_REQUIRED = ["connector_id", "ocpp_connector_id", "connector_type",
                      "voltage_upper_limits", "voltage_lower_limits", "current", "power",
                      "national_standard"]


def q(s):
    return urllib.parse.quote(str(s), safe="")


def today():
    return datetime.date.today()


def read_xlsx(data):
    """{sheet name: {"header": [labels without `*`], "rows": [dict label -> value]}}"""
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows:
            out[ws.title] = {"header": [], "rows": []}
            continue
        header = [(str(h).strip().rstrip("*").rstrip("＊").strip() if h is not None else None)
                  for h in rows[0]]
        recs = []
        for row in rows[1:]:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            recs.append({h: v for h, v in zip(header, row) if h})
        out[ws.title] = {"header": header, "rows": recs}
    return out


def cell_text(v):
    """An xlsx cell value as the text a user means (IDs may come back as text or numbers)."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.strftime("%Y-%m-%d")
    return str(v)


def cell_number(v):
    if v is None:
        return None
    if isinstance(v, str):
        return float(v.split("-", 1)[0]) if re.match(r"^-?\d+(\.\d+)?(-|$)", v) else v
    return float(v)


class RecordsCase(unittest.TestCase):
    """One Platform (mgmt only) per TestCase class, with an admin session in `cls.admin`."""

    extra_env = None

    @classmethod
    def setUpClass(cls):
        cls.platform = Platform(cls.extra_env)
        try:
            cls.platform.start(("mgmt",))
            cls.admin = admin_client(cls.platform)
            cls.setUpData()
        except BaseException:
            cls.platform.close()
            raise

    @classmethod
    def setUpData(cls):
        """Per-class fixtures, run once the daemon is up (a failure stops the daemon)."""

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

    # --- clients -----------------------------------------------------------------------------

    def anon(self):
        return self.platform.mgmt()

    def operator(self, **over):
        return active_operator(self.platform, self.admin, **over)

    def gated(self):
        return gated_operator(self.platform, self.admin)

    def pending_operator(self):
        fields = registration()
        r, _ = register(self.anon(), fields, ("licence.pdf", unique_pdf(), "application/pdf"))
        self.assertEqual(r.status, 201, r)
        c = self.anon()
        self.assertEqual(c.login(fields["username"], fields["password"]).status, 200)
        return c

    # --- assertions ----------------------------------------------------------------------------

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, "expected %d %s, got %r" % (status, code, r))
        self.assertIn("application/json", r.header("Content-Type") or "",
                      "error answer is not JSON: %r" % r)
        body = r.json()
        self.assertIsInstance(body.get("error"), dict, r)
        self.assertIsInstance(body["error"].get("message"), str, r)
        if code is not None:
            self.assertEqual(body["error"].get("code"), code, r)
        return body

    def assertInvalid(self, r, field, codes=None, suggestion=Ellipsis, status=422,
                      error="validation_failed"):
        """`r` refuses the body (422 validation_failed by default) with a detail naming `field`
        (exact path) with one of `codes`; with `suggestion`, that detail's suggestion."""
        self.assertError(r, status, error)
        named = [d for d in error_details(r) if isinstance(d, dict) and d.get("field") == field]
        self.assertTrue(named, "no detail names field %r: %r" % (field, r))
        if codes is not None:
            codes = (codes,) if isinstance(codes, str) else tuple(codes)
            self.assertTrue(any(d.get("code") in codes for d in named),
                            "detail for %r has code %r, expected one of %r: %r"
                            % (field, [d.get("code") for d in named], codes, r))
            named = [d for d in named if d.get("code") in codes]
        for d in named:
            self.assertIsInstance(d.get("message"), str, d)
        if suggestion is not Ellipsis:
            self.assertEqual(named[0].get("suggestion"), suggestion,
                             "suggestion for %r: %r" % (field, r))
        return named[0]

    def assertNumber(self, actual, expected, what=""):
        self.assertIsInstance(actual, (int, float), "%s: %r" % (what, actual))
        self.assertAlmostEqual(float(actual), float(expected), places=6, msg=what)

    def assertStationMatches(self, st, body):
        for k, v in body.items():
            if isinstance(v, float):
                self.assertNumber(st.get(k), v, k)
            else:
                self.assertEqual(st.get(k), v, "station field %s: %r" % (k, st))

    def assertPileMatches(self, p, body):
        for k, v in body.items():
            if k == "connectors":
                got = sorted(p.get("connectors") or [], key=lambda c: c.get("ocpp_connector_id"))
                self.assertEqual(len(got), len(v), p)
                for g, e in zip(got, sorted(v, key=lambda c: c["ocpp_connector_id"])):
                    for ck, cv in e.items():
                        if isinstance(cv, float):
                            self.assertNumber(g.get(ck), cv, ck)
                        else:
                            self.assertEqual(g.get(ck), cv, "connector field %s: %r" % (ck, g))
            elif isinstance(v, float):
                self.assertNumber(p.get(k), v, k)
            else:
                self.assertEqual(p.get(k), v, "pile field %s: %r" % (k, p))

    # --- API calls -----------------------------------------------------------------------------

    def create_station(self, op, **over):
        body = station_body(**over)
        r = op.post(API + "/stations", body)
        self.assertEqual(r.status, 201, r)
        st = r.json()
        self.assertEqual(st.get("status"), "draft", st)
        return st, body

    def create_pile(self, op, station_id, **over):
        body = pile_body(station_id, **over)
        r = op.post(API + "/piles", body)
        self.assertEqual(r.status, 201, r)
        p = r.json()
        self.assertEqual(p.get("status"), "draft", p)
        return p, body

    def list(self, client, what, **params):
        qs = urllib.parse.urlencode(params)
        r = client.get("%s/%s%s" % (API, what, "?" + qs if qs else ""))
        self.assertEqual(r.status, 200, r)
        body = r.json()
        for k in ("items", "total", "page", "page_size"):
            self.assertIn(k, body, body)
        return body

    def all_items(self, client, what, **params):
        items, page = [], 1
        while True:
            b = self.list(client, what, page=page, page_size=200, **params)
            items += b["items"]
            if len(items) >= b["total"] or not b["items"]:
                return items
            page += 1

    def station_ids(self, client, **params):
        return sorted(s["station_id"] for s in self.all_items(client, "stations", **params))

    def equipment_ids(self, client, **params):
        return sorted(p["equipment_id"] for p in self.all_items(client, "piles", **params))


# ============================================================================================
class StationTest(RecordsCase):
    """POST/GET/PUT/DELETE /stations and the station field rules."""

    @classmethod
    def setUpData(cls):
        cls.op = active_operator(cls.platform, cls.admin)

    def bad(self, field, value, codes, suggestion=Ellipsis, path=None):
        body = station_body(**{field: value})
        r = self.op.post(API + "/stations", body)
        d = self.assertInvalid(r, path or field, codes, suggestion)
        self.assertEqual(self.op.get(API + "/stations/" + q(body["station_id"])).status
                         if isinstance(body["station_id"], str) and body["station_id"].isalnum()
                         else 404, 404, "a refused station was stored: %r" % body)
        return d

    def test_create_get_put_delete(self):
        st, body = self.create_station(self.op)
        self.assertStationMatches(st, body)
        self.assertEqual(st.get("area_name"), "中山市", st)
        self.assertEqual(st.get("account_id"), self.op.account["id"], st)
        self.assertEqual(st.get("operator_id"), self.op.operator_id, st)
        self.assertEqual(st.get("company_name"), self.op.fields["company_name"], st)
        self.assertIn("pile_count", st)
        self.assertEqual(st.get("pile_count"), 0, st)
        self.assertIsNone(st.get("application_id"), st)
        for k in ("created_at", "updated_at"):
            self.assertRegex(st.get(k) or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        url = API + "/stations/" + q(body["station_id"])
        r = self.op.get(url)
        self.assertEqual(r.status, 200, r)
        self.assertStationMatches(r.json(), body)
        self.assertEqual(r.json().get("area_name"), "中山市")
        # admins read it too
        r = self.admin.get(url)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("station_id"), body["station_id"])
        # PUT replaces the fields
        new = dict(body, name="中山市石岐区新名字充电站", park_nums=30, lng=113.38, lat=22.53,
                   station_status=6, remark=None, support_order=1)
        r = self.op.request("PUT", url, json_body=new)
        self.assertEqual(r.status, 200, r)
        exp = {k: v for k, v in new.items() if v is not None}
        self.assertStationMatches(r.json(), exp)
        self.assertFalse(r.json().get("remark"), "remark omitted by PUT should be cleared: %r" % r)
        self.assertStationMatches(self.op.get(url).json(), exp)
        # DELETE
        r = self.op.request("DELETE", url)
        self.assertIn(r.status, (200, 204), r)
        self.assertError(self.op.get(url), 404, "not_found")
        self.assertError(self.op.request("DELETE", url), 404, "not_found")
        self.assertError(self.op.request("PUT", url, json_body=new), 404, "not_found")

    def test_read_only_fields_are_not_taken_from_the_body(self):
        other = self.operator()
        body = station_body(status="accessed", account_id=other.account["id"],
                            operator_id="XXXXXXXXX", application_id=1, pile_count=9,
                            area_name="北京市")
        r = self.op.post(API + "/stations", body)
        self.assertIn(r.status, (201, 422), r)
        if r.status == 201:
            st = r.json()
            self.assertEqual(st["status"], "draft")
            self.assertEqual(st["account_id"], self.op.account["id"])
            self.assertEqual(st["operator_id"], self.op.operator_id)
            self.assertIsNone(st.get("application_id"))
            self.assertEqual(st["pile_count"], 0)
            self.assertEqual(st["area_name"], "中山市")
            self.assertEqual(other.get(API + "/stations/" + body["station_id"]).status, 404)
            url = API + "/stations/" + body["station_id"]
            r = self.op.request("PUT", url, json_body=dict(body, status="submitted"))
            self.assertIn(r.status, (200, 422), r)
            self.assertEqual(self.op.get(url).json()["status"], "draft")

    def test_optional_fields_may_be_omitted(self):
        body = {k: v for k, v in station_body().items() if k in STATION_REQUIRED}
        r = self.op.post(API + "/stations", body)
        self.assertEqual(r.status, 201, r)
        self.assertStationMatches(r.json(), body)

    def test_every_required_field_is_named(self):
        r = self.op.post(API + "/stations", {})
        self.assertError(r, 422, "validation_failed")
        named = {d.get("field"): d.get("code") for d in error_details(r)}
        for f in STATION_REQUIRED:
            self.assertEqual(named.get(f), "required", "field %s in %r" % (f, r))
        for f in STATION_REQUIRED:
            body = station_body()
            del body[f]
            self.assertInvalid(self.op.post(API + "/stations", body), f, "required")
            body[f] = None
            self.assertInvalid(self.op.post(API + "/stations", body), f, "required")

    def test_field_rules(self):
        cases = [
            ("station_id", "A" * 21, "too_long"),
            ("station_id", "ST-01", "bad_format"),
            ("station_id", "站点01", "bad_format"),
            ("station_id", "ST_01", "bad_format"),
            ("name", "站" * 51, "too_long"),
            ("area_code", "999999", ("bad_format", "out_of_range", "bad_enum")),
            ("area_code", "442001", ("bad_format", "out_of_range", "bad_enum")),
            ("area_code", "44200", "bad_format"),
            ("area_code", "4420000", ("bad_format", "too_long")),
            ("area_code", "44200A", "bad_format"),
            ("area_code", "440100", ("bad_format", "out_of_range")),   # a city with districts
            ("area_code", "440103", "out_of_range"),   # 荔湾区, 广州市: not an accepted prefix
            ("address", "路" * 51, "too_long"),
            ("station_tel", "0760-8888abc", "bad_format"),
            ("station_tel", "1" * 31, "too_long"),
            ("service_tel", "400#800", "bad_format"),
            ("service_tel", "1" * 31, "too_long"),
            ("station_type", 2, "bad_enum"),
            ("station_type", 104, "bad_enum"),
            ("station_status", 3, "bad_enum"),
            ("construction", 12, "bad_enum"),
            ("construction", 0, "bad_enum"),
            ("support_order", 2, "bad_enum"),
            ("park_nums", -1, "out_of_range"),
            ("park_nums", 100001, "out_of_range"),
            ("park_nums", 1.5, "bad_format"),
            ("lng", 72.9, "out_of_range"),
            ("lng", 136.01, "out_of_range"),
            ("lng", 113.1234567, "bad_format"),
            ("lat", 2.99, "out_of_range"),
            ("lat", 54.5, "out_of_range"),
            ("lat", 22.5176461, "bad_format"),
            ("lat", "北纬22度", "bad_format"),
            ("site_guide", "引" * 101, "too_long"),
            ("business_hours", "时" * 101, "too_long"),
            ("electricity_fee", "电" * 257, "too_long"),
            ("service_fee", "服" * 257, "too_long"),
            ("park_fee", "停" * 101, "too_long"),
            ("payment", "付" * 21, "too_long"),
            ("remark", "备" * 101, "too_long"),
        ]
        for field, value, codes in cases:
            with self.subTest(field=field, value=value):
                self.bad(field, value, codes)

    def test_edge_values_are_accepted(self):
        cases = [("station_id", "Z" * 20), ("station_id", "a1"), ("name", "站" * 50),
                 ("address", "路" * 50), ("service_tel", "+86 760-8888 8888"),
                 ("station_tel", ""), ("park_nums", 0), ("park_nums", 100000),
                 ("lng", 113.123456), ("lat", 22.123456), ("station_type", 255),
                 ("station_type", 103), ("station_status", 0), ("construction", 255),
                 ("construction", 11), ("support_order", 1), ("payment", "付" * 20),
                 ("electricity_fee", "电" * 256), ("remark", "备" * 100)]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                body = station_body(**{field: value})
                r = self.op.post(API + "/stations", body)
                self.assertEqual(r.status, 201, r)
                if value != "":
                    got = r.json().get(field)
                    if isinstance(value, float):
                        self.assertNumber(got, value, field)
                    else:
                        self.assertEqual(got, value, r)

    def test_spaces_full_width_and_number_as_text(self):
        self.bad("name", " 中山东区充电站", "spaces", "中山东区充电站")
        self.bad("name", "中山东区充电站 ", "spaces", "中山东区充电站")
        self.bad("name", "中山东区  充电站", "spaces", "中山东区 充电站")
        self.bad("address", "中山市\u3000东区", "spaces", "中山市 东区")
        self.bad("station_id", "ST01 ", "spaces", "ST01")
        self.bad("station_id", "ＳＴ０１", "full_width", "ST01")
        self.bad("service_tel", "０７６０-８８８８８８８８", "full_width", "0760-88888888")
        self.bad("area_code", "４４２０００", "full_width", "442000")
        self.bad("park_nums", "10", "number_as_text", "10")
        self.bad("lng", "113.39", "number_as_text", "113.39")
        self.bad("station_id", 1001, "text_as_number", "1001")

    def test_duplicate_station_id(self):
        st, body = self.create_station(self.op)
        r = self.op.post(API + "/stations", station_body(body["station_id"], name="另一个站"))
        self.assertInvalid(r, "station_id", None, status=409, error="conflict")
        # another operator may use the same station_id
        other = self.operator()
        r = other.post(API + "/stations", station_body(body["station_id"]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json().get("account_id"), other.account["id"])
        # both still read their own
        self.assertEqual(self.op.get(API + "/stations/" + body["station_id"]).json()["name"],
                         body["name"])
        # an admin must say which one it means
        r = self.admin.get(API + "/stations/" + body["station_id"])
        self.assertError(r, 409, "conflict")
        r = self.admin.get("%s/stations/%s?account_id=%d"
                           % (API, body["station_id"], other.account["id"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("account_id"), other.account["id"])

    def test_put_cannot_change_the_key(self):
        st, body = self.create_station(self.op)
        url = API + "/stations/" + body["station_id"]
        new_id = "NEW" + body["station_id"]
        r = self.op.request("PUT", url, json_body=dict(body, station_id=new_id, name="改名站"))
        self.assertIn(r.status, (200, 409, 422), r)
        if r.status != 200:
            self.assertInvalid(r, "station_id", None, status=r.status,
                               error=error_code(r))
        self.assertEqual(self.op.get(url).status, 200, "the station lost its key")
        self.assertEqual(self.op.get(url).json().get("station_id"), body["station_id"])
        self.assertError(self.op.get(API + "/stations/" + new_id), 404, "not_found")
        # a PUT that fails its rules changes nothing
        r = self.op.request("PUT", url, json_body=dict(body, park_nums=-5))
        self.assertInvalid(r, "park_nums", "out_of_range")
        self.assertNotEqual(self.op.get(url).json().get("park_nums"), -5)

    def test_delete_refused_while_it_has_piles(self):
        st, body = self.create_station(self.op)
        p, pbody = self.create_pile(self.op, body["station_id"])
        url = API + "/stations/" + body["station_id"]
        self.assertEqual(self.op.get(url).json().get("pile_count"), 1)
        self.assertError(self.op.request("DELETE", url), 409, "conflict")
        self.assertEqual(self.op.get(url).status, 200)
        r = self.op.request("DELETE", API + "/piles/" + pbody["equipment_id"])
        self.assertIn(r.status, (200, 204), r)
        r = self.op.request("DELETE", url)
        self.assertIn(r.status, (200, 204), r)
        self.assertEqual(self.op.get(url).status, 404)

    def test_unknown_station_is_404(self):
        self.assertError(self.op.get(API + "/stations/NOSUCHSTATION"), 404, "not_found")
        self.assertError(self.op.request("PUT", API + "/stations/NOSUCHSTATION",
                                         json_body=station_body("NOSUCHSTATION")), 404)
        self.assertError(self.op.request("DELETE", API + "/stations/NOSUCHSTATION"), 404)

    def test_body_must_be_a_json_object(self):
        r = self.op.request("POST", API + "/stations", body=b"{not json",
                            headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "bad_request")
        # a bad escape before Chinese text: the parser's "near" cuts a character in two, and
        # the answer is still an error object that says where
        r = self.op.request("POST", API + "/stations",
                            body='{"station_id": "FZS\\中山市"}'.encode(),
                            headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "bad_request")
        self.assertIn("line 1 column", r.json()["error"]["message"])
        r = self.op.post(API + "/stations", [station_body()])
        self.assertIn(r.status, (400, 422), r)

    def test_areas_route(self):
        r = self.anon().get(API + "/areas")
        self.assertEqual(r.status, 200, r)
        items = {a["code"]: a for a in r.json()["items"]}
        self.assertEqual(items["442000"]["name"], "中山市")
        self.assertEqual(items["442000"]["parent"], "440000")
        self.assertEqual(items["440103"]["parent"], "440100")
        self.assertIsNone(items["440000"].get("parent"))


# ============================================================================================
class PileTest(RecordsCase):
    """POST/GET/PUT/DELETE /piles with their connectors and the pile and connector rules."""

    @classmethod
    def setUpData(cls):
        cls.op = active_operator(cls.platform, cls.admin)
        r = cls.op.post(API + "/stations", station_body("PILESTA1"))
        assert r.status == 201, r
        cls.sid = "PILESTA1"

    def bad(self, path, codes, suggestion=Ellipsis, status=422, error="validation_failed",
            body=None, **over):
        body = body or pile_body(self.sid, **over)
        r = self.op.post(API + "/piles", body)
        d = self.assertInvalid(r, path, codes, suggestion, status=status, error=error)
        if isinstance(body.get("equipment_id"), str) and body["equipment_id"].isalnum():
            got = self.op.get(API + "/piles/" + q(body["equipment_id"]))
            if status == 422:
                self.assertEqual(got.status, 404, "a refused pile was stored: %r" % body)
        return d

    def bad_connector(self, i, field, value, codes, suggestion=Ellipsis, n=2):
        body = pile_body(self.sid, connectors=n)
        body["connectors"][i][field] = value
        return self.bad("connectors[%d].%s" % (i, field), codes, suggestion, body=body)

    def test_create_with_two_connectors(self):
        p, body = self.create_pile(self.op, self.sid)
        self.assertPileMatches(p, body)
        self.assertEqual(p.get("station_name"), "中山市东区测试充电站", p)
        self.assertEqual(p.get("account_id"), self.op.account["id"])
        self.assertEqual(p.get("operator_id"), self.op.operator_id)
        self.assertIs(p.get("has_password"), False, p)
        self.assertEqual(len(p["connectors"]), 2)
        url = API + "/piles/" + body["equipment_id"]
        r = self.op.get(url)
        self.assertEqual(r.status, 200, r)
        self.assertPileMatches(r.json(), body)
        self.assertEqual(self.admin.get(url).status, 200)
        st = self.op.get(API + "/stations/" + self.sid).json()
        self.assertGreaterEqual(st.get("pile_count"), 1, st)

    def test_read_only_fields_are_not_taken_from_the_body(self):
        body = pile_body(self.sid, status="accessed", has_password=True, application_id=1,
                         account_id=1, station_name="假的")
        r = self.op.post(API + "/piles", body)
        self.assertIn(r.status, (201, 422), r)
        if r.status == 201:
            p = r.json()
            self.assertEqual(p["status"], "draft")
            self.assertIs(p["has_password"], False)
            self.assertIsNone(p.get("application_id"))
            self.assertEqual(p["account_id"], self.op.account["id"])
            self.assertEqual(p["station_name"], "中山市东区测试充电站")
            # a draft pile has no gateway password to issue
            self.assertError(self.op.post(API + "/piles/%s/password" % body["equipment_id"]),
                             409, "conflict")

    def test_connector_numbering(self):
        body = pile_body(self.sid, connectors=2)
        body["connectors"][1]["ocpp_connector_id"] = 3
        self.bad("connectors[1].ocpp_connector_id", "bad_sequence", body=body)
        body = pile_body(self.sid, connectors=2)
        body["connectors"][1]["ocpp_connector_id"] = 1
        self.bad("connectors[1].ocpp_connector_id", ("duplicate", "duplicate_in_file",
                                                     "bad_sequence"), body=body)
        body = pile_body(self.sid, connectors=1)
        body["connectors"][0]["ocpp_connector_id"] = 0
        self.bad("connectors[0].ocpp_connector_id", ("bad_sequence", "out_of_range"), body=body)
        # the order of the list does not matter, only the numbers
        body = pile_body(self.sid, connectors=3)
        body["connectors"].reverse()
        r = self.op.post(API + "/piles", body)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(sorted(c["ocpp_connector_id"] for c in r.json()["connectors"]), [1, 2, 3])

    def test_no_connectors(self):
        self.bad("connectors", "no_connectors", connectors=0)
        body = pile_body(self.sid)
        del body["connectors"]
        self.bad("connectors", ("no_connectors", "required"), body=body)

    def test_at_most_64_connectors(self):
        eid = "MANY" + "0" * 6
        body = pile_body(self.sid, eid, connectors=64)
        body["power"] = 10000
        r = self.op.post(API + "/piles", body)
        self.assertEqual(r.status, 201, r)
        body = pile_body(self.sid, connectors=65)
        r = self.op.post(API + "/piles", body)
        self.assertError(r, 422, "validation_failed")
        self.assertTrue(any(str(d.get("field", "")).startswith("connectors")
                            for d in error_details(r)), r)

    def test_connector_power_consistency(self):
        # connector 61 kW on a 60 kW pile
        body = pile_body(self.sid, power=60)
        body["connectors"][1]["power"] = 61
        self.bad("connectors[1].power", "inconsistent", body=body)
        # 750 V × 50 A / 1000 = 37.5 kW < 60 kW
        body = pile_body(self.sid)
        body["connectors"][0]["current"] = 50
        self.bad("connectors[0].power", "inconsistent", body=body)
        # exactly V×A/1000 and exactly the pile's power are fine
        body = pile_body(self.sid, power=37.5)
        for c in body["connectors"]:
            c.update(current=50, power=37.5)
        r = self.op.post(API + "/piles", body)
        self.assertEqual(r.status, 201, r)

    def test_voltage_lower_above_upper(self):
        body = pile_body(self.sid)
        body["connectors"][0].update(voltage_lower_limits=800, voltage_upper_limits=750)
        r = self.op.post(API + "/piles", body)
        self.assertError(r, 422, "validation_failed")
        fields = {d.get("field") for d in error_details(r)}
        self.assertTrue(fields & {"connectors[0].voltage_lower_limits",
                                  "connectors[0].voltage_upper_limits"}, r)

    def test_connector_id_duplicates(self):
        body = pile_body(self.sid)
        body["connectors"][1]["connector_id"] = body["connectors"][0]["connector_id"]
        r = self.op.post(API + "/piles", body)
        self.assertIn(r.status, (409, 422), r)
        self.assertIn("connectors[1].connector_id", {d.get("field") for d in error_details(r)}, r)
        # against another pile
        p, first = self.create_pile(self.op, self.sid)
        body = pile_body(self.sid)
        body["connectors"][0]["connector_id"] = first["connectors"][1]["connector_id"]
        r = self.op.post(API + "/piles", body)
        self.assertIn(r.status, (409, 422), r)
        self.assertIn("connectors[0].connector_id", {d.get("field") for d in error_details(r)}, r)
        self.assertEqual(self.op.get(API + "/piles/" + body["equipment_id"]).status, 404)
        # against another operator's pile: unique on the platform
        other = self.operator()
        self.assertEqual(other.post(API + "/stations", station_body("OTHERSTA")).status, 201)
        body = pile_body("OTHERSTA")
        body["connectors"][0]["connector_id"] = first["connectors"][0]["connector_id"]
        r = other.post(API + "/piles", body)
        self.assertIn(r.status, (409, 422), r)
        self.assertIn("connectors[0].connector_id", {d.get("field") for d in error_details(r)}, r)

    def test_equipment_id_unique_on_the_platform(self):
        p, body = self.create_pile(self.op, self.sid)

        def same_id(station_id):
            # the same equipment_id, with connector ids of its own
            b = pile_body(station_id)
            b["equipment_id"] = body["equipment_id"]
            return b
        r = self.op.post(API + "/piles", same_id(self.sid))
        self.assertInvalid(r, "equipment_id", None, status=409, error="conflict")
        other = self.operator()
        self.assertEqual(other.post(API + "/stations", station_body("OTHERST2")).status, 201)
        r = other.post(API + "/piles", same_id("OTHERST2"))
        self.assertInvalid(r, "equipment_id", None, status=409, error="conflict")
        # the refused duplicate did not replace the first
        self.assertEqual(self.op.get(API + "/piles/" + body["equipment_id"]).json()
                         .get("account_id"), self.op.account["id"])

    def test_concurrent_creates_of_one_equipment_id_succeed_once(self):
        import threading
        ops = [self.op, self.operator(), self.operator()]
        for i, o in enumerate(ops[1:]):
            self.assertEqual(o.post(API + "/stations", station_body(self.sid)).status, 201)
        eid = "RACE" + secrets.token_hex(4).upper()
        results = []

        def worker(i):
            b = pile_body(self.sid, connectors=1)
            b["equipment_id"] = eid
            results.append(ops[i % 3].post(API + "/piles", b).status)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(results), [201] + [409] * 8, results)
        owners = [o for o in ops if o.get(API + "/piles/" + eid).status == 200]
        self.assertEqual(len(owners), 1)

    def test_unknown_station(self):
        self.bad("station_id", "unknown_station", body=pile_body("NOSUCHSTATION"))
        # another operator's station is unknown to this one
        other = self.operator()
        self.assertEqual(other.post(API + "/stations", station_body("ONLYOTHER1")).status, 201)
        self.bad("station_id", "unknown_station", body=pile_body("ONLYOTHER1"))

    def test_production_date(self):
        tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
        self.bad("production_date", "out_of_range", production_date=tomorrow)
        self.bad("production_date", "out_of_range", production_date="2099-01-01")
        self.bad("production_date", "bad_format", production_date="2024-02-30")
        self.bad("production_date", "bad_format", "2024-05-01", production_date="2024/5/1")
        self.bad("production_date", "bad_format", production_date="昨天")
        r = self.op.post(API + "/piles", pile_body(self.sid, production_date=today().isoformat()))
        self.assertEqual(r.status, 201, r)
        r = self.op.post(API + "/piles", pile_body(self.sid, production_date="2024-02-29"))
        self.assertEqual(r.status, 201, r)

    def test_pile_field_rules(self):
        cases = [
            ("equipment_id", "E" * 24, "too_long"),
            ("equipment_id", "EQ-001", "bad_format"),
            ("equipment_id", "", "required"),
            ("manufacturer_id", "M" * 10, "too_long"),
            ("manufacturer_id", "MA-12345", "bad_format"),
            ("manufacturer_name", "星" * 31, "too_long"),
            ("equipment_model", "M" * 21, "too_long"),
            ("equipment_type", 6, "bad_enum"),
            ("equipment_type", 0, "bad_enum"),
            ("power", 0, "out_of_range"),
            ("power", -7, "out_of_range"),
            ("power", 10000.1, "out_of_range"),
            ("power", 60.55, "bad_format"),
            ("lng", 140, "out_of_range"),
            ("lat", 22.1234567, "bad_format"),
            ("protocol", "ocpp2.0", "bad_enum"),
            ("protocol", "OCPP", "bad_enum"),
        ]
        for field, value, codes in cases:
            with self.subTest(field=field, value=value):
                body = pile_body(self.sid)
                body[field] = value
                self.bad(field, codes, body=body)
        for f in PILE_REQUIRED:
            with self.subTest(required=f):
                body = pile_body(self.sid)
                del body[f]
                self.bad(f, "required", body=body)
        self.bad("power", "number_as_text", "60", power="60")
        self.bad("equipment_id", "spaces", "EQSPACE1", equipment_id=" EQSPACE1")
        self.bad("equipment_id", "full_width", "EQ12", equipment_id="ＥＱ１２")
        self.bad("equipment_type", "bad_enum", "1", equipment_type="直流设备")

    def test_connector_field_rules(self):
        cases = [
            ("connector_id", "C" * 27, "too_long"),
            ("connector_id", "C-1", "bad_format"),
            ("connector_id", None, "required"),
            ("connector_name", "枪" * 31, "too_long"),
            ("connector_type", 7, "bad_enum"),
            ("connector_type", 0, "bad_enum"),
            ("voltage_upper_limits", 2001, "out_of_range"),
            ("voltage_upper_limits", 750.5, "bad_format"),
            ("voltage_lower_limits", 0, "out_of_range"),
            ("current", 0, "out_of_range"),
            ("current", 2000.1, "out_of_range"),
            ("current", 10.25, "bad_format"),
            ("power", 0, "out_of_range"),
            ("power", 7.05, "bad_format"),
            ("park_no", "P" * 11, "too_long"),
            ("national_standard", 3, "bad_enum"),
            ("national_standard", None, "required"),
            ("voltage_upper_limits", "750", "number_as_text"),
            ("park_no", "A01 ", "spaces"),
        ]
        for field, value, codes in cases:
            with self.subTest(field=field, value=value):
                self.bad_connector(1, field, value, codes)
        self.bad_connector(0, "current", "２００", "full_width", "200")

    def test_put_replaces_the_pile_and_its_connectors(self):
        p, body = self.create_pile(self.op, self.sid, connectors=3)
        url = API + "/piles/" + body["equipment_id"]
        eid = body["equipment_id"]
        new = copy.deepcopy(body)
        new.update(power=180, equipment_model="DC-180", protocol="ocpp2.0.1", equipment_type=3)
        new["connectors"] = [connector_body(eid + "N1", 1, power=90),
                             connector_body(eid + "N2", 2, connector_type=3, power=90)]
        r = self.op.request("PUT", url, json_body=new)
        self.assertEqual(r.status, 200, r)
        self.assertPileMatches(r.json(), new)
        got = self.op.get(url).json()
        self.assertPileMatches(got, new)
        self.assertEqual(sorted(c["connector_id"] for c in got["connectors"]),
                         [eid + "N1", eid + "N2"])
        # the old connector ids are free again
        other = pile_body(self.sid)
        other["connectors"][0]["connector_id"] = body["connectors"][2]["connector_id"]
        r = self.op.post(API + "/piles", other)
        self.assertEqual(r.status, 201, r)
        # a PUT may keep its own connector ids
        r = self.op.request("PUT", url, json_body=new)
        self.assertEqual(r.status, 200, r)
        # a PUT that breaks a rule changes nothing
        bad = copy.deepcopy(new)
        bad["connectors"][1]["ocpp_connector_id"] = 5
        r = self.op.request("PUT", url, json_body=bad)
        self.assertInvalid(r, "connectors[1].ocpp_connector_id", "bad_sequence")
        self.assertPileMatches(self.op.get(url).json(), new)
        # the key stays
        r = self.op.request("PUT", url, json_body=dict(new, equipment_id=eid + "X"))
        self.assertIn(r.status, (200, 409, 422), r)
        self.assertEqual(self.op.get(url).status, 200)
        self.assertEqual(self.op.get(API + "/piles/" + eid + "X").status, 404)

    def test_pile_can_move_to_another_own_station(self):
        self.assertEqual(self.op.post(API + "/stations", station_body("PILESTA2")).status, 201)
        p, body = self.create_pile(self.op, self.sid)
        url = API + "/piles/" + body["equipment_id"]
        r = self.op.request("PUT", url, json_body=dict(body, station_id="PILESTA2"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("station_id"), "PILESTA2")

    def test_delete_pile(self):
        p, body = self.create_pile(self.op, self.sid)
        url = API + "/piles/" + body["equipment_id"]
        r = self.op.request("DELETE", url)
        self.assertIn(r.status, (200, 204), r)
        self.assertError(self.op.get(url), 404, "not_found")
        # its ids are free again
        r = self.op.post(API + "/piles", body)
        self.assertEqual(r.status, 201, r)

    def test_password_only_for_an_accessed_pile(self):
        p, body = self.create_pile(self.op, self.sid)
        r = self.op.post(API + "/piles/%s/password" % body["equipment_id"])
        self.assertError(r, 409, "conflict")
        self.assertError(self.op.post(API + "/piles/NOSUCHPILE/password"), 404, "not_found")


# ============================================================================================
class ListTest(RecordsCase):
    """Lists with filters, paging and stable order; operators see only their own."""

    extra_env = {"EVGATE_AREA_CODE_PREFIXES": "4420,4401"}

    @classmethod
    def setUpData(cls):
        a = cls.a = active_operator(cls.platform, cls.admin)
        b = cls.b = active_operator(cls.platform, cls.admin)
        cls.a_stations = {
            "LA01": station_body("LA01", name="中山东区甲站", area_code="442000"),
            "LA02": station_body("LA02", name="中山石岐乙站", area_code="442000", station_type=50),
            "LA03": station_body("LA03", name="广州荔湾丙站", area_code="440103", station_type=50),
            "LA04": station_body("LA04", name="广州越秀丁站", area_code="440104"),
        }
        for sid, body in cls.a_stations.items():
            r = a.post(API + "/stations", body)
            assert r.status == 201, r
        cls.b_stations = {"LB01": station_body("LB01", name="中山东区戊站")}
        for sid, body in cls.b_stations.items():
            r = b.post(API + "/stations", body)
            assert r.status == 201, r
        cls.a_piles = {}
        plan = [("LA01", 1, "ocpp1.6"), ("LA01", 2, "ocpp2.0.1"), ("LA02", 1, "platform"),
                ("LA03", 3, "ocpp1.6"), ("LA03", 2, "ocpp1.6"), ("LA04", 1, "ocpp2.0.1")]
        for i, (sid, et, proto) in enumerate(plan):
            body = pile_body(sid, "LAPILE%02d" % i, equipment_type=et, protocol=proto)
            r = a.post(API + "/piles", body)
            assert r.status == 201, r
            cls.a_piles[body["equipment_id"]] = body
        cls.b_piles = {}
        for i in range(2):
            body = pile_body("LB01", "LBPILE%02d" % i)
            r = b.post(API + "/piles", body)
            assert r.status == 201, r
            cls.b_piles[body["equipment_id"]] = body

    def test_station_filters(self):
        a = self.a
        self.assertEqual(self.station_ids(a), ["LA01", "LA02", "LA03", "LA04"])
        self.assertEqual(self.station_ids(a, area_code="4420"), ["LA01", "LA02"])
        self.assertEqual(self.station_ids(a, area_code="442000"), ["LA01", "LA02"])
        self.assertEqual(self.station_ids(a, area_code="44"), ["LA01", "LA02", "LA03", "LA04"])
        self.assertEqual(self.station_ids(a, area_code="4401"), ["LA03", "LA04"])
        self.assertEqual(self.station_ids(a, area_code="440103"), ["LA03"])
        self.assertEqual(self.station_ids(a, area_code="45"), [])
        self.assertEqual(self.station_ids(a, name="中山"), ["LA01", "LA02"])
        self.assertEqual(self.station_ids(a, name="荔湾"), ["LA03"])
        self.assertEqual(self.station_ids(a, name="乙"), ["LA02"])
        self.assertEqual(self.station_ids(a, name="%"), [])
        self.assertEqual(self.station_ids(a, name="_"), [])
        self.assertEqual(self.station_ids(a, station_id="LA02"), ["LA02"])
        self.assertEqual(self.station_ids(a, station_type=50), ["LA02", "LA03"])
        self.assertEqual(self.station_ids(a, status="draft"), ["LA01", "LA02", "LA03", "LA04"])
        self.assertEqual(self.station_ids(a, status="accessed"), [])
        self.assertEqual(self.station_ids(a, name="中山", station_type=50), ["LA02"])
        names = {s["station_id"]: s.get("area_name") for s in self.all_items(a, "stations")}
        self.assertEqual(names["LA01"], "中山市")
        self.assertEqual(names["LA03"], "荔湾区")
        self.assertEqual(names["LA04"], "越秀区")
        self.assertError(a.get(API + "/stations?status=nonsense"), 422)
        self.assertError(a.get(API + "/stations?area_code=44x"), 422)

    def test_pile_filters(self):
        a = self.a
        self.assertEqual(self.equipment_ids(a), sorted(self.a_piles))
        self.assertEqual(self.equipment_ids(a, area_code="4420"),
                         ["LAPILE00", "LAPILE01", "LAPILE02"])
        self.assertEqual(self.equipment_ids(a, name="广州"), ["LAPILE03", "LAPILE04", "LAPILE05"])
        self.assertEqual(self.equipment_ids(a, name="东区甲"), ["LAPILE00", "LAPILE01"])
        self.assertEqual(self.equipment_ids(a, station_id="LA03"), ["LAPILE03", "LAPILE04"])
        self.assertEqual(self.equipment_ids(a, equipment_id="LAPILE02"), ["LAPILE02"])
        self.assertEqual(self.equipment_ids(a, equipment_type=1),
                         ["LAPILE00", "LAPILE02", "LAPILE05"])
        self.assertEqual(self.equipment_ids(a, protocol="ocpp1.6"),
                         ["LAPILE00", "LAPILE03", "LAPILE04"])
        self.assertEqual(self.equipment_ids(a, protocol="platform"), ["LAPILE02"])
        self.assertEqual(self.equipment_ids(a, status="draft"), sorted(self.a_piles))
        self.assertEqual(self.equipment_ids(a, status="submitted"), [])
        self.assertEqual(self.equipment_ids(a, area_code="4401", protocol="ocpp1.6",
                                            equipment_type=2), ["LAPILE04"])
        self.assertEqual(self.equipment_ids(a, online="true"), [])
        self.assertEqual(self.equipment_ids(a, online="false"), sorted(self.a_piles))
        # each pile comes with its connectors
        for p in self.all_items(a, "piles"):
            self.assertEqual(len(p.get("connectors") or []), 2, p)
            self.assertEqual(p.get("station_name"),
                             self.a_stations[p["station_id"]]["name"], p)

    def test_paging_total_and_stable_order(self):
        a = self.a
        b1 = self.list(a, "stations", page=1, page_size=3)
        self.assertEqual(b1["total"], 4)
        self.assertEqual(b1["page"], 1)
        self.assertEqual(b1["page_size"], 3)
        b2 = self.list(a, "stations", page=2, page_size=3)
        self.assertEqual(b2["total"], 4)
        ids = [s["station_id"] for s in b1["items"] + b2["items"]]
        self.assertEqual(ids, ["LA01", "LA02", "LA03", "LA04"])   # by station_id
        self.assertEqual(self.list(a, "stations", page=3, page_size=3)["items"], [])
        p1 = self.list(a, "piles", page=1, page_size=4)
        p2 = self.list(a, "piles", page=2, page_size=4)
        self.assertEqual(p1["total"], 6)
        self.assertEqual(len(p1["items"]), 4)
        self.assertEqual(len(p2["items"]), 2)
        got = [p["equipment_id"] for p in p1["items"] + p2["items"]]
        self.assertEqual(sorted(got), sorted(self.a_piles))
        self.assertEqual(len(set(got)), 6)
        again = [p["equipment_id"] for p in self.list(a, "piles", page=1, page_size=4)["items"]]
        self.assertEqual(again, got[:4], "order is not stable")
        d = self.list(a, "stations")
        self.assertEqual(d["page"], 1)
        self.assertEqual(d["page_size"], 20)
        self.assertEqual(self.list(a, "stations", page_size=200)["page_size"], 200)
        self.assertError(a.get(API + "/stations?page_size=201"), 422)
        self.assertError(a.get(API + "/piles?page=0"), 422)

    def test_operators_see_only_their_own(self):
        self.assertEqual(self.station_ids(self.b), ["LB01"])
        self.assertEqual(self.equipment_ids(self.b), sorted(self.b_piles))
        self.assertEqual(self.station_ids(self.b, station_id="LA01"), [])
        self.assertEqual(self.equipment_ids(self.b, equipment_id="LAPILE00"), [])
        # account_id from an operator does not widen its view
        self.assertEqual(self.station_ids(self.b, account_id=self.a.account["id"]), ["LB01"])
        self.assertEqual(self.equipment_ids(self.b, account_id=self.a.account["id"]),
                         sorted(self.b_piles))

    def test_admin_sees_all_and_filters_by_account(self):
        ids = self.station_ids(self.admin)
        for sid in list(self.a_stations) + list(self.b_stations):
            self.assertIn(sid, ids)
        self.assertEqual(self.station_ids(self.admin, account_id=self.a.account["id"]),
                         sorted(self.a_stations))
        self.assertEqual(self.station_ids(self.admin, account_id=self.b.account["id"]),
                         sorted(self.b_stations))
        self.assertEqual(self.equipment_ids(self.admin, account_id=self.b.account["id"]),
                         sorted(self.b_piles))
        eids = self.equipment_ids(self.admin)
        for e in list(self.a_piles) + list(self.b_piles):
            self.assertIn(e, eids)
        items = self.all_items(self.admin, "stations", account_id=self.a.account["id"])
        self.assertTrue(all(s.get("company_name") == self.a.fields["company_name"]
                            for s in items), items)
        # admins read but do not write
        r = self.admin.post(API + "/stations", station_body("ADMINSTA"))
        self.assertError(r, 403, "forbidden")
        r = self.admin.request("DELETE", API + "/piles/LAPILE00")
        self.assertIn(r.status, (403, 404), r)
        self.assertEqual(self.a.get(API + "/piles/LAPILE00").status, 200)


# ============================================================================================
class ExportTest(RecordsCase):
    """GET /stations/export.xlsx and /piles/export.xlsx read back with openpyxl."""

    @classmethod
    def setUpData(cls):
        a = cls.a = active_operator(cls.platform, cls.admin)
        cls.b = active_operator(cls.platform, cls.admin)
        cls.stations = {}
        for sid, name, st in (("EX01", "中山东区导出站", 1), ("EX02", "中山石岐导出站", 50),
                              ("EX03", "中山南朗“引号”站;--", 1)):
            body = station_body(sid, name=name, station_type=st, park_nums=int(sid[-1]) * 10,
                                lng=113.39 + int(sid[-1]) / 1000, lat=22.521234)
            r = a.post(API + "/stations", body)
            assert r.status == 201, r
            cls.stations[sid] = body
        cls.piles = {}
        for i, sid in enumerate(("EX01", "EX01", "EX02")):
            body = pile_body(sid, "EXPILE%02d" % i, connectors=i + 1, power=120 + i)
            r = a.post(API + "/piles", body)
            assert r.status == 201, r
            cls.piles[body["equipment_id"]] = body
        r = cls.b.post(API + "/stations", station_body("EXB1", name="B的站"))
        assert r.status == 201, r
        r = cls.b.post(API + "/piles", pile_body("EXB1", "EXBPILE1"))
        assert r.status == 201, r

    def export(self, client, what, **params):
        qs = urllib.parse.urlencode(params)
        r = client.get("%s/%s/export.xlsx%s" % (API, what, "?" + qs if qs else ""))
        self.assertEqual(r.status, 200, r)
        self.assertIn("spreadsheetml", r.header("Content-Type") or "", r.headers)
        self.assertTrue(r.body.startswith(b"PK"), "not a zip: %r" % r.body[:20])
        return read_xlsx(r.body)

    def station_rows(self, book):
        self.assertIn("充电站", book, list(book))
        header = book["充电站"]["header"]
        for label in STATION_LABELS:
            self.assertIn(label, header)
        return {cell_text(row["充电站编号"]): row for row in book["充电站"]["rows"]}

    def test_stations_export_matches_the_list(self):
        book = self.export(self.a, "stations")
        rows = self.station_rows(book)
        listed = {s["station_id"]: s for s in self.all_items(self.a, "stations")}
        self.assertEqual(sorted(rows), sorted(listed))
        for sid, row in rows.items():
            st = listed[sid]
            for label, field in zip(STATION_LABELS, STATION_FIELDS):
                want, got = st.get(field), row.get(label)
                if want is None or want == "":
                    self.assertIn(got, (None, ""), "%s %s" % (sid, label))
                elif isinstance(want, (int, float)) and not isinstance(want, bool):
                    self.assertAlmostEqual(cell_number(got), float(want), places=6,
                                           msg="%s %s: %r" % (sid, label, got))
                else:
                    self.assertEqual(cell_text(got), str(want), "%s %s" % (sid, label))
        self.assertEqual(rows["EX03"]["充电站名称"], "中山南朗“引号”站;--")
        # filters
        rows = self.station_rows(self.export(self.a, "stations", station_type=50))
        self.assertEqual(sorted(rows), ["EX02"])
        rows = self.station_rows(self.export(self.a, "stations", name="东区"))
        self.assertEqual(sorted(rows), ["EX01"])
        rows = self.station_rows(self.export(self.a, "stations", area_code="4401"))
        self.assertEqual(sorted(rows), [])

    def test_piles_export_matches_the_list(self):
        book = self.export(self.a, "piles")
        for sheet, labels in (("充电桩", PILE_LABELS), ("充电枪", CONNECTOR_LABELS)):
            self.assertIn(sheet, book, list(book))
            for label in labels:
                self.assertIn(label, book[sheet]["header"])
        piles = {cell_text(r["充电桩编码"]): r for r in book["充电桩"]["rows"]}
        listed = {p["equipment_id"]: p for p in self.all_items(self.a, "piles")}
        self.assertEqual(sorted(piles), sorted(listed))
        for eid, row in piles.items():
            p = listed[eid]
            self.assertEqual(cell_text(row["充电站编号"]), p["station_id"])
            self.assertAlmostEqual(cell_number(row["额定功率(kW)"]), float(p["power"]))
            proto = cell_text(row["接入协议"])
            self.assertTrue(proto == p["protocol"] or proto.startswith(p["protocol"] + "-"),
                            "%s 接入协议 %r" % (eid, proto))
            self.assertEqual(cell_text(row["生产日期"]), p["production_date"])
            self.assertEqual(cell_number(row["设备类型"]), p["equipment_type"])
            self.assertEqual(row["生产商名称"], p["manufacturer_name"])
        conns = {}
        for r in book["充电枪"]["rows"]:
            conns.setdefault(cell_text(r["充电桩编码"]), []).append(r)
        for eid, p in listed.items():
            got = sorted(conns.get(eid, []), key=lambda r: cell_number(r["接口序号"]))
            self.assertEqual([cell_text(r["充电接口编码"]) for r in got],
                             [c["connector_id"] for c in sorted(
                                 p["connectors"], key=lambda c: c["ocpp_connector_id"])])
            for r, c in zip(got, sorted(p["connectors"], key=lambda c: c["ocpp_connector_id"])):
                self.assertEqual(r["接口名称"], c["connector_name"])
                self.assertAlmostEqual(cell_number(r["额定功率(kW)"]), float(c["power"]))
                self.assertAlmostEqual(cell_number(r["额定电压上限(V)"]),
                                       float(c["voltage_upper_limits"]))
        self.assertEqual(len(book["充电枪"]["rows"]), 1 + 2 + 3)
        # filters
        book = self.export(self.a, "piles", station_id="EX02")
        self.assertEqual([cell_text(r["充电桩编码"]) for r in book["充电桩"]["rows"]],
                         ["EXPILE02"])
        self.assertEqual({cell_text(r["充电桩编码"]) for r in book["充电枪"]["rows"]},
                         {"EXPILE02"})

    def test_exports_of_another_operator_lack_these_rows(self):
        rows = self.station_rows(self.export(self.b, "stations"))
        self.assertEqual(sorted(rows), ["EXB1"])
        book = self.export(self.b, "piles")
        self.assertEqual([cell_text(r["充电桩编码"]) for r in book["充电桩"]["rows"]], ["EXBPILE1"])
        for r in book["充电枪"]["rows"]:
            self.assertEqual(cell_text(r["充电桩编码"]), "EXBPILE1")
        rows = self.station_rows(self.export(self.b, "stations",
                                             account_id=self.a.account["id"]))
        self.assertEqual(sorted(rows), ["EXB1"])

    def test_admin_export_filters_by_account(self):
        rows = self.station_rows(self.export(self.admin, "stations",
                                             account_id=self.a.account["id"]))
        self.assertEqual(sorted(rows), sorted(self.stations))
        rows = self.station_rows(self.export(self.admin, "stations"))
        self.assertTrue(set(self.stations) | {"EXB1"} <= set(rows))

    def test_export_cells_are_text_not_numbers_or_formulas(self):
        op = self.operator()
        body = station_body("00123", name="=1+1", remark="@SUM(A1)", station_tel="0760-1",
                            service_tel="07608888", site_guide="+86 引导", payment="-付")
        self.assertEqual(op.post(API + "/stations", body).status, 201)
        pb = pile_body("00123", "0001234")
        self.assertEqual(op.post(API + "/piles", pb).status, 201)
        r = op.get(API + "/stations/export.xlsx")
        self.assertEqual(r.status, 200, r)
        wb = openpyxl.load_workbook(io.BytesIO(r.body))
        ws = wb["充电站"]
        header = [str(c.value).rstrip("*") for c in ws[1]]
        row = {h: c for h, c in zip(header, ws[2])}
        for lab, want in (("充电站编号", "00123"), ("充电站名称", "=1+1"), ("备注", "@SUM(A1)"),
                          ("站点电话", "0760-1"), ("服务电话", "07608888"),
                          ("站点引导", "+86 引导"), ("支付方式", "-付")):
            self.assertEqual(row[lab].data_type, "s", "%s is not a text cell" % lab)
            self.assertEqual(row[lab].value, want, lab)
        r = op.get(API + "/piles/export.xlsx")
        wb = openpyxl.load_workbook(io.BytesIO(r.body))
        ws = wb["充电桩"]
        header = [str(c.value).rstrip("*") for c in ws[1]]
        row = {h: c for h, c in zip(header, ws[2])}
        self.assertEqual((row["充电桩编码"].data_type, row["充电桩编码"].value), ("s", "0001234"))
        self.assertEqual((row["充电站编号"].data_type, row["充电站编号"].value), ("s", "00123"))
        self.assertEqual(row["额定功率(kW)"].data_type, "n")
        ws = wb["充电枪"]
        header = [str(c.value).rstrip("*") for c in ws[1]]
        row = {h: c for h, c in zip(header, ws[2])}
        self.assertEqual(row["充电接口编码"].data_type, "s")
        self.assertEqual(row["额定电压上限(V)"].data_type, "n")

    def test_export_needs_an_active_user(self):
        self.assertError(self.anon().get(API + "/stations/export.xlsx"), 401)
        self.assertError(self.pending_operator().get(API + "/piles/export.xlsx"), 403,
                         "forbidden")


# ============================================================================================
class AuthorisationTest(RecordsCase):
    """Another operator's records answer 404; anonymous 401; pending 403; CSRF."""

    @classmethod
    def setUpData(cls):
        cls.a = active_operator(cls.platform, cls.admin)
        cls.b = active_operator(cls.platform, cls.admin)
        r = cls.a.post(API + "/stations", station_body("AUTHA1"))
        assert r.status == 201, r
        cls.pile = pile_body("AUTHA1", "AUTHAPILE1")
        r = cls.a.post(API + "/piles", cls.pile)
        assert r.status == 201, r

    def test_another_operator_gets_404(self):
        b = self.b
        self.assertEqual(b.post(API + "/stations", station_body("AUTHB1")).status, 201)
        for method, path, body in [
                ("GET", "/stations/AUTHA1", None),
                ("PUT", "/stations/AUTHA1", station_body("AUTHA1", name="B改的")),
                ("DELETE", "/stations/AUTHA1", None),
                ("GET", "/piles/AUTHAPILE1", None),
                ("PUT", "/piles/AUTHAPILE1", pile_body("AUTHB1", "AUTHAPILE1")),
                ("DELETE", "/piles/AUTHAPILE1", None),
                ("POST", "/piles/AUTHAPILE1/password", None)]:
            with self.subTest(method=method, path=path):
                r = b.request(method, API + path, json_body=body)
                self.assertError(r, 404, "not_found")
        # nothing changed
        st = self.a.get(API + "/stations/AUTHA1").json()
        self.assertNotEqual(st["name"], "B改的")
        p = self.a.get(API + "/piles/AUTHAPILE1").json()
        self.assertEqual(p["station_id"], "AUTHA1")
        # B's pile cannot name A's station
        r = b.post(API + "/piles", pile_body("AUTHA1"))
        self.assertInvalid(r, "station_id", "unknown_station")
        # lists
        self.assertNotIn("AUTHA1", self.station_ids(b))
        self.assertNotIn("AUTHAPILE1", self.equipment_ids(b))
        self.assertEqual(self.equipment_ids(b, station_id="AUTHA1"), [])

    def test_anonymous_is_401(self):
        anon = self.anon()
        for method, path in [("GET", "/stations"), ("POST", "/stations"),
                             ("GET", "/stations/AUTHA1"), ("PUT", "/stations/AUTHA1"),
                             ("DELETE", "/stations/AUTHA1"), ("GET", "/piles"),
                             ("POST", "/piles"), ("GET", "/piles/AUTHAPILE1"),
                             ("PUT", "/piles/AUTHAPILE1"), ("DELETE", "/piles/AUTHAPILE1"),
                             ("POST", "/piles/submit"), ("POST", "/piles/AUTHAPILE1/password"),
                             ("GET", "/stations/export.xlsx"), ("GET", "/piles/export.xlsx"),
                             ("GET", "/templates/stations.xlsx"),
                             ("GET", "/templates/piles.xlsx"),
                             ("GET", "/access-applications"),
                             ("POST", "/access-applications")]:
            with self.subTest(method=method, path=path):
                r = anon.request(method, API + path, json_body={} if method != "GET" else None)
                self.assertError(r, 401, "unauthenticated")
        self.assertEqual(self.a.get(API + "/stations/AUTHA1").status, 200)

    def test_pending_operator_is_403(self):
        p = self.pending_operator()
        for method, path in [("GET", "/stations"), ("POST", "/stations"), ("GET", "/piles"),
                             ("POST", "/piles"), ("GET", "/stations/AUTHA1"),
                             ("GET", "/templates/piles.xlsx"),
                             ("POST", "/access-applications")]:
            with self.subTest(method=method, path=path):
                body = station_body() if path == "/stations" else (
                    {} if method != "GET" else None)
                r = p.request(method, API + path, json_body=body)
                self.assertError(r, 403, "forbidden")

    def test_csrf_is_enforced_on_cookie_requests(self):
        a = self.a
        r = a.request("POST", API + "/stations", json_body=station_body("CSRF1"), csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = a.request("POST", API + "/stations", json_body=station_body("CSRF1"),
                      headers={"X-CSRF-Token": "0" * 32}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(a.get(API + "/stations/CSRF1").status, 404)
        r = a.request("PUT", API + "/stations/AUTHA1",
                      json_body=station_body("AUTHA1", name="CSRF改的"), csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = a.request("DELETE", API + "/piles/AUTHAPILE1", csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = a.request("POST", API + "/piles", json_body=pile_body("AUTHA1"), csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = a.request("POST", API + "/piles/submit", json_body={"equipment_ids": ["AUTHAPILE1"]},
                      csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertNotEqual(a.get(API + "/stations/AUTHA1").json()["name"], "CSRF改的")
        self.assertEqual(a.get(API + "/piles/AUTHAPILE1").status, 200)
        # GETs need no token
        self.assertEqual(a.get(API + "/stations", csrf=False).status, 200)

    def test_bearer_token_needs_no_csrf(self):
        r = self.a.post(API + "/auth/tokens", {"name": "records-script"})
        self.assertEqual(r.status, 201, r)
        script = self.anon()
        script.bearer = r.json()["token"]
        r = script.post(API + "/stations", station_body("BEARER1"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json().get("account_id"), self.a.account["id"])
        r = script.post(API + "/piles", pile_body("BEARER1", "BEARERPILE1"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.a.get(API + "/piles/BEARERPILE1").status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
