"""The authorisation matrix (issue 9, item 4): every operation of docs/openapi.json x every kind
of caller — anonymous, a pending operator, active operators A and B, a disabled operator and the
admin, each by session cookie and by bearer token — gets the status its access level
(`x-evgate-access`) and the object's owner call for. Operator A owns every object the paths
name; the others must be refused (401 / 403), and operator B must never see or change A's
objects (404, never 2xx). Afterwards A's objects are all still there, unchanged.

Callers that are let through are sent requests that cannot change anything (an object id that
does not exist, a body of the wrong shape), so the matrix checks only the gate.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_authz.py"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Platform, SRC, active_operator, admin_client, detection_application,  # noqa: E402
                     gated_operator, pile_body, register, registration, setup_ok,
                     station_body, unique_pdf)

API = "/api/v1"
DOC = os.path.join(SRC, "docs", "openapi.json")
NO_SUCH = "999999"
NO_SUCH_KEY = "NOSUCH999"
DENIED = (401, 403)
# Operations a let-through caller is not sent: they end the caller's own session.
SESSION_ENDERS = {("post", "/api/v1/auth/logout")}


def operations():
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    ops = []
    for path, item in doc["paths"].items():
        if not path.startswith(API):
            continue
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                ops.append((method, path, op["x-evgate-access"]))
    return ops


class Caller:
    """One kind of caller: a name, a client (cookie or bearer), and its standing."""

    def __init__(self, name, client, standing):
        self.name, self.client, self.standing = name, client, standing


class AuthzMatrixTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.platform = Platform()
        try:
            cls.platform.start(("mgmt",))
            cls.make_callers()
        except BaseException:
            cls.platform.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.platform.close()

    @classmethod
    def token_client(cls, client, name):
        r = client.post(API + "/auth/tokens", {"name": name})
        tok = setup_ok(r, 201, "token " + name)
        c = cls.platform.mgmt()
        c.bearer = tok["token"]
        return c, tok["id"]

    @classmethod
    def make_callers(cls):
        p = cls.platform
        ok = setup_ok
        admin = admin_client(p)
        a = gated_operator(p, admin)
        b = gated_operator(p, admin)
        # operator A's objects: every kind the paths name
        st = ok(a.post(API + "/stations", station_body()), 201, "station")
        pile = ok(a.post(API + "/piles", pile_body(st["station_id"])), 201, "pile")
        app = ok(a.post(API + "/piles/submit", {"equipment_ids": [pile["equipment_id"]]}), 201, "app")
        ok(admin.post(API + "/admin/access-applications/%d/approve" % app["id"], {}), 200, "approve")
        det = ok(a.post(API + "/detections", detection_application("self")), 201, "detection")
        mat = ok(a.post_multipart(API + "/detections/%d/materials" % det["id"], {},
                                  {"file": ("申请表.pdf", unique_pdf(), "application/pdf")}), 201, "material")
        cred = ok(a.post(API + "/detections/%d/credentials" % a.detection_id), 200, "credentials")
        ok(a.post(API + "/detections/%d/submit" % det["id"], {}), 200, "submit")
        ok(admin.post(API + "/admin/detections/%d/approve" % det["id"], {}), 200, "approve det")
        ok(a.post(API + "/detections/%d/credentials" % det["id"]), 200, "credentials 2")
        run = ok(a.post(API + "/conformance-runs", {"plan": "tcec102-platform",
                                                     "detection_id": det["id"]}), 201, "run")
        me = ok(a.get(API + "/me"), 200, "me")
        account = me.get("account", me)
        license_url = account["license"]["url"]
        a_bearer, a_token = cls.token_client(a, "authz A")
        cls.objects = {
            "admin/accounts": str(account["id"]),
            "admin/detections": str(det["id"]),
            "admin/access-applications": str(app["id"]),
            "access-applications": str(app["id"]),
            "detections": str(det["id"]),
            "materials": str(mat["id"]),
            "files": license_url.rsplit("/", 1)[1],
            "tokens": str(a_token),
            "conformance-runs": str(run["id"]),
            "checks": "1",
            "commands": "1",
            "piles": pile["equipment_id"],
            "stations": st["station_id"],
            "platforms": cred["operator_id"],
        }
        # what A sees of its objects now, to compare at the end
        cls.snapshot_paths = [
            "/stations/%s" % st["station_id"], "/piles/%s" % pile["equipment_id"],
            "/access-applications/%d" % app["id"], "/detections/%d" % det["id"],
            "/conformance-runs/%d?frames=0" % run["id"], "/auth/tokens"]
        cls.snapshot = {path: cls.strip(a.get(API + path)) for path in cls.snapshot_paths}
        cls.owner = a

        pending = p.mgmt()
        fields = registration()
        r, _ = register(pending, fields, ("licence.pdf", unique_pdf(), "application/pdf"))
        ok(r, 201, "pending registration")
        if pending.login(fields["username"], fields["password"]).status != 200:
            raise AssertionError("pending login")
        pending_bearer, _ = cls.token_client(pending, "authz pending")

        disabled = active_operator(p, admin)
        disabled_bearer, _ = cls.token_client(disabled, "authz disabled")
        ok(admin.post(API + "/admin/accounts/%d/disable" % disabled.account["id"], {}), 200,
           "disable")

        b_bearer, _ = cls.token_client(b, "authz B")
        admin_bearer, _ = cls.token_client(admin, "authz admin")
        cls.callers = [
            Caller("anonymous", p.mgmt(), "anonymous"),
            Caller("pending cookie", pending, "pending"),
            Caller("pending bearer", pending_bearer, "pending"),
            Caller("disabled cookie", disabled, "disabled"),
            Caller("disabled bearer", disabled_bearer, "disabled"),
            Caller("operator B cookie", b, "other"),
            Caller("operator B bearer", b_bearer, "other"),
            Caller("admin cookie", admin, "admin"),
            Caller("admin bearer", admin_bearer, "admin"),
            Caller("operator A cookie", a, "owner"),
            Caller("operator A bearer", a_bearer, "owner"),
        ]

    @staticmethod
    def strip(r):
        """An answer without what changes by itself (timestamps of use)."""
        body = r.json()
        text = json.dumps(body, sort_keys=True)
        return r.status, re.sub(r'"last_used_at": [^,}]+', "", text)

    def url(self, path, real):
        """`path` with each placeholder filled by A's object of the segment before it (real), or
        by an id or key that names nothing (not real)."""
        segs = path[len(API) + 1:].split("/")
        out = []
        for i, s in enumerate(segs):
            if s.startswith("{"):
                prev = segs[i - 1]
                key = prev
                if i >= 2 and segs[0] == "admin" and i == 2:
                    key = "admin/" + prev
                if not real:
                    out.append(NO_SUCH_KEY if s == "{key}" else NO_SUCH)
                else:
                    self.assertIn(key, self.objects, "no object for %s in %s" % (s, path))
                    out.append(self.objects[key])
            else:
                out.append(s)
        return API + "/" + "/".join(out)

    def expected(self, access, standing, has_object):
        """'denied' (401/403), 'hidden' (404: another's object), 'through' (anything but the
        gate's refusals), by the route's access level and the caller's standing."""
        if access == "anon":
            return "through"
        if standing == "anonymous":
            return "unauthenticated"
        if standing == "disabled":
            return "denied"
        if access == "user":
            return "hidden" if standing == "other" and has_object else "through"
        if standing == "pending":
            return "denied"
        if access == "admin":
            return "through" if standing == "admin" else "denied"
        if access == "operator" and standing == "admin":
            return "denied"
        if standing == "other" and has_object:
            return "hidden"
        return "through"

    def send(self, caller, method, url, through):
        c = caller.client
        if method in ("get", "delete"):
            return c.request(method.upper(), url)
        # a let-through caller gets a body of the wrong shape, so that nothing can change
        body = b"[]" if through else b"{}"
        return c.request(method.upper(), url, body=body,
                         headers={"Content-Type": "application/json"})

    def test_matrix(self):
        ops = operations()
        self.assertGreater(len(ops), 60, "the document lists the API")
        failures = []
        cells = 0
        for caller in self.callers:
            for method, path, access in ops:
                has_object = "{" in path
                want = self.expected(access, caller.standing, has_object)
                if want == "through" and (method, path) in SESSION_ENDERS:
                    continue
                # refused callers are aimed at A's real objects; the let-through ones at
                # nothing (or, for reads, at A's real objects when they are A or the admin)
                real = want != "through" or method == "get"
                url = self.url(path, real)
                r = self.send(caller, method, url, want == "through")
                cells += 1
                s = r.status
                good = {
                    "unauthenticated": s == 401,
                    "denied": s in DENIED,
                    "hidden": s in (403, 404),
                    "through": s not in DENIED and s < 500,
                }[want]
                if good and want == "through" and method == "get" and has_object and \
                        caller.standing in ("owner", "admin") and "{id}/checks/{id}" not in path \
                        and "/commands/{id}" not in path:
                    good = s != 404  # A and the admin see A's objects
                if not good:
                    failures.append("%-18s %-6s %-55s access=%-8s want %-15s got %d %s"
                                    % (caller.name, method.upper(), path, access, want, s,
                                       r.body[:120]))
        sys.stderr.write("[%d cells] " % cells)
        self.assertEqual(failures, [], "\n" + "\n".join(failures))
        # nothing of A's changed
        for path in self.snapshot_paths:
            self.assertEqual(self.strip(self.owner.get(API + path)), self.snapshot[path], path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
