"""The OpenAPI document against the running mgmt daemon: GET /api/v1/openapi.json answers the
repository's docs/openapi.json, and the live answers of a representative call of every
collection and item route, as an admin and as an operator, with data made through the API (a
station, a pile, an access application, detection applications, a conformance run...), match
the document's schema for their status, success and error bodies alike. The route lists
themselves are compared by the unit test openapi_routes (tests/unit/test_openapi_routes.c).

The validator below is the JSON-schema subset the document uses (type, properties, required,
items, enum, additionalProperties, allOf, oneOf, $ref, lengths, bounds, pattern, date-time);
standard library only.

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_openapi.py"""

import json
import os
import re
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (SRC, Platform, admin_client, detection_application,  # noqa: E402
                     gated_operator, pile_body, registration, station_body, unique_pdf)

API = "/api/v1"
DOC_PATH = os.path.join(SRC, "docs", "openapi.json")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- the validator -----------------------------------------------------------------------------

class Invalid(AssertionError):
    pass


def _is_type(v, t):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise Invalid("the document uses type %r, which this validator does not know" % t)


KNOWN = {"type", "properties", "required", "items", "enum", "additionalProperties", "allOf",
         "oneOf", "$ref", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
         "pattern", "format", "minItems", "maxItems", "description", "default"}


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise Invalid("non-local $ref %s" % ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def validate(doc, schema, v, path="$"):
    """Raises Invalid naming the JSON path of the first place `v` breaks `schema`."""
    unknown = set(schema) - KNOWN
    if unknown:
        raise Invalid("%s: the schema uses %s, which this validator does not check"
                      % (path, sorted(unknown)))
    if "$ref" in schema:
        validate(doc, resolve(doc, schema["$ref"]), v, path)
    for sub in schema.get("allOf", []):
        validate(doc, sub, v, path)
    if "oneOf" in schema:
        errors, ok = [], 0
        for sub in schema["oneOf"]:
            try:
                validate(doc, sub, v, path)
                ok += 1
            except Invalid as e:
                errors.append(str(e))
        if ok != 1:
            raise Invalid("%s: matches %d of oneOf (%s)" % (path, ok, "; ".join(errors)))
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(v, t) for t in types):
            raise Invalid("%s: %r is not of type %s" % (path, v, "/".join(types)))
    if "enum" in schema and v not in schema["enum"]:
        raise Invalid("%s: %r is not one of %r" % (path, v, schema["enum"]))
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", len(v)):
            raise Invalid("%s: length %d outside the schema's bounds" % (path, len(v)))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            raise Invalid("%s: %r does not match %s" % (path, v, schema["pattern"]))
        fmt = schema.get("format")
        if fmt == "date-time" and not DATE_TIME.match(v):
            raise Invalid("%s: %r is not an ISO 8601 date-time" % (path, v))
        if fmt == "date" and not DATE.match(v):
            raise Invalid("%s: %r is not a date" % (path, v))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            raise Invalid("%s: %r below the minimum %r" % (path, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            raise Invalid("%s: %r above the maximum %r" % (path, v, schema["maximum"]))
        if "exclusiveMinimum" in schema and v <= schema["exclusiveMinimum"]:
            raise Invalid("%s: %r not above %r" % (path, v, schema["exclusiveMinimum"]))
    if isinstance(v, list):
        if len(v) < schema.get("minItems", 0) or len(v) > schema.get("maxItems", len(v)):
            raise Invalid("%s: %d items outside the schema's bounds" % (path, len(v)))
        if "items" in schema:
            for i, e in enumerate(v):
                validate(doc, schema["items"], e, "%s[%d]" % (path, i))
    if isinstance(v, dict):
        for name in schema.get("required", []):
            if name not in v:
                raise Invalid("%s: required member %r is missing" % (path, name))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, e in v.items():
            if k in props:
                validate(doc, props[k], e, "%s.%s" % (path, k))
            elif extra is False:
                raise Invalid("%s: member %r is not in the schema" % (path, k))
            elif isinstance(extra, dict):
                validate(doc, extra, e, "%s.%s" % (path, k))


def _closure(doc, schema):
    """`schema` with its $ref and allOf parts: the list of object schemas that apply together."""
    out = []
    if "$ref" in schema:
        out += _closure(doc, resolve(doc, schema["$ref"]))
    for sub in schema.get("allOf", []):
        out += _closure(doc, sub)
    out.append(schema)
    return out


def undocumented(doc, schema, v, path="$"):
    """Raises Invalid at the first object member of `v` that `schema` (valid for `v`) does not
    describe, unless the schema allows any member (an empty schema, or additionalProperties):
    the document must say everything the server answers."""
    parts = _closure(doc, schema)
    for part in parts:
        for sub in part.get("oneOf", []):
            try:
                validate(doc, sub, v, path)
            except Invalid:
                continue
            undocumented(doc, sub, v, path)
    if isinstance(v, list):
        for part in parts:
            if "items" in part:
                for i, e in enumerate(v):
                    undocumented(doc, part["items"], e, "%s[%d]" % (path, i))
    if isinstance(v, dict):
        props, described = {}, False
        for part in parts:
            if "properties" in part or "additionalProperties" in part:
                described = True
            for k, sub in part.get("properties", {}).items():
                props.setdefault(k, sub)
            if part.get("additionalProperties") not in (None, False):
                return
        if not described:
            return  # a free-form object (an OCPP payload, an audit detail)
        for k, e in v.items():
            if k not in props:
                raise Invalid("%s: member %r is not described by the document" % (path, k))
            undocumented(doc, props[k], e, "%s.%s" % (path, k))


def operation_of(doc, method, url):
    """The document's path template and operation for `method` `url` (a literal segment wins
    over a parameter, as in the router's table order)."""
    path = url.split("?", 1)[0]
    best = None
    for template, item in doc["paths"].items():
        rx = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(rx, path) and method.lower() in item:
            params = template.count("{")
            if best is None or params < best[0]:
                best = (params, template, item[method.lower()])
    if best is None:
        raise Invalid("%s %s: no operation of the document matches" % (method, path))
    return best[1], best[2]


def check_response(doc, method, url, r):
    """Validates the response `r` of `method` `url` against the document; raises Invalid."""
    template, op = operation_of(doc, method, url)
    where = "%s %s (%s) answered %d" % (method, url, template, r.status)
    answers = op["responses"]
    answer = answers.get(str(r.status)) or answers.get("default")
    if answer is None:
        raise Invalid("%s: status not in the document (%s)" % (where, sorted(answers)))
    if "$ref" in answer:
        answer = resolve(doc, answer["$ref"])
    content = answer.get("content")
    if not content:
        if r.body:
            raise Invalid("%s: the document says no body, got %r" % (where, r.body[:200]))
        return
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    if ctype not in content:
        raise Invalid("%s: Content-Type %r, the document lists %s" % (where, ctype,
                                                                        sorted(content)))
    if ctype == "application/json":
        try:
            validate(doc, content[ctype]["schema"], r.json())
            undocumented(doc, content[ctype]["schema"], r.json())
        except Invalid as e:
            raise Invalid("%s: %s" % (where, e)) from None
    elif not r.body:
        raise Invalid("%s: empty %s body" % (where, ctype))


def check_request(doc, method, url, body, files):
    """A request the server accepts must fit the document's request body: JSON against its
    schema, a multipart form's fields and files against the form's properties."""
    template, op = operation_of(doc, method, url)
    where = "%s %s (%s) request" % (method, url, template)
    spec = op.get("requestBody")
    if spec is None:
        if body:
            raise Invalid("%s: the document takes no body, the server accepted %r" % (where, body))
        return
    content = spec["content"]
    try:
        if files is not None:
            schema = content["multipart/form-data"]["schema"]
            sent = dict(body or {}, **files)
            for name in schema.get("required", []):
                if name not in sent:
                    raise Invalid("$: required part %r not sent" % name)
            for name in sent:
                if name not in schema["properties"]:
                    raise Invalid("$: part %r is not in the document" % name)
        elif body is not None:
            validate(doc, content["application/json"]["schema"], body)
        elif spec.get("required"):
            raise Invalid("$: the document requires a body")
    except Invalid as e:
        raise Invalid("%s: %s" % (where, e)) from None


# --- the test ----------------------------------------------------------------------------------

class OpenAPITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DOC_PATH, "rb") as f:
            cls.raw = f.read()
        cls.doc = json.loads(cls.raw)
        cls.checked = []  # (method, template, status) of every validated answer
        cls.platform = Platform()
        try:
            cls.platform.start(("mgmt",))
            cls.make_data()
        except Exception:
            cls.platform.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.platform.close()

    @classmethod
    def call(cls, client, method, path, expect, body=None, files=None, outside_api=False):
        """One request to API + `path` (`path` alone when outside_api), its answer validated
        against the document; `expect` the status."""
        url = path if outside_api else API + path
        if 200 <= expect < 300:
            check_request(cls.doc, method, url, body, files)
        if files is not None:
            r = client.post_multipart(url, body or {}, files)
        else:
            r = client.request(method, url, json_body=body)
        if r.status != expect:
            raise AssertionError("%s %s: expected %d, got %r" % (method, url, expect, r))
        check_response(cls.doc, method, url, r)
        cls.checked.append((method, operation_of(cls.doc, method, url)[0], r.status))
        return r

    @classmethod
    def make_data(cls):
        p = cls.platform
        c = cls.call
        cls.admin = admin_client(p)
        op = cls.op = gated_operator(p, cls.admin)
        cls.pending = p.mgmt()  # filled by a registration below, never approved
        pdf = ("申请表.pdf", unique_pdf(), "application/pdf")
        # tokens
        tok = c(op, "POST", "/auth/tokens", 201, {"name": "openapi test"}).json()
        cls.token_id = tok["id"]
        # a station, a pile, both accessed through an access application
        st = c(op, "POST", "/stations", 201, station_body()).json()
        cls.station_id = st["station_id"]
        pile = c(op, "POST", "/piles", 201, pile_body(cls.station_id)).json()
        cls.equipment_id = pile["equipment_id"]
        app = c(op, "POST", "/piles/submit", 201, {"equipment_ids": [cls.equipment_id]}).json()
        cls.application_id = app["id"]
        c(cls.admin, "POST", "/admin/access-applications/%d/approve" % app["id"], 200, {})
        c(op, "POST", "/piles/%s/password" % cls.equipment_id, 200)
        c(op, "POST", "/access-applications/%d/pile-passwords" % app["id"], 200)
        c(cls.admin, "PUT", "/piles/%s/ocpp-settings" % cls.equipment_id, 200,
          {"security_profile": 2, "boot_status": "Accepted"})
        cls.draft_application = c(op, "POST", "/access-applications", 201, {}).json()["id"]
        # a second station left in draft, to see a draft record and then delete it
        draft = c(op, "POST", "/stations", 201, station_body()).json()
        c(op, "DELETE", "/stations/%s" % draft["station_id"], 204)
        # T/CEC credentials of the passed self application: a platform in /tcec/platforms
        cred = c(op, "POST", "/detections/%d/credentials" % op.detection_id, 200).json()
        cls.operator_id = cred["operator_id"]
        # a second self application, approved, with credentials: a platform run queued on it
        d2 = c(op, "POST", "/detections", 201, detection_application("self")).json()["id"]
        cls.detection2 = d2
        mat = c(op, "POST", "/detections/%d/materials" % d2, 201, files={"file": pdf}).json()
        c(op, "POST", "/detections/%d/materials" % d2, 201,
          files={"file": ("extra.pdf", unique_pdf(), "application/pdf")})
        c(op, "DELETE", "/detections/%d/materials/%d" % (d2, mat["id"]), 204)
        c(op, "POST", "/detections/%d/submit" % d2, 200, {})
        c(cls.admin, "POST", "/admin/detections/%d/approve" % d2, 200, {})
        c(op, "POST", "/detections/%d/credentials" % d2, 200)
        run = c(op, "POST", "/conformance-runs", 201,
                {"plan": "tcec102-platform", "detection_id": d2}).json()
        cls.run_id = run["id"]
        cls.play_gateway()
        # a draft detection application, edited
        d3 = c(op, "POST", "/detections", 201, {"mode": "self"}).json()["id"]
        cls.detection3 = d3
        c(op, "PUT", "/detections/%d" % d3, 200, {"contact": {"name": "王五"}})
        # a pending operator: what it may see
        reg = registration()
        r = c(cls.pending, "POST", "/auth/register", 201, reg,
              files={"license": ("licence.pdf", unique_pdf(), "application/pdf")})
        cls.pending_id = r.json()["id"]
        cls.license_id = r.json()["license"]["id"]
        r = c(cls.pending, "POST", "/auth/login", 200,
              {"username": reg["username"], "password": reg["password"]})
        cls.pending.csrf = r.json()["csrf_token"]

    @classmethod
    def play_gateway(cls):
        """Writes what the gateway would have stored of the pile and the platform (as
        test_commands.py does), so that /live, the command list and the exchanges have items to
        validate. The pile's session is over: it stays offline."""
        e, o, now = cls.equipment_id, cls.operator_id, int(time.time())
        db = sqlite3.connect(cls.platform.env["EVGATE_DB"], timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("INSERT INTO pile_sessions (equipment_id, protocol, peer, connected_at,"
                       " disconnected_at, close_reason) VALUES (?, 'ocpp1.6', '127.0.0.1', ?, ?,"
                       " 'peer_closed')", (e, now - 60, now - 1))
            db.execute("INSERT INTO ocpp_piles (equipment_id, vendor, model, serial, firmware,"
                       " last_boot_at, violations) VALUES (?, 'Vendor', 'DC-120', 'SN1', '1.0', ?,"
                       " 1)", (e, now - 60))
            db.execute("INSERT INTO ocpp_contacts (equipment_id, protocol, last_seen_at)"
                       " VALUES (?, 'ocpp1.6', ?)", (e, now - 1))
            for cid, status, tcec in ((0, "Available", 1), (1, "Charging", 3),
                                      (2, "Faulted", 255)):
                db.execute("INSERT INTO ocpp_connectors (equipment_id, connector_id, status,"
                           " tcec_status, error_code, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                           (e, cid, status, tcec, "NoError" if tcec != 255 else "GroundFailure",
                            now - 5))
            db.execute("INSERT INTO ocpp_transactions (equipment_id, connector_id, id_tag,"
                       " started_at, stopped_at, meter_start_wh, meter_stop_wh, energy_wh,"
                       " stop_reason, updated_at) VALUES (?, 1, 'TAG1', ?, ?, 1000, 5000, 4000,"
                       " 'Local', ?)", (e, now - 50, now - 40, now - 40))
            db.execute("INSERT INTO ocpp_transactions (equipment_id, connector_id, id_tag,"
                       " started_at, meter_start_wh, meter_stop_wh, updated_at) VALUES"
                       " (?, 1, 'TAG2', ?, 5000, 6000, ?)", (e, now - 30, now - 2))
            db.execute("INSERT INTO pile_violations (equipment_id, at, code, path, reason, frame)"
                       " VALUES (?, ?, 'FormationViolation', '$.connectorId', 'not an integer',"
                       " '[2,\"1\",\"StatusNotification\",{}]')", (e, now - 10))
            db.execute("INSERT INTO pile_commands (equipment_id, account_id, action, payload,"
                       " state, unique_id, response, created_at, sent_at, finished_at) VALUES"
                       " (?, 1, 'Reset', '{\"type\":\"Soft\"}', 'answered', 'u1',"
                       " '{\"status\":\"Accepted\"}', ?, ?, ?)", (e, now - 20, now - 20,
                                                                     now - 19))
            db.execute("INSERT INTO pile_commands (equipment_id, account_id, action, payload,"
                       " state, error, detail, created_at, finished_at) VALUES (?, 1,"
                       " 'ClearCache', '{}', 'failed', 'offline', 'the pile is not connected', ?,"
                       " ?)", (e, now - 3, now - 3))
            cls.command_id = db.execute("SELECT max(id) FROM pile_commands").fetchone()[0]
            db.execute("INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at,"
                       " ret, msg, reason, request, response, duration_ms) VALUES (?, 'in',"
                       " 'notification_stationStatus', '203.0.113.10', ?, 4001, 'bad sig',"
                       " 'signature', '{\"ConnectorStatusInfo\":{\"Status\":3}}', NULL, 3)",
                       (o, now - 8))
            db.execute("INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at,"
                       " ret, msg, reason, request, response, duration_ms) VALUES (?, 'out',"
                       " 'query_token', 'https://evcs.example.com/evcs/v1/query_token', ?, NULL,"
                       " NULL, 'network', '(not JSON)', NULL, 2000)", (o, now - 7))
            db.execute("INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at,"
                       " ret, msg, request, response, duration_ms) VALUES (?, 'in',"
                       " 'query_stations_info', '203.0.113.10', ?, 0, '', '{\"PageNo\":1}',"
                       " '{\"Total\":0}', 4)", (o, now - 6))
        finally:
            db.close()

    # -- the document itself

    def test_served_document_is_the_repository_file(self):
        anon = self.platform.mgmt()
        r = self.call(anon, "GET", "/openapi.json", 200)
        self.assertEqual(r.body, self.raw, "GET /api/v1/openapi.json differs from "
                         "docs/openapi.json: rebuild evgate-mgmt")
        self.assertTrue(self.doc["openapi"].startswith("3."))

    def test_validator_names_the_place(self):
        doc = self.doc
        schema = {"$ref": "#/components/schemas/Error"}
        validate(doc, schema, {"error": {"code": "x", "message": "m", "details": []}})
        with self.assertRaisesRegex(Invalid, r"\$\.error\.details\[0\]\.code"):
            validate(doc, schema, {"error": {"code": "x", "message": "m",
                                             "details": [{"code": 5}]}})
        with self.assertRaisesRegex(Invalid, r"\$\.error: required member 'message'"):
            validate(doc, schema, {"error": {"code": "x", "details": []}})
        with self.assertRaisesRegex(Invalid, r"member 'extra' is not in the schema"):
            validate(doc, schema, {"error": {"code": "x", "message": "m", "details": []},
                                   "extra": 1})
        with self.assertRaisesRegex(Invalid, r"\$\.status: 'gone' is not one of"):
            validate(doc, {"$ref": "#/components/schemas/Account"},
                     {"id": 1, "username": "u", "role": "admin", "status": "gone",
                      "organisation": None, "license": None})
        with self.assertRaisesRegex(Invalid, r"\$\.license: matches 0 of oneOf"):
            validate(doc, {"$ref": "#/components/schemas/Account"},
                     {"id": 1, "username": "u", "role": "admin", "status": "active",
                      "organisation": None, "license": 3})
        with self.assertRaisesRegex(Invalid, "not in the document"):
            check_response(doc, "GET", API + "/site",
                           type("R", (), {"status": 418, "body": b"", "header": None})())

    # -- every collection and item route, as admin and as operator

    def gets(self):
        e, d, r = self.equipment_id, self.op.detection_id, self.run_id
        return [
            "/site", "/me", "/auth/tokens", "/areas", "/conformance-plans",
            "/stations", "/stations?area_code=4420&page=1&page_size=5",
            "/stations/%s" % self.station_id,
            "/piles", "/piles?online=false&protocol=ocpp1.6", "/piles/%s" % e,
            "/piles/%s/live" % e, "/piles/%s/commands" % e,
            "/piles/%s/commands/%d" % (e, self.command_id),
            "/detections", "/detections?mode=self", "/detections/%d" % d,
            "/detections/%d" % self.detection2, "/platforms",
            "/access-applications", "/access-applications/%d" % self.application_id,
            "/access-applications/%d" % self.draft_application,
            "/tcec/platforms", "/tcec/platforms/%s" % self.operator_id,
            "/tcec/platforms/%s/exchanges" % self.operator_id,
            "/tcec/platforms/%s/exchanges?direction=in&failed=1" % self.operator_id,
            "/conformance-runs", "/conformance-runs?state=queued",
            "/conformance-runs/%d" % r, "/conformance-runs/%d?frames=0" % r,
            "/conformance-runs/%d/checks/1" % r, "/conformance-runs/%d/report.json" % r,
            "/templates/stations.xlsx", "/templates/piles.xlsx",
            "/stations/export.xlsx", "/piles/export.xlsx",
        ]

    def test_admin_reads(self):
        for path in self.gets():
            with self.subTest(path=path):
                self.call(self.admin, "GET", path, 200)
        self.call(self.admin, "GET", "/admin/accounts", 200)
        self.call(self.admin, "GET", "/admin/dashboard", 200)
        self.call(self.admin, "GET", "/admin/accounts?status=pending", 200)
        self.call(self.admin, "GET", "/admin/accounts/%d" % self.op.account["id"], 200)
        self.call(self.admin, "GET", "/files/%d" % self.license_id, 200)

    def test_operator_reads(self):
        for path in self.gets():
            with self.subTest(path=path):
                self.call(self.op, "GET", path, 200)
        self.call(self.op, "GET", "/access-gate", 200)
        self.call(self.op, "GET", "/files/%d" % self.op.account["license"]["id"], 200)

    def test_pdfs(self):
        self.call(self.op, "GET", "/detections/%d/form.pdf" % self.op.detection_id, 200)
        self.call(self.admin, "GET", "/conformance-runs/%d/report.pdf" % self.run_id, 200)

    def test_outside_api(self):
        anon = self.platform.mgmt()
        self.call(anon, "GET", "/healthz", 200, outside_api=True)
        self.call(anon, "GET", "/metrics", 200, outside_api=True)

    # -- error bodies

    def test_error_answers(self):
        anon, op, admin = self.platform.mgmt(), self.op, self.admin
        e = self.equipment_id
        cases = [
            (anon, "GET", "/stations", 401, None),
            (anon, "GET", "/me", 401, None),
            (self.pending, "GET", "/stations", 403, None),
            (op, "GET", "/admin/accounts", 403, None),
            (admin, "GET", "/access-gate", 403, None),
            (admin, "POST", "/stations", 403, {}),
            (op, "GET", "/stations/NOSUCHSTATION", 404, None),
            (op, "GET", "/piles/NOSUCHPILE", 404, None),
            (op, "GET", "/detections/999999", 404, None),
            (op, "GET", "/piles/%s/commands/999999" % e, 404, None),
            (op, "GET", "/conformance-runs/999999", 404, None),
            (op, "GET", "/conformance-runs/%d/checks/999" % self.run_id, 404, None),
            (op, "GET", "/tcec/platforms/NOSUCH", 404, None),
            (op, "GET", "/piles?page_size=0", 422, None),
            (op, "GET", "/stations?page=x", 422, None),
            (op, "GET", "/conformance-runs/%d?frames=2" % self.run_id, 422, None),
            (op, "GET", "/tcec/platforms/%s/exchanges?direction=up" % self.operator_id, 422,
             None),
            (admin, "GET", "/admin/accounts?status=nope", 422, None),
            (op, "POST", "/stations", 422, {"station_id": "X"}),
            (op, "POST", "/piles/%s/commands" % e, 409, {"action": "Reset",
                                                         "payload": {"type": "Soft"}}),
            (op, "POST", "/conformance-runs", 400, {"plan": "no-such-plan"}),
            (op, "POST", "/conformance-runs", 409,
             {"plan": "tcec102-platform", "detection_id": self.detection2}),
            (op, "DELETE", "/detections/%d" % self.detection2, 409, None),
            (op, "POST", "/detections/%d/submit" % self.detection3, 422, {}),
            (admin, "POST", "/admin/accounts/%d/approve" % self.op.account["id"], 409, {}),
            (admin, "POST", "/admin/accounts/%d/reject" % self.pending_id, 422, {}),
            (admin, "PUT", "/piles/%s/ocpp-settings" % e, 422, {"security_profile": 9}),
            (op, "DELETE", "/auth/tokens/999999", 404, None),
            (anon, "POST", "/auth/login", 401, {"username": "nobody", "password": "x" * 12}),
        ]
        for client, method, path, status, body in cases:
            with self.subTest(method=method, path=path):
                self.call(client, method, path, status, body)
        # a cookie session without its CSRF header
        bare = self.platform.mgmt()
        bare.cookies = dict(op.cookies)
        self.call(bare, "POST", "/auth/tokens", 403, {"name": "x"})

    # -- writes left for the end of the class's data: done in make_data, checked here

    def test_setup_answers_were_validated(self):
        done = {(m, t) for m, t, _ in self.checked}
        for needed in [("POST", "/api/v1/stations"), ("POST", "/api/v1/piles"),
                       ("POST", "/api/v1/piles/submit"), ("POST", "/api/v1/conformance-runs"),
                       ("POST", "/api/v1/detections/{id}/credentials"),
                       ("POST", "/api/v1/auth/register")]:
            self.assertIn(needed, done)

    def test_zy_edits_imports_and_account_review(self):
        # near the end (zy): the pending operator's account changes state here
        op, admin = self.op, self.admin
        st = self.call(op, "POST", "/stations", 201, station_body()).json()
        sid = st["station_id"]
        self.call(op, "PUT", "/stations/%s" % sid, 200, station_body(sid, name="改名的充电站"))
        pile = self.call(op, "POST", "/piles", 201, pile_body(sid, connectors=1)).json()
        eid = pile["equipment_id"]
        self.call(op, "PUT", "/piles/%s" % eid, 200, pile_body(sid, eid, connectors=2))
        self.call(op, "DELETE", "/piles/%s" % eid, 204)
        self.call(op, "DELETE", "/stations/%s" % sid, 204)
        # an empty template imports nothing; a PDF is 422 with the import's problem details
        xl = ("s.xlsx", self.call(op, "GET", "/templates/stations.xlsx", 200).body,
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.call(op, "POST", "/access-applications/%d/stations" % self.draft_application, 200,
                  files={"file": xl})
        self.call(op, "POST", "/access-applications/%d/piles" % self.draft_application, 422,
                  files={"file": ("p.xlsx", unique_pdf(), "application/pdf")})
        # review of the pending operator: rejected, resubmitted, approved, disabled, enabled
        pid = self.pending_id
        self.call(admin, "POST", "/admin/accounts/%d/reject" % pid, 200, {"reason": "执照不清晰"})
        fields = {k: v for k, v in registration().items() if k not in ("username", "password")}
        self.call(self.pending, "POST", "/me/registration", 200, fields,
                  files={"license": ("licence.pdf", unique_pdf(), "application/pdf")})
        self.call(self.pending, "POST", "/auth/logout", 204, {})
        self.call(admin, "POST", "/admin/accounts/%d/approve" % pid, 200, {})
        self.call(admin, "POST", "/admin/accounts/%d/disable" % pid, 200, {"reason": "test"})
        self.call(admin, "POST", "/admin/accounts/%d/enable" % pid, 200, {})

    def test_zz_token_revoke_cancel_and_delete(self):
        # last (zz): they end objects the other tests read
        op = self.op
        self.call(op, "POST", "/conformance-runs/%d/cancel" % self.run_id, 200)
        self.call(op, "POST", "/conformance-runs/%d/cancel" % self.run_id, 409)
        self.call(op, "DELETE", "/auth/tokens/%d" % self.token_id, 204)
        self.call(op, "DELETE", "/access-applications/%d" % self.draft_application, 204)


if __name__ == "__main__":
    unittest.main(verbosity=2)
