"""Integration tests of detection applications (桩平台检测, issue 3) against the real mgmt daemon:
the `self` and `delegated` lifecycles through the API, admin review and manual verdicts, T/CEC
credentials, the access gate, field validation on submit, authorisation, materials, the form
PDF, text round trips and lists. The contract is docs/api-detections.md (conventions of
docs/api-accounts.md) and SPEC §4, §11.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_detections.py"""

import copy
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (JPEG, PDF, PNG, MgmtCase, Platform, active_operator, admin_client,  # noqa: E402
                     credit_code, detection_application, error_code, error_details, multipart,
                     register, registration, send_large, unique_pdf)

API = "/api/v1"
MAX_UPLOAD = 10 * 1024 * 1024
ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
SELF_TITLE = "充电设施平台符合性检测申请表"
DELEGATED_TITLE = "充电设施委托接入申请表"
SECRET_KEYS = ("operator_secret", "data_secret", "data_secret_iv", "sig_secret")
REQUIRED_COMMON = ("commissioning_unit.name", "commissioning_unit.credit_code",
                   "commissioning_unit.address", "contact.name", "contact.mobile",
                   "contact.email", "pile_summary.brands", "pile_summary.models",
                   "pile_summary.protocols", "materials")
REQUIRED_PLATFORM = ("platform.name", "platform.base_url", "platform.protocol_version",
                     "platform.source_ips")
COUNT_FIELDS = ("pile_summary.ac_count", "pile_summary.dc_count")
DETAIL_CODES = ("required", "too_short", "too_long", "too_small", "bad_format", "bad_check",
                "lowercase", "duplicate", "bad_type", "too_large", "too_many",
                "immutable", "wrong_state")  # docs/api-accounts.md, "Conventions"
EDITABLE = ("commissioning_unit", "contact", "platform", "pile_summary", "delegate_detection_id",
            "delegation_scope")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def urlq(s):
    return urllib.parse.quote(s, safe="")


def files_with_bytes(root, data):
    hits = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            try:
                if os.path.getsize(p) == len(data):
                    with open(p, "rb") as f:
                        if f.read() == data:
                            hits.append(p)
            except OSError:
                pass
    return hits


def set_path(obj, path, value):
    """Sets `path` ("contact.mobile") in the nested dict `obj`."""
    keys = path.split(".")
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value


def get_path(obj, path):
    for k in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def put_body(app):
    """The editable part of a full application body (everything but `mode`)."""
    return {k: copy.deepcopy(v) for k, v in app.items() if k != "mode"}


def squash(text):
    return "".join(text.split())


def pdf_text(data):
    """The text pdftotext finds in `data` (layout and raw reading order, concatenated) with
    all white space removed, so that titles and names can be searched however pdftotext
    spaces the glyphs."""
    fd, path = tempfile.mkstemp(suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        out = []
        for extra in ([], ["-raw"]):
            p = subprocess.run(["pdftotext", "-enc", "UTF-8"] + extra + [path, "-"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            if p.returncode != 0:
                raise AssertionError("pdftotext failed (%d): %s"
                                     % (p.returncode, p.stderr.decode("utf-8", "replace")))
            out.append(p.stdout.decode("utf-8", "replace"))
        return squash("\n".join(out))
    finally:
        os.unlink(path)


class DetectionCase(MgmtCase):
    """The detection tests' base: MgmtCase with their clients and checks."""

    # --- clients -----------------------------------------------------------------------------

    def operator(self, **over):
        return active_operator(self.platform, self.admin, **over)

    def pending_operator(self):
        fields = registration()
        r, _ = register(self.anon(), fields, ("licence.pdf", unique_pdf(), "application/pdf"))
        self.assertEqual(r.status, 201, r)
        c = self.anon()
        self.assertEqual(c.login(fields["username"], fields["password"]).status, 200)
        return c

    def uploads_dir(self):
        return os.path.join(self.platform.env["EVGATE_DATA_DIR"], "uploads")

    # --- assertions ----------------------------------------------------------------------------

    def check_details(self, r):
        self.assertDetailCodes(r)

    def assertDetailCodes(self, r):
        """Every detail of an error answer has a documented `code` (the UI maps field + code
        to its text)."""
        for d in error_details(r):
            self.assertIsInstance(d, dict, r)
            self.assertIsInstance(d.get("field"), str, "detail without a field: %r" % r)
            self.assertIn(d.get("code"), DETAIL_CODES,
                          "undocumented detail code %r for %r: %r"
                          % (d.get("code"), d.get("field"), r))

    def assertConflict(self, r, status_name):
        """409 `conflict` naming the application's current status."""
        body = self.assertError(r, 409, "conflict")
        self.assertIn(status_name, json.dumps(body["error"], ensure_ascii=False),
                      "409 should name the current status %r: %r" % (status_name, r))

    def assertNoSecrets(self, r, creds):
        for c in creds:
            for k in SECRET_KEYS:
                self.assertNotIn(c[k].encode(), r.body, "%s leaked in %r" % (k, r))

    def named_fields(self, r):
        return {d.get("field") for d in error_details(r) if isinstance(d, dict)}

    # --- API calls -----------------------------------------------------------------------------

    def url(self, app_id, tail=""):
        return "%s/detections/%d%s" % (API, app_id, tail)

    def create(self, op, body):
        r = op.post(API + "/detections", body)
        self.assertEqual(r.status, 201, r)
        app = r.json()
        self.assertIsInstance(app.get("id"), int, app)
        self.assertEqual(app.get("status"), "draft", app)
        return app

    def get(self, client, app_id):
        r = client.get(self.url(app_id))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def status_of(self, app_id):
        return self.get(self.admin, app_id)["status"]

    def put(self, op, app_id, body):
        return op.request("PUT", self.url(app_id), json_body=body)

    def put_ok(self, op, app_id, body):
        r = self.put(op, app_id, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def delete(self, op, app_id):
        return op.request("DELETE", self.url(app_id))

    def upload(self, op, app_id, name="申请表.pdf", data=None, ctype="application/pdf"):
        data = unique_pdf() if data is None else data
        return op.post_multipart(self.url(app_id, "/materials"), {}, {"file": (name, data, ctype)})

    def upload_ok(self, op, app_id, name="申请表.pdf", data=None, ctype="application/pdf"):
        data = unique_pdf() if data is None else data
        r = self.upload(op, app_id, name, data, ctype)
        self.assertEqual(r.status, 201, r)
        m = r.json()
        self.assertEqual(m.get("sha256"), sha256(data), m)
        self.assertEqual(m.get("size"), len(data), m)
        return m

    def delete_material(self, op, app_id, mid):
        return op.request("DELETE", self.url(app_id, "/materials/%d" % mid))

    def submit(self, op, app_id):
        return op.post(self.url(app_id, "/submit"))

    def submit_ok(self, op, app_id):
        r = self.submit(op, app_id)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "submitted", r)
        return r.json()

    def admin_action(self, app_id, action, body=None, client=None):
        return (client or self.admin).post("%s/admin/detections/%d/%s" % (API, app_id, action),
                                           body)

    def approve(self, app_id):
        r = self.admin_action(app_id, "approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of(app_id), "approved")

    def reject(self, app_id, reason):
        r = self.admin_action(app_id, "reject", {"reason": reason})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of(app_id), "rejected")

    def verdict(self, app_id, result, note):
        r = self.admin_action(app_id, "verdict", {"verdict": result, "note": note})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of(app_id), result)

    def credentials(self, op, app_id):
        return op.post(self.url(app_id, "/credentials"))

    def gate(self, op):
        r = op.get(API + "/access-gate")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertIsInstance(body.get("allowed"), bool, body)
        return body

    def platforms(self, client):
        r = client.get(API + "/platforms")
        self.assertEqual(r.status, 200, r)
        items = r.json().get("items")
        self.assertIsInstance(items, list, r)
        return items

    def application(self, op, mode="self", status="draft", delegate=None, body=None):
        """Creates a complete application of `mode` with one material and drives it to
        `status` (draft, submitted, approved, rejected, passed, failed). Returns (app, body)."""
        body = body or detection_application(mode, delegate)
        app = self.create(op, body)
        self.upload_ok(op, app["id"])
        if status == "draft":
            return self.get(op, app["id"]), body
        self.submit_ok(op, app["id"])
        if status == "rejected":
            self.reject(app["id"], "材料不全")
        elif status in ("approved", "passed", "failed"):
            self.approve(app["id"])
            if status != "approved":
                self.verdict(app["id"], status, "线下联调结论")
        return self.get(op, app["id"]), body

    def assertFieldsEqual(self, app, body):
        for k in EDITABLE:
            if k in body:
                self.assertEqual(app.get(k), body[k], "field %s does not round-trip" % k)


class SelfLifecycleTest(DetectionCase):
    """draft → PUT → material → submit → approve → credentials → manual verdict → access."""

    def test_self_lifecycle_end_to_end(self):
        op = self.operator()
        full = detection_application("self")
        # before anything, the operator may not apply for access
        g = self.gate(op)
        self.assertFalse(g["allowed"], g)
        self.assertIsInstance(g.get("reason"), str)
        self.assertTrue(g["reason"], g)

        # a draft with partial data
        app = self.create(op, {"mode": "self", "contact": {"name": full["contact"]["name"]}})
        aid = app["id"]
        self.assertEqual(app["mode"], "self")
        self.assertIsNone(app.get("reject_reason"))
        self.assertIsNone(app.get("verdict"))
        self.assertIsNone(app.get("credentials_issued_at"))
        self.assertEqual(app.get("materials"), [])
        self.assertEqual(app["contact"]["name"], full["contact"]["name"])
        self.assertEqual(app.get("operator", {}).get("operator_id"), op.operator_id, app)
        self.assertEqual(app["operator"].get("account_id"), op.account["id"], app)
        self.assertEqual(app["operator"].get("company_name"), op.fields["company_name"], app)
        for k in ("created_at", "updated_at"):
            self.assertRegex(app.get(k) or "", ISO_UTC, k)
        self.assertIsNone(app.get("submitted_at"))
        self.assertIsNone(app.get("reviewed_at"))

        # PUT the rest: fields not given are kept
        rest = put_body(full)
        del rest["contact"]
        self.put_ok(op, aid, rest)
        got = self.get(op, aid)
        self.assertEqual(got["contact"]["name"], full["contact"]["name"],
                         "a PUT without `contact` lost it")
        self.assertEqual(got["platform"], full["platform"])
        self.put_ok(op, aid, {"contact": full["contact"]})
        got = self.get(op, aid)
        self.assertFieldsEqual(got, full)
        self.assertEqual(got["status"], "draft")

        # material
        data = unique_pdf()
        m = self.upload_ok(op, aid, "盖章申请表.pdf", data)
        self.assertEqual(m.get("mime"), "application/pdf")
        self.assertEqual(m.get("name"), "盖章申请表.pdf")
        self.assertIsInstance(m.get("id"), int)
        self.assertRegex(m.get("url") or "", r"^/api/v1/files/\d+$")
        self.assertRegex(m.get("created_at") or "", ISO_UTC)
        got = self.get(op, aid)
        self.assertEqual([x["id"] for x in got["materials"]], [m["id"]])
        self.assertEqual(got["materials"][0]["sha256"], sha256(data))
        r = op.get(m["url"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, data)
        self.assertIn("application/pdf", r.header("Content-Type") or "")

        # submit
        sub = self.submit_ok(op, aid)
        self.assertRegex(sub.get("submitted_at") or "", ISO_UTC)
        self.assertEqual(self.get(op, aid)["status"], "submitted")
        # credentials are not issued before approval
        self.assertConflict(self.credentials(op, aid), "submitted")

        # admin approves
        r = self.admin_action(aid, "approve")
        self.assertEqual(r.status, 200, r)
        if isinstance(r.json(), dict) and "status" in r.json():
            self.assertEqual(r.json()["status"], "approved")
        got = self.get(op, aid)
        self.assertEqual(got["status"], "approved")
        self.assertRegex(got.get("reviewed_at") or "", ISO_UTC)
        g = self.gate(op)
        self.assertFalse(g["allowed"], "approved but not passed opens the gate: %r" % g)
        self.assertTrue(g.get("reason"), g)

        # credentials
        r = self.credentials(op, aid)
        self.assertEqual(r.status, 200, r)
        c1 = r.json()
        # shown only in this answer: no cache may keep it
        self.assertIn("no-store", r.header("Cache-Control") or "", r.headers)
        self.assertCredentials(c1, op)
        r = self.credentials(op, aid)
        self.assertEqual(r.status, 200, r)
        c2 = r.json()
        self.assertCredentials(c2, op)
        for k in SECRET_KEYS:
            self.assertNotEqual(c1[k], c2[k], "re-issue kept %s" % k)
        self.assertEqual(len({c1[k] for k in SECRET_KEYS} | {c2[k] for k in SECRET_KEYS}), 8)
        r = op.get(self.url(aid))
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertRegex(got.get("credentials_issued_at") or "", ISO_UTC)
        self.assertEqual(got["credentials_issued_at"], c2["issued_at"])
        self.assertNoSecrets(r, (c1, c2))
        self.assertNoSecrets(self.admin.get(self.url(aid)), (c1, c2))
        self.assertNoSecrets(op.get(API + "/detections"), (c1, c2))
        self.assertNoSecrets(self.admin.get(API + "/detections?page_size=200"), (c1, c2))

        # manual verdict: passed, with a note
        note = "线下联调通过，报告编号 JT-2026-001"
        r = self.admin_action(aid, "verdict", {"verdict": "passed", "note": note})
        self.assertEqual(r.status, 200, r)
        got = self.get(op, aid)
        self.assertEqual(got["status"], "passed")
        v = got.get("verdict")
        self.assertIsInstance(v, dict, got)
        self.assertEqual(v.get("result"), "passed")
        self.assertEqual(v.get("source"), "manual")
        self.assertEqual(v.get("note"), note)
        self.assertEqual(v.get("by"), "admin")
        self.assertRegex(v.get("at") or "", ISO_UTC)
        self.assertEqual(self.get(self.admin, aid)["verdict"], v)

        # access is now allowed, naming this application
        g = self.gate(op)
        self.assertTrue(g["allowed"], g)
        self.assertEqual(g.get("detection_id"), aid, g)

        # a second verdict is refused; credentials may still be re-issued after passing
        r = self.admin_action(aid, "verdict", {"verdict": "failed", "note": "改判"})
        self.assertConflict(r, "passed")
        self.assertEqual(self.get(op, aid)["verdict"]["result"], "passed")
        r = self.credentials(op, aid)
        self.assertEqual(r.status, 200, r)
        self.assertCredentials(r.json(), op)

        # the audit trail
        audit = self.get(self.admin, aid).get("audit")
        self.assertIsInstance(audit, list)
        for row in audit:
            for k in ("at", "actor", "action", "detail"):
                self.assertIn(k, row, row)
        actions = [row["action"] for row in audit]
        for a in ("detection.create", "detection.submit", "detection.approve",
                  "detection.credentials", "detection.verdict"):
            self.assertIn(a, actions)
        self.assertEqual(actions.count("detection.credentials"), 3, actions)
        self.assertNoSecrets(self.admin.get(self.url(aid)), (c1, c2, r.json()))
        self.assertIn("audit", self.get(op, aid))
        log = "\n".join(self.platform.daemons["mgmt"].log)
        for c in (c1, c2, r.json()):
            for k in SECRET_KEYS:
                self.assertNotIn(c[k], log, "%s written to the mgmt log" % k)

    def assertCredentials(self, c, op):
        for k in ("operator_id",) + SECRET_KEYS + ("issued_at",):
            self.assertIsInstance(c.get(k), str, "credentials lack %s: %r" % (k, c))
        self.assertEqual(c["operator_id"], op.fields["credit_code"][8:17])
        self.assertEqual(c["operator_id"], op.operator_id)
        for k in SECRET_KEYS:
            self.assertEqual(len(c[k]), 16, "%s=%r is not 16 characters" % (k, c[k]))
            self.assertTrue(all(0x21 <= ord(ch) <= 0x7e for ch in c[k]),
                            "%s=%r is not printable ASCII" % (k, c[k]))
        self.assertEqual(len({c[k] for k in SECRET_KEYS}), 4, "secrets repeat: %r" % c)
        self.assertRegex(c["issued_at"], ISO_UTC)

    def test_failed_verdict_path(self):
        op = self.operator()
        app, _ = self.application(op, "self", "approved")
        aid = app["id"]
        note = "协议一致性检测未通过：签名错误"
        r = self.admin_action(aid, "verdict", {"verdict": "failed", "note": note})
        self.assertEqual(r.status, 200, r)
        got = self.get(op, aid)
        self.assertEqual(got["status"], "failed")
        self.assertEqual(got["verdict"]["result"], "failed")
        self.assertEqual(got["verdict"]["source"], "manual")
        self.assertEqual(got["verdict"]["note"], note)
        self.assertEqual(got["verdict"]["by"], "admin")
        g = self.gate(op)
        self.assertFalse(g["allowed"], "a failed detection opens the gate: %r" % g)
        self.assertTrue(g.get("reason"), g)
        self.assertNotIn(aid, [p.get("detection_id") for p in self.platforms(op)])
        self.assertConflict(self.admin_action(aid, "verdict", {"verdict": "passed",
                                                               "note": "再次"}), "failed")
        # credentials: allowed in `failed` too (the operator fixes and re-tests)
        r = self.credentials(op, aid)
        self.assertEqual(r.status, 200, r)
        self.assertIn("detection.verdict",
                      [row["action"] for row in self.get(self.admin, aid)["audit"]])

    def test_verdict_needs_a_valid_note_and_result(self):
        op = self.operator()
        app, _ = self.application(op, "self", "approved")
        aid = app["id"]
        r = self.admin_action(aid, "verdict", {"verdict": "passed"})
        self.assertError(r, 422, "validation_failed", "note", "required")
        r = self.admin_action(aid, "verdict", {"verdict": "passed", "note": ""})
        self.assertError(r, 422, "validation_failed", "note", ("required", "too_short"))
        r = self.admin_action(aid, "verdict", {"verdict": "passed", "note": "注" * 501})
        self.assertError(r, 422, "validation_failed", "note", "too_long")
        for bad in ("maybe", "approved", "PASSED", "", None, 1):
            r = self.admin_action(aid, "verdict", {"verdict": bad, "note": "说明"})
            self.assertError(r, 422, "validation_failed", "verdict")
        r = self.admin_action(aid, "verdict", {"note": "说明"})
        self.assertError(r, 422, "validation_failed", "verdict", "required")
        self.assertEqual(self.status_of(aid), "approved")
        self.assertIsNone(self.get(op, aid).get("verdict"))
        self.verdict(aid, "passed", "注" * 500)
        self.assertEqual(self.get(op, aid)["verdict"]["note"], "注" * 500)

    def test_verdict_in_wrong_states_is_409(self):
        op = self.operator()
        sub, _ = self.application(op, "self", "submitted")
        self.assertConflict(self.admin_action(sub["id"], "verdict",
                                              {"verdict": "passed", "note": "提前"}), "submitted")
        self.assertEqual(self.status_of(sub["id"]), "submitted")
        draft, _ = self.application(op, "self", "draft")
        self.assertConflict(self.admin_action(draft["id"], "verdict",
                                              {"verdict": "passed", "note": "提前"}), "draft")
        rej, _ = self.application(op, "self", "rejected")
        self.assertConflict(self.admin_action(rej["id"], "verdict",
                                              {"verdict": "failed", "note": "x"}), "rejected")
        r = self.admin_action(987654, "verdict", {"verdict": "passed", "note": "x"})
        self.assertError(r, 404, "not_found")

    def test_verdict_on_a_delegated_application_is_409(self):
        owner = self.operator()
        passed, _ = self.application(owner, "self", "passed")
        op = self.operator()
        dele, _ = self.application(op, "delegated", "approved", delegate=passed["id"])
        r = self.admin_action(dele["id"], "verdict", {"verdict": "passed", "note": "委托"})
        self.assertError(r, 409, "conflict")
        self.assertEqual(self.status_of(dele["id"]), "approved")
        self.assertIsNone(self.get(op, dele["id"]).get("verdict"))

    def test_credentials_only_for_an_approved_self_application(self):
        op = self.operator()
        draft, _ = self.application(op, "self", "draft")
        self.assertConflict(self.credentials(op, draft["id"]), "draft")
        rej, _ = self.application(op, "self", "rejected")
        self.assertConflict(self.credentials(op, rej["id"]), "rejected")
        self.assertIsNone(self.get(op, rej["id"]).get("credentials_issued_at"))
        self.assertError(self.credentials(op, 987654), 404, "not_found")
        # an admin is not the owner
        app, _ = self.application(op, "self", "approved")
        r = self.credentials(self.admin, app["id"])
        self.assertIn(r.status, (403, 404), r)
        self.assertIsNone(self.get(op, app["id"]).get("credentials_issued_at"))

    def test_gate_needs_own_detection(self):
        a = self.operator()
        self.application(a, "self", "passed")
        self.assertTrue(self.gate(a)["allowed"])
        b = self.operator()
        self.application(b, "self", "approved")
        self.application(b, "self", "failed")
        g = self.gate(b)
        self.assertFalse(g["allowed"], "another operator's pass opens the gate: %r" % g)
        self.assertIsNone(g.get("detection_id"), g)


class DelegatedLifecycleTest(DetectionCase):
    """GET /platforms → delegated application naming a passed one → approved is final."""

    def test_delegated_lifecycle(self):
        owner = self.operator()
        body = detection_application("self")
        # the commissioning unit is the owner itself, so either reading of company_name holds
        body["commissioning_unit"]["name"] = owner.fields["company_name"]
        body["commissioning_unit"]["credit_code"] = owner.fields["credit_code"]
        passed, _ = self.application(owner, "self", "passed", body=body)
        pid = passed["id"]
        approved_only, _ = self.application(owner, "self", "approved")

        op = self.operator()
        items = self.platforms(op)
        mine = [p for p in items if p.get("detection_id") == pid]
        self.assertEqual(len(mine), 1, items)
        self.assertEqual(mine[0].get("platform_name"), body["platform"]["name"])
        self.assertEqual(mine[0].get("company_name"), owner.fields["company_name"])
        self.assertNotIn(approved_only["id"], [p.get("detection_id") for p in items],
                         "an approved (not passed) application is offered for delegation")
        self.assertEqual(self.platforms(self.admin), items)

        d = detection_application("delegated", pid)
        app = self.create(op, d)
        aid = app["id"]
        got = self.get(op, aid)
        self.assertEqual(got["mode"], "delegated")
        self.assertIsNone(got.get("platform"))
        self.assertEqual(got.get("delegate_detection_id"), pid)
        self.assertEqual(got.get("delegation_scope"), d["delegation_scope"])
        delegate = got.get("delegate")
        self.assertIsInstance(delegate, dict, got)
        self.assertEqual({k: delegate.get(k) for k in ("detection_id", "platform_name",
                                                        "company_name")},
                         {"detection_id": pid, "platform_name": body["platform"]["name"],
                          "company_name": owner.fields["company_name"]})
        self.assertFieldsEqual(got, d)
        # the delegating operator does not thereby see the owner's application
        self.assertError(op.get(self.url(pid)), 404, "not_found")

        g = self.gate(op)
        self.assertFalse(g["allowed"], g)
        self.upload_ok(op, aid)
        self.submit_ok(op, aid)
        g = self.gate(op)
        self.assertFalse(g["allowed"], "a submitted delegation opens the gate: %r" % g)
        self.approve(aid)
        got = self.get(op, aid)
        self.assertEqual(got["status"], "approved")

        # approved is final for a delegation
        r = self.admin_action(aid, "verdict", {"verdict": "passed", "note": "不适用"})
        self.assertError(r, 409, "conflict")
        self.assertError(self.credentials(op, aid), 409, "conflict")
        self.assertConflict(self.admin_action(aid, "approve"), "approved")
        self.assertConflict(self.admin_action(aid, "reject", {"reason": "晚了"}), "approved")
        self.assertEqual(self.get(op, aid)["status"], "approved")
        self.assertIsNone(self.get(op, aid).get("credentials_issued_at"))

        g = self.gate(op)
        self.assertTrue(g["allowed"], g)
        self.assertEqual(g.get("detection_id"), aid)
        # a delegated application is never itself offered for delegation
        self.assertNotIn(aid, [p.get("detection_id") for p in self.platforms(op)])

    def test_delegated_application_with_a_platform_is_refused_by_submit_at_the_latest(self):
        owner = self.operator()
        passed, _ = self.application(owner, "self", "passed")
        op = self.operator()
        d = detection_application("delegated", passed["id"])
        d["platform"] = detection_application("self")["platform"]
        r = op.post(API + "/detections", d)
        if r.status == 201:
            aid = r.json()["id"]
            self.upload_ok(op, aid)
            r = self.submit(op, aid)
            self.assertError(r, 422, "validation_failed", "platform")
            self.assertEqual(self.status_of(aid), "draft")
        else:
            self.assertError(r, 422, "validation_failed", "platform")
        # the same through PUT on a good delegated draft
        app, good = self.application(op, "delegated", "draft", delegate=passed["id"])
        r = self.put(op, app["id"], {"platform": d["platform"]})
        if r.status == 200:
            self.assertError(self.submit(op, app["id"]), 422, "validation_failed", "platform")
        else:
            self.assertError(r, 422, "validation_failed", "platform")
        self.assertEqual(self.status_of(app["id"]), "draft")
        self.put_ok(op, app["id"], {"platform": None})
        self.submit_ok(op, app["id"])

    def test_self_application_with_a_delegate_is_refused_by_submit_at_the_latest(self):
        owner = self.operator()
        passed, _ = self.application(owner, "self", "passed")
        op = self.operator()
        app, body = self.application(op, "self", "draft")
        r = self.put(op, app["id"], {"delegate_detection_id": passed["id"]})
        if r.status == 200:
            self.assertError(self.submit(op, app["id"]), 422, "validation_failed",
                             "delegate_detection_id")
        else:
            self.assertError(r, 422, "validation_failed", "delegate_detection_id")
        self.assertEqual(self.status_of(app["id"]), "draft")
        self.put_ok(op, app["id"], {"delegate_detection_id": None})
        self.submit_ok(op, app["id"])

    def test_delegating_to_an_application_that_has_not_passed_is_422(self):
        owner = self.operator()
        approved, _ = self.application(owner, "self", "approved")
        failed, _ = self.application(owner, "self", "failed")
        draft, _ = self.application(owner, "self", "draft")
        passed, _ = self.application(owner, "self", "passed")
        other = self.operator()
        dele, _ = self.application(other, "delegated", "approved", delegate=passed["id"])
        op = self.operator()
        for what, target in (("approved", approved["id"]), ("failed", failed["id"]),
                             ("draft", draft["id"]), ("delegated", dele["id"]),
                             ("nonexistent", 987654)):
            with self.subTest(delegate=what):
                d = detection_application("delegated", target)
                r = op.post(API + "/detections", d)
                if r.status == 201:
                    aid = r.json()["id"]
                    self.upload_ok(op, aid)
                    r = self.submit(op, aid)
                    self.assertError(r, 422, "validation_failed", "delegate_detection_id")
                    self.assertEqual(self.status_of(aid), "draft")
                else:
                    self.assertError(r, 422, "validation_failed", "delegate_detection_id")
        # the same through PUT on a good delegated draft
        app, _ = self.application(op, "delegated", "draft", delegate=passed["id"])
        for what, target in (("approved", approved["id"]), ("nonexistent", 987654)):
            with self.subTest(put_delegate=what):
                r = self.put(op, app["id"], {"delegate_detection_id": target})
                if r.status == 200:
                    r = self.submit(op, app["id"])
                self.assertError(r, 422, "validation_failed", "delegate_detection_id")
                self.assertEqual(self.status_of(app["id"]), "draft")
        self.put_ok(op, app["id"], {"delegate_detection_id": passed["id"]})
        self.submit_ok(op, app["id"])
        # a delegation without a delegate
        d = detection_application("delegated", None)
        app = self.create(op, d)
        self.upload_ok(op, app["id"])
        self.assertError(self.submit(op, app["id"]), 422, "validation_failed",
                         "delegate_detection_id", "required")

    def test_a_draft_named_by_another_delegation_can_still_be_deleted(self):
        a = self.operator()
        target, _ = self.application(a, "self", "draft")
        b = self.operator()
        r = b.post(API + "/detections", detection_application("delegated", target["id"]))
        if r.status != 201:
            self.assertError(r, 422, "validation_failed", "delegate_detection_id")
        r = self.delete(a, target["id"])
        self.assertEqual(r.status, 204, "another operator's delegation blocks deleting one's "
                                        "own draft: %r" % r)
        self.assertError(a.get(self.url(target["id"])), 404, "not_found")
        if b.get(API + "/detections").json()["total"]:
            bid = b.get(API + "/detections").json()["items"][0]["id"]
            self.upload_ok(b, bid)
            self.assertError(self.submit(b, bid), 422, "validation_failed",
                             "delegate_detection_id")

    def test_delegation_scope_is_optional_and_limited(self):
        owner = self.operator()
        passed, _ = self.application(owner, "self", "passed")
        op = self.operator()
        d = detection_application("delegated", passed["id"])
        del d["delegation_scope"]
        app, _ = self.application(op, "delegated", "submitted", body=d)
        self.assertIsNone(self.get(op, app["id"]).get("delegation_scope"))
        app2, _ = self.application(op, "delegated", "draft", delegate=passed["id"])
        r = self.put(op, app2["id"], {"delegation_scope": "范" * 201})
        self.assertError(r, 422, "validation_failed", "delegation_scope", "too_long")
        self.put_ok(op, app2["id"], {"delegation_scope": "范" * 200})
        self.assertEqual(self.get(op, app2["id"])["delegation_scope"], "范" * 200)

    def test_platforms_route_access(self):
        self.assertError(self.anon().get(API + "/platforms"), 401, "unauthenticated")
        self.assertError(self.pending_operator().get(API + "/platforms"), 403, "forbidden")


class ReviewTest(DetectionCase):
    """Rejection, editing while rejected, resubmission and wrong-state transitions."""

    def test_reject_edit_resubmit_approve(self):
        op = self.operator()
        app, body = self.application(op, "self", "submitted")
        aid = app["id"]
        path = "%s/admin/detections/%d/reject" % (API, aid)
        self.assertError(self.admin.post(path, {}), 422, "validation_failed", "reason",
                         "required")
        self.assertError(self.admin.post(path, {"reason": ""}), 422, "validation_failed",
                         "reason", ("required", "too_short"))
        self.assertError(self.admin.post(path, {"reason": "驳" * 501}), 422,
                         "validation_failed", "reason", "too_long")
        self.assertEqual(self.status_of(aid), "submitted")

        reason = "申请表未盖章，请重新上传"
        r = self.admin.post(path, {"reason": reason})
        self.assertEqual(r.status, 200, r)
        got = self.get(op, aid)
        self.assertEqual(got["status"], "rejected")
        self.assertEqual(got["reject_reason"], reason)
        self.assertRegex(got.get("reviewed_at") or "", ISO_UTC)
        rows = [row for row in self.get(self.admin, aid)["audit"]
                if row["action"] == "detection.reject"]
        self.assertEqual(len(rows), 1)
        self.assertIn(reason, json.dumps(rows[0]["detail"], ensure_ascii=False))

        # while rejected: edit, add and delete materials
        body["contact"]["mobile"] = "13711112222"
        body["platform"]["name"] = "改名后的平台" + secrets.token_hex(2)
        self.put_ok(op, aid, put_body(body))
        old = got["materials"][0]
        new = self.upload_ok(op, aid, "盖章扫描件.png", PNG, "image/png")
        r = self.delete_material(op, aid, old["id"])
        self.assertEqual(r.status, 204, r)
        got = self.get(op, aid)
        self.assertEqual([m["id"] for m in got["materials"]], [new["id"]])
        self.assertFieldsEqual(got, body)
        self.assertEqual(got["status"], "rejected")

        # resubmit
        sub = self.submit_ok(op, aid)
        self.assertEqual(sub["status"], "submitted")
        self.assertEqual(self.get(op, aid)["status"], "submitted")
        self.approve(aid)
        self.assertConflict(self.admin_action(aid, "approve"), "approved")
        self.assertConflict(self.admin_action(aid, "reject", {"reason": "再驳回"}), "approved")
        actions = [row["action"] for row in self.get(self.admin, aid)["audit"]]
        self.assertEqual(actions.count("detection.submit"), 2, actions)
        self.assertIn("detection.approve", actions)

    def test_no_edits_while_submitted_or_approved(self):
        op = self.operator()
        app, body = self.application(op, "self", "submitted")
        aid = app["id"]
        body["contact"]["name"] = "不应生效"
        self.assertConflict(self.put(op, aid, put_body(body)), "submitted")
        self.assertConflict(self.delete(op, aid), "submitted")
        self.assertConflict(self.submit(op, aid), "submitted")
        self.assertConflict(self.upload(op, aid), "submitted")
        self.assertConflict(self.delete_material(op, aid, app["materials"][0]["id"]),
                            "submitted")
        got = self.get(op, aid)
        self.assertNotEqual(got["contact"]["name"], "不应生效")
        self.assertEqual(len(got["materials"]), 1)
        self.approve(aid)
        self.assertConflict(self.put(op, aid, put_body(body)), "approved")
        self.assertConflict(self.delete(op, aid), "approved")
        self.assertConflict(self.upload(op, aid), "approved")
        self.assertConflict(self.submit(op, aid), "approved")
        self.assertEqual(self.get(op, aid)["status"], "approved")

    def test_admin_decisions_need_a_submitted_application(self):
        op = self.operator()
        draft, _ = self.application(op, "self", "draft")
        self.assertConflict(self.admin_action(draft["id"], "approve"), "draft")
        self.assertConflict(self.admin_action(draft["id"], "reject", {"reason": "x"}), "draft")
        rej, _ = self.application(op, "self", "rejected")
        self.assertConflict(self.admin_action(rej["id"], "approve"), "rejected")
        self.assertConflict(self.admin_action(rej["id"], "reject", {"reason": "x"}),
                            "rejected")
        self.assertError(self.admin_action(987654, "approve"), 404, "not_found")
        self.assertError(self.admin_action(987654, "reject", {"reason": "x"}), 404, "not_found")

    def test_concurrent_approvals_succeed_once(self):
        op = self.operator()
        app, _ = self.application(op, "self", "submitted")
        admins = [admin_client(self.platform) for _ in range(6)]
        barrier = threading.Barrier(len(admins))
        results = [None] * len(admins)

        def worker(i):
            barrier.wait(10)
            results[i] = self.admin_action(app["id"], "approve", client=admins[i])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(admins))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] + [409] * (len(admins) - 1), results)
        actions = [row["action"] for row in self.get(self.admin, app["id"])["audit"]]
        self.assertEqual(actions.count("detection.approve"), 1, actions)

    def test_delete_draft_removes_it_and_its_files(self):
        op = self.operator()
        app = self.create(op, detection_application("self"))
        aid = app["id"]
        d1, d2 = unique_pdf(), unique_pdf()
        m1 = self.upload_ok(op, aid, "a.pdf", d1)
        m2 = self.upload_ok(op, aid, "b.pdf", d2)
        for d in (d1, d2):
            self.assertEqual(len(files_with_bytes(self.uploads_dir(), d)), 1,
                             "material not stored once under EVGATE_DATA_DIR/uploads")
        r = self.delete(op, aid)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertError(op.get(self.url(aid)), 404, "not_found")
        self.assertError(self.admin.get(self.url(aid)), 404, "not_found")
        self.assertError(self.delete(op, aid), 404, "not_found")
        for d in (d1, d2):
            self.assertEqual(files_with_bytes(self.uploads_dir(), d), [],
                             "a deleted draft's material is still on disk")
        for m in (m1, m2):
            self.assertIn(op.get(m["url"]).status, (403, 404))
            self.assertEqual(self.admin.get(m["url"]).status, 404)
        self.assertNotIn(aid, [it["id"] for it in op.get(API + "/detections").json()["items"]])

    def test_rejected_application_cannot_be_deleted(self):
        op = self.operator()
        app, _ = self.application(op, "self", "rejected")
        self.assertConflict(self.delete(op, app["id"]), "rejected")
        self.assertEqual(self.status_of(app["id"]), "rejected")


class ValidationTest(DetectionCase):
    """Every field rule of docs/api-detections.md: drafts store what they are given (right
    types and lengths), submit names every problem by its path."""

    def test_empty_self_draft_lists_every_required_field(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        r = self.submit(op, app["id"])
        self.assertError(r, 422, "validation_failed")
        details = error_details(r)
        named = self.named_fields(r)
        for f in REQUIRED_COMMON + REQUIRED_PLATFORM:
            self.assertIn(f, named, "submit of an empty draft does not name %s: %r" % (f, r))
            self.assertTrue(any(d.get("field") == f and d.get("code") == "required"
                                for d in details), "%s is not `required`: %r" % (f, r))
        self.assertTrue(named & set(COUNT_FIELDS), "pile counts not named: %r" % r)
        self.assertNotIn("delegate_detection_id", named)
        self.assertNotIn("delegation_scope", named)
        self.assertEqual(self.status_of(app["id"]), "draft")

    def test_empty_delegated_draft_lists_every_required_field(self):
        op = self.operator()
        app = self.create(op, {"mode": "delegated"})
        r = self.submit(op, app["id"])
        self.assertError(r, 422, "validation_failed", "delegate_detection_id", "required")
        named = self.named_fields(r)
        for f in REQUIRED_COMMON:
            self.assertIn(f, named, r)
        self.assertTrue(named & set(COUNT_FIELDS), r)
        self.assertFalse([f for f in named if f and f.startswith("platform")],
                         "a delegation is asked for its own platform: %r" % r)
        self.assertNotIn("delegation_scope", named)

    def test_mode_cannot_change(self):
        op = self.operator()
        good = detection_application("self")
        app = self.create(op, good)
        r = self.put(op, app["id"], {"mode": "delegated"})
        self.assertIn(r.status, (200, 409, 422), r)
        if r.status == 422:
            self.assertError(r, 422, "validation_failed", "mode")
        got = self.get(op, app["id"])
        self.assertEqual(got["mode"], "self")
        self.assertFieldsEqual(got, good)

    def test_missing_material_alone_is_named(self):
        op = self.operator()
        app = self.create(op, detection_application("self"))
        r = self.submit(op, app["id"])
        self.assertError(r, 422, "validation_failed", "materials", "required")
        self.assertEqual(self.named_fields(r), {"materials"}, r)
        self.upload_ok(op, app["id"])
        self.submit_ok(op, app["id"])

    def test_missing_fields_one_by_one(self):
        op = self.operator()
        good = detection_application("self")
        app = self.create(op, good)
        self.upload_ok(op, app["id"])
        for path in ("commissioning_unit.name", "commissioning_unit.credit_code",
                     "commissioning_unit.address", "contact.name", "contact.mobile",
                     "contact.email", "platform.name", "platform.base_url",
                     "platform.protocol_version", "platform.source_ips",
                     "pile_summary.brands", "pile_summary.models", "pile_summary.protocols"):
            body = put_body(good)
            set_path(body, path, None)  # null: cleared whether PUT replaces or merges objects
            self.put_ok(op, app["id"], body)
            r = self.submit(op, app["id"])
            self.assertError(r, 422, "validation_failed", path, "required")
            self.assertEqual(self.named_fields(r), {path}, r)
        body = put_body(good)
        body["pile_summary"]["ac_count"] = body["pile_summary"]["dc_count"] = None
        self.put_ok(op, app["id"], body)
        r = self.submit(op, app["id"])
        self.assertError(r, 422, "validation_failed", COUNT_FIELDS)
        self.assertTrue(self.named_fields(r) <= set(COUNT_FIELDS) | {"pile_summary"}, r)
        self.assertEqual(self.status_of(app["id"]), "draft")
        self.put_ok(op, app["id"], put_body(good))
        self.submit_ok(op, app["id"])

    def check_bad(self, op, app_id, good, path, value, fields, codes=None, when="submit"):
        """PUTs `good` with `path` set to `value`. when="submit": the draft stores it and
        submit names only `fields`; "save": the PUT itself is 422 naming `fields`; "either".
        Each check is a subTest: one failure does not hide the others."""
        shown = repr(value) if len(repr(value)) < 80 else repr(value)[:77] + "..."
        with self.subTest(path=path, value=shown):
            self._check_bad(op, app_id, good, path, value, fields, codes, when)

    def _check_bad(self, op, app_id, good, path, value, fields, codes, when):
        fields = (fields,) if isinstance(fields, str) else tuple(fields)
        what = "%s=%r" % (path, value)
        what = what if len(what) < 120 else what[:117] + "..."
        body = put_body(good)
        set_path(body, path, value)
        before = self.get(op, app_id)
        r = self.put(op, app_id, body)
        if when == "save" or (when == "either" and r.status != 200):
            self.assertEqual(r.status, 422, "%s: expected 422 on save, got %r" % (what, r))
            stage = "save"
            after = self.get(op, app_id)
            for k in EDITABLE:
                self.assertEqual(after.get(k), before.get(k), "%s: a refused PUT changed %s"
                                 % (what, k))
        else:
            self.assertEqual(r.status, 200, "%s: a draft should store this (checked on "
                                            "submit), got %r" % (what, r))
            stage = "submit"
            r = self.submit(op, app_id)
        self.assertEqual(r.status, 422, "%s: expected 422 on %s, got %r" % (what, stage, r))
        self.assertEqual(error_code(r), "validation_failed", r)
        self.assertDetailCodes(r)
        named = self.named_fields(r)
        self.assertTrue(named and named <= set(fields),
                        "%s: details should name only %r, named %r: %r"
                        % (what, fields, sorted(map(str, named)), r))
        if codes:
            got = [d.get("code") for d in error_details(r)]
            self.assertTrue(set(got) & set(codes), "%s: codes %r, expected one of %r"
                            % (what, got, codes))
        self.assertEqual(self.status_of(app_id), "draft", what)

    def fresh_draft(self, op, good):
        app = self.create(op, good)
        self.upload_ok(op, app["id"])
        return app["id"]

    def finish(self, op, app_id, good):
        """The good body still submits: the checks above changed only the one field."""
        self.put_ok(op, app_id, put_body(good))
        self.submit_ok(op, app_id)

    def test_credit_code_mobile_and_email_rules(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        code = credit_code()
        while not any(c.isalpha() for c in code):
            code = credit_code()
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        wrong = code[:17] + alphabet[(alphabet.index(code[17]) + 1) % len(alphabet)]
        cc = "commissioning_unit.credit_code"
        self.check_bad(op, aid, good, cc, wrong, cc, ("bad_check",))
        self.check_bad(op, aid, good, cc, code.lower(), cc, ("lowercase", "bad_format"))
        self.check_bad(op, aid, good, cc, code[:17], cc, ("bad_format", "too_short"), "either")
        self.check_bad(op, aid, good, cc, code[:3] + "I" + code[4:], cc,
                       ("bad_format", "bad_check"))
        self.check_bad(op, aid, good, cc, "", cc, ("required", "too_short", "bad_format"))
        mob = "contact.mobile"
        for v in ("23800138000", "1380013800a", "138 0013 800", "+8613800138",
                  "１３８００１３８０００"):
            self.check_bad(op, aid, good, mob, v, mob, ("bad_format",))
        self.check_bad(op, aid, good, mob, "1380013800", mob, ("bad_format", "too_short"))
        self.check_bad(op, aid, good, mob, "138001380001", mob, ("bad_format", "too_long"),
                       "either")
        em = "contact.email"
        for v in ("plainaddress", "no-domain@", "@example.com", "a@example", "a b@example.com",
                  "a@@example.com"):
            self.check_bad(op, aid, good, em, v, em, ("bad_format",))
        self.finish(op, aid, good)

    def test_base_url_rules(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        bu = "platform.base_url"
        for v in ("ftp://evcs.example.com/evcs/v1/", "https://", "http://", "http:///evcs/v1/",
                  "https://evcs example.com/evcs/v1/", "https://evcs.example.com/evcs v1/",
                  " https://evcs.example.com/evcs/v1/", "https://evcs.example.com/evcs/v1/ ",
                  "javascript:alert(1)", "javascript://evcs.example.com/%0Aalert(1)",
                  "https://user:pw@evcs.example.com/evcs/v1/", "evcs.example.com/evcs/v1/",
                  "file:///etc/passwd", "https//evcs.example.com/"):
            self.check_bad(op, aid, good, bu, v, bu, ("bad_format",))
        self.check_bad(op, aid, good, bu, "https://evcs.example.com/" + "a" * 180, bu,
                       ("too_long",), "save")
        self.finish(op, aid, good)

    def test_source_ip_rules(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        ips = "platform.source_ips"
        for v in ("999.1.1.1", "10.0.0.0/33", "::1/129", "abc", "203.0.113.10", "1.2.3",
                  "1.2.3.4/", "10.0.0.0/-1", "2001:db8:::1", " 198.51.100.7", "10.0.0.0/8/8",
                  "198.51.100.7, 198.51.100.8"):
            self.check_bad(op, aid, good, ips, ["203.0.113.10", v, "198.51.100.1"],
                           ips + "[1]", ("bad_format", "duplicate"))
        self.check_bad(op, aid, good, ips, ["2001:db8::/64", "2001:db8::/64"], ips + "[1]",
                       ("duplicate",))
        # the same block written two ways is still listed twice
        for a, b in (("203.0.113.10", "203.0.113.10/32"), ("2001:db8::1", "2001:DB8::1"),
                     ("2001:db8::1", "2001:db8:0::1/128")):
            self.check_bad(op, aid, good, ips, [a, b], ips + "[1]", ("duplicate",))
        self.check_bad(op, aid, good, ips, [], ips, ("required", "too_short"))
        many = ["198.51.100.%d" % i for i in range(1, 34)]
        self.check_bad(op, aid, good, ips, many, ips, ("too_long",), "either")
        self.finish(op, aid, good)

    def test_count_and_protocol_rules(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        ac, dc = COUNT_FIELDS
        # too_small: "a number or a sum below its minimum" (docs/api-accounts.md)
        self.check_bad(op, aid, good, ac, -1, ac, ("too_small",), "either")
        self.check_bad(op, aid, good, dc, -3, dc, ("too_small",), "either")
        self.check_bad(op, aid, good, ac, 1.5, ac, ("bad_type", "bad_format"), "either")
        self.check_bad(op, aid, good, ac, "10", ac, ("bad_type",), "save")
        self.check_bad(op, aid, good, ac, 1000001, ac, None, "either")
        body = copy.deepcopy(good)
        body["pile_summary"]["ac_count"] = 0
        body["pile_summary"]["dc_count"] = 0
        self.check_bad(op, aid, body, "pile_summary.ac_count", 0,
                       COUNT_FIELDS + ("pile_summary",), ("too_small",))
        pr = "pile_summary.protocols"
        for v in (["ocpp1.6", "ocpp1.5"], ["ocpp1.6", "tcec"], ["ocpp1.6", "ocpp1.6"],
                  ["ocpp1.6", ""]):
            self.check_bad(op, aid, good, pr, v, (pr, pr + "[1]"))
        self.check_bad(op, aid, good, pr, [], pr, ("required", "too_short"))
        self.finish(op, aid, good)

    def test_text_lengths_and_control_characters(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        for path, limit in (("commissioning_unit.name", 100), ("commissioning_unit.address", 200),
                            ("contact.name", 50), ("platform.name", 100),
                            ("platform.protocol_version", 32), ("pile_summary.brands", 200),
                            ("pile_summary.models", 200)):
            self.check_bad(op, aid, good, path, "长" * (limit + 1), path, ("too_long",), "save")
            self.check_bad(op, aid, good, path, "", path, ("required", "too_short"))
            self.check_bad(op, aid, good, path, "中山\x01平台", path, ("bad_format",), "either")
        self.finish(op, aid, good)

    def test_edge_values_are_accepted(self):
        op = self.operator()
        good = detection_application("self")
        good["commissioning_unit"]["name"] = "中" * 100
        good["commissioning_unit"]["address"] = "址" * 200
        good["contact"]["name"] = "𠮷" * 50
        good["platform"]["name"] = "台" * 100
        good["platform"]["protocol_version"] = "v" * 32
        good["platform"]["base_url"] = "http://127.0.0.1:8080/evcs/v1/"
        good["platform"]["source_ips"] = (["0.0.0.0/0", "::/0", "2001:db8::1/128",
                                           "10.0.0.0/32", "2001:db8::2", "192.0.2.255"]
                                          + ["198.51.100.%d" % i for i in range(1, 27)])
        good["pile_summary"].update({"brands": "牌" * 200, "models": "型" * 200, "ac_count": 0,
                                     "dc_count": 1000000,
                                     "protocols": ["ocpp1.6", "ocpp2.0.1", "platform"]})
        self.assertEqual(len(good["platform"]["source_ips"]), 32)
        app, _ = self.application(op, "self", "submitted", body=good)
        self.assertFieldsEqual(self.get(op, app["id"]), good)
        good2 = detection_application("self")
        good2["pile_summary"].update({"ac_count": 1, "dc_count": 0, "protocols": ["platform"]})
        self.application(op, "self", "submitted", body=good2)

    def test_several_problems_are_all_named(self):
        op = self.operator()
        good = detection_application("self")
        aid = self.fresh_draft(op, good)
        body = put_body(good)
        body["contact"]["mobile"] = "123"
        body["contact"]["email"] = "nope"
        body["platform"]["source_ips"] = ["203.0.113.10", "abc", "999.1.1.1"]
        self.put_ok(op, aid, body)
        r = self.submit(op, aid)
        self.assertError(r, 422, "validation_failed")
        self.assertEqual(self.named_fields(r), {"contact.mobile", "contact.email",
                                                "platform.source_ips[1]",
                                                "platform.source_ips[2]"}, r)

    def test_wrong_json_types_are_refused_on_save(self):
        op = self.operator()
        good = detection_application("self")
        app = self.create(op, good)
        aid = app["id"]
        for patch, field in (({"contact": "x"}, "contact"),
                             ({"commissioning_unit": ["a"]}, "commissioning_unit"),
                             ({"platform": 5}, "platform"),
                             ({"pile_summary": dict(good["pile_summary"], ac_count="ten")},
                              "pile_summary.ac_count"),
                             ({"pile_summary": dict(good["pile_summary"], dc_count=True)},
                              "pile_summary.dc_count"),
                             ({"pile_summary": dict(good["pile_summary"], protocols="ocpp1.6")},
                              "pile_summary.protocols"),
                             ({"platform": dict(good["platform"], source_ips="203.0.113.10")},
                              "platform.source_ips"),
                             ({"platform": dict(good["platform"], name=5)}, "platform.name"),
                             ({"contact": dict(good["contact"], mobile=13800138000)},
                              "contact.mobile"),
                             ({"delegate_detection_id": "abc"}, "delegate_detection_id"),
                             ({"delegation_scope": 5}, "delegation_scope")):
            r = self.put(op, aid, patch)
            self.assertEqual(r.status, 422, "%r: %r" % (patch, r))
            self.assertError(r, 422, "validation_failed", field)
        ips = dict(good["platform"], source_ips=["203.0.113.10", 5])
        r = self.put(op, aid, {"platform": ips})
        self.assertError(r, 422, "validation_failed",
                         ("platform.source_ips[1]", "platform.source_ips"))
        after = self.get(op, aid)
        self.assertFieldsEqual(after, good)
        # the same on create
        r = op.post(API + "/detections", {"mode": "self", "contact": "x"})
        self.assertError(r, 422, "validation_failed", "contact")
        r = op.post(API + "/detections", dict(good, pile_summary=dict(good["pile_summary"],
                                                                      ac_count="ten")))
        self.assertError(r, 422, "validation_failed", "pile_summary.ac_count")

    def test_oversized_json_is_refused(self):
        op = self.operator()
        good = detection_application("self")
        app = self.create(op, good)
        big = dict(good["pile_summary"], brands="牌" * (1024 * 1024))  # 3 MB of UTF-8
        body = json.dumps({"pile_summary": big}, ensure_ascii=False).encode("utf-8")
        r = send_large(op, "PUT", self.url(app["id"]), body, "application/json")
        self.assertIn(r.status, (413, 422), r)
        self.assertIsNotNone(error_code(r), r)
        self.assertFieldsEqual(self.get(op, app["id"]), good)

    def test_mode_is_required_and_checked(self):
        op = self.operator()
        r = op.post(API + "/detections", {"contact": {"name": "张三"}})
        self.assertError(r, 422, "validation_failed", "mode", "required")
        for bad in ("other", "SELF", "", 5, None):
            r = op.post(API + "/detections", {"mode": bad})
            self.assertError(r, 422, "validation_failed", "mode")
        r = op.request("POST", API + "/detections", body=b"{not json",
                       headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "bad_request")
        r = op.post(API + "/detections", ["self"])
        self.assertIn(r.status, (400, 422), r)
        self.assertEqual(op.get(API + "/detections").json()["total"], 0,
                         "a refused create left an application behind")


class AuthorisationTest(DetectionCase):
    """Who may call what: owners, other operators, pending operators, admins, anonymous, CSRF."""

    def test_another_operator_gets_404_everywhere(self):
        a = self.operator()
        app, body = self.application(a, "self", "draft")
        aid = app["id"]
        mat = app["materials"][0]
        approved, _ = self.application(a, "self", "approved")
        b = self.operator()
        self.assertError(b.get(self.url(aid)), 404, "not_found")
        self.assertError(self.put(b, aid, {"contact": {"name": "入侵者"}}), 404, "not_found")
        self.assertError(self.delete(b, aid), 404, "not_found")
        self.assertError(self.submit(b, aid), 404, "not_found")
        self.assertError(b.get(self.url(aid, "/form.pdf")), 404, "not_found")
        self.assertError(self.upload(b, aid), 404, "not_found")
        self.assertError(self.delete_material(b, aid, mat["id"]), 404, "not_found")
        self.assertError(self.credentials(b, approved["id"]), 404, "not_found")
        r = b.get(mat["url"])
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"%PDF", r.body)
        self.assertNotIn(aid, [it["id"] for it in b.get(API + "/detections").json()["items"]])
        # nothing changed; the owner and the admin still see everything
        got = self.get(a, aid)
        self.assertFieldsEqual(got, body)
        self.assertEqual([m["id"] for m in got["materials"]], [mat["id"]])
        self.assertEqual(got["status"], "draft")
        self.assertIsNone(self.get(a, approved["id"]).get("credentials_issued_at"))
        self.assertEqual(a.get(mat["url"]).status, 200)
        self.assertEqual(self.admin.get(mat["url"]).status, 200)
        self.assertEqual(self.get(self.admin, aid)["id"], aid)
        self.assertEqual(self.admin.get(self.url(aid, "/form.pdf")).status, 200)

    def test_unknown_application_is_404(self):
        op = self.operator()
        for r in (op.get(self.url(987654)), self.put(op, 987654, {"contact": {"name": "x"}}),
                  self.delete(op, 987654), self.submit(op, 987654),
                  self.upload(op, 987654), op.get(self.url(987654, "/form.pdf"))):
            self.assertError(r, 404, "not_found")
        app, _ = self.application(op, "self", "draft")
        self.assertError(self.delete_material(op, app["id"], 987654), 404, "not_found")

    def test_pending_operator_is_403(self):
        p = self.pending_operator()
        self.assertError(p.post(API + "/detections", detection_application("self")), 403,
                         "forbidden")
        self.assertError(p.get(API + "/detections"), 403, "forbidden")
        self.assertError(p.get(API + "/access-gate"), 403, "forbidden")

    def test_operator_is_403_on_admin_routes(self):
        op = self.operator()
        app, _ = self.application(op, "self", "submitted")
        for action, body in (("approve", None), ("reject", {"reason": "自己驳回"}),
                             ("verdict", {"verdict": "passed", "note": "自评"})):
            r = self.admin_action(app["id"], action, body, client=op)
            self.assertError(r, 403, "forbidden")
        self.assertEqual(self.status_of(app["id"]), "submitted")
        app2, _ = self.application(op, "self", "approved")
        r = self.admin_action(app2["id"], "verdict", {"verdict": "passed", "note": "自评"},
                              client=op)
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.status_of(app2["id"]), "approved")

    def test_anonymous_is_401(self):
        op = self.operator()
        app, _ = self.application(op, "self", "submitted")
        anon = self.anon()
        aid = app["id"]
        for r in (anon.get(API + "/detections"),
                  anon.post(API + "/detections", {"mode": "self"}),
                  anon.get(self.url(aid)),
                  self.put(anon, aid, {"contact": {"name": "x"}}),
                  self.delete(anon, aid),
                  anon.get(self.url(aid, "/form.pdf")),
                  self.upload(anon, aid),
                  self.submit(anon, aid),
                  self.credentials(anon, aid),
                  anon.get(API + "/access-gate"),
                  anon.get(API + "/platforms"),
                  anon.get(app["materials"][0]["url"]),
                  self.admin_action(aid, "approve", client=anon),
                  self.admin_action(aid, "reject", {"reason": "x"}, client=anon),
                  self.admin_action(aid, "verdict", {"verdict": "passed", "note": "x"},
                                    client=anon)):
            self.assertError(r, 401, "unauthenticated")
        self.assertEqual(self.status_of(aid), "submitted")

    def test_cookie_requests_without_csrf_are_403(self):
        op = self.operator()
        app, body = self.application(op, "self", "draft")
        aid = app["id"]
        mid = app["materials"][0]["id"]
        for r in (op.post(API + "/detections", {"mode": "self"}, csrf=False),
                  op.request("PUT", self.url(aid), json_body={"contact": {"name": "x"}},
                             csrf=False),
                  op.request("DELETE", self.url(aid, "/materials/%d" % mid), csrf=False),
                  op.post_multipart(self.url(aid, "/materials"), {},
                                    {"file": ("a.pdf", unique_pdf(), "application/pdf")},
                                    csrf=False),
                  op.post(self.url(aid, "/submit"), csrf=False),
                  op.request("DELETE", self.url(aid), csrf=False)):
            self.assertError(r, 403, "csrf_failed")
        got = self.get(op, aid)
        self.assertEqual(got["status"], "draft")
        self.assertFieldsEqual(got, body)
        self.assertEqual(len(got["materials"]), 1)
        self.assertEqual(op.get(API + "/detections").json()["total"], 1)
        self.submit_ok(op, aid)
        for action, b in (("approve", None), ("reject", {"reason": "x"})):
            r = self.admin.post("%s/admin/detections/%d/%s" % (API, aid, action), b, csrf=False)
            self.assertError(r, 403, "csrf_failed")
        self.approve(aid)
        r = op.post(self.url(aid, "/credentials"), csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = self.admin.post("%s/admin/detections/%d/verdict" % (API, aid),
                            {"verdict": "passed", "note": "x"}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        got = self.get(op, aid)
        self.assertEqual(got["status"], "approved")
        self.assertIsNone(got.get("credentials_issued_at"))

    def test_bearer_token_needs_no_csrf(self):
        op = self.operator()
        r = op.post(API + "/auth/tokens", {"name": "script"})
        self.assertEqual(r.status, 201, r)
        script = self.anon()
        script.bearer = r.json()["token"]
        app, _ = self.application(script, "self", "submitted")
        self.assertEqual(self.get(op, app["id"])["status"], "submitted")


class MaterialsTest(DetectionCase):
    """Uploads: size limit, type by content, count limit, delete, and no changes once submitted."""

    def test_over_ten_megabytes_is_413(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        data = PDF + b"0" * (MAX_UPLOAD + 1 - len(PDF))
        self.assertEqual(len(data), MAX_UPLOAD + 1)
        body, ctype = multipart({}, {"file": ("big.pdf", data, "application/pdf")})
        r = send_large(op, "POST", self.url(app["id"], "/materials"), body, ctype)
        self.assertError(r, 413, "too_large", "file")
        self.assertEqual(self.get(op, app["id"])["materials"], [])

    def test_exactly_ten_megabytes_is_accepted(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        data = PDF + b"1" * (MAX_UPLOAD - len(PDF))
        body, ctype = multipart({}, {"file": ("big.pdf", data, "application/pdf")})
        r = send_large(op, "POST", self.url(app["id"], "/materials"), body, ctype)
        self.assertEqual(r.status, 201, r)
        m = r.json()
        self.assertEqual(m["size"], MAX_UPLOAD)
        self.assertEqual(m["sha256"], sha256(data))
        self.assertEqual(m["mime"], "application/pdf")
        r = op.get(m["url"])
        self.assertEqual(r.status, 200)
        self.assertEqual(sha256(r.body), sha256(data))

    def test_type_comes_from_content(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        aid = app["id"]
        m = self.upload_ok(op, aid, "scan.pdf", PNG, "application/pdf")
        self.assertEqual(m["mime"], "image/png")
        self.assertEqual(m["sha256"], sha256(PNG))
        self.assertEqual(m["size"], len(PNG))
        self.assertEqual(m["name"], "scan.pdf")
        r = op.get(m["url"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, PNG)
        self.assertIn("image/png", r.header("Content-Type") or "")
        m2 = self.upload_ok(op, aid, "scan.png", JPEG, "image/png")
        self.assertEqual(m2["mime"], "image/jpeg")
        got = self.get(op, aid)["materials"]
        self.assertEqual([(x["id"], x["mime"], x["sha256"], x["size"]) for x in got],
                         [(m["id"], "image/png", sha256(PNG), len(PNG)),
                          (m2["id"], "image/jpeg", sha256(JPEG), len(JPEG))])

    def test_non_documents_are_415(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        before = set()
        for d, _, names in os.walk(self.uploads_dir()):
            before |= {os.path.join(d, n) for n in names}
        for name, data, ctype in (
                ("scan.jpg", b"<html><body><script>alert(1)</script></body></html>",
                 "image/jpeg"),
                ("scan.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>',
                 "image/png"),
                ("scan.pdf", b"MZ\x90\x00" + b"\x00" * 400, "application/pdf"),
                ("scan.pdf", b"PK\x03\x04" + b"\x00" * 100, "application/pdf"),
                ("scan.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg")):
            r = self.upload(op, app["id"], name, data, ctype)
            self.assertError(r, 415, "unsupported_media_type", "file")
        r = self.upload(op, app["id"], "empty.pdf", b"", "application/pdf")
        self.assertIn(r.status, (415, 422), r)
        self.assertEqual(self.get(op, app["id"])["materials"], [])
        after = set()
        for d, _, names in os.walk(self.uploads_dir()):
            after |= {os.path.join(d, n) for n in names}
        self.assertEqual(after - before, set(), "a refused upload left files behind")

    def test_uploaded_name_cannot_escape_the_data_dir(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        data = unique_pdf()
        r = self.upload(op, app["id"], "../../../../evgate-escape.pdf", data)
        self.assertIn(r.status, (201, 400, 422), r)
        hits = files_with_bytes(self.platform.dir, data)
        uploads = os.path.realpath(self.uploads_dir()) + os.sep
        for p in hits:
            self.assertTrue(os.path.realpath(p).startswith(uploads), "stored outside: %s" % p)
            self.assertNotIn("escape", os.path.basename(p))
        self.assertEqual(len(hits), 1 if r.status == 201 else 0, hits)

    def test_upload_needs_the_file_field(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        r = op.post_multipart(self.url(app["id"], "/materials"), {},
                              {"license": ("a.pdf", PDF, "application/pdf")})
        self.assertIn(r.status, (400, 422), r)
        r = op.post(self.url(app["id"], "/materials"), {"file": "x"})
        self.assertError(r, 400, "bad_request")
        self.assertEqual(self.get(op, app["id"])["materials"], [])

    def test_at_most_ten_materials(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        aid = app["id"]
        ms = [self.upload_ok(op, aid, "m%d.pdf" % i) for i in range(10)]
        data = unique_pdf()
        self.assertError(self.upload(op, aid, "m10.pdf", data), 409, "conflict")
        self.assertEqual(len(self.get(op, aid)["materials"]), 10)
        self.assertEqual(files_with_bytes(self.uploads_dir(), data), [])
        self.assertEqual(self.delete_material(op, aid, ms[0]["id"]).status, 204)
        self.upload_ok(op, aid, "m10.pdf")
        self.assertEqual(len(self.get(op, aid)["materials"]), 10)

    def test_concurrent_uploads_never_exceed_ten(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        aid = app["id"]
        self.upload_ok(op, aid)
        n = 12
        barrier = threading.Barrier(n)
        results = [None] * n
        bodies = [multipart({}, {"file": ("p%d.pdf" % i, unique_pdf(), "application/pdf")})
                  for i in range(n)]

        def worker(i):
            body, ctype = bodies[i]
            barrier.wait(10)
            results[i] = op.request("POST", self.url(aid, "/materials"), body=body,
                                    headers={"Content-Type": ctype})

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [201] * 9 + [409] * 3, results)
        self.assertEqual(len(self.get(op, aid)["materials"]), 10)

    def test_delete_material_removes_the_bytes(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        aid = app["id"]
        data, keep = unique_pdf(), unique_pdf()
        m = self.upload_ok(op, aid, "del.pdf", data)
        k = self.upload_ok(op, aid, "keep.pdf", keep)
        self.assertEqual(len(files_with_bytes(self.uploads_dir(), data)), 1)
        r = self.delete_material(op, aid, m["id"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(files_with_bytes(self.uploads_dir(), data), [],
                         "a deleted material's bytes are still on disk")
        self.assertEqual(len(files_with_bytes(self.uploads_dir(), keep)), 1)
        self.assertEqual([x["id"] for x in self.get(op, aid)["materials"]], [k["id"]])
        self.assertIn(op.get(m["url"]).status, (403, 404))
        self.assertEqual(self.admin.get(m["url"]).status, 404)
        self.assertError(self.delete_material(op, aid, m["id"]), 404, "not_found")
        # a material of another application of the same owner is not reachable through this one
        other = self.create(op, {"mode": "self"})
        self.assertError(self.delete_material(op, other["id"], k["id"]), 404, "not_found")
        self.assertEqual(len(self.get(op, aid)["materials"]), 1)

    def test_materials_are_frozen_once_submitted(self):
        op = self.operator()
        app, _ = self.application(op, "self", "submitted")
        aid = app["id"]
        mid = app["materials"][0]["id"]
        self.assertConflict(self.upload(op, aid), "submitted")
        self.assertConflict(self.delete_material(op, aid, mid), "submitted")
        self.approve(aid)
        self.assertConflict(self.upload(op, aid), "approved")
        self.assertConflict(self.delete_material(op, aid, mid), "approved")
        got = self.get(op, aid)
        self.assertEqual([m["id"] for m in got["materials"]], [mid])
        self.assertEqual(op.get(got["materials"][0]["url"]).status, 200)


class FormPdfTest(DetectionCase):
    """The pre-filled application form."""

    def fetch_pdf(self, client, app_id):
        r = client.get(self.url(app_id, "/form.pdf"))
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/pdf", r.header("Content-Type") or "", r)
        self.assertTrue(r.body.startswith(b"%PDF-"), r.body[:40])
        self.assertIn(b"%%EOF", r.body[-1024:])
        return r.body

    @unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) not installed")
    def test_self_form_is_prefilled(self):
        op = self.operator()
        app, body = self.application(op, "self", "draft")
        text = pdf_text(self.fetch_pdf(op, app["id"]))
        self.assertIn(SELF_TITLE, text, text[:500])
        self.assertNotIn(DELEGATED_TITLE, text)
        for v in (body["commissioning_unit"]["name"], body["contact"]["name"],
                  body["contact"]["mobile"], body["platform"]["name"]):
            self.assertIn(squash(v), text, "form lacks %r: %s" % (v, text[:800]))
        # the admin gets the same form
        self.assertIn(squash(body["platform"]["name"]),
                      pdf_text(self.fetch_pdf(self.admin, app["id"])))

    @unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) not installed")
    def test_delegated_form_is_prefilled(self):
        owner = self.operator()
        passed, pbody = self.application(owner, "self", "passed")
        op = self.operator()
        app, body = self.application(op, "delegated", "draft", delegate=passed["id"])
        text = pdf_text(self.fetch_pdf(op, app["id"]))
        self.assertIn(DELEGATED_TITLE, text, text[:500])
        self.assertNotIn(SELF_TITLE, text)
        for v in (body["commissioning_unit"]["name"], body["contact"]["name"],
                  body["contact"]["mobile"], pbody["platform"]["name"]):
            self.assertIn(squash(v), text, "form lacks %r: %s" % (v, text[:800]))

    @unittest.skipUnless(shutil.which("pdftotext"), "pdftotext (poppler-utils) not installed")
    def test_form_of_a_partial_draft(self):
        op = self.operator()
        app = self.create(op, {"mode": "self", "contact": {"name": "草稿联系人"}})
        text = pdf_text(self.fetch_pdf(op, app["id"]))
        self.assertIn(SELF_TITLE, text)
        self.assertIn("草稿联系人", text)
        app2 = self.create(op, {"mode": "delegated"})
        self.assertIn(DELEGATED_TITLE, pdf_text(self.fetch_pdf(op, app2["id"])))

    def test_form_is_a_pdf_even_without_pdftotext(self):
        op = self.operator()
        app = self.create(op, {"mode": "self"})
        self.fetch_pdf(op, app["id"])
        full, _ = self.application(op, "self", "submitted")
        self.fetch_pdf(op, full["id"])

    def test_form_of_another_operator_is_404(self):
        a = self.operator()
        app, _ = self.application(a, "self", "draft")
        b = self.operator()
        r = b.get(self.url(app["id"], "/form.pdf"))
        self.assertError(r, 404, "not_found")
        self.assertFalse(r.body.startswith(b"%PDF"))
        self.assertError(self.anon().get(self.url(app["id"], "/form.pdf")), 401,
                         "unauthenticated")

    def test_form_with_tricky_text(self):
        op = self.operator()
        body = detection_application("self")
        for path, v in TRICKY.items():
            if path in ("commissioning_unit.name", "contact.name", "platform.name",
                        "commissioning_unit.address", "pile_summary.brands"):
                set_path(body, path, v)
        app = self.create(op, body)
        pdf = self.fetch_pdf(op, app["id"])
        if shutil.which("pdftotext"):
            text = pdf_text(pdf)
            self.assertIn(SELF_TITLE, text)
            self.assertIn("中山", text)


TRICKY = {
    "commissioning_unit.name": "中山\"双引号'单引号'; DROP TABLE detections;-- <script>alert(1)"
                               "</script> 𠮷野家",
    "commissioning_unit.address": "广东省中山市'; DELETE FROM files WHERE '1'='1 -- \\\\srv\\share "
                                  "<img src=x onerror=alert(1)> \"号\" 𠮷 ) /Type /Page",
    "contact.name": "O'Brien \"张\"; -- <script>𠮷</script>",
    "platform.name": "平台\"名\"'; -- <b>粗</b> 𠮷 (括号) \\ ％ % _",
    "platform.protocol_version": "T/CEC 102-2016'; --\"𠮷",
    "pile_summary.brands": "星星'; --\"<script>x</script> 𠮷 特来电",
    "pile_summary.models": "DC-120\"; -- ' OR 1=1 -- 𠮷",
}


class TextRoundTripTest(DetectionCase):
    """Quotes, `;`, `--`, markup and 4-byte Chinese come back byte-identical."""

    def test_tricky_text_in_every_field(self):
        op = self.operator()
        body = detection_application("self")
        for path, v in TRICKY.items():
            set_path(body, path, v)
        app, _ = self.application(op, "self", "draft", body=body)
        aid = app["id"]
        for client in (op, self.admin):
            got = self.get(client, aid)
            for path, v in TRICKY.items():
                self.assertEqual(get_path(got, path), v, path)
        raw = op.get(self.url(aid)).body
        raw.decode("utf-8")
        self.assertTrue("𠮷".encode() in raw or b"\\ud842\\udfb7" in raw.lower(), raw[:400])
        # the list shows the platform name and the search finds it literally
        r = self.admin.get(API + "/detections?q=" + urlq(TRICKY["platform.name"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([it["id"] for it in r.json()["items"]], [aid])
        # PUT other tricky values, then submit (all valid), reject and verdict with tricky text
        for path in TRICKY:
            set_path(body, path, get_path(body, path)[::-1])
        self.put_ok(op, aid, put_body(body))
        got = self.get(op, aid)
        for path in TRICKY:
            self.assertEqual(get_path(got, path), get_path(body, path), path)
        self.submit_ok(op, aid)
        reason = "驳回：\"盖章\"不清; --' OR 1=1 -- <script>x</script> 𠮷"
        self.reject(aid, reason)
        self.assertEqual(self.get(op, aid)["reject_reason"], reason)
        self.submit_ok(op, aid)
        self.approve(aid)
        note = "结论：'通过'; -- \"<b>\" 𠮷"
        self.verdict(aid, "passed", note)
        self.assertEqual(self.get(op, aid)["verdict"]["note"], note)

    def test_tricky_delegation_scope(self):
        owner = self.operator()
        passed, _ = self.application(owner, "self", "passed")
        op = self.operator()
        d = detection_application("delegated", passed["id"])
        d["delegation_scope"] = "范围：'全部'; DROP TABLE x; -- \"<script>\" 𠮷 中山市"
        app, _ = self.application(op, "delegated", "submitted", body=d)
        self.assertEqual(self.get(op, app["id"])["delegation_scope"], d["delegation_scope"])
        self.assertEqual(self.get(self.admin, app["id"])["delegation_scope"],
                         d["delegation_scope"])

    def test_search_with_sql_fragments_is_literal(self):
        op = self.operator()
        self.application(op, "self", "draft")
        for q in ("zz' OR '1'='1", "zz\" OR \"1\"=\"1", "zz%", "zz_", "zz\\", "zz'; --", "%",
                  "_"):
            r = self.admin.get(API + "/detections?q=" + urlq(q))
            self.assertEqual(r.status, 200, "%s: %r" % (q, r))
            self.assertEqual(r.json()["total"], 0, "q=%r matched something: %r" % (q, r))


class ListTest(DetectionCase):
    """GET /detections: own only for operators, filters, search and paging."""

    def test_lists_and_filters(self):
        a = self.operator()
        b = self.operator()
        a1, a1b = self.application(a, "self", "draft")
        a2, a2b = self.application(a, "self", "submitted")
        a3 = self.create(a, {"mode": "delegated"})
        b1, b1b = self.application(b, "self", "draft")
        mine = {a1["id"], a2["id"], a3["id"]}

        r = a.get(API + "/detections")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        for k in ("items", "total", "page", "page_size"):
            self.assertIn(k, body)
        self.assertEqual(body["total"], 3)
        self.assertEqual(body["page"], 1)
        self.assertEqual(body["page_size"], 20)
        self.assertEqual({it["id"] for it in body["items"]}, mine)
        for it in body["items"]:
            self.assertNotIn("audit", it, "audit is for the detail view only")
            self.assertIn(it.get("status"), ("draft", "submitted"), it)
            self.assertIn(it.get("mode"), ("self", "delegated"), it)
        r = b.get(API + "/detections")
        self.assertEqual({it["id"] for it in r.json()["items"]}, {b1["id"]})
        self.assertEqual(r.json()["total"], 1)

        def ids(client, query):
            r = client.get(API + "/detections?" + query)
            self.assertEqual(r.status, 200, "%s: %r" % (query, r))
            got = r.json()
            self.assertEqual(got["total"], len(got["items"]), query)
            return {it["id"] for it in got["items"]}

        self.assertEqual(ids(a, "status=draft"), {a1["id"], a3["id"]})
        self.assertEqual(ids(a, "status=submitted"), {a2["id"]})
        self.assertEqual(ids(a, "status=approved"), set())
        self.assertEqual(ids(a, "mode=delegated"), {a3["id"]})
        self.assertEqual(ids(a, "mode=self"), {a1["id"], a2["id"]})
        self.assertEqual(ids(a, "mode=self&status=draft"), {a1["id"]})
        # an operator's q searches only its own
        self.assertEqual(ids(a, "q=" + urlq(b1b["platform"]["name"])), set())
        self.assertEqual(ids(a, "q=" + urlq(a1b["platform"]["name"])), {a1["id"]})

        # admin sees all; q matches company, platform and commissioning-unit names
        every = ids(self.admin, "page_size=200")
        self.assertTrue(mine | {b1["id"]} <= every)
        self.assertEqual(ids(self.admin, "q=" + urlq(a.fields["company_name"])), mine)
        self.assertEqual(ids(self.admin, "q=" + urlq(b.fields["company_name"])), {b1["id"]})
        self.assertEqual(ids(self.admin, "q=" + urlq(a2b["platform"]["name"])), {a2["id"]})
        self.assertEqual(ids(self.admin, "q=" + urlq(b1b["commissioning_unit"]["name"])),
                         {b1["id"]})
        self.assertEqual(ids(self.admin, "status=submitted&q=" + urlq(a.fields["company_name"])),
                         {a2["id"]})
        sub = self.admin.get(API + "/detections?status=submitted&page_size=200").json()
        self.assertIn(a2["id"], [it["id"] for it in sub["items"]])
        for it in sub["items"]:
            self.assertEqual(it["status"], "submitted")

    def test_paging(self):
        a = self.operator()
        made = {self.create(a, {"mode": "self"})["id"] for _ in range(3)}
        r = a.get(API + "/detections?page=1&page_size=2")
        self.assertEqual(r.status, 200, r)
        p1 = r.json()
        self.assertEqual((p1["page"], p1["page_size"], p1["total"], len(p1["items"])),
                         (1, 2, 3, 2))
        p2 = a.get(API + "/detections?page=2&page_size=2").json()
        self.assertEqual((p2["page"], len(p2["items"]), p2["total"]), (2, 1, 3))
        self.assertEqual({it["id"] for it in p1["items"] + p2["items"]}, made)
        p3 = a.get(API + "/detections?page=3&page_size=2").json()
        self.assertEqual(p3["items"], [])

    def test_bad_list_queries_are_refused(self):
        a = self.operator()
        for q in ("status=bogus", "mode=other", "page=0", "page=abc", "page_size=0",
                  "page_size=abc", "status=draft'%20OR%201=1"):
            r = a.get(API + "/detections?" + q)
            self.assertIn(r.status, (400, 422), "%s: %r" % (q, r))
            self.assertIsNotNone(error_code(r), r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
