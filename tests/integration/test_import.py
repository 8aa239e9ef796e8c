"""Integration tests of access applications (申请接入, issue 4) against the real mgmt daemon: the
xlsx templates, bulk import of stations and piles (filled in with openpyxl), the all-or-nothing
validation that names every bad cell, the review lifecycle, pile gateway passwords, the piles
submit shortcut, exports re-imported, and crash safety of an import. The contract is
docs/api-records.md (conventions of docs/api-accounts.md) and SPEC §5, §6, §11.

Needs python3-openpyxl (Debian package).

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_import.py"""

import datetime
import io
import os
import re
import secrets
import signal
import socket
import sqlite3
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Platform, active_operator, admin_client, error_code,  # noqa: E402
                     error_details, gated_operator, multipart, pile_body, register,
                     registration, send_large, station_body, unique_pdf)

import openpyxl  # noqa: E402  (Debian package python3-openpyxl)

API = "/api/v1"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_IMPORT = 20 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STATION_HEADERS = ["充电站编号*", "充电站名称*", "行政区划代码*", "详细地址*", "站点电话", "服务电话*",
                   "站点类型*", "站点状态*", "车位数量*", "经度*", "纬度*", "建设场所*", "站点引导",
                   "营业时间", "充电电费", "服务费", "停车费", "支付方式", "是否支持预约", "备注"]
PILE_HEADERS = ["充电桩编码*", "充电站编号*", "生产商组织机构代码", "生产商名称", "设备型号",
                "生产日期", "设备类型*", "额定功率(kW)*", "经度", "纬度", "接入协议*"]
CONNECTOR_HEADERS = ["充电接口编码*", "充电桩编码*", "接口序号*", "接口名称", "接口类型*",
                     "额定电压上限(V)*", "额定电压下限(V)*", "额定电流(A)*", "额定功率(kW)*", "车位号",
                     "国家标准*"]
ENUM_COLUMNS = {"充电站": ["站点类型", "站点状态", "建设场所", "是否支持预约"],
                "充电桩": ["设备类型", "接入协议"],
                "充电枪": ["接口类型", "国家标准"]}


def label(h):
    return h.rstrip("*")


# --- workbooks -----------------------------------------------------------------------------

def station_row(sid, **over):
    """A valid row of the 充电站 sheet as {label: cell value}; IDs are strings."""
    r = {"充电站编号": sid, "充电站名称": "中山市导入测试站" + str(sid), "行政区划代码": "442000",
         "详细地址": "中山市东区中山四路1号", "站点电话": "0760-88886666", "服务电话": "400-800-8888",
         "站点类型": 1, "站点状态": "50-正常使用", "车位数量": 20, "经度": 113.392782,
         "纬度": 22.517645, "建设场所": 9, "站点引导": "B1层", "营业时间": "00:00-24:00",
         "充电电费": "0.80元/度", "服务费": "0.60元/度", "停车费": "免费2小时", "支付方式": "线上",
         "是否支持预约": "0-否", "备注": None}
    r.update(over)
    return r


def pile_row(eid, sid, **over):
    r = {"充电桩编码": eid, "充电站编号": sid, "生产商组织机构代码": "MA4UJ9XY0",
         "生产商名称": "中山市示例充电设备有限公司", "设备型号": "EVDC-120",
         "生产日期": "2023-06-15", "设备类型": "1-直流设备", "额定功率(kW)": 120,
         "经度": 113.392782, "纬度": 22.517645, "接入协议": "ocpp1.6"}
    r.update(over)
    return r


def connector_row(cid, eid, no, **over):
    r = {"充电接口编码": cid, "充电桩编码": eid, "接口序号": no, "接口名称": "%d号枪" % no,
         "接口类型": 4, "额定电压上限(V)": 750, "额定电压下限(V)": 200, "额定电流(A)": 200,
         "额定功率(kW)": 60, "车位号": "B1-%03d" % no, "国家标准": "2-2015"}
    r.update(over)
    return r


def piles_with_connectors(prefix, sid, n, connectors=1):
    piles, conns = [], []
    for i in range(1, n + 1):
        eid = "%sP%03d" % (prefix, i)
        piles.append(pile_row(eid, sid))
        for k in range(1, connectors + 1):
            conns.append(connector_row("%sC%d" % (eid, k), eid, k))
    return piles, conns


def fill(template, sheets):
    """Fills `template` (xlsx bytes) with {sheet: [row dicts by label]} under its headers
    (row 1) and returns the xlsx bytes. datetime.date values become date cells."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for name, rows in sheets.items():
        ws = wb[name]
        header = [label(str(c.value)) if c.value is not None else None for c in ws[1]]
        if ws.max_row > 1:
            ws.delete_rows(2, ws.max_row - 1)
        for i, row in enumerate(rows, start=2):
            unknown = set(row) - set(header)
            assert not unknown, "no such column %r" % unknown
            for j, h in enumerate(header, start=1):
                if h in row and row[h] is not None:
                    cell = ws.cell(row=i, column=j, value=row[h])
                    if isinstance(row[h], (datetime.date, datetime.datetime)):
                        cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plain_book(sheets):
    """A workbook made from scratch (not from the template): {sheet: (headers, rows)}."""
    wb = openpyxl.Workbook(write_only=True)
    for name, (headers, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(headers)
        labels = [label(h) for h in headers]
        for row in rows:
            ws.append([row.get(h) for h in labels])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_inline_strings(data):
    """Rewrites an xlsx so that every shared-string cell holds an inline string instead (as
    some generators and spreadsheet programs write them), dropping sharedStrings.xml."""
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    shared = []
    if "xl/sharedStrings.xml" in names:
        xml = src.read("xl/sharedStrings.xml").decode("utf-8")
        for si in re.findall(r"<si>(.*?)</si>", xml, re.S):
            shared.append("".join(re.findall(r"<t[^>]*>(.*?)</t>", si, re.S)))

    def cell(m):
        attrs, idx = m.group(1), int(m.group(2))
        attrs = attrs.replace(' t="s"', ' t="inlineStr"')
        return '<c%s><is><t xml:space="preserve">%s</t></is></c>' % (attrs, shared[idx])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for n in names:
            body = src.read(n)
            if n == "xl/sharedStrings.xml":
                continue
            if n.startswith("xl/worksheets/") and n.endswith(".xml"):
                body = re.sub(r'<c([^>]*? t="s"[^>]*)><v>(\d+)</v></c>', cell,
                              body.decode("utf-8")).encode("utf-8")
            elif n in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                body = re.sub(rb'<(Override|Relationship)[^>]*sharedStrings[^>]*/>', b"", body)
            dst.writestr(n, body)
    return out.getvalue()


def to_rich_text(data):
    """Rewrites the shared strings of an xlsx as rich text: each string split into two runs
    (the second bold), plus a phonetic hint (<rPh>, which Excel writes for East Asian text and
    readers must ignore), as Excel does when part of a cell is formatted."""
    import zipfile
    from xml.sax.saxutils import escape, unescape
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()

    def si(m):
        text = unescape("".join(re.findall(r"<t[^>]*>(.*?)</t>", m.group(1), re.S)))
        cut = max(1, len(text) // 2)
        return ('<si><r><t xml:space="preserve">%s</t></r><r><rPr><b/></rPr>'
                '<t xml:space="preserve">%s</t></r><rPh sb="0" eb="1"><t>ヨミ</t></rPh>'
                '<phoneticPr fontId="1" type="noConversion"/></si>'
                % (escape(text[:cut]), escape(text[cut:])))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for n in src.namelist():
            body = src.read(n)
            if n == "xl/sharedStrings.xml":
                body = re.sub(r"<si>(.*?)</si>", si, body.decode("utf-8"),
                              flags=re.S).encode("utf-8")
            dst.writestr(n, body)
    return out.getvalue()


def cell_str(v):
    """The text evgate reads from a cell written by openpyxl."""
    if v is None:
        return None
    if isinstance(v, float):
        return repr(v)
    return str(v)


class ImportCase(unittest.TestCase):
    """One Platform (mgmt only) per TestCase class, with an admin session in `cls.admin`."""

    extra_env = None

    @classmethod
    def setUpClass(cls):
        cls.platform = Platform(cls.extra_env)
        try:
            cls.platform.start(("mgmt",))
            cls.admin = admin_client(cls.platform)
            op = active_operator(cls.platform, cls.admin)
            cls.templates = {}
            for t in ("stations", "piles"):
                r = op.get("%s/templates/%s.xlsx" % (API, t))
                cls.templates[t] = r.body if r.status == 200 else None
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

    # --- clients and workbooks -----------------------------------------------------------------

    def anon(self):
        return self.platform.mgmt()

    def operator(self):
        return active_operator(self.platform, self.admin)

    def gated(self):
        return gated_operator(self.platform, self.admin)

    def template(self, which):
        if self.templates.get(which) is None:
            self.fail("GET /templates/%s.xlsx did not answer 200" % which)
        return self.templates[which]

    def stations_file(self, rows):
        return fill(self.template("stations"), {"充电站": rows})

    def piles_file(self, piles, conns):
        return fill(self.template("piles"), {"充电桩": piles, "充电枪": conns})

    # --- assertions ----------------------------------------------------------------------------

    def assertError(self, r, status, code=None):
        self.assertEqual(r.status, status, "expected %d %s, got %r" % (status, code, r))
        body = r.json()
        self.assertIsInstance(body.get("error"), dict, r)
        if code is not None:
            self.assertEqual(body["error"].get("code"), code, r)
        return body

    # --- API calls -----------------------------------------------------------------------------

    def new_application(self, op):
        r = op.post(API + "/access-applications", {})
        self.assertEqual(r.status, 201, r)
        app = r.json()
        self.assertIsInstance(app.get("id"), int, app)
        self.assertEqual(app.get("status"), "draft", app)
        return app

    def app_url(self, app_id, tail=""):
        return "%s/access-applications/%d%s" % (API, app_id, tail)

    def get_app(self, client, app_id):
        r = client.get(self.app_url(app_id))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def upload(self, op, app_id, what, data, name=None, ctype=XLSX_TYPE):
        return op.post_multipart(self.app_url(app_id, "/" + what), {},
                                 {"file": (name or what + ".xlsx", data, ctype)})

    def upload_ok(self, op, app_id, what, data, n):
        r = self.upload(op, app_id, what, data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("staged"), n, r)
        self.assertEqual(r.json().get("application", {}).get("id"), app_id, r)
        return r.json()

    def items(self, client, what, **params):
        out, page = [], 1
        while True:
            qs = urllib.parse.urlencode(dict(params, page=page, page_size=200))
            r = client.get("%s/%s?%s" % (API, what, qs))
            self.assertEqual(r.status, 200, r)
            b = r.json()
            out += b["items"]
            if len(out) >= b["total"] or not b["items"]:
                return out
            page += 1

    def total(self, client, what, **params):
        qs = urllib.parse.urlencode(dict(params, page_size=1))
        r = client.get("%s/%s?%s" % (API, what, qs))
        self.assertEqual(r.status, 200, r)
        return r.json()["total"]

    def statuses(self, client, what, app_id):
        key = "station_id" if what == "stations" else "equipment_id"
        return {x[key]: x["status"] for x in self.items(client, what, application_id=app_id)}

    def submit(self, op, app_id):
        r = op.post(self.app_url(app_id, "/submit"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "submitted", r)
        return r.json()

    def admin_action(self, app_id, action, body=None):
        return self.admin.post("%s/admin/access-applications/%d/%s" % (API, app_id, action), body)

    def staged_application(self, op, prefix, stations=1, piles=2, connectors=2):
        """A draft application of `op` with `stations` stations and `piles` piles of the first
        one staged by import."""
        app = self.new_application(op)
        srows = [station_row("%sS%d" % (prefix, i)) for i in range(1, stations + 1)]
        self.upload_ok(op, app["id"], "stations", self.stations_file(srows), stations)
        p, c = piles_with_connectors(prefix, srows[0]["充电站编号"], piles, connectors)
        self.upload_ok(op, app["id"], "piles", self.piles_file(p, c), piles)
        return app, srows, p, c


# ============================================================================================
class TemplateTest(ImportCase):
    """GET /templates/stations.xlsx and piles.xlsx."""

    def fetch(self, which):
        op = self.operator()
        r = op.get("%s/templates/%s.xlsx" % (API, which))
        self.assertEqual(r.status, 200, r)
        self.assertIn("spreadsheetml", r.header("Content-Type") or "")
        self.assertTrue(r.body.startswith(b"PK"))
        return openpyxl.load_workbook(io.BytesIO(r.body))

    def check_sheet(self, wb, name, headers):
        self.assertIn(name, wb.sheetnames)
        ws = wb[name]
        got = [c.value for c in ws[1]]
        while got and got[-1] is None:
            got.pop()
        self.assertEqual(got, headers, "headers of sheet %s" % name)
        # a drop-down for every enumeration column, offering codes
        dvs = ws.data_validations.dataValidation
        for col_label in ENUM_COLUMNS[name]:
            idx = [label(h) for h in headers].index(col_label)
            letter = openpyxl.utils.get_column_letter(idx + 1)
            covering = [dv for dv in dvs if dv.type == "list" and
                        any(letter + "2" in str(rng) or
                            (rng.min_col <= idx + 1 <= rng.max_col and rng.min_row <= 2 <=
                             rng.max_row) for rng in dv.sqref.ranges)]
            self.assertTrue(covering, "no list validation on %s/%s: %r"
                            % (name, col_label, [(dv.sqref, dv.formula1) for dv in dvs]))
        return ws

    def test_stations_template(self):
        wb = self.fetch("stations")
        ws = self.check_sheet(wb, "充电站", STATION_HEADERS)
        dv = [d for d in ws.data_validations.dataValidation if "G2" in str(d.sqref) or
              any(r.min_col == 7 for r in d.sqref.ranges)][0]
        self.assertIn("255", str(dv.formula1) + str(self.options_text(wb)))
        self.assertTrue(self.has_example(wb, "442000"), "no example row with an area code")

    def test_piles_template(self):
        wb = self.fetch("piles")
        self.check_sheet(wb, "充电桩", PILE_HEADERS)
        self.check_sheet(wb, "充电枪", CONNECTOR_HEADERS)
        self.assertIn("ocpp2.0.1", self.options_text(wb) + "".join(
            str(d.formula1) for d in wb["充电桩"].data_validations.dataValidation))

    def options_text(self, wb):
        return " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows()
                        for c in row if c.value is not None)

    def has_example(self, wb, needle):
        return needle in self.options_text(wb)

    def test_template_needs_an_active_user(self):
        self.assertError(self.anon().get(API + "/templates/stations.xlsx"), 401)

    def test_the_empty_template_stages_nothing_or_is_refused(self):
        op = self.gated()
        app = self.new_application(op)
        r = self.upload(op, app["id"], "stations", self.template("stations"))
        if r.status == 200:
            self.assertEqual(r.json()["staged"], 0)
        else:
            self.assertEqual(r.status, 422, r)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)


# ============================================================================================
class LifecycleTest(ImportCase):
    """Gate → application → stations → piles → submit → approve / reject → passwords."""

    def test_gate_then_import_submit_approve_and_passwords(self):
        op = self.operator()
        r = op.post(API + "/access-applications", {})
        self.assertError(r, 403, "forbidden")
        self.assertTrue(r.json()["error"].get("message"), r)
        op = self.gated()
        app = self.new_application(op)
        self.assertEqual(app.get("station_count"), 0, app)
        self.assertEqual(app.get("pile_count"), 0, app)
        self.assertEqual(app.get("account_id"), op.account["id"])
        self.assertIsNone(app.get("submitted_at"))
        # stations
        srows = [station_row("LCS1"), station_row("LCS2", 站点类型="50-个人", 建设场所="4-写字楼")]
        body = self.upload_ok(op, app["id"], "stations", self.stations_file(srows), 2)
        self.assertEqual(body["application"].get("station_count"), 2, body)
        staged = {s["station_id"]: s for s in self.items(op, "stations",
                                                         application_id=app["id"])}
        self.assertEqual(sorted(staged), ["LCS1", "LCS2"])
        for s in staged.values():
            self.assertEqual(s["status"], "draft")
            self.assertEqual(s["application_id"], app["id"])
            self.assertEqual(s["area_name"], "中山市")
        self.assertEqual(staged["LCS2"]["station_type"], 50)
        self.assertEqual(staged["LCS2"]["construction"], 4)
        self.assertEqual(staged["LCS1"]["station_status"], 50)
        self.assertEqual(staged["LCS1"]["support_order"], 0)
        self.assertEqual(staged["LCS1"]["name"], "中山市导入测试站LCS1")
        self.assertAlmostEqual(staged["LCS1"]["lng"], 113.392782, places=6)
        # piles (one date as a real date cell, one as text)
        p, c = piles_with_connectors("LC", "LCS1", 2, 2)
        p[0]["生产日期"] = datetime.date(2023, 6, 1)
        p[1]["充电站编号"] = "LCS2"
        body = self.upload_ok(op, app["id"], "piles", self.piles_file(p, c), 2)
        self.assertEqual(body["application"].get("pile_count"), 2, body)
        piles = {x["equipment_id"]: x for x in self.items(op, "piles", application_id=app["id"])}
        self.assertEqual(sorted(piles), ["LCP001", "LCP002"])
        self.assertEqual(piles["LCP001"]["production_date"], "2023-06-01")
        self.assertEqual(piles["LCP002"]["station_id"], "LCS2")
        self.assertEqual(piles["LCP001"]["equipment_type"], 1)
        self.assertEqual(piles["LCP001"]["protocol"], "ocpp1.6")
        self.assertEqual(sorted(x["connector_id"] for x in piles["LCP001"]["connectors"]),
                         ["LCP001C1", "LCP001C2"])
        conn = [x for x in piles["LCP001"]["connectors"] if x["ocpp_connector_id"] == 2][0]
        self.assertEqual(conn["national_standard"], 2)
        self.assertEqual(conn["connector_type"], 4)
        self.assertEqual(conn["connector_name"], "2号枪")
        for x in piles.values():
            self.assertEqual(x["status"], "draft")
        # submit
        sub = self.submit(op, app["id"])
        self.assertIsNotNone(sub.get("submitted_at"), sub)
        self.assertEqual(set(self.statuses(op, "stations", app["id"]).values()), {"submitted"})
        self.assertEqual(set(self.statuses(op, "piles", app["id"]).values()), {"submitted"})
        # submitted records are frozen; no more uploads
        r = op.request("PUT", API + "/stations/LCS1", json_body=station_body("LCS1"))
        self.assertError(r, 409, "conflict")
        self.assertError(op.request("DELETE", API + "/piles/LCP001"), 409, "conflict")
        r = self.upload(op, app["id"], "stations", self.stations_file(srows))
        self.assertError(r, 409, "conflict")
        self.assertError(op.post(self.app_url(app["id"], "/submit")), 409, "conflict")
        # passwords only after approval
        self.assertError(op.post(self.app_url(app["id"], "/pile-passwords")), 409, "conflict")
        # the operator cannot approve
        r = op.post("%s/admin/access-applications/%d/approve" % (API, app["id"]))
        self.assertError(r, 403, "forbidden")
        # approve
        r = self.admin_action(app["id"], "approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "approved", r)
        self.assertEqual(self.get_app(op, app["id"])["status"], "approved")
        self.assertEqual(set(self.statuses(op, "stations", app["id"]).values()), {"accessed"})
        self.assertEqual(set(self.statuses(op, "piles", app["id"]).values()), {"accessed"})
        self.assertEqual(sorted(x["equipment_id"] for x in self.items(op, "piles",
                                                                      status="accessed")),
                         ["LCP001", "LCP002"])
        self.assertError(self.admin_action(app["id"], "approve"), 409, "conflict")
        # accessed records are frozen
        r = op.request("PUT", API + "/piles/LCP001", json_body=pile_body("LCS1", "LCP001"))
        self.assertError(r, 409, "conflict")
        # pile passwords: one 32-hex password per pile, re-issuing changes them
        r = op.post(self.app_url(app["id"], "/pile-passwords"))
        self.assertEqual(r.status, 200, r)
        first = {x["equipment_id"]: x["password"] for x in r.json()["items"]}
        self.assertEqual(sorted(first), ["LCP001", "LCP002"])
        for pw in first.values():
            self.assertRegex(pw, HEX32)
        self.assertNotEqual(first["LCP001"], first["LCP002"])
        got = op.get(API + "/piles/LCP001")
        self.assertIs(got.json().get("has_password"), True, got)
        for pw in first.values():
            self.assertNotIn(pw.encode(), got.body)
            self.assertNotIn(pw.encode(), self.admin.get(API + "/piles/LCP001").body)
        r = op.post(self.app_url(app["id"], "/pile-passwords"))
        self.assertEqual(r.status, 200, r)
        second = {x["equipment_id"]: x["password"] for x in r.json()["items"]}
        self.assertEqual(sorted(second), ["LCP001", "LCP002"])
        for k in second:
            self.assertRegex(second[k], HEX32)
            self.assertNotEqual(second[k], first[k])
        # one pile's password
        r = op.post(API + "/piles/LCP002/password")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("equipment_id"), "LCP002")
        self.assertRegex(r.json().get("password", ""), HEX32)
        self.assertNotEqual(r.json()["password"], second["LCP002"])
        # passwords are stored only salted and hashed: neither they nor their bare SHA-256
        # appear anywhere in the database or the data directory
        import hashlib
        secrets_seen = list(first.values()) + list(second.values()) + [r.json()["password"]]
        blobs = []
        for root in (self.platform.dir,):
            for d, _, names in os.walk(root):
                for nme in names:
                    try:
                        with open(os.path.join(d, nme), "rb") as f:
                            blobs.append((nme, f.read()))
                    except OSError:
                        pass
        for pw in secrets_seen:
            bare = hashlib.sha256(pw.encode()).hexdigest()
            for nme, blob in blobs:
                self.assertNotIn(pw.encode(), blob, "a pile password is stored in %s" % nme)
                self.assertNotIn(bare.encode(), blob, "an unsalted hash is stored in %s" % nme)
                self.assertNotIn(bytes.fromhex(bare), blob,
                                 "an unsalted hash is stored in %s" % nme)
        # the application's detail carries its audit
        detail = self.get_app(self.admin, app["id"])
        self.assertIsInstance(detail.get("audit"), list, detail)
        self.assertIsNotNone(detail.get("reviewed_at"))
        # the list
        r = op.get(API + "/access-applications?status=approved")
        self.assertEqual(r.status, 200, r)
        self.assertIn(app["id"], [a["id"] for a in r.json()["items"]])

    def test_reject_path(self):
        op = self.gated()
        app, srows, p, c = self.staged_application(op, "RJ")
        self.submit(op, app["id"])
        r = self.admin_action(app["id"], "reject", {})
        self.assertError(r, 422)
        r = self.admin_action(app["id"], "reject", {"reason": "桩编码与铭牌不符"})
        self.assertEqual(r.status, 200, r)
        a = self.get_app(op, app["id"])
        self.assertEqual(a["status"], "rejected")
        self.assertEqual(a["reject_reason"], "桩编码与铭牌不符")
        self.assertEqual(set(self.statuses(op, "stations", app["id"]).values()), {"rejected"})
        self.assertEqual(set(self.statuses(op, "piles", app["id"]).values()), {"rejected"})
        self.assertError(self.admin_action(app["id"], "approve"), 409, "conflict")
        self.assertError(op.post(self.app_url(app["id"], "/pile-passwords")), 409, "conflict")
        # rejected records are editable again and can go into a new application
        eid = p[0]["充电桩编码"]
        body = pile_body(srows[0]["充电站编号"], eid, connectors=1)
        r = op.request("PUT", API + "/piles/" + eid, json_body=body)
        self.assertEqual(r.status, 200, r)
        r = op.post(API + "/piles/submit", {"equipment_ids": [eid]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json().get("status"), "submitted")
        self.assertEqual(op.get(API + "/piles/" + eid).json()["status"], "submitted")

    def test_submit_needs_something_staged(self):
        op = self.gated()
        app = self.new_application(op)
        r = op.post(self.app_url(app["id"], "/submit"))
        self.assertError(r, 422)
        self.assertEqual(self.get_app(op, app["id"])["status"], "draft")

    def test_piles_submit_of_form_created_drafts(self):
        op = self.gated()
        self.assertEqual(op.post(API + "/stations", station_body("PSS1")).status, 201)
        self.assertEqual(op.post(API + "/stations", station_body("PSS2")).status, 201)
        for eid, sid in (("PSP1", "PSS1"), ("PSP2", "PSS1"), ("PSP3", "PSS2")):
            r = op.post(API + "/piles", pile_body(sid, eid))
            self.assertEqual(r.status, 201, r)
        r = op.post(API + "/piles/submit", {"equipment_ids": ["PSP1", "PSP2"]})
        self.assertEqual(r.status, 201, r)
        app = r.json()
        self.assertEqual(app.get("status"), "submitted", app)
        self.assertEqual(app.get("pile_count"), 2, app)
        self.assertEqual(app.get("station_count"), 1, app)
        self.assertEqual(self.statuses(op, "piles", app["id"]),
                         {"PSP1": "submitted", "PSP2": "submitted"})
        self.assertEqual(self.statuses(op, "stations", app["id"]), {"PSS1": "submitted"})
        self.assertEqual(op.get(API + "/piles/PSP3").json()["status"], "draft")
        self.assertEqual(op.get(API + "/stations/PSS2").json()["status"], "draft")
        # not again, not unknown, not empty
        r = op.post(API + "/piles/submit", {"equipment_ids": ["PSP1"]})
        self.assertIn(r.status, (409, 422), r)
        r = op.post(API + "/piles/submit", {"equipment_ids": ["NOSUCHPILE"]})
        self.assertIn(r.status, (404, 422), r)
        self.assertError(op.post(API + "/piles/submit", {"equipment_ids": []}), 422)
        # approval makes them accessed
        r = self.admin_action(app["id"], "approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(op.get(API + "/piles/PSP1").json()["status"], "accessed")
        self.assertEqual(op.get(API + "/stations/PSS1").json()["status"], "accessed")
        r = op.post(API + "/piles/PSP1/password")
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.json().get("password", ""), HEX32)
        # a pile of an accessed station can be submitted on its own
        r = op.post(API + "/piles", pile_body("PSS1", "PSP4"))
        self.assertEqual(r.status, 201, r)
        r = op.post(API + "/piles/submit", {"equipment_ids": ["PSP4"]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json().get("station_count"), 0, r)

    def test_piles_submit_needs_the_gate(self):
        op = self.operator()
        self.assertEqual(op.post(API + "/stations", station_body("NGS1")).status, 201)
        self.assertEqual(op.post(API + "/piles", pile_body("NGS1", "NGP1")).status, 201)
        r = op.post(API + "/piles/submit", {"equipment_ids": ["NGP1"]})
        self.assertError(r, 403, "forbidden")
        self.assertEqual(op.get(API + "/piles/NGP1").json()["status"], "draft")


# ============================================================================================
class UploadTest(ImportCase):
    """Staging, replacement, piles referring to staged or existing stations, file errors."""

    def test_reupload_replaces_the_staged_rows(self):
        op = self.gated()
        app = self.new_application(op)
        self.upload_ok(op, app["id"], "stations",
                       self.stations_file([station_row("RPS1"), station_row("RPS2")]), 2)
        self.upload_ok(op, app["id"], "stations",
                       self.stations_file([station_row("RPS1", 充电站名称="改名后的站"),
                                           station_row("RPS3")]), 2)
        staged = {s["station_id"]: s for s in self.items(op, "stations",
                                                         application_id=app["id"])}
        self.assertEqual(sorted(staged), ["RPS1", "RPS3"])
        self.assertEqual(staged["RPS1"]["name"], "改名后的站")
        self.assertEqual(op.get(API + "/stations/RPS2").status, 404)
        self.assertEqual(self.get_app(op, app["id"])["station_count"], 2)
        p, c = piles_with_connectors("RP", "RPS1", 3)
        self.upload_ok(op, app["id"], "piles", self.piles_file(p, c), 3)
        p2, c2 = piles_with_connectors("RQ", "RPS3", 1, 2)
        self.upload_ok(op, app["id"], "piles", self.piles_file(p2, c2), 1)
        self.assertEqual(sorted(x["equipment_id"] for x in self.items(
            op, "piles", application_id=app["id"])), ["RQP001"])
        self.assertEqual(op.get(API + "/piles/RPP001").status, 404)
        # the same ids again are not duplicates of themselves
        self.upload_ok(op, app["id"], "piles", self.piles_file(p2, c2), 1)
        self.assertEqual(self.get_app(op, app["id"])["pile_count"], 1)

    def test_piles_may_use_existing_stations(self):
        op = self.gated()
        self.assertEqual(op.post(API + "/stations", station_body("EXISTS1")).status, 201)
        app = self.new_application(op)
        p, c = piles_with_connectors("EXI", "EXISTS1", 2)
        self.upload_ok(op, app["id"], "piles", self.piles_file(p, c), 2)
        self.submit(op, app["id"])
        self.assertEqual(set(self.statuses(op, "piles", app["id"]).values()), {"submitted"})
        # the contract does not say whether an existing draft station named by the staged
        # piles goes into review with them (POST /piles/submit takes it along)
        self.assertIn(op.get(API + "/stations/EXISTS1").json()["status"],
                      ("draft", "submitted"))

    def test_codes_names_and_code_name_forms_are_accepted(self):
        op = self.gated()
        app = self.new_application(op)
        rows = [station_row("CNS1", 站点类型="1", 站点状态=50, 建设场所="9-大型建筑配建停车场",
                            是否支持预约=1),
                station_row("CNS2", 站点类型="100-公交(专用)", 站点状态="6-维护中",
                            建设场所="255-其他")]
        self.upload_ok(op, app["id"], "stations", self.stations_file(rows), 2)
        got = {s["station_id"]: s for s in self.items(op, "stations", application_id=app["id"])}
        self.assertEqual((got["CNS1"]["station_type"], got["CNS1"]["construction"]), (1, 9))
        self.assertEqual(got["CNS1"]["support_order"], 1)
        self.assertEqual((got["CNS2"]["station_type"], got["CNS2"]["station_status"],
                          got["CNS2"]["construction"]), (100, 6, 255))

    def test_a_plain_workbook_with_the_right_sheets_and_headers_reads_the_same(self):
        op = self.gated()
        app = self.new_application(op)
        data = plain_book({"充电站": (STATION_HEADERS, [station_row("PBS1")])})
        self.upload_ok(op, app["id"], "stations", data, 1)
        p, c = piles_with_connectors("PB", "PBS1", 1, 2)
        data = plain_book({"充电桩": (PILE_HEADERS, p), "充电枪": (CONNECTOR_HEADERS, c)})
        self.upload_ok(op, app["id"], "piles", data, 1)

    def test_inline_strings_read_the_same_as_shared_strings(self):
        op = self.gated()
        app = self.new_application(op)
        rows = [station_row("INLS1", 充电站名称="中山“内联”字符串站"), station_row("INLS2")]
        data = to_inline_strings(self.stations_file(rows))
        self.upload_ok(op, app["id"], "stations", data, 2)
        got = {s["station_id"]: s for s in self.items(op, "stations", application_id=app["id"])}
        self.assertEqual(got["INLS1"]["name"], "中山“内联”字符串站")
        self.assertEqual(got["INLS1"]["station_status"], 50)
        p, c = piles_with_connectors("INL", "INLS1", 2, 2)
        p[0]["额定功率(kW)"] = "60"   # a number stored as text is still reported
        r = self.upload(op, app["id"], "piles", to_inline_strings(self.piles_file(p, c)))
        self.assertEqual(r.status, 422, r)
        self.assertEqual([(d.get("sheet"), d.get("row"), d.get("column"), d.get("code"))
                          for d in error_details(r)],
                         [("充电桩", 2, "额定功率(kW)", "number_as_text")])
        p[0]["额定功率(kW)"] = 60
        self.upload_ok(op, app["id"], "piles", to_inline_strings(self.piles_file(p, c)), 2)

    def test_rich_text_strings_read_as_their_plain_text(self):
        op = self.gated()
        app = self.new_application(op)
        rows = [station_row("RTS1", 充电站名称="中山富文本站"), station_row("RTS2")]
        data = to_rich_text(self.stations_file(rows))
        wb = openpyxl.load_workbook(io.BytesIO(data))
        self.assertEqual(wb["充电站"]["B2"].value, "中山富文本站")   # the file is sound
        self.upload_ok(op, app["id"], "stations", data, 2)
        got = {x["station_id"]: x for x in self.items(op, "stations", application_id=app["id"])}
        self.assertEqual(got["RTS1"]["name"], "中山富文本站")
        self.assertEqual(got["RTS2"]["station_status"], 50)
        self.assertEqual(got["RTS1"]["area_code"], "442000")

    def test_piles_cannot_name_another_operators_station(self):
        a = self.gated()
        self.assertEqual(a.post(API + "/stations", station_body("ONLYA1")).status, 201)
        b = self.gated()
        app = self.new_application(b)
        p, c = piles_with_connectors("NOTB", "ONLYA1", 1)
        r = self.upload(b, app["id"], "piles", self.piles_file(p, c))
        self.assertEqual(r.status, 422, r)
        self.assertEqual([(d.get("sheet"), d.get("row"), d.get("column"), d.get("value"),
                           d.get("code")) for d in error_details(r)],
                         [("充电桩", 2, "充电站编号", "ONLYA1", "unknown_station")])

    def test_not_xlsx(self):
        op = self.gated()
        app = self.new_application(op)
        for name, data, ctype in (("stations.xlsx", b"not a zip at all", XLSX_TYPE),
                                  ("stations.csv", "充电站编号,充电站名称\nA,B\n".encode(), "text/csv"),
                                  ("stations.pdf", unique_pdf(), "application/pdf")):
            with self.subTest(name=name):
                r = self.upload(op, app["id"], "stations", data, name=name, ctype=ctype)
                self.assertEqual(r.status, 422, r)
                codes = [d.get("code") for d in error_details(r)]
                self.assertIn("not_xlsx", codes, r)
                self.assertEqual(error_code(r), "import_failed", r)
        # a zip that is not a workbook
        import zipfile
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("hello.txt", "hi")
        r = self.upload(op, app["id"], "stations", buf.getvalue())
        self.assertEqual(r.status, 422, r)
        self.assertIn("not_xlsx", [d.get("code") for d in error_details(r)], r)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)

    def test_missing_sheet_and_column(self):
        op = self.gated()
        app = self.new_application(op)
        data = plain_book({"Sheet1": (STATION_HEADERS, [station_row("MSS1")])})
        r = self.upload(op, app["id"], "stations", data)
        self.assertEqual(r.status, 422, r)
        d = [x for x in error_details(r) if x.get("code") == "missing_sheet"]
        self.assertTrue(d, r)
        self.assertEqual(d[0].get("sheet"), "充电站")
        self.assertIsNone(d[0].get("row"))
        headers = [h for h in STATION_HEADERS if h != "服务电话*"]
        data = plain_book({"充电站": (headers, [station_row("MSS1")])})
        r = self.upload(op, app["id"], "stations", data)
        self.assertEqual(r.status, 422, r)
        d = [x for x in error_details(r) if x.get("code") == "missing_column"]
        self.assertTrue(d, r)
        self.assertEqual(d[0].get("column"), "服务电话")
        # piles without the 充电枪 sheet
        p, c = piles_with_connectors("MS", "MSS1", 1)
        data = plain_book({"充电桩": (PILE_HEADERS, p)})
        r = self.upload(op, app["id"], "piles", data)
        self.assertEqual(r.status, 422, r)
        d = [x for x in error_details(r) if x.get("code") == "missing_sheet"]
        self.assertTrue(d and d[0].get("sheet") == "充电枪", r)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)

    def test_over_20_megabytes_is_413(self):
        op = self.gated()
        app = self.new_application(op)
        junk = secrets.token_bytes(MAX_IMPORT + 1)
        body, ctype = multipart({}, {"file": ("big.xlsx", junk, XLSX_TYPE)})
        r = send_large(op, "POST", self.app_url(app["id"], "/stations"), body, ctype)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(error_code(r), "too_large", r)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)
        self.assertEqual(self.platform.mgmt().get("/healthz").status, 200)

    def test_concurrent_uploads_stage_one_whole_file(self):
        op = self.gated()
        app = self.new_application(op)
        self.upload_ok(op, app["id"], "stations", self.stations_file([station_row("CCS1")]), 1)
        files = {}
        for prefix in ("CCA", "CCB", "CCC"):
            p, c = piles_with_connectors(prefix, "CCS1", 300, 2)
            files[prefix] = self.piles_file(p, c)
        results = {}

        def worker(prefix):
            c = self.platform.mgmt()
            c.cookies, c.csrf = dict(op.cookies), op.csrf
            results[prefix] = self.upload(c, app["id"], "piles", files[prefix])
        threads = [threading.Thread(target=worker, args=(k,)) for k in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for k, r in results.items():
            self.assertIn(r.status, (200, 409), "%s: %r" % (k, r))
        self.assertTrue(any(r.status == 200 for r in results.values()), results)
        ids = sorted(x["equipment_id"] for x in self.items(op, "piles", application_id=app["id"]))
        prefixes = {i[:3] for i in ids}
        self.assertEqual(len(prefixes), 1, "piles of several files are staged: %r" % prefixes)
        self.assertEqual(len(ids), 300)
        self.assertEqual(results[prefixes.pop()].status, 200)

    def test_upload_needs_the_file_field(self):
        op = self.gated()
        app = self.new_application(op)
        r = op.post_multipart(self.app_url(app["id"], "/stations"), {"x": "y"}, {})
        self.assertIn(r.status, (400, 422), r)
        r = op.post(self.app_url(app["id"], "/stations"), {"file": "x"})
        self.assertIn(r.status, (400, 415, 422), r)

    def test_another_operator_cannot_see_or_import_into_an_application(self):
        a = self.gated()
        b = self.gated()
        app, srows, p, c = self.staged_application(a, "OTH", piles=1)
        for method, tail in (("GET", ""), ("POST", "/stations"), ("POST", "/piles"),
                             ("POST", "/submit"), ("POST", "/pile-passwords")):
            with self.subTest(method=method, tail=tail):
                if tail in ("/stations", "/piles"):
                    data = (self.stations_file([station_row("BSTA1")]) if tail == "/stations"
                            else self.piles_file(*piles_with_connectors("BP", "BSTA1", 1)))
                    r = b.post_multipart(self.app_url(app["id"], tail), {},
                                         {"file": ("x.xlsx", data, XLSX_TYPE)})
                else:
                    r = b.request(method, self.app_url(app["id"], tail),
                                  json_body={} if method == "POST" else None)
                self.assertError(r, 404, "not_found")
        self.assertNotIn(app["id"], [x["id"] for x in self.items(b, "access-applications")])
        self.assertEqual(self.items(b, "stations", application_id=app["id"]), [])
        self.assertEqual(self.items(b, "piles", application_id=app["id"]), [])
        self.assertEqual(self.get_app(a, app["id"])["status"], "draft")
        self.assertEqual(self.total(a, "stations", application_id=app["id"]), 1)
        # admins see it but do not import into it
        self.assertEqual(self.get_app(self.admin, app["id"])["id"], app["id"])
        r = self.admin.post_multipart(self.app_url(app["id"], "/stations"), {},
                                      {"file": ("x.xlsx", self.stations_file(
                                          [station_row("ADM1")]), XLSX_TYPE)})
        self.assertIn(r.status, (403, 404), r)
        # B's ids may equal A's station ids (unique per operator) but not A's pile ids
        app_b = self.new_application(b)
        self.upload_ok(b, app_b["id"], "stations", self.stations_file([srows[0]]), 1)
        r = self.upload(b, app_b["id"], "piles", self.piles_file(p, c))
        self.assertEqual(r.status, 422, r)
        self.assertIn("duplicate_in_db", [d.get("code") for d in error_details(r)], r)

    def test_anonymous_and_pending(self):
        r = self.anon().post(API + "/access-applications", {})
        self.assertError(r, 401, "unauthenticated")
        fields = registration()
        r, _ = register(self.anon(), fields, ("licence.pdf", unique_pdf(), "application/pdf"))
        self.assertEqual(r.status, 201, r)
        c = self.anon()
        self.assertEqual(c.login(fields["username"], fields["password"]).status, 200)
        self.assertError(c.post(API + "/access-applications", {}), 403, "forbidden")
        self.assertError(c.get(API + "/access-applications"), 403, "forbidden")

    def test_csrf_on_uploads(self):
        op = self.gated()
        r = op.request("POST", API + "/access-applications", json_body={}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        app = self.new_application(op)
        body, ctype = multipart({}, {"file": ("s.xlsx", self.stations_file(
            [station_row("CSRFS1")]), XLSX_TYPE)})
        r = op.request("POST", self.app_url(app["id"], "/stations"), body=body,
                       headers={"Content-Type": ctype}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)


# ============================================================================================
class RowLimitTest(ImportCase):
    """max_import_rows (configurable) caps the data rows of one sheet."""

    extra_env = {"EVGATE_MAX_IMPORT_ROWS": "5"}

    def test_too_many_rows_is_refused_whole(self):
        op = self.gated()
        app = self.new_application(op)
        self.upload_ok(op, app["id"], "stations",
                       self.stations_file([station_row("RLS%d" % i) for i in range(5)]), 5)
        r = self.upload(op, app["id"], "stations",
                        self.stations_file([station_row("RLT%d" % i) for i in range(6)]))
        self.assertEqual(r.status, 422, r)
        self.assertEqual(error_code(r), "import_failed")
        d = [x for x in error_details(r) if x.get("code") == "too_many_rows"]
        self.assertTrue(d, r)
        self.assertIsNone(d[0].get("row"), d)
        self.assertEqual(sorted(s["station_id"] for s in self.items(
            op, "stations", application_id=app["id"])), ["RLS%d" % i for i in range(5)])


# ============================================================================================
class FaultTest(ImportCase):
    """Files with planted faults: every problem at its cell, nothing staged."""

    def assertProblems(self, r, expected):
        self.assertEqual(r.status, 422, r)
        self.assertEqual(error_code(r), "import_failed", r)
        details = error_details(r)
        got = [(d.get("sheet"), d.get("row"), d.get("column"), d.get("value"), d.get("code"),
                d.get("suggestion")) for d in details]
        for d in details:
            self.assertIsInstance(d.get("reason"), str, d)
        want = [(e["sheet"], e["row"], e["column"], e["value"], e["code"], e["suggestion"])
                for e in expected]
        key = lambda t: (str(t[0]), t[1] or 0, str(t[2]), str(t[4]))  # noqa: E731
        missing = [w for w in want if w not in got]
        extra = [g for g in got if g not in want]
        self.assertFalse(missing or extra or len(got) != len(want),
                         "problems differ.\nmissing (expected, not reported):\n  %s\n"
                         "extra (reported, not expected):\n  %s"
                         % ("\n  ".join(map(repr, sorted(missing, key=key))),
                            "\n  ".join(map(repr, sorted(extra, key=key)))))

    def test_thirty_faults_in_a_piles_file(self):
        op = self.gated()
        # the database: a form-created station and pile of this operator
        self.assertEqual(op.post(API + "/stations", station_body("FLTFS1")).status, 201)
        r = op.post(API + "/piles", pile_body("FLTFS1", "FORMP1"))
        self.assertEqual(r.status, 201, r)
        app = self.new_application(op)
        self.upload_ok(op, app["id"], "stations", self.stations_file(
            [station_row("FLTS1"), station_row("FLTS2")]), 2)
        gp, gc = piles_with_connectors("FLTOK", "FLTS1", 2, 2)
        self.upload_ok(op, app["id"], "piles", self.piles_file(gp, gc), 2)
        before = (self.total(op, "stations", application_id=app["id"]),
                  sorted(x["equipment_id"] for x in self.items(op, "piles",
                                                               application_id=app["id"])))

        piles, conns, expected = [], [], []

        def fault(sheet, row, column, value, code, suggestion=None):
            expected.append({"sheet": sheet, "row": row, "column": column, "value": value,
                             "code": code, "suggestion": suggestion})

        def add_pile(eid, sid="FLTS1", ncon=1, **over):
            piles.append(pile_row(eid, sid, **over))
            row = len(piles) + 1
            for k in range(1, ncon + 1):
                conns.append(connector_row("%sC%d" % (eid, k), eid, k))
            return row

        P, C = "充电桩", "充电枪"
        add_pile("FG1", 生产日期=datetime.date(2023, 6, 1))            # good, a real date cell
        row = add_pile("FP01", 生产商名称="星星充电 ")
        fault(P, row, "生产商名称", "星星充电 ", "spaces", "星星充电")
        row = add_pile("FP02", 生产商名称="星星  充电")
        fault(P, row, "生产商名称", "星星  充电", "spaces", "星星 充电")
        row = add_pile("FP03", 生产商组织机构代码="ＭＡ１２３４５６")
        fault(P, row, "生产商组织机构代码", "ＭＡ１２３４５６", "full_width", "MA123456")
        row = add_pile("FP04", **{"额定功率(kW)": "60"})
        fault(P, row, "额定功率(kW)", "60", "number_as_text", "60")
        row = add_pile("FP05", 充电站编号=1001)
        fault(P, row, "充电站编号", "1001", "text_as_number", "1001")
        row = add_pile("FP06", 生产日期=45000)
        fault(P, row, "生产日期", "45000", "date_serial",
              (datetime.date(1899, 12, 30) + datetime.timedelta(days=45000)).isoformat())
        row = add_pile("FP07", 设备类型=9)
        fault(P, row, "设备类型", "9", "bad_enum")
        piles.append(pile_row("FP01", "FLTS1", 设备型号="重复行"))       # no connector rows
        fault(P, len(piles) + 1, "充电桩编码", "FP01", "duplicate_in_file")
        piles.append(pile_row("FORMP1", "FLTS1"))
        conns.append(connector_row("FORMP1X1", "FORMP1", 1))
        fault(P, len(piles) + 1, "充电桩编码", "FORMP1", "duplicate_in_db")
        row = add_pile("FP10", sid="NOSUCH9")
        fault(P, row, "充电站编号", "NOSUCH9", "unknown_station")
        piles.append(pile_row("FP11", "FLTS1"))
        fault(P, len(piles) + 1, "充电桩编码", "FP11", "no_connectors")
        row = add_pile("FP12", 设备型号="M" * 21)
        fault(P, row, "设备型号", "M" * 21, "too_long")
        row = add_pile("FP13", 经度=113.3912345)
        fault(P, row, "经度", "113.3912345", "bad_format")
        row = add_pile("FP14", 纬度=60)
        fault(P, row, "纬度", "60", "out_of_range")
        row = add_pile("FP15", 生产日期="2099-01-01")
        fault(P, row, "生产日期", "2099-01-01", "out_of_range")
        row = add_pile("FP16", **{"额定功率(kW)": "６０"})
        fault(P, row, "额定功率(kW)", "６０", "full_width", "60")
        row = add_pile("FP17", 设备类型="直流设备")
        fault(P, row, "设备类型", "直流设备", "bad_enum", "1")
        row = add_pile("FP18", 接入协议=None)
        fault(P, row, "接入协议", None, "required")
        add_pile("FG2", ncon=0)                                        # connectors below

        # 充电枪: FG1 gets 12 connectors numbered 1..12, eleven of them faulty, plus a
        # duplicate id; FG2 gets numbers 1 and 3.
        def add_conn(no, **over):
            conns.append(connector_row("FG1K%02d" % no, "FG1", no, **over))
            return len(conns) + 1

        # remove FG1's default connector: it is numbered by add_conn
        conns[:] = [x for x in conns if x["充电桩编码"] != "FG1"]
        add_conn(1)
        row = add_conn(2, **{"额定功率(kW)": 130})
        fault(C, row, "额定功率(kW)", "130", "inconsistent")
        row = add_conn(3, **{"额定电流(A)": 50})
        fault(C, row, "额定功率(kW)", "60", "inconsistent")
        row = add_conn(4, **{"额定电压下限(V)": 800})
        fault(C, row, "额定电压下限(V)", "800", "inconsistent")
        row = add_conn(5, 接口类型=9)
        fault(C, row, "接口类型", "9", "bad_enum")
        row = add_conn(6, **{"额定电流(A)": 32.55})
        fault(C, row, "额定电流(A)", "32.55", "bad_format")
        conns.append(connector_row("FORMP1C1", "FG1", 7))
        fault(C, len(conns) + 1, "充电接口编码", "FORMP1C1", "duplicate_in_db")
        row = add_conn(8, **{"额定电压上限(V)": "750"})
        fault(C, row, "额定电压上限(V)", "750", "number_as_text", "750")
        row = add_conn(9, 接口名称="枪" * 31)
        fault(C, row, "接口名称", "枪" * 31, "too_long")
        row = add_conn(10, 车位号=" A01")
        fault(C, row, "车位号", " A01", "spaces", "A01")
        row = add_conn(11, **{"额定电流(A)": None})
        fault(C, row, "额定电流(A)", None, "required")
        conns.append(connector_row("FG1K01", "FG1", 12))
        fault(C, len(conns) + 1, "充电接口编码", "FG1K01", "duplicate_in_file")
        conns.append(connector_row("FG2C1", "FG2", 1))
        conns.append(connector_row("FG2C3", "FG2", 3))
        fault(C, len(conns) + 1, "接口序号", "3", "bad_sequence")

        self.assertEqual(len(expected), 30)
        r = self.upload(op, app["id"], "piles", self.piles_file(piles, conns))
        self.assertProblems(r, expected)
        after = (self.total(op, "stations", application_id=app["id"]),
                 sorted(x["equipment_id"] for x in self.items(op, "piles",
                                                              application_id=app["id"])))
        self.assertEqual(after, before, "a refused file changed what was staged")
        self.assertEqual(op.get(API + "/piles/FG1").status, 404)
        self.assertEqual(op.get(API + "/piles/FORMP1").json()["application_id"], None)

        # the corrected file replaces what was staged
        fixed_p, fixed_c = piles_with_connectors("FIX", "FLTS2", 3, 2)
        self.upload_ok(op, app["id"], "piles", self.piles_file(fixed_p, fixed_c), 3)
        self.assertEqual(sorted(x["equipment_id"] for x in self.items(
            op, "piles", application_id=app["id"])), ["FIXP001", "FIXP002", "FIXP003"])

    def test_faults_in_a_stations_file(self):
        op = self.gated()
        self.assertEqual(op.post(API + "/stations", station_body("FSDB1")).status, 201)
        app = self.new_application(op)
        rows, expected = [], []
        S = "充电站"

        def add(sid, column=None, value=None, code=None, suggestion=None, **over):
            rows.append(station_row(sid, **over))
            if code:
                expected.append({"sheet": S, "row": len(rows) + 1, "column": column,
                                 "value": value, "code": code, "suggestion": suggestion})

        add("SG1")
        add("SF01", "充电站名称", "中山东区站 ", "spaces", "中山东区站", 充电站名称="中山东区站 ")
        add("SF02", "充电站名称", "中山  东区站", "spaces", "中山 东区站", 充电站名称="中山  东区站")
        add("SF03", "行政区划代码", "４４２０００", "full_width", "442000", 行政区划代码="４４２０００")
        add("SF04", "行政区划代码", "999999", "bad_format", None, 行政区划代码="999999")
        add("SF05", "行政区划代码", "440103", "out_of_range", None, 行政区划代码="440103")
        add(2001, "充电站编号", "2001", "text_as_number", "2001")
        add("SF07", "车位数量", "10", "number_as_text", "10", 车位数量="10")
        add("SF08", "充电站名称", "站" * 51, "too_long", None, 充电站名称="站" * 51)
        add("SF09", "站点类型", "7", "bad_enum", None, 站点类型=7)
        add("SF01", "充电站编号", "SF01", "duplicate_in_file", None)
        add("FSDB1", "充电站编号", "FSDB1", "duplicate_in_db", None)
        add("SF12", "经度", "113.1234567", "bad_format", None, 经度=113.1234567)
        add("SF13", "详细地址", None, "required", None, 详细地址=None)
        add("SF14", "服务电话", "400-abc", "bad_format", None, 服务电话="400-abc")
        add("SF15", "建设场所", "4-居民区", "bad_enum", None, 建设场所="4-居民区")
        add("SF16", "是否支持预约", "2", "bad_enum", None, 是否支持预约=2)
        # an 18-digit ID typed as a number: the file keeps only 15 digits (openpyxl, like
        # Excel, writes 1.234567890123457e+17), so there is no exact suggestion
        add(123456789012345678, "充电站编号", "1.234567890123457e+17", "text_as_number", None)
        add("SG2", 站点类型="50-个人", 建设场所="4-写字楼")
        r = self.upload(op, app["id"], "stations", self.stations_file(rows))
        FaultTest.assertProblems(self, r, expected)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 0)
        self.assertEqual(op.get(API + "/stations/SG1").status, 404)

    def test_dropping_a_station_that_staged_piles_use_is_refused(self):
        op = self.gated()
        app, srows, p, c = self.staged_application(op, "DRP", stations=2, piles=1)
        r = self.upload(op, app["id"], "stations", self.stations_file(srows[1:]))
        self.assertEqual(r.status, 422, r)
        named = [d for d in error_details(r) if d.get("value") == srows[0]["充电站编号"]]
        self.assertTrue(named, r)
        self.assertEqual(named[0].get("code"), "unknown_station", r)
        self.assertEqual(self.total(op, "stations", application_id=app["id"]), 2)
        self.assertEqual(self.total(op, "piles", application_id=app["id"]), 1)

    def test_problem_list_is_capped_at_1000(self):
        op = self.gated()
        app = self.new_application(op)
        rows = [station_row("CAP%d" % i, 车位数量="1", 经度="113.1") for i in range(600)]
        r = self.upload(op, app["id"], "stations", self.stations_file(rows))
        self.assertEqual(r.status, 422, r)
        self.assertEqual(len(error_details(r)), 1000, len(error_details(r)))
        self.assertIs(r.json()["error"].get("details_truncated"), True)


# ============================================================================================
class ExportReimportTest(ImportCase):
    """An exported stations file re-imports into another operator's application."""

    def test_export_reimports_after_changing_the_ids(self):
        a = self.gated()
        for sid in ("XPA1", "XPA2"):
            self.assertEqual(a.post(API + "/stations", station_body(
                sid, name="导出再导入站" + sid, remark="备注" + sid)).status, 201)
        r = a.get(API + "/stations/export.xlsx")
        self.assertEqual(r.status, 200, r)
        wb = openpyxl.load_workbook(io.BytesIO(r.body))
        ws = wb["充电站"]
        header = [label(str(c.value)) for c in ws[1]]
        idcol = header.index("充电站编号") + 1
        for row in range(2, ws.max_row + 1):
            v = ws.cell(row=row, column=idcol).value
            if v is not None:
                ws.cell(row=row, column=idcol, value="B" + str(v))
        out = io.BytesIO()
        wb.save(out)
        b = self.gated()
        app = self.new_application(b)
        self.upload_ok(b, app["id"], "stations", out.getvalue(), 2)
        got = {s["station_id"]: s for s in self.items(b, "stations", application_id=app["id"])}
        self.assertEqual(sorted(got), ["BXPA1", "BXPA2"])
        src = a.get(API + "/stations/XPA1").json()
        for k in ("name", "area_code", "address", "station_tel", "service_tel", "station_type",
                  "station_status", "park_nums", "construction", "remark", "payment"):
            self.assertEqual(got["BXPA1"].get(k), src.get(k), k)
        self.assertAlmostEqual(got["BXPA1"]["lng"], src["lng"], places=6)

    def test_piles_export_reimports_into_another_operator(self):
        a = self.gated()
        self.assertEqual(a.post(API + "/stations", station_body("XPPS1")).status, 201)
        self.assertEqual(a.post(API + "/piles", pile_body("XPPS1", "XPPP1", connectors=3))
                         .status, 201)
        r = a.get(API + "/piles/export.xlsx")
        self.assertEqual(r.status, 200, r)
        wb = openpyxl.load_workbook(io.BytesIO(r.body))
        for name, cols in (("充电桩", ("充电桩编码",)), ("充电枪", ("充电接口编码", "充电桩编码"))):
            ws = wb[name]
            header = [label(str(c.value)) for c in ws[1]]
            for col in cols:
                j = header.index(col) + 1
                for row in range(2, ws.max_row + 1):
                    v = ws.cell(row=row, column=j).value
                    if v is not None:
                        ws.cell(row=row, column=j, value="B" + str(v))
        out = io.BytesIO()
        wb.save(out)
        b = self.gated()
        self.assertEqual(b.post(API + "/stations", station_body("XPPS1")).status, 201)
        app = self.new_application(b)
        self.upload_ok(b, app["id"], "piles", out.getvalue(), 1)
        got = b.get(API + "/piles/BXPPP1").json()
        self.assertEqual(sorted(c["connector_id"] for c in got["connectors"]),
                         ["BXPPP1C1", "BXPPP1C2", "BXPPP1C3"])


# ============================================================================================
class CrashTest(ImportCase):
    """SIGKILL mgmt while a large import is in flight: all rows or none, database intact."""

    PILES = 20000

    def big_piles_file(self, prefix, sid, n=None):
        n = n or self.PILES
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("充电桩")
        ws.append(PILE_HEADERS)
        labels = [label(h) for h in PILE_HEADERS]
        for i in range(n):
            ws.append([pile_row("%s%06d" % (prefix, i), sid).get(h) for h in labels])
        ws = wb.create_sheet("充电枪")
        ws.append(CONNECTOR_HEADERS)
        labels = [label(h) for h in CONNECTOR_HEADERS]
        for i in range(n):
            eid = "%s%06d" % (prefix, i)
            ws.append([connector_row(eid + "C1", eid, 1).get(h) for h in labels])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def login(self, op):
        c = self.platform.mgmt()
        self.assertEqual(c.login(op.fields["username"], op.fields["password"]).status, 200)
        return c

    def test_a_large_import_stages_every_row(self):
        op = self.gated()
        app = self.new_application(op)
        self.upload_ok(op, app["id"], "stations", self.stations_file([station_row("BIGS0")]), 1)
        data = self.big_piles_file("BIGM", "BIGS0")
        self.assertLess(len(data), MAX_IMPORT)
        started = time.monotonic()
        self.upload_ok(op, app["id"], "piles", data, self.PILES)
        CrashTest.import_seconds = time.monotonic() - started
        self.assertEqual(self.total(op, "piles", application_id=app["id"]), self.PILES)
        self.assertEqual(self.get_app(op, app["id"])["pile_count"], self.PILES)

    @staticmethod
    def server_unread(server_port, client_port):
        """Bytes the server has not yet read from the connection (its receive queue), from
        /proc/net/tcp{,6}; None when the socket is not found."""
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                local, remote, queues = parts[1], parts[2], parts[4]
                if (int(local.rsplit(":", 1)[1], 16) == server_port and
                        int(remote.rsplit(":", 1)[1], 16) == client_port):
                    return int(queues.split(":")[1], 16)
        return None

    def kill_during_import(self, prefix, when):
        """Sends a large piles file and SIGKILLs mgmt `when` ("sent": right after the last
        byte left; "read": once mgmt has read the whole body; a number: that many seconds
        after that). Restarts mgmt and checks that all rows or none are staged."""
        op = self.gated()
        app = self.new_application(op)
        sid = prefix + "S"
        self.upload_ok(op, app["id"], "stations", self.stations_file([station_row(sid)]), 1)
        data = self.big_piles_file(prefix, sid)
        self.assertLess(len(data), MAX_IMPORT)
        path = self.app_url(app["id"], "/piles")
        body, ctype = multipart({}, {"file": ("big.xlsx", data, XLSX_TYPE)})
        mgmt = self.platform.daemons["mgmt"]
        hdrs = {"Host": "127.0.0.1:%d" % self.platform.mgmt_port, "Content-Type": ctype,
                "Content-Length": str(len(body)), "Connection": "close",
                "Cookie": "; ".join("%s=%s" % kv for kv in op.cookies.items()),
                "X-CSRF-Token": op.csrf}
        head = "POST %s HTTP/1.1\r\n" % path + "".join(
            "%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        sock = socket.create_connection(("127.0.0.1", self.platform.mgmt_port), timeout=120)
        try:
            sock.sendall(head.encode("latin-1") + body)
            if when != "sent":
                # wait (bounded) until mgmt has read every byte of the request
                port = sock.getsockname()[1]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    unread = self.server_unread(self.platform.mgmt_port, port)
                    if unread == 0 or unread is None:
                        break
                    time.sleep(0.005)
                if isinstance(when, (int, float)):
                    time.sleep(when)
            # mgmt logs `request` with the path once it has answered: if that line is not
            # there yet, the request is in flight when it is killed (both outcomes are checked)
            done = [l for l in mgmt.log if " request " in l and path in l]
            mgmt.proc.send_signal(signal.SIGKILL)
            mgmt.proc.wait(20)
        finally:
            sock.close()
        mgmt._reader.join(5)
        in_flight = not done
        staged_line = [l for l in mgmt.log if "import_staged" in l and "kind=piles" in l
                       and re.search(r"application=%d\b" % app["id"], l)]
        # restart mgmt on the same database
        self.platform.launch("mgmt").wait_ready()
        op2 = self.login(op)
        n = self.total(op2, "piles", application_id=app["id"])
        sys.stderr.write("[kill %s: %s the answer; %s; %d piles staged after restart] "
                         % (when, "before" if in_flight else "after",
                            "import_staged logged" if staged_line else "no import_staged line",
                            n))
        self.assertIn(n, (0, self.PILES), "a killed import left %d of %d piles staged"
                      % (n, self.PILES))
        if staged_line:
            self.assertEqual(n, self.PILES, "the import logged it staged, then lost the rows")
        if done and "status=200" in done[0]:
            self.assertEqual(n, self.PILES, "the import answered 200, then lost the rows")
        self.assertEqual(self.total(op2, "stations", application_id=app["id"]), 1)
        if n:
            r = op2.get(API + "/piles?application_id=%d&page_size=200&page=7" % app["id"])
            for p in r.json()["items"]:
                self.assertEqual(len(p["connectors"]), 1, p)
        self.assertEqual(self.get_app(op2, app["id"])["pile_count"], n)
        con = sqlite3.connect(self.platform.env["EVGATE_DB"], timeout=30)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            self.assertEqual(con.execute("PRAGMA foreign_key_check").fetchall(), [])
        finally:
            con.close()
        # the application still works: a new upload replaces whatever was there
        p, c = piles_with_connectors(prefix + "A", sid, 2)
        r = op2.post_multipart(path, {}, {"file": ("a.xlsx", self.piles_file(p, c), XLSX_TYPE)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.total(op2, "piles", application_id=app["id"]), 2)
        self.assertEqual(op2.get(API + "/piles/%s000000" % prefix).status, 404)

    APPROVE_PILES = 2000

    def kill_during_approval(self, prefix, delay):
        """Stages APPROVE_PILES piles, submits them, sends the admin's approval and SIGKILLs
        mgmt `delay` seconds after the request left. After a restart the application is either
        approved with every pile and station accessed, or still submitted with none."""
        op = self.gated()
        app = self.new_application(op)
        sid = prefix + "S"
        self.upload_ok(op, app["id"], "stations", self.stations_file([station_row(sid)]), 1)
        self.upload_ok(op, app["id"], "piles", self.big_piles_file(prefix, sid, self.APPROVE_PILES),
                       self.APPROVE_PILES)
        self.submit(op, app["id"])
        path = "%s/admin/access-applications/%d/approve" % (API, app["id"])
        mgmt = self.platform.daemons["mgmt"]
        hdrs = {"Host": "127.0.0.1:%d" % self.platform.mgmt_port, "Content-Type": "application/json",
                "Content-Length": "2", "Connection": "close",
                "Cookie": "; ".join("%s=%s" % kv for kv in self.admin.cookies.items()),
                "X-CSRF-Token": self.admin.csrf}
        head = "POST %s HTTP/1.1\r\n" % path + "".join(
            "%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n{}"
        sock = socket.create_connection(("127.0.0.1", self.platform.mgmt_port), timeout=60)
        try:
            sock.sendall(head.encode("latin-1"))
            time.sleep(delay)  # where the kill falls is what varies, not a synchronisation
            answered = [l for l in mgmt.log if "access_decision" in l and
                        re.search(r"application=%d\b" % app["id"], l)]
            mgmt.proc.send_signal(signal.SIGKILL)
            mgmt.proc.wait(20)
        finally:
            sock.close()
        mgmt._reader.join(5)
        self.platform.launch("mgmt").wait_ready()
        op2 = self.login(op)
        status = self.get_app(op2, app["id"])["status"]
        piles = self.statuses(op2, "piles", app["id"])
        stations = self.statuses(op2, "stations", app["id"])
        sys.stderr.write("[approval killed after %.3f s: %s, %s logged] "
                         % (delay, status, "decision" if answered else "no decision"))
        self.assertEqual(len(piles), self.APPROVE_PILES)
        self.assertIn(status, ("submitted", "approved"))
        want = "accessed" if status == "approved" else "submitted"
        self.assertEqual(set(piles.values()), {want}, "a half-approved application")
        self.assertEqual(set(stations.values()), {want}, "a half-approved application")
        if answered:
            self.assertEqual(status, "approved", "the approval was logged, then lost")
        con = sqlite3.connect(self.platform.env["EVGATE_DB"], timeout=30)
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        finally:
            con.close()
        return status

    def test_kill_during_approval(self):
        # at once (most likely before the transaction), then into it, then likely after it
        # (each call asserts all-or-nothing itself)
        for i, d in enumerate((0, 0.005, 0.3)):
            self.kill_during_approval("APK%d" % i, d)

    def test_kill_during_import(self):
        self.kill_during_import("BIGK", "sent")
        self.kill_during_import("BIGR", "read")
        t = getattr(CrashTest, "import_seconds", None) or 2.0
        self.kill_during_import("BIGH", t / 2)
        self.kill_during_import("BIGL", t * 0.9)
        self.kill_during_import("BIGZ", t * 2 + 1)   # most likely after the answer


if __name__ == "__main__":
    unittest.main(verbosity=2)
