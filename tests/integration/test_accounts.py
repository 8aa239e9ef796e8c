"""Integration tests of the account slice (issue 2) against the real mgmt daemon: registration,
the admin review queue, approve / reject / resubmit / disable / enable, field validation,
licence uploads and text round-trips. The contract is docs/api-accounts.md and SPEC §3, §11.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_accounts.py"""

import hashlib
import json
import os
import socket
import secrets
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (ADMIN_PASSWORD, JPEG, PDF, PNG, MgmtCase, Platform, SourceClient,  # noqa: E402
                     account_of, admin_client, credit_code, error_code, error_details,
                     multipart, register, registration, send_large, unique_pdf)

API = "/api/v1"
TEXT_FIELDS = ("company_name", "legal_representative", "contact_name", "address")
ORG_FIELDS = TEXT_FIELDS + ("credit_code", "mobile", "email")
REQUIRED_FIELDS = ("username", "password", "company_name", "credit_code", "legal_representative",
                   "contact_name", "mobile", "email", "address", "license")
MAX_UPLOAD = 10 * 1024 * 1024
ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def files_under(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            out.append(os.path.join(d, n))
    return out


def files_with_bytes(root, data):
    hits = []
    for p in files_under(root):
        try:
            if os.path.getsize(p) == len(data):
                with open(p, "rb") as f:
                    if f.read() == data:
                        hits.append(p)
        except OSError:
            pass
    return hits


class PlatformCase(MgmtCase):
    """The account tests' base: MgmtCase with their helpers."""

    # --- helpers ---------------------------------------------------------------------------

    def data_dir(self):
        return self.platform.env["EVGATE_DATA_DIR"]

    def register_ok(self, fields=None, license=None, **over):
        fields = fields or registration(**over)
        lic = license or ("licence.pdf", unique_pdf(), "application/pdf")
        r, _ = register(self.anon(), fields, lic)
        self.assertEqual(r.status, 201, r)
        return account_of(r.json()), fields

    def login(self, username, password):
        c = self.anon()
        r = c.login(username, password)
        self.assertEqual(r.status, 200, r)
        return c

    def me(self, client):
        r = client.get(API + "/me")
        self.assertEqual(r.status, 200, r)
        return account_of(r.json())

    def admin_view(self, account_id):
        r = self.admin.get("%s/admin/accounts/%d" % (API, account_id))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def approve(self, account_id):
        r = self.admin.post("%s/admin/accounts/%d/approve" % (API, account_id))
        self.assertEqual(r.status, 200, r)
        return account_of(r.json())

    def reject(self, account_id, reason):
        r = self.admin.post("%s/admin/accounts/%d/reject" % (API, account_id), {"reason": reason})
        self.assertEqual(r.status, 200, r)
        return account_of(r.json())

    def active_operator(self):
        acct, f = self.register_ok()
        self.approve(acct["id"])
        return self.login(f["username"], f["password"]), acct, f

    def assertOrganisation(self, acct, fields):
        org = acct.get("organisation")
        self.assertIsInstance(org, dict, acct)
        for k in ORG_FIELDS:
            self.assertEqual(org.get(k), fields[k], "organisation.%s" % k)
        self.assertEqual(org.get("operator_id"), fields["credit_code"][8:17])

    def audit_actions(self, account_id):
        view = self.admin_view(account_id)
        audit = view.get("audit")
        self.assertIsInstance(audit, list, view)
        for row in audit:
            for k in ("at", "actor", "action", "detail"):
                self.assertIn(k, row, row)
        return audit


class RegistrationFlowTest(PlatformCase):
    """register → pending → admin queue → approve → active, with the audit trail."""

    def test_register_returns_pending_account_with_organisation_and_licence(self):
        data = unique_pdf()
        fields = registration()
        r, _ = register(self.anon(), fields, ("licence.pdf", data, "application/pdf"))
        self.assertEqual(r.status, 201, r)
        acct = account_of(r.json())
        self.assertIsInstance(acct.get("id"), int)
        self.assertEqual(acct.get("username"), fields["username"])
        self.assertEqual(acct.get("role"), "operator")
        self.assertEqual(acct.get("status"), "pending")
        self.assertIn("reject_reason", acct)
        self.assertIsNone(acct["reject_reason"])
        self.assertOrganisation(acct, fields)
        lic = acct.get("license")
        self.assertIsInstance(lic, dict, acct)
        self.assertEqual(lic.get("sha256"), sha256(data))
        self.assertEqual(lic.get("size"), len(data))
        self.assertEqual(lic.get("mime"), "application/pdf")
        self.assertIsInstance(lic.get("id"), int)
        self.assertEqual(lic.get("url"), "%s/files/%d" % (API, lic["id"]))
        # neither the password nor its hash comes back
        self.assertNotIn(fields["password"].encode(), r.body)
        self.assertNotIn(b"argon2", r.body)
        self.assertNotIn("password_hash", acct)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)
        for k in ("created_at", "submitted_at"):
            self.assertRegex(acct.get(k) or "", ISO_UTC, k)
        self.assertIsNone(acct.get("reviewed_at"))

    def test_licence_mime_comes_from_content_not_from_name_or_header(self):
        acct, _ = self.register_ok(license=("licence.pdf", PNG, "application/pdf"))
        self.assertEqual(acct["license"]["mime"], "image/png")
        self.assertEqual(acct["license"]["sha256"], sha256(PNG))
        self.assertEqual(acct["license"]["size"], len(PNG))
        acct, _ = self.register_ok(license=("scan.png", JPEG, "image/png"))
        self.assertEqual(acct["license"]["mime"], "image/jpeg")

    def test_licence_is_stored_in_data_dir_under_a_random_name_outside_web_dir(self):
        stem = "my-licence-" + secrets.token_hex(4)
        data1, data2 = unique_pdf(), unique_pdf()
        self.register_ok(license=(stem + ".pdf", data1, "application/pdf"))
        self.register_ok(license=(stem + ".pdf", data2, "application/pdf"))
        stored = []
        for data in (data1, data2):
            hits = files_with_bytes(self.data_dir(), data)
            self.assertEqual(len(hits), 1, "licence not stored exactly once under %s: %r"
                             % (self.data_dir(), hits))
            stored.append(hits[0])
        web_dir = os.path.realpath(self.platform.env["EVGATE_WEB_DIR"])
        for p in stored:
            name = os.path.basename(p)
            self.assertNotIn(stem, name, "stored under the uploaded name: %s" % p)
            self.assertFalse(os.path.realpath(p).startswith(web_dir + os.sep), p)
            base = name.split(".", 1)[0]
            self.assertGreaterEqual(len(base), 16, "stored name %r is not a random name" % name)
        self.assertNotEqual(os.path.basename(stored[0]), os.path.basename(stored[1]))
        for data in (data1, data2):
            self.assertEqual(files_with_bytes(web_dir, data), [], "licence under the web dir")
        self.assertFalse([p for p in files_under(self.data_dir())
                          if os.path.basename(p) == stem + ".pdf"])
        # the stored file is not served as a static file, whatever path one guesses
        for p in stored:
            rel = os.path.relpath(p, self.data_dir())
            for path in ("/" + rel, "/" + os.path.basename(p), "/uploads/" + os.path.basename(p),
                         "/static/" + rel, "/data/" + rel):
                r = self.anon().get(path)
                self.assertFalse(r.status == 200 and b"evgate-test" in r.body,
                                 "licence served as a static file at %s" % path)

    def test_admin_queue_lists_pending_accounts(self):
        a1, f1 = self.register_ok()
        a2, f2 = self.register_ok()
        r = self.admin.get(API + "/admin/accounts?status=pending&page_size=200")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        for k in ("items", "total", "page", "page_size"):
            self.assertIn(k, body)
        self.assertEqual(body["page"], 1)
        self.assertEqual(body["page_size"], 200)
        self.assertGreaterEqual(body["total"], 2)
        ids = [it["id"] for it in body["items"]]
        self.assertIn(a1["id"], ids)
        self.assertIn(a2["id"], ids)
        self.assertLess(ids.index(a1["id"]), ids.index(a2["id"]), "oldest submission first")
        for it in body["items"]:
            self.assertEqual(it["status"], "pending", it)
            self.assertEqual(it["role"], "operator", it)
        item = body["items"][ids.index(a1["id"])]
        self.assertEqual(item["username"], f1["username"])
        # defaults
        r = self.admin.get(API + "/admin/accounts?status=pending")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["page"], 1)
        self.assertEqual(r.json()["page_size"], 20)
        # other statuses do not list it
        for st in ("active", "rejected", "disabled"):
            r = self.admin.get(API + "/admin/accounts?status=%s&page_size=200" % st)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(a1["id"], [it["id"] for it in r.json()["items"]], st)
            for it in r.json()["items"]:
                self.assertEqual(it["status"], st)

    def test_admin_queue_search_and_paging(self):
        a1, f1 = self.register_ok()
        for q in (f1["username"], f1["credit_code"], f1["company_name"]):
            r = self.admin.get(API + "/admin/accounts?q=" + urlq(q))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["total"], 1, q)
            self.assertEqual([it["id"] for it in r.json()["items"]], [a1["id"]], q)
        self.register_ok()
        r = self.admin.get(API + "/admin/accounts?status=pending&page=1&page_size=1")
        self.assertEqual(r.status, 200, r)
        p1 = r.json()
        self.assertEqual(len(p1["items"]), 1)
        self.assertEqual(p1["page_size"], 1)
        self.assertGreaterEqual(p1["total"], 2)
        r = self.admin.get(API + "/admin/accounts?status=pending&page=2&page_size=1")
        self.assertEqual(r.status, 200, r)
        p2 = r.json()
        self.assertEqual(p2["page"], 2)
        self.assertEqual(len(p2["items"]), 1)
        self.assertNotEqual(p1["items"][0]["id"], p2["items"][0]["id"])
        r = self.admin.get(API + "/admin/accounts?page_size=100000")
        if r.status == 200:
            self.assertLessEqual(r.json()["page_size"], 200)
            self.assertLessEqual(len(r.json()["items"]), 200)
        else:
            self.assertIn(r.status, (400, 422), r)

    def test_bad_list_queries_are_refused(self):
        for q in ("status=bogus", "page=0", "page=-1", "page=abc", "page_size=0",
                  "page_size=abc", "status=pending'%20OR%201=1"):
            r = self.admin.get(API + "/admin/accounts?" + q)
            self.assertIn(r.status, (400, 422), "%s: %r" % (q, r))
            self.assertIsNotNone(error_code(r), r)

    def test_parallel_registrations_all_succeed(self):
        n = 16
        barrier = threading.Barrier(n)
        results = [None] * n

        def worker(i):
            f = registration()
            body, ctype = multipart(f, {"license": ("licence.pdf", unique_pdf(),
                                                    "application/pdf")})
            barrier.wait(10)
            results[i] = self.anon().request("POST", API + "/auth/register", body=body,
                                             headers={"Content-Type": ctype})

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([r.status for r in results], [201] * n, results)
        ids = {account_of(r.json())["id"] for r in results}
        self.assertEqual(len(ids), n)

    def test_admins_are_not_in_the_operator_list(self):
        r = self.admin.get(API + "/admin/accounts?q=admin&page_size=200")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("admin", [it["username"] for it in r.json()["items"]])

    def test_approve_makes_the_operator_active_and_is_audited(self):
        acct, f = self.register_ok()
        op = self.anon()
        r = op.login(f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "pending")
        self.assertEqual(r.json().get("role"), "operator")
        self.assertEqual(self.me(op)["status"], "pending")
        approved = self.approve(acct["id"])
        self.assertEqual(approved["status"], "active")
        self.assertIsNotNone(approved.get("reviewed_at"))
        # the same session sees the new status, and so does a new login
        self.assertEqual(self.me(op)["status"], "active")
        op2 = self.anon()
        r = op2.login(f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "active")
        me = self.me(op2)
        self.assertEqual(me["id"], acct["id"])
        self.assertEqual(me["status"], "active")
        self.assertOrganisation(me, f)
        view = self.admin_view(acct["id"])
        self.assertEqual(account_of(view)["status"], "active")
        actions = [row["action"] for row in self.audit_actions(acct["id"])]
        self.assertTrue(any("approv" in a for a in actions), actions)

    def test_me_of_admin_has_no_organisation(self):
        me = self.me(self.admin)
        self.assertEqual(me["username"], "admin")
        self.assertEqual(me["role"], "admin")
        self.assertEqual(me["status"], "active")
        self.assertIsNone(me.get("organisation"))
        self.assertIsNone(me.get("license"))

    def test_approve_of_unknown_account_is_404(self):
        r = self.admin.post(API + "/admin/accounts/987654/approve")
        self.assertError(r, 404, "not_found")
        r = self.admin.get(API + "/admin/accounts/987654")
        self.assertError(r, 404, "not_found")


class ReviewDecisionsTest(PlatformCase):
    """reject (with reason) → operator edits and resubmits → approve; wrong states; disable."""

    def test_reject_then_edit_and_resubmit_then_approve(self):
        acct, f = self.register_ok()
        reason = "营业执照不清晰，请重新上传 (licence unreadable)"
        rejected = self.reject(acct["id"], reason)
        self.assertEqual(rejected["status"], "rejected")
        self.assertEqual(rejected["reject_reason"], reason)

        op = self.anon()
        r = op.login(f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("status"), "rejected")
        me = self.me(op)
        self.assertEqual(me["status"], "rejected")
        self.assertEqual(me["reject_reason"], reason)

        edited = dict(f)
        del edited["username"], edited["password"]
        edited["company_name"] = "中山市改名后充电有限公司" + secrets.token_hex(2)
        r = op.post_multipart(API + "/me/registration", edited,
                              {"license": ("new.png", PNG, "image/png")})
        self.assertEqual(r.status, 200, r)
        acct2 = account_of(r.json())
        self.assertEqual(acct2["status"], "pending")
        self.assertIsNone(acct2["reject_reason"])
        self.assertEqual(acct2["organisation"]["company_name"], edited["company_name"])
        self.assertEqual(acct2["license"]["sha256"], sha256(PNG))
        self.assertEqual(acct2["license"]["mime"], "image/png")

        me = self.me(op)
        self.assertEqual(me["status"], "pending")
        self.assertIsNone(me["reject_reason"])
        self.assertEqual(me["organisation"]["company_name"], edited["company_name"])

        view = account_of(self.admin_view(acct["id"]))
        self.assertEqual(view["status"], "pending")
        self.assertEqual(view["organisation"]["company_name"], edited["company_name"])
        r = self.admin.get(API + "/admin/accounts?status=pending&q=" + urlq(f["credit_code"]))
        self.assertEqual([it["id"] for it in r.json()["items"]], [acct["id"]])

        self.assertEqual(self.approve(acct["id"])["status"], "active")
        self.assertEqual(self.me(op)["status"], "active")
        audit = self.audit_actions(acct["id"])
        actions = [row["action"] for row in audit]
        self.assertTrue(any("reject" in a for a in actions), actions)
        self.assertTrue(any("approv" in a for a in actions), actions)
        admin_id = self.me(self.admin)["id"]
        for row in audit:
            if "reject" in row["action"] or "approv" in row["action"]:
                self.assertIn(str(row["actor"]), ("admin", str(admin_id)), row)
        rej = [row for row in audit if "reject" in row["action"]]
        self.assertIn(reason, json.dumps(rej[0]["detail"], ensure_ascii=False),
                      "the audit row of a rejection does not record the reason")

    def test_resubmit_without_new_licence_keeps_the_old_one(self):
        data = unique_pdf()
        acct, f = self.register_ok(license=("licence.pdf", data, "application/pdf"))
        self.reject(acct["id"], "联系人电话有误")
        op = self.login(f["username"], f["password"])
        edited = {k: v for k, v in f.items() if k not in ("username", "password")}
        edited["mobile"] = "13912345678"
        r = op.post_multipart(API + "/me/registration", edited, {})
        self.assertEqual(r.status, 200, r)
        acct2 = account_of(r.json())
        self.assertEqual(acct2["status"], "pending")
        self.assertEqual(acct2["organisation"]["mobile"], "13912345678")
        self.assertEqual(acct2["license"]["sha256"], sha256(data))

    def test_resubmission_is_validated_like_registration(self):
        acct, f = self.register_ok()
        self.reject(acct["id"], "请补充地址")
        op = self.login(f["username"], f["password"])
        edited = {k: v for k, v in f.items() if k not in ("username", "password")}
        edited["mobile"] = "12345"
        r = op.post_multipart(API + "/me/registration", edited, {})
        self.assertError(r, 422, "validation_failed", "mobile", "bad_format")
        edited["mobile"] = f["mobile"]
        r = op.post_multipart(API + "/me/registration", edited,
                              {"license": ("licence.pdf", b"MZ\x90\x00" + b"\x00" * 200,
                                           "application/pdf")})
        self.assertError(r, 415, "unsupported_media_type", "license")
        me = self.me(op)
        self.assertEqual(me["status"], "rejected", "a refused resubmission changed the status")

    def test_pending_operator_may_edit_its_registration(self):
        acct, f = self.register_ok()
        op = self.login(f["username"], f["password"])
        edited = {k: v for k, v in f.items() if k not in ("username", "password")}
        edited["contact_name"] = "王五"
        r = op.post_multipart(API + "/me/registration", edited, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["organisation"]["contact_name"], "王五")
        self.assertEqual(account_of(r.json())["status"], "pending")

    def test_active_operator_cannot_edit_registration(self):
        acct, f = self.register_ok()
        self.approve(acct["id"])
        op = self.login(f["username"], f["password"])
        edited = {k: v for k, v in f.items() if k not in ("username", "password")}
        edited["company_name"] = "不应生效的名称"
        r = op.post_multipart(API + "/me/registration", edited, {})
        self.assertIn(r.status, (403, 409), r)
        me = self.me(op)
        self.assertEqual(me["status"], "active")
        self.assertEqual(me["organisation"]["company_name"], f["company_name"])

    def test_reject_requires_a_reason(self):
        acct, _ = self.register_ok()
        path = "%s/admin/accounts/%d/reject" % (API, acct["id"])
        r = self.admin.post(path, {})
        self.assertError(r, 422, "validation_failed", "reason", "required")
        r = self.admin.post(path, {"reason": ""})
        self.assertError(r, 422, "validation_failed", "reason", ("required", "too_short"))
        r = self.admin.post(path, {"reason": "驳" * 501})
        self.assertError(r, 422, "validation_failed", "reason", "too_long")
        r = self.admin.post(path, {"reason": 42})
        self.assertIn(r.status, (400, 422), r)
        self.assertEqual(account_of(self.admin_view(acct["id"]))["status"], "pending")
        ok = self.reject(acct["id"], "驳" * 500)
        self.assertEqual(ok["reject_reason"], "驳" * 500)

    def test_wrong_state_transitions_are_409_naming_the_status(self):
        acct, _ = self.register_ok()
        self.approve(acct["id"])
        base = "%s/admin/accounts/%d/" % (API, acct["id"])
        for action, body in (("approve", None), ("reject", {"reason": "太晚了"}),
                             ("enable", None)):
            r = self.admin.post(base + action, body)
            err = self.assertError(r, 409, "conflict")
            self.assertIn("active", str(err["error"]), "409 should name the current status")
        acct2, _ = self.register_ok()
        self.reject(acct2["id"], "缺少材料")
        r = self.admin.post("%s/admin/accounts/%d/approve" % (API, acct2["id"]))
        err = self.assertError(r, 409, "conflict")
        self.assertIn("rejected", str(err["error"]))
        r = self.admin.post("%s/admin/accounts/%d/reject" % (API, acct2["id"]), {"reason": "x"})
        self.assertError(r, 409, "conflict")

    def test_approve_of_the_admin_account_is_refused(self):
        me = self.me(self.admin)
        r = self.admin.post("%s/admin/accounts/%d/approve" % (API, me["id"]))
        self.assertIn(r.status, (403, 404, 409), r)
        self.assertEqual(self.me(self.admin)["status"], "active")

    def test_disable_locks_out_login_sessions_and_tokens_until_enabled(self):
        op, acct, f = self.active_operator()
        r = op.post(API + "/auth/tokens", {"name": "script"})
        self.assertEqual(r.status, 201, r)
        bearer = self.anon()
        bearer.bearer = r.json()["token"]
        self.assertEqual(self.me(bearer)["id"], acct["id"])

        r = self.admin.post("%s/admin/accounts/%d/disable" % (API, acct["id"]),
                            {"reason": "资质过期"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["status"], "disabled")

        r = op.get(API + "/me")
        self.assertIn(r.status, (401, 403), "disabled account's session still works: %r" % r)
        r = bearer.get(API + "/me")
        self.assertIn(r.status, (401, 403), "disabled account's token still works: %r" % r)
        r = op.post(API + "/auth/tokens", {"name": "after-disable"})
        self.assertIn(r.status, (401, 403), r)

        fresh = SourceClient("127.0.0.1", self.platform.mgmt_port)
        r = fresh.login(f["username"], f["password"])
        self.assertError(r, 403, "account_disabled")
        self.assertNotIn("evgate_session", fresh.cookies)

        r = self.admin.post("%s/admin/accounts/%d/enable" % (API, acct["id"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["status"], "active")
        op2 = self.login(f["username"], f["password"])
        self.assertEqual(self.me(op2)["status"], "active")
        actions = [row["action"] for row in self.audit_actions(acct["id"])]
        self.assertTrue(any("disabl" in a for a in actions), actions)
        self.assertTrue(any("enabl" in a for a in actions), actions)

    def test_disable_pending_and_rejected_accounts(self):
        a1, f1 = self.register_ok()
        a2, f2 = self.register_ok()
        self.reject(a2["id"], "不符合要求")
        for a in (a1, a2):
            r = self.admin.post("%s/admin/accounts/%d/disable" % (API, a["id"]), {})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(account_of(r.json())["status"], "disabled")
        r = self.admin.post("%s/admin/accounts/%d/disable" % (API, a1["id"]), {})
        self.assertError(r, 409, "conflict")
        fresh = SourceClient("127.0.0.1", self.platform.mgmt_port)
        self.assertError(fresh.login(f1["username"], f1["password"]), 403, "account_disabled")


class AdminSelfLockoutTest(PlatformCase):
    """An admin cannot disable its own account (the platform would lose its only admin)."""

    def test_admin_cannot_disable_itself(self):
        me = self.me(self.admin)
        r = self.admin.post("%s/admin/accounts/%d/disable" % (API, me["id"]), {})
        self.assertIn(r.status, (403, 404, 409), r)
        self.assertEqual(self.me(self.admin)["status"], "active")
        self.assertEqual(self.anon().login("admin", ADMIN_PASSWORD).status, 200)


class ValidationTest(PlatformCase):
    """Each registration field rule of docs/api-accounts.md, with the detail's field and code."""

    def bad(self, field, value, codes, status=422):
        f = registration(**{field: value})
        r, _ = register(self.anon(), f)
        self.assertError(r, status, "validation_failed" if status == 422 else None, field, codes)
        named = [d["field"] for d in error_details(r)]
        self.assertEqual(set(named), {field}, "only %r is wrong, details: %r" % (field, r))
        return f

    def good(self, **over):
        f = registration(**over)
        r, _ = register(self.anon(), f)
        self.assertEqual(r.status, 201, "%r rejected: %r" % (over, r))
        return account_of(r.json())

    def test_username_rules(self):
        self.bad("username", "abc", "too_short")
        self.bad("username", "a" * 33, "too_long")
        for v in ("bad-name", "bad name", "bad.name", "用户名字", "op'; --", "<b>op</b>",
                  "op_𠮷𠮷", "op\\name", "op\"name", "op%41x"):
            self.bad("username", v, "bad_format")
        self.good(username="u_" + secrets.token_hex(1))        # 4 characters
        self.good(username="U" + secrets.token_hex(15) + "_")  # 32 characters

    def test_password_rules(self):
        self.bad("password", "123456789", "too_short")
        self.bad("password", "密码密码密码密码密", "too_short")  # 9 characters, 27 bytes
        self.bad("password", "x" * 129, "too_long")
        a = self.good(password="0123456789")
        self.assertEqual(a["status"], "pending")
        f = registration(password="十个字的中文密码口令")
        r, _ = register(self.anon(), f)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.anon().login(f["username"], f["password"]).status, 200)
        self.good(password="p" * 128)

    def test_credit_code_rules(self):
        code = credit_code()
        while not any(c.isalpha() for c in code):
            code = credit_code()
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        wrong = alphabet[(alphabet.index(code[17]) + 1) % len(alphabet)]
        self.bad("credit_code", code[:17] + wrong, "bad_check")
        self.bad("credit_code", code.lower(), "lowercase")
        self.bad("credit_code", code[:17], ("bad_format", "too_short"))
        self.bad("credit_code", code + "0", ("bad_format", "too_long"))
        self.bad("credit_code", code[:3] + "I" + code[4:], ("bad_format", "bad_check"))
        self.bad("credit_code", "91442000 MA4UJ9XY0", "bad_format")
        self.bad("credit_code", "", "required")
        a = self.good(credit_code=code)
        self.assertEqual(a["organisation"]["operator_id"], code[8:17])

    def test_mobile_rules(self):
        for v in ("23800138000", "1380013800a", "138 0013 800", "+8613800138",
                  "１３８００１３８０００", "1380013800١"):
            self.bad("mobile", v, "bad_format")
        self.bad("mobile", "1380013800", ("bad_format", "too_short"))
        self.bad("mobile", "138001380000", ("bad_format", "too_long"))
        self.bad("mobile", "", "required")
        self.good(mobile="19912345678")

    def test_email_rules(self):
        for v in ("plainaddress", "no-domain@", "@example.com", "a@example", "a b@example.com",
                  "a@@example.com"):
            self.bad("email", v, "bad_format")
        domain = "b" * 40 + "." + "c" * 50 + ".com"
        self.bad("email", "abcde@" + domain, ("too_long", "bad_format"))  # 101 characters
        self.bad("email", "", "required")
        self.good(email="abcd@" + domain)  # 100 characters

    def test_text_lengths_count_characters_not_bytes(self):
        self.good(company_name="中" * 100, legal_representative="𠮷" * 50,
                  contact_name="李" * 50, address="址" * 200)
        self.bad("company_name", "中" * 101, "too_long")
        self.bad("legal_representative", "𠮷" * 51, "too_long")
        self.bad("contact_name", "a" * 51, "too_long")
        self.bad("address", "址" * 201, "too_long")
        for fld in TEXT_FIELDS:
            self.bad(fld, "", ("required", "too_short"))

    def test_control_characters_are_refused(self):
        self.bad("company_name", "中山\x01公司", "bad_format")
        self.bad("address", "中山\x00市", ("bad_format", "required"))

    def test_invalid_utf8_is_refused(self):
        f = registration()
        body, ctype = multipart(f, {"license": ("licence.pdf", PDF, "application/pdf")})
        good = f["company_name"].encode("utf-8")
        body = body.replace(good, b"\xff\xfe\xc3(" + good, 1)
        r = self.anon().request("POST", API + "/auth/register", body=body,
                                headers={"Content-Type": ctype})
        self.assertIn(r.status, (400, 422), r)
        if r.status == 422:
            self.assertIn("company_name", [d.get("field") for d in error_details(r)])
        self.good(username=f["username"], credit_code=f["credit_code"])

    def test_all_missing_fields_are_listed_at_once(self):
        r = self.anon().post_multipart(API + "/auth/register",
                                       {"username": "op_" + secrets.token_hex(3)}, {})
        self.assertError(r, 422, "validation_failed")
        req = {d.get("field") for d in error_details(r) if d.get("code") == "required"}
        self.assertEqual(req, set(REQUIRED_FIELDS) - {"username"}, r)
        # nothing at all
        r = self.anon().post_multipart(API + "/auth/register", {"note": "x"}, {})
        self.assertError(r, 422, "validation_failed")
        req = {d.get("field") for d in error_details(r) if d.get("code") == "required"}
        self.assertEqual(req, set(REQUIRED_FIELDS), r)

    def test_several_bad_fields_give_one_detail_each(self):
        f = registration(mobile="123", email="nope", credit_code="ABC")
        r, _ = register(self.anon(), f)
        self.assertError(r, 422, "validation_failed")
        fields = sorted(d.get("field") for d in error_details(r))
        self.assertEqual(fields, ["credit_code", "email", "mobile"], r)

    def test_validation_failure_creates_nothing(self):
        f = registration(mobile="bad")
        r, _ = register(self.anon(), f)
        self.assertEqual(r.status, 422, r)
        f["mobile"] = "13800138000"
        r, _ = register(self.anon(), f)
        self.assertEqual(r.status, 201, "a refused registration left something behind: %r" % r)

    def test_duplicate_username_and_credit_code_are_409_naming_the_field(self):
        a, f = self.register_ok()
        r, _ = register(self.anon(), registration(username=f["username"]))
        self.assertError(r, 409, "conflict", "username", "duplicate")
        r, _ = register(self.anon(), registration(credit_code=f["credit_code"]))
        self.assertError(r, 409, "conflict", "credit_code", "duplicate")
        # still exactly one account with that code
        r = self.admin.get(API + "/admin/accounts?q=" + urlq(f["credit_code"]))
        self.assertEqual(r.json()["total"], 1)

    def test_concurrent_duplicate_registrations_create_one_account(self):
        base = registration()
        n = 6
        barrier = threading.Barrier(n)
        results = [None] * n

        def worker(i):
            f = dict(base)
            if i % 2:
                f["username"] = "op_" + secrets.token_hex(4)  # same credit code, other name
            else:
                f["credit_code"] = credit_code()           # same name, other credit code
            body, ctype = multipart(f, {"license": ("licence.pdf", unique_pdf(),
                                                    "application/pdf")})
            barrier.wait(10)
            results[i] = self.anon().request("POST", API + "/auth/register", body=body,
                                             headers={"Content-Type": ctype})

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        statuses = [r.status for r in results]
        self.assertTrue(all(s in (201, 409) for s in statuses), results)
        # same-name group and same-code group may share one winner; never two per key
        names, codes = {}, {}
        for r in results:
            if r.status == 201:
                a = account_of(r.json())
                names[a["username"]] = names.get(a["username"], 0) + 1
                cc = a["organisation"]["credit_code"]
                codes[cc] = codes.get(cc, 0) + 1
        self.assertTrue(all(v == 1 for v in names.values()), names)
        self.assertTrue(all(v == 1 for v in codes.values()), codes)
        self.assertEqual([results[i].status for i in range(0, n, 2)].count(201), 1,
                         "same user name, concurrently: %r" % results)
        self.assertEqual([results[i].status for i in range(1, n, 2)].count(201), 1,
                         "same credit code, concurrently: %r" % results)
        for r in results:
            if r.status == 409:
                self.assertEqual(error_code(r), "conflict")

    def test_register_requires_multipart(self):
        r = self.anon().post(API + "/auth/register", registration())
        self.assertError(r, 400, "bad_request")
        r = self.anon().request("POST", API + "/auth/register", body=b"--x\r\ngarbage",
                                headers={"Content-Type": "multipart/form-data; boundary=x"})
        self.assertIn(r.status, (400, 422), r)


class UploadTest(PlatformCase):
    """The licence upload: size limit, type by content, and no trace of a refused one."""

    def assertNothingCreated(self, fields, before):
        after = set(files_under(self.data_dir()))
        self.assertEqual(after - before, set(), "a refused upload left files behind")
        r, _ = register(self.anon(), fields, ("licence.pdf", unique_pdf(), "application/pdf"))
        self.assertEqual(r.status, 201, "account or organisation left behind: %r" % r)

    def test_eleven_megabytes_is_413(self):
        f = registration()
        before = set(files_under(self.data_dir()))
        data = PDF + b"0" * (11 * 1024 * 1024)
        body, ctype = multipart(f, {"license": ("licence.pdf", data, "application/pdf")})
        r = send_large(self.anon(), "POST", API + "/auth/register", body, ctype)
        self.assertError(r, 413, "too_large", "license")
        self.assertNothingCreated(f, before)

    def test_eleven_megabytes_chunked_is_413(self):
        f = registration()
        data = PDF + b"0" * (11 * 1024 * 1024)
        body, ctype = multipart(f, {"license": ("licence.pdf", data, "application/pdf")})
        r = send_chunked(self.platform.mgmt_port, API + "/auth/register", body, ctype)
        self.assertError(r, 413, "too_large", "license")
        r, _ = register(self.anon(), f)
        self.assertEqual(r.status, 201, r)

    def test_huge_text_field_is_refused(self):
        f = registration(company_name="长" * (700 * 1024))  # 2.1 MB of UTF-8
        body, ctype = multipart(f, {"license": ("licence.pdf", PDF, "application/pdf")})
        r = send_large(self.anon(), "POST", API + "/auth/register", body, ctype)
        self.assertIn(r.status, (413, 422), r)
        self.assertIsNotNone(error_code(r), r)
        self.assertIn("company_name", [d.get("field") for d in error_details(r)], r)

    def test_licence_sent_as_text_or_under_another_name_is_refused(self):
        f = registration()
        f["license"] = "%PDF-1.4 this is a text field, not a file"
        r = self.anon().post_multipart(API + "/auth/register", f, {})
        self.assertIn(r.status, (415, 422), r)
        self.assertIn("license", [d.get("field") for d in error_details(r)], r)
        f = registration()
        r = self.anon().post_multipart(API + "/auth/register", f,
                                       {"file": ("licence.pdf", PDF, "application/pdf")})
        self.assertError(r, 422, "validation_failed", "license", "required")

    def test_exactly_ten_megabytes_is_accepted(self):
        data = PDF + b"1" * (MAX_UPLOAD - len(PDF))
        f = registration()
        body, ctype = multipart(f, {"license": ("big.pdf", data, "application/pdf")})
        r = send_large(self.anon(), "POST", API + "/auth/register", body, ctype)
        self.assertEqual(r.status, 201, r)
        lic = account_of(r.json())["license"]
        self.assertEqual(lic["size"], MAX_UPLOAD)
        self.assertEqual(lic["sha256"], sha256(data))

    def test_windows_executable_named_pdf_is_415(self):
        f = registration()
        before = set(files_under(self.data_dir()))
        exe = b"MZ\x90\x00" + b"\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 4000
        r, _ = register(self.anon(), f, ("licence.pdf", exe, "application/pdf"))
        self.assertError(r, 415, "unsupported_media_type", "license")
        self.assertNothingCreated(f, before)

    def test_other_non_documents_are_415(self):
        for name, data, ctype in (
                ("licence.png", b"<html><script>alert(1)</script></html>", "image/png"),
                ("licence.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>',
                 "image/svg+xml"),
                ("licence.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg"),
                ("licence.pdf", b"PK\x03\x04" + b"\x00" * 100, "application/pdf"),
                ("licence.pdf", b" %PDF-1.4 not at the start", "application/pdf")):
            f = registration()
            r, _ = register(self.anon(), f, (name, data, ctype))
            self.assertError(r, 415, "unsupported_media_type", "license")

    def test_empty_licence_is_refused(self):
        f = registration()
        r, _ = register(self.anon(), f, ("licence.pdf", b"", "application/pdf"))
        self.assertIn(r.status, (415, 422), r)
        self.assertIn("license", [d.get("field") for d in error_details(r)], r)

    def test_png_and_jpeg_by_content_are_accepted(self):
        for name, data, mime in (("licence.png", PNG, "image/png"),
                                 ("licence.jpg", JPEG, "image/jpeg"),
                                 ("LICENCE.JPEG", JPEG, "image/jpeg")):
            a, _ = self.register_ok(license=(name, data, "application/octet-stream"))
            self.assertEqual(a["license"]["mime"], mime)
            self.assertEqual(a["license"]["sha256"], sha256(data))
            self.assertEqual(a["license"]["size"], len(data))


TRICKY = {
    "company_name": "中山\"双引号'单引号'; DROP TABLE accounts;-- ' OR 1=1 -- \\反斜杠\\ "
                    "<script>alert(1)</script> 𠮷野家🚗",
    "legal_representative": "O'Brien \"张\"; -- 𠮷 \\n\\u0000",
    "contact_name": "<script>alert('x')</script>&lt;𠮷",
    "address": "广东省中山市'; DELETE FROM organisations WHERE '1'='1 -- \\\\srv\\share "
               "<img src=x onerror=alert(1)> \"号\" 𠮷",
}


class TextRoundTripTest(PlatformCase):
    """Quotes, SQL fragments, backslashes, markup and 4-byte Chinese come back byte-identical."""

    def test_tricky_text_comes_back_identical_from_me_and_admin(self):
        for k, v in TRICKY.items():
            self.assertLessEqual(len(v), 50 if k in ("legal_representative", "contact_name")
                                 else 100, k)
        acct, f = self.register_ok(**TRICKY)
        self.assertOrganisation(acct, f)
        op = self.login(f["username"], f["password"])
        self.assertOrganisation(self.me(op), f)
        self.assertOrganisation(account_of(self.admin_view(acct["id"])), f)
        r = self.admin.get(API + "/admin/accounts?q=" + urlq(f["credit_code"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["total"], 1)
        # the raw body is valid UTF-8 JSON holding the 4-byte character as such or as a pair
        raw = op.get(API + "/me").body
        raw.decode("utf-8")
        self.assertTrue("𠮷".encode() in raw or b"\\ud842\\udfb7" in raw.lower(), raw[:400])

    def test_tricky_text_in_reasons_and_resubmission(self):
        acct, f = self.register_ok()
        reason = "驳回：执照\"模糊\"; --' OR 1=1 -- \\ <script>x</script> 𠮷"
        self.assertEqual(self.reject(acct["id"], reason)["reject_reason"], reason)
        op = self.login(f["username"], f["password"])
        self.assertEqual(self.me(op)["reject_reason"], reason)
        self.assertEqual(account_of(self.admin_view(acct["id"]))["reject_reason"], reason)
        edited = {k: v for k, v in f.items() if k not in ("username", "password")}
        edited.update(TRICKY)
        r = op.post_multipart(API + "/me/registration", edited, {})
        self.assertEqual(r.status, 200, r)
        self.assertOrganisation(self.me(op), edited)
        self.assertOrganisation(account_of(self.admin_view(acct["id"])), edited)

    def test_search_with_sql_fragments_is_literal(self):
        self.register_ok(**TRICKY)
        for q in ("zz' OR '1'='1", "zz\" OR \"1\"=\"1", "zz%", "zz_", "zz\\", "zz'; --"):
            r = self.admin.get(API + "/admin/accounts?q=" + urlq(q))
            self.assertEqual(r.status, 200, "%s: %r" % (q, r))
            self.assertEqual(r.json()["total"], 0, "q=%r matched something" % q)
        r = self.admin.get(API + "/admin/accounts?q=" + urlq("' OR 1=1 --"))
        self.assertEqual(r.status, 200, r)
        for it in r.json()["items"]:
            blob = str(it)
            self.assertTrue("' OR 1=1 --" in blob or "' OR 1=1 --" in str(
                account_of(self.admin_view(it["id"]))), it)
        r = self.admin.get(API + "/admin/accounts?q=" + urlq("%"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["total"], 0, "'%' is a wildcard in the search")

    def test_username_with_such_characters_is_refused_not_stored(self):
        for name in ("op'; DROP TABLE accounts;--", "op' OR 1=1 --", "op\"x\"", "op\\x",
                     "<script>", "张三用户", "op_𠮷野家"):
            f = registration(username=name)
            r, _ = register(self.anon(), f)
            self.assertError(r, 422, "validation_failed", "username", "bad_format")
            r = self.admin.get(API + "/admin/accounts?q=" + urlq(f["credit_code"]))
            self.assertEqual(r.json()["total"], 0, name)
            fresh = SourceClient("127.0.0.1", self.platform.mgmt_port)  # own throttle counter
            self.assertEqual(fresh.login(name, f["password"]).status // 100, 4)


def send_chunked(port, path, body, content_type):
    """POSTs `body` with Transfer-Encoding: chunked (no Content-Length), reading the answer
    even when the server answers before the end of the body."""
    import http.client
    from harness import Response
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                % (path, port, content_type))
        try:
            sock.sendall(head.encode("latin-1"))
            for i in range(0, len(body), 65536):
                chunk = body[i:i + 65536]
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = http.client.HTTPResponse(sock)
        r.begin()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        sock.close()


def urlq(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


if __name__ == "__main__":
    unittest.main(verbosity=2)
