"""Integration tests of the account slice's security (issue 2) against the real mgmt daemon:
who may call what, CSRF, bearer tokens, sessions and logout, login throttling, licence file
access, password storage, and the HTTP error contract. See docs/api-accounts.md and SPEC §3, §11.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_security.py"""

import os
import re
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (ADMIN_PASSWORD, JPEG, PNG, MgmtCase, Platform, SourceClient,  # noqa: E402
                     fresh_source_address,
                     account_of, admin_client, error_code, error_details, register,
                     registration, send_large, unique_pdf)

API = "/api/v1"


class PlatformCase(MgmtCase):
    """The security tests' base: MgmtCase with their helpers."""

    def fresh(self):
        """A client from a loopback address of its own: its failed logins do not count
        against 127.0.0.1, which the other tests of the class log in from."""
        return SourceClient("127.0.0.1", self.platform.mgmt_port)

    def register_ok(self, license=None, **over):
        f = registration(**over)
        r, _ = register(self.anon(), f, license or ("licence.pdf", unique_pdf(),
                                                    "application/pdf"))
        self.assertEqual(r.status, 201, r)
        return account_of(r.json()), f

    def login(self, username, password, client=None):
        c = client or self.anon()
        r = c.login(username, password)
        self.assertEqual(r.status, 200, r)
        return c

    def approve(self, account_id):
        r = self.admin.post("%s/admin/accounts/%d/approve" % (API, account_id))
        self.assertEqual(r.status, 200, r)

    def status_of(self, account_id):
        r = self.admin.get("%s/admin/accounts/%d" % (API, account_id))
        self.assertEqual(r.status, 200, r)
        return account_of(r.json())["status"]

    def active_operator(self):
        a, f = self.register_ok()
        self.approve(a["id"])
        return self.login(f["username"], f["password"]), a, f

    def new_token(self, client, name="script"):
        r = client.post(API + "/auth/tokens", {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def bearer_client(self, token):
        c = self.anon()
        c.bearer = token
        return c


class AccessControlTest(PlatformCase):
    """Roles and statuses: anonymous, pending, rejected, active operator, admin."""

    def test_anonymous_is_401(self):
        for method, path in (("GET", "/me"), ("GET", "/admin/accounts"),
                             ("GET", "/admin/accounts/1"), ("POST", "/admin/accounts/1/approve"),
                             ("POST", "/auth/tokens"), ("GET", "/auth/tokens"),
                             ("POST", "/me/registration"), ("GET", "/files/1"),
                             ("POST", "/auth/logout")):
            r = self.anon().request(method, API + path, body=b"{}",
                                    headers={"Content-Type": "application/json"})
            self.assertError(r, 401, "unauthenticated")

    def test_active_operator_cannot_use_admin_endpoints(self):
        op, a, f = self.active_operator()
        other, _ = self.register_ok()
        r = op.get(API + "/admin/accounts")
        self.assertError(r, 403, "forbidden")
        r = op.get("%s/admin/accounts/%d" % (API, other["id"]))
        self.assertError(r, 403, "forbidden")
        for action, body in (("approve", None), ("reject", {"reason": "x"}),
                             ("disable", {}), ("enable", None)):
            r = op.post("%s/admin/accounts/%d/%s" % (API, other["id"], action), body)
            self.assertError(r, 403, "forbidden")
        self.assertEqual(self.status_of(other["id"]), "pending")
        # a bearer token does not lift the role either
        bc = self.bearer_client(self.new_token(op)["token"])
        self.assertError(bc.get(API + "/admin/accounts"), 403, "forbidden")
        self.assertError(bc.post("%s/admin/accounts/%d/approve" % (API, other["id"])),
                         403, "forbidden")
        self.assertEqual(self.status_of(other["id"]), "pending")

    def test_pending_operator_is_limited_to_its_own_status(self):
        a, f = self.register_ok()
        op = self.login(f["username"], f["password"])
        self.assertError(op.get(API + "/admin/accounts?status=pending"), 403, "forbidden")
        self.assertError(op.get("%s/admin/accounts/%d" % (API, a["id"])), 403, "forbidden")
        r = op.post("%s/admin/accounts/%d/approve" % (API, a["id"]))
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.status_of(a["id"]), "pending", "a pending operator approved itself")
        r = op.get(API + "/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["status"], "pending")
        # its own licence is readable
        r = op.get(a["license"]["url"])
        self.assertEqual(r.status, 200, r)

    def test_rejected_operator_is_limited_to_its_own_status(self):
        a, f = self.register_ok()
        r = self.admin.post("%s/admin/accounts/%d/reject" % (API, a["id"]), {"reason": "缺材料"})
        self.assertEqual(r.status, 200, r)
        op = self.login(f["username"], f["password"])
        self.assertError(op.get(API + "/admin/accounts"), 403, "forbidden")
        r = op.post("%s/admin/accounts/%d/approve" % (API, a["id"]))
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.status_of(a["id"]), "rejected")

    def test_operator_cannot_see_another_operators_data(self):
        op1, a1, f1 = self.active_operator()
        op2, a2, f2 = self.active_operator()
        me1 = account_of(op1.get(API + "/me").json())
        self.assertEqual(me1["id"], a1["id"])
        self.assertNotIn(f2["company_name"].encode(), op1.get(API + "/me").body)
        r = op1.get(a2["license"]["url"])
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"evgate-test", r.body)


class FilesTest(PlatformCase):
    """GET /api/v1/files/{id}: owner and admin only, bytes and type from content, nosniff."""

    def test_owner_and_admin_read_the_licence(self):
        for name, data, mime in (("licence.pdf", unique_pdf(), "application/pdf"),
                                 ("licence.pdf", PNG, "image/png"),
                                 ("scan.jpg", JPEG, "image/jpeg")):
            a, f = self.register_ok(license=(name, data, "application/pdf"))
            url = a["license"]["url"]
            op = self.login(f["username"], f["password"])
            for who, c in (("owner", op), ("admin", self.admin)):
                r = c.get(url)
                self.assertEqual(r.status, 200, "%s: %r" % (who, r))
                self.assertEqual(r.body, data, who)
                self.assertEqual((r.header("Content-Type") or "").split(";")[0].strip(), mime,
                                 who)
                self.assertEqual((r.header("X-Content-Type-Options") or "").lower(), "nosniff",
                                 who)
                disp = (r.header("Content-Disposition") or "").lower()
                self.assertTrue(disp.startswith("inline"), "Content-Disposition %r" % disp)

    def test_others_cannot_read_the_licence(self):
        a, f = self.register_ok()
        url = a["license"]["url"]
        other, _, _ = self.active_operator()
        r = other.get(url)
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"evgate-test", r.body)
        pending_a, pf = self.register_ok()
        pend = self.login(pf["username"], pf["password"])
        r = pend.get(url)
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"evgate-test", r.body)
        r = self.anon().get(url)
        self.assertError(r, 401, "unauthenticated")
        self.assertError(self.admin.get(API + "/files/99999999"), 404, "not_found")
        for bad in ("/files/abc", "/files/-1", "/files/1.0", "/files/1x"):
            r = self.admin.get(API + bad)
            self.assertIn(r.status, (400, 404), "%s: %r" % (bad, r))
        # an encoded NUL must not cut the path short into another, valid one
        file_path = url.split("?")[0]
        self.assertEqual(self.admin.get(file_path).status, 200)
        for bad in (file_path + "%00", file_path + "%00.pdf", file_path + "%00/x"):
            r = self.admin.get(bad)
            self.assertIn(r.status, (400, 404), "%s: %r" % (bad, r))
            self.assertNotIn(b"evgate-test", r.body)

    def test_uploaded_file_name_cannot_escape_the_data_dir(self):
        tag = secrets.token_hex(4)
        target = "/tmp/evgate-escape-%s.pdf" % tag
        data = unique_pdf(tag)
        a, f = self.register_ok(license=("../../../../../../.." + target, data,
                                         "application/pdf"))
        self.assertFalse(os.path.exists(target), "upload written to " + target)
        hits = []
        for d, _, names in os.walk(self.platform.env["EVGATE_DATA_DIR"]):
            for n in names:
                with open(os.path.join(d, n), "rb") as fh:
                    if fh.read() == data:
                        hits.append(os.path.join(d, n))
        self.assertEqual(len(hits), 1, hits)


class CsrfTest(PlatformCase):
    """Cookie sessions need X-CSRF-Token on state changes; bearer tokens do not."""

    def test_login_sets_a_hardened_session_cookie(self):
        a, f = self.register_ok()
        c = self.anon()
        r = c.login(f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        body = r.json()
        for k in ("csrf_token", "role", "status"):
            self.assertIn(k, body)
        self.assertGreaterEqual(len(body["csrf_token"]), 16)
        cookies = [v for k, v in r.headers if k.lower() == "set-cookie"
                   and v.startswith("evgate_session=")]
        self.assertEqual(len(cookies), 1, r.headers)
        attrs = [p.strip().lower() for p in cookies[0].split(";")[1:]]
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=strict", attrs)
        self.assertIn("path=/", attrs)
        value = cookies[0].split(";", 1)[0].split("=", 1)[1]
        self.assertGreaterEqual(len(value), 22, "session id too short to be unguessable")
        self.assertNotEqual(value, body["csrf_token"])
        # /me repeats the session's CSRF token for a reloaded page
        r = c.get(API + "/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("csrf_token"), body["csrf_token"])
        # a second login is a second session with its own cookie and token
        c2 = self.login(f["username"], f["password"])
        self.assertNotEqual(c2.cookies["evgate_session"], value)
        self.assertNotEqual(c2.csrf, body["csrf_token"])

    def test_state_change_without_or_with_wrong_csrf_token_is_403(self):
        op, a, f = self.active_operator()
        path = API + "/auth/tokens"
        r = op.post(path, {"name": "no-csrf"}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = op.post(path, {"name": "wrong-csrf"}, csrf=False,
                    headers={"X-CSRF-Token": "x" * len(op.csrf)})
        self.assertError(r, 403, "csrf_failed")
        r = op.post(path, {"name": "empty-csrf"}, csrf=False, headers={"X-CSRF-Token": ""})
        self.assertError(r, 403, "csrf_failed")
        # the token of another session of the same user does not fit this session
        other = self.login(f["username"], f["password"])
        r = op.post(path, {"name": "other-csrf"}, csrf=False,
                    headers={"X-CSRF-Token": other.csrf})
        self.assertError(r, 403, "csrf_failed")
        r = op.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([t for t in r.json()["items"] if t["name"].endswith("csrf")], [],
                         "a token was created without a valid CSRF header")
        r = op.post(path, {"name": "with-csrf"})
        self.assertEqual(r.status, 201, r)

    def test_admin_approve_needs_csrf(self):
        a, f = self.register_ok()
        path = "%s/admin/accounts/%d/approve" % (API, a["id"])
        r = self.admin.post(path, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.status_of(a["id"]), "pending")
        r = self.admin.post(path, csrf=False, headers={"X-CSRF-Token": "0" * 32})
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.status_of(a["id"]), "pending")
        r = self.admin.post(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of(a["id"]), "active")

    def test_other_state_changes_need_csrf(self):
        op, a, f = self.active_operator()
        tok = self.new_token(op)
        r = op.request("DELETE", "%s/auth/tokens/%d" % (API, tok["id"]), csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.bearer_client(tok["token"]).get(API + "/me").status, 200)
        r = op.post(API + "/auth/logout", csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(op.get(API + "/me").status, 200, "logout without CSRF took effect")
        a2, f2 = self.register_ok()
        pend = self.login(f2["username"], f2["password"])
        edited = {k: v for k, v in f2.items() if k not in ("username", "password")}
        edited["company_name"] = "CSRF 改名"
        r = pend.post_multipart(API + "/me/registration", edited, {}, csrf=False)
        self.assertError(r, 403, "csrf_failed")
        r = self.admin.get("%s/admin/accounts/%d" % (API, a2["id"]))
        self.assertEqual(account_of(r.json())["organisation"]["company_name"],
                         f2["company_name"])

    def test_bearer_requests_need_no_csrf(self):
        op, a, f = self.active_operator()
        tok = self.new_token(op)
        bc = self.bearer_client(tok["token"])
        r = bc.post(API + "/auth/tokens", {"name": "made-by-bearer"})
        self.assertEqual(r.status, 201, r)
        # an admin script approves with a bearer token and no CSRF header
        atok = self.new_token(self.admin, "admin-script")
        abc = self.bearer_client(atok["token"])
        target, _ = self.register_ok()
        r = abc.post("%s/admin/accounts/%d/approve" % (API, target["id"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.status_of(target["id"]), "active")

    def test_login_replaces_a_planted_session_cookie(self):
        a, f = self.register_ok()
        planted = "attacker" + secrets.token_hex(16)
        c = self.anon()
        c.cookies["evgate_session"] = planted
        self.assertError(c.get(API + "/me"), 401, "unauthenticated")
        r = c.login(f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(c.cookies.get("evgate_session"), planted)
        c2 = self.anon()
        c2.cookies["evgate_session"] = planted
        self.assertError(c2.get(API + "/me"), 401, "unauthenticated")


class TokensAndSessionsTest(PlatformCase):
    """Bearer tokens (create / list / use / revoke) and logout."""

    def test_token_lifecycle(self):
        op, a, f = self.active_operator()
        r = op.post(API + "/auth/tokens", {"name": "部署脚本 'ci'; --"})
        self.assertEqual(r.status, 201, r)
        tok = r.json()
        for k in ("id", "name", "prefix", "token", "created_at"):
            self.assertIn(k, tok)
        self.assertEqual(tok["name"], "部署脚本 'ci'; --")
        self.assertTrue(tok["token"].startswith(tok["prefix"]), tok)
        self.assertLess(len(tok["prefix"]), len(tok["token"]))
        self.assertGreaterEqual(len(tok["token"]) - len(tok["prefix"]), 20)

        bc = self.bearer_client(tok["token"])
        r = bc.get(API + "/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["id"], a["id"])
        self.assertNotIn("evgate_session", bc.cookies)

        r = op.get(API + "/auth/tokens")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(tok["token"].encode(), r.body, "the list shows the token value")
        items = r.json()["items"]
        mine = [t for t in items if t["id"] == tok["id"]]
        self.assertEqual(len(mine), 1, items)
        for k in ("id", "name", "prefix", "created_at", "last_used_at"):
            self.assertIn(k, mine[0])
        self.assertNotIn("token", mine[0])
        self.assertEqual(mine[0]["prefix"], tok["prefix"])
        self.assertIsNotNone(mine[0]["last_used_at"], "use of the token not recorded")

        r = op.request("DELETE", "%s/auth/tokens/%d" % (API, tok["id"]))
        self.assertEqual(r.status, 204, r)
        self.assertError(bc.get(API + "/me"), 401, "unauthenticated")
        r = op.get(API + "/auth/tokens")
        self.assertNotIn(tok["id"], [t["id"] for t in r.json()["items"]])
        r = op.request("DELETE", "%s/auth/tokens/%d" % (API, tok["id"]))
        self.assertEqual(r.status, 404, r)

    def test_tokens_are_private_to_their_owner(self):
        op1, a1, _ = self.active_operator()
        op2, a2, _ = self.active_operator()
        t1 = self.new_token(op1, "one")
        r = op2.get(API + "/auth/tokens")
        self.assertNotIn(t1["id"], [t["id"] for t in r.json()["items"]])
        r = op2.request("DELETE", "%s/auth/tokens/%d" % (API, t1["id"]))
        self.assertError(r, 404, "not_found")
        self.assertEqual(self.bearer_client(t1["token"]).get(API + "/me").status, 200,
                         "another operator revoked this token")

    def test_token_name_rules(self):
        op, _, _ = self.active_operator()
        for body in ({}, {"name": ""}, {"name": "n" * 51}):
            r = op.post(API + "/auth/tokens", body)
            self.assertError(r, 422, "validation_failed", "name")
        r = op.post(API + "/auth/tokens", {"name": "n" * 50})
        self.assertEqual(r.status, 201, r)

    def test_bad_bearer_tokens_are_401(self):
        op, _, _ = self.active_operator()
        tok = self.new_token(op)["token"]
        for bad in (tok[:-1], tok + "x", tok.upper() if tok != tok.upper() else tok.lower(),
                    "", "null", "' OR 1=1 --"):
            c = self.bearer_client(bad)
            r = c.get(API + "/me")
            self.assertError(r, 401, "unauthenticated")

    def test_pending_operator_may_manage_tokens(self):
        a, f = self.register_ok()
        op = self.login(f["username"], f["password"])
        tok = self.new_token(op)
        r = self.bearer_client(tok["token"]).get(API + "/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["status"], "pending")

    def test_logout_ends_the_session(self):
        op, a, f = self.active_operator()
        cookie = op.cookies["evgate_session"]
        r = op.post(API + "/auth/logout")
        self.assertEqual(r.status, 204, r)
        self.assertError(op.get(API + "/me"), 401, "unauthenticated")
        replay = self.anon()
        replay.cookies["evgate_session"] = cookie
        replay.csrf = op.csrf
        self.assertError(replay.get(API + "/me"), 401, "unauthenticated")
        self.assertError(replay.post(API + "/auth/tokens", {"name": "x"}), 401,
                         "unauthenticated")
        # other sessions of the user live on
        other = self.login(f["username"], f["password"])
        self.assertEqual(other.get(API + "/me").status, 200)

    def test_logout_of_a_bearer_does_not_end_cookie_sessions(self):
        op, a, f = self.active_operator()
        bc = self.bearer_client(self.new_token(op)["token"])
        bc.post(API + "/auth/logout")
        self.assertEqual(op.get(API + "/me").status, 200)


class PasswordStorageTest(PlatformCase):
    """Only slow salted hashes of passwords (and no session or token values) are stored."""

    def db_bytes(self):
        out = b""
        db = self.platform.env["EVGATE_DB"]
        for suffix in ("", "-wal", "-journal", "-shm"):
            if os.path.exists(db + suffix):
                with open(db + suffix, "rb") as fh:
                    out += fh.read()
        return out

    def test_secrets_are_not_stored_or_logged_in_clear(self):
        pw = "Pw-" + secrets.token_hex(10)
        a1, f1 = self.register_ok(password=pw)
        a2, f2 = self.register_ok(password=pw)
        self.approve(a1["id"])
        op = self.login(f1["username"], pw)
        tok = self.new_token(op)["token"]
        cookie = op.cookies["evgate_session"]
        raw = self.db_bytes()
        self.assertNotIn(pw.encode(), raw, "a password is stored in clear")
        self.assertNotIn(ADMIN_PASSWORD.encode(), raw, "the admin password is stored in clear")
        self.assertNotIn(tok.encode(), raw, "a bearer token is stored in clear")
        self.assertNotIn(cookie.encode(), raw, "a session id is stored in clear")
        hashes = set()
        import re
        for m in re.finditer(rb"\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$"
                             rb"[A-Za-z0-9+/]+", raw):
            self.assertGreaterEqual(int(m.group(1)), 19456, "argon2id memory below OWASP")
            self.assertGreaterEqual(int(m.group(2)), 2)
            hashes.add(m.group(0))
        if not hashes:
            self.assertTrue(b"$scrypt$" in raw or b"pbkdf2" in raw.lower(),
                            "no argon2id/scrypt/PBKDF2 hash found in the database")
        else:
            self.assertGreaterEqual(len(hashes), 3, "equal passwords must hash differently")
        log = "\n".join(self.platform.daemons["mgmt"].log)
        for s in (pw, ADMIN_PASSWORD, tok, cookie):
            self.assertNotIn(s, log, "a secret appears in the log")


class HttpContractTest(PlatformCase):
    """Errors are JSON objects with the fitting status; bodies are bounded."""

    def test_unknown_route_is_404_json(self):
        for method, path in (("GET", API + "/no-such-thing"), ("GET", API + "/admin/nothing"),
                             ("POST", API + "/auth/nothing")):
            r = self.admin.request(method, path, json_body={} if method == "POST" else None)
            self.assertError(r, 404, "not_found")
        r = self.anon().get(API + "/definitely/not/here")
        self.assertIn(r.status, (401, 404), r)
        self.assertIsNotNone(error_code(r), r)

    def test_wrong_method_is_an_error_not_a_success(self):
        r = self.admin.request("DELETE", API + "/me")
        self.assertIn(r.status, (404, 405), r)
        r = self.anon().get(API + "/auth/login")
        self.assertIn(r.status, (404, 405), r)

    def test_malformed_json_is_400(self):
        for body in (b"{", b"{\"username\": ", b"not json", b"{\"a\":1}}", b"\xff\xfe{}"):
            r = self.anon().request("POST", API + "/auth/login", body=body,
                                    headers={"Content-Type": "application/json"})
            self.assertError(r, 400, "bad_request")
        r = self.admin.request("POST", API + "/auth/tokens", body=b"{\"name\": ",
                               headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "bad_request")

    def test_json_of_the_wrong_shape_is_refused(self):
        for body in (b"[]", b"\"admin\"", b"42", b"null",
                     b"{\"username\": 1, \"password\": 2}",
                     b"{\"username\": [\"admin\"], \"password\": {}}"):
            r = self.fresh().request("POST", API + "/auth/login", body=body,
                                     headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (400, 401, 422), "%s: %r" % (body, r))
            self.assertIsNotNone(error_code(r), r)

    def test_oversized_json_is_413(self):
        big = b"{\"name\": \"" + b"a" * (1024 * 1024 + 10) + b"\"}"
        r = send_large(self.admin, "POST", API + "/auth/tokens", big, "application/json")
        self.assertError(r, 413, "too_large")
        r = send_large(self.anon(), "POST", API + "/auth/login", big, "application/json")
        self.assertError(r, 413, "too_large")
        self.assertEqual(self.admin.get(API + "/me").status, 200)

    def test_static_files_cannot_escape_the_web_dir(self):
        for path in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                     "/..%2f..%2f..%2f..%2fetc%2fpasswd", "/static/../../../../etc/passwd",
                     "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     "/....//....//....//etc/passwd"):
            r = self.anon().get(path)
            self.assertNotIn(b"root:", r.body, "path traversal via %s" % path)
        db_name = os.path.basename(self.platform.env["EVGATE_DB"])
        for path in ("/" + db_name, "/../" + db_name, "/%2e%2e/" + db_name):
            r = self.anon().get(path)
            self.assertFalse(r.body.startswith(b"SQLite format 3"), path)

    def test_error_answers_do_not_leak_internals(self):
        r = self.admin.get(API + "/admin/accounts/1'%20OR%201=1")
        self.assertIn(r.status, (400, 404), r)
        low = r.body.lower()
        for word in (b"sqlite", b"syntax error", b"select ", b".c:"):
            self.assertNotIn(word, low, r)


class ThrottleTest(PlatformCase):
    """Failed logins are throttled per user name (default 5 in a row) and per client address
    (default 50; 429 with Retry-After). A fresh Platform so that no other test is locked out. Each attempt
    comes from its own loopback address unless the address counter is the subject."""

    def user(self, approve=True):
        a, f = self.register_ok()
        if approve:
            self.approve(a["id"])
        return f["username"], f["password"]

    def test_wrong_user_name_and_wrong_password_look_the_same(self):
        name, pw = self.user()
        r1 = self.fresh().login(name, pw + "x")
        r2 = self.fresh().login("nobody_" + secrets.token_hex(4), pw)
        self.assertError(r1, 401, "invalid_credentials")
        self.assertError(r2, 401, "invalid_credentials")
        self.assertEqual(r1.json()["error"]["message"], r2.json()["error"]["message"])

    def test_per_user_name_throttle(self):
        name, pw = self.user()
        statuses = []
        for _ in range(10):
            r = self.fresh().login(name, "wrong-password-123")
            statuses.append(r.status)
            self.assertIn(r.status, (401, 429), r)
            if r.status == 401:
                self.assertEqual(error_code(r), "invalid_credentials")
            else:
                self.assertEqual(error_code(r), "too_many_requests")
        self.assertIn(429, statuses, "10 wrong passwords from 10 addresses were not throttled")
        first = statuses.index(429)
        self.assertTrue(all(s == 429 for s in statuses[first:]), statuses)
        self.assertEqual(first, 5, "contract: 429 after login_max_failures (5) failures: %r"
                         % statuses)
        # now even the right password, from yet another address, is throttled
        r = self.fresh().login(name, pw)
        self.assertError(r, 429, "too_many_requests")
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, "429 without Retry-After")
        self.assertTrue(retry.strip().isdigit(), retry)
        self.assertTrue(0 < int(retry) <= 900, retry)
        # the lock is per user name: another user logs in, even from a used address
        other, opw = self.user()
        self.assertEqual(self.fresh().login(other, opw).status, 200)

    def test_success_clears_the_user_name_count(self):
        name, pw = self.user()
        for _ in range(2):
            for _ in range(4):
                self.assertEqual(self.fresh().login(name, "wrong-password-123").status, 401)
            r = self.fresh().login(name, pw)
            self.assertEqual(r.status, 200, r)

    def test_pending_users_are_throttled_too(self):
        name, pw = self.user(approve=False)
        for _ in range(6):
            self.fresh().login(name, "wrong-password-123")
        self.assertError(self.fresh().login(name, pw), 429, "too_many_requests")

    def test_per_address_throttle(self):
        # login_max_failures_per_address defaults to 50: one office behind one address is not
        # locked out by a few typos, a password sprayer is.
        addr = SourceClient("127.0.0.1", self.platform.mgmt_port).source
        for i in range(50):
            c = SourceClient("127.0.0.1", self.platform.mgmt_port, addr)
            r = c.login("nobody_%d_%s" % (i, secrets.token_hex(3)), "wrong-password-123")
            self.assertIn(r.status, (401, 429), r)
        name, pw = self.user()
        r = SourceClient("127.0.0.1", self.platform.mgmt_port, addr).login(name, pw)
        self.assertError(r, 429, "too_many_requests")
        self.assertIsNotNone(r.header("Retry-After"))
        self.assertEqual(self.fresh().login(name, pw).status, 200,
                         "the address lock blocked another address")



class TrustedProxyTest(PlatformCase):
    """Behind nginx (mgmt_trusted_proxies = 127.0.0.1, the proxy's address): the client is the
    address X-Forwarded-For names, for the per-address throttle (set to 3 here) and the access
    log; the header of a client that is not a trusted proxy, or the part a client forged to the
    left of what the proxy appended, changes nothing."""

    extra_env = {"EVGATE_MGMT_TRUSTED_PROXIES": "127.0.0.1",
                 "EVGATE_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}

    def login_via(self, source, xff, username, password):
        c = SourceClient("127.0.0.1", self.platform.mgmt_port, source)
        return c.request("POST", API + "/auth/login", headers={"X-Forwarded-For": xff},
                         json_body={"username": username, "password": password})

    def test_the_forwarded_address_is_the_client(self):
        a, f = self.register_ok()
        self.approve(a["id"])
        mgmt = self.platform.daemons["mgmt"]
        for i in range(3):  # a sprayer behind the proxy, forging a different left part each time
            r = self.login_via("127.0.0.1", "10.9.9.%d, 203.0.113.9" % i,
                               "nobody_%d_%s" % (i, secrets.token_hex(3)), "wrong-password-123")
            self.assertError(r, 401, "invalid_credentials")
        r = self.login_via("127.0.0.1", "203.0.113.9", f["username"], f["password"])
        self.assertError(r, 429, "too_many_requests")
        # another client behind the same proxy is not locked out
        r = self.login_via("127.0.0.1", "198.51.100.7", f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        mgmt.wait_log(r"request method=POST route=/api/v1/auth/login .*client=198\.51\.100\.7")
        # a client that is not the proxy cannot choose its address with the header
        src = fresh_source_address()
        r = self.login_via(src, "203.0.113.9", f["username"], f["password"])
        self.assertEqual(r.status, 200, r)
        mgmt.wait_log(r"request method=POST route=/api/v1/auth/login .*client=%s\b"
                      % re.escape(src))

    def test_a_bad_list_stops_mgmt_with_the_entry_named(self):
        with Platform({"EVGATE_MGMT_TRUSTED_PROXIES": "127.0.0.1, nginx.internal"}) as p:
            d = p.launch("mgmt")
            self.assertNotEqual(d.proc.wait(20), 0)
            d.wait_log(r"error mgmt bad_trusted_proxies entry=nginx\.internal ")


class ThrottleSettingTest(ThrottleTest):
    """The same throttle with both limits set to 3 (EVGATE_LOGIN_MAX_FAILURES and
    EVGATE_LOGIN_MAX_FAILURES_PER_ADDRESS)."""

    extra_env = {"EVGATE_LOGIN_MAX_FAILURES": "3", "EVGATE_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}

    def test_per_user_name_throttle(self):
        name, pw = self.user()
        statuses = [self.fresh().login(name, "wrong-password-123").status for _ in range(5)]
        self.assertEqual(statuses, [401, 401, 401, 429, 429])
        self.assertError(self.fresh().login(name, pw), 429, "too_many_requests")

    def test_success_clears_the_user_name_count(self):
        name, pw = self.user()
        for _ in range(3):
            for _ in range(2):
                self.assertEqual(self.fresh().login(name, "wrong-password-123").status, 401)
            self.assertEqual(self.fresh().login(name, pw).status, 200)

    def test_per_address_throttle(self):
        addr = self.fresh().source
        for i in range(3):
            c = SourceClient("127.0.0.1", self.platform.mgmt_port, addr)
            c.login("nobody_%d_%s" % (i, secrets.token_hex(3)), "wrong-password-123")
        name, pw = self.user()
        r = SourceClient("127.0.0.1", self.platform.mgmt_port, addr).login(name, pw)
        self.assertError(r, 429, "too_many_requests")
        self.assertEqual(self.fresh().login(name, pw).status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
