"""Operations (issue 10, items 2 and 3): `meson install` and its systemd units and sample
configuration, and evgatectl against the real daemons: admins and passwords through the API,
API tokens revoked, an online backup while piles keep the gateway writing, restore (refused
while a daemon has the file open), check, and configuration export/import."""

import glob
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, SRC, Daemon, Platform, admin_client, until  # noqa: E402

CTL = os.path.join(BUILD, "ctl", "evgatectl")
SIM = os.path.join(BUILD, "simulators", "evsim-pile")
PILE_PASSWORD = "0123456789abcdef0123456789abcdef"
PILE_SALT = "ops-test-salt"
PILES = 12


def ctl(env, *args, stdin=None, timeout=60):
    """Runs evgatectl with `env`; returns the CompletedProcess (text)."""
    return subprocess.run([CTL] + list(args), env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def clean_env(**extra):
    """The environment without any EVGATE_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVGATE_")}
    env.update(extra)
    return env



def seed_piles(db_path, n):
    """One active operator, one accessed station and n accessed OCPP 1.6 piles OPS1..OPSn with
    PILE_PASSWORD (salted sha256, as gateway/piles.c checks it); no dangling reference."""
    pw_hash = hashlib.sha256((PILE_SALT + PILE_PASSWORD).encode()).hexdigest()
    con = sqlite3.connect(db_path, timeout=30)
    try:
        now = int(time.time())
        cur = con.execute(
            "INSERT INTO accounts (username, password_hash, role, status, created_at, updated_at)"
            " VALUES ('ops_operator', 'x', 'operator', 'active', ?, ?)", (now, now))
        acct = cur.lastrowid
        cur = con.execute(
            "INSERT INTO stations (account_id, station_id, status, name, area_code, station_type,"
            " data, created_at, updated_at) VALUES (?, 'OPSST1', 'accessed', 'ops', '442000', 1,"
            " '{}', ?, ?)", (acct, now, now))
        station = cur.lastrowid
        con.executemany(
            "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"
            " protocol, data, password_salt, password_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, 'accessed', 1, 'ocpp1.6', '{}', ?, ?, ?, ?)",
            ((acct, "OPS%d" % i, station, PILE_SALT, pw_hash, now, now)
             for i in range(1, n + 1)))
        con.commit()
    finally:
        con.close()


def scalar(db_path, sql, *params):
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


class InstallTest(unittest.TestCase):
    """meson install --destdir: the files, the units, the sample config both daemons accept."""

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="evgate-install-")
        r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", cls.dest,
                            "--no-rebuild", "--quiet"], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise AssertionError("meson install failed:\n" + r.stdout + r.stderr)
        opts = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                                         capture_output=True, text=True, check=True).stdout)
        o = {x["name"]: x["value"] for x in opts}
        cls.prefix = o["prefix"]

        def under(*parts):
            p = os.path.join(cls.prefix, *parts)
            return p
        cls.bindir = under(o["bindir"])
        cls.sysconfdir = under(o["sysconfdir"])
        cls.datadir = under(o["datadir"])
        cls.unitdir = under("lib", "systemd", "system")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def inst(self, path):
        """Where the installed `path` (absolute, as on the target system) is in the destdir."""
        return os.path.join(self.dest, path.lstrip("/"))

    def test_expected_files_are_installed(self):
        for prog in ("evgate-gateway", "evgate-mgmt", "evgatectl", "evsim-pile", "evsim-platform"):
            p = self.inst(os.path.join(self.bindir, prog))
            self.assertTrue(os.access(p, os.X_OK), p)
        web = self.inst(os.path.join(self.datadir, "evgate", "web"))
        for rel in ("index.html", "css/app.css", "js/app.js", "js/lang/zh.js", "js/lang/en.js"):
            self.assertTrue(os.path.isfile(os.path.join(web, rel)), rel)
        # every file of the web UI in the tree is installed, nothing else
        tree = sorted(os.path.relpath(p, os.path.join(SRC, "mgmt", "web"))
                      for p in glob.glob(os.path.join(SRC, "mgmt", "web", "**"), recursive=True)
                      if os.path.isfile(p))
        got = sorted(os.path.relpath(p, web) for p in glob.glob(os.path.join(web, "**"),
                                                                recursive=True)
                     if os.path.isfile(p))
        self.assertEqual(got, tree)
        for p in (os.path.join(self.sysconfdir, "evgate", "evgate.conf"),
                  os.path.join(self.unitdir, "evgate-gateway.service"),
                  os.path.join(self.unitdir, "evgate-mgmt.service"),
                  os.path.join(self.prefix, "lib", "sysusers.d", "evgate.conf"),
                  os.path.join(self.prefix, "lib", "tmpfiles.d", "evgate.conf")):
            self.assertTrue(os.path.isfile(self.inst(p)), p)

    def sample(self):
        with open(self.inst(os.path.join(self.sysconfdir, "evgate", "evgate.conf"))) as f:
            return f.read()

    def test_sample_config_documents_every_setting_and_no_build_path(self):
        text = self.sample()
        keys = re.findall(r"^\s*(\w+)\s*=", text.replace("# ", ""), re.M)
        help_text = subprocess.run([CTL, "--help"], capture_output=True, text=True).stdout
        self.assertIn("Exit codes", help_text)
        # every setting of both daemons' --help is in the sample, as a line or a commented one
        for daemon in ("gateway/evgate-gateway", "mgmt/evgate-mgmt"):
            out = subprocess.run([os.path.join(BUILD, daemon), "--help"], capture_output=True,
                                 text=True, env=clean_env()).stdout
            for flag in re.findall(r"^  --([a-z0-9-]+) ", out, re.M):
                if flag in ("help", "config"):
                    continue
                self.assertIn(flag.replace("-", "_"), keys, flag)
        self.assertRegex(text, r'(?m)^db = "/var/lib/evgate/evgate.db"$')
        self.assertRegex(text, r'(?m)^data_dir = "/var/lib/evgate/data/"$')
        web_dir = os.path.join(self.datadir, "evgate", "web")
        self.assertIn('web_dir = "%s"' % web_dir, text)
        for build_path in (os.path.realpath(BUILD), os.path.realpath(SRC)):
            self.assertNotIn(build_path, text)
        self.assertNotRegex(text, r"(?m)^admin_password\s*=")

    def unit(self, name):
        """The unit file as {section: {key: [values]}} (a key may repeat)."""
        out, section = {}, None
        with open(self.inst(os.path.join(self.unitdir, name))) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = re.match(r"^\[(\w+)\]$", line)
                if m:
                    section = out.setdefault(m.group(1), {})
                    continue
                k, _, v = line.partition("=")
                self.assertIsNotNone(section, line)
                section.setdefault(k, []).append(v)
        return out

    def test_units_are_hardened_and_share_one_state_directory(self):
        for name, prog in (("evgate-gateway.service", "evgate-gateway"),
                           ("evgate-mgmt.service", "evgate-mgmt")):
            s = self.unit(name)["Service"]
            self.assertEqual(s["ExecStart"], [os.path.join(self.bindir, prog)])
            # systemctl reload = SIGHUP, which re-reads log_level (test_observability)
            self.assertEqual(s["ExecReload"], ["/bin/kill -HUP $MAINPID"])
            self.assertEqual(s["Environment"],
                             ["EVGATE_CONFIG=" + os.path.join(self.sysconfdir, "evgate",
                                                              "evgate.conf")])
            for key, want in (("User", "evgate"), ("Group", "evgate"),
                              ("StateDirectory", "evgate"), ("ProtectSystem", "strict"),
                              ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                              ("ProtectHome", "yes"), ("PrivateDevices", "yes"),
                              ("RestrictNamespaces", "yes"), ("CapabilityBoundingSet", ""),
                              ("WorkingDirectory", "/var/lib/evgate")):
                self.assertEqual(s.get(key), [want], "%s %s" % (name, key))
            self.assertTrue(s["RestrictAddressFamilies"][0].startswith("AF_INET AF_INET6 AF_UNIX"))
            self.assertIn("@system-service", s["SystemCallFilter"])
            self.assertEqual(self.unit(name)["Install"]["WantedBy"], ["multi-user.target"])
        with open(self.inst(os.path.join(self.prefix, "lib", "sysusers.d", "evgate.conf"))) as f:
            self.assertRegex(f.read(), r"(?m)^u evgate - .* /var/lib/evgate$")

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_units_pass_systemd_analyze_verify(self):
        # --root: the units' programs are in the destdir; the targets they name come from the
        # host's units through a link (the loops that link makes are reported and ignored)
        os.makedirs(os.path.join(self.dest, "usr", "lib", "systemd"), exist_ok=True)
        link = os.path.join(self.dest, "usr", "lib", "systemd", "system")
        if not os.path.exists(link):
            os.symlink("/usr/lib/systemd/system", link)
        # ExecReload's /bin/kill (procps on a real host): verify only checks that the root has
        # an executable there; a link would be resolved inside the root, to itself
        kill = os.path.join(self.dest, "bin", "kill")
        os.makedirs(os.path.dirname(kill), exist_ok=True)
        with open(kill, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(kill, 0o755)
        units = [self.inst(os.path.join(self.unitdir, n))
                 for n in ("evgate-gateway.service", "evgate-mgmt.service")]
        r = subprocess.run(["systemd-analyze", "verify", "--root=" + self.dest] + units,
                           capture_output=True, text=True, timeout=60)
        lines = [l for l in (r.stdout + r.stderr).splitlines()
                 if l and "Too many levels of symbolic links" not in l]
        self.assertEqual(r.returncode, 0, "\n".join(lines))
        self.assertEqual(lines, [])

    def test_installed_daemons_run_with_the_sample_config(self):
        """Both installed programs start with the sample file (env overrides only what a test
        must: where the state is and the ports); mgmt serves the installed web UI."""
        web_dir = os.path.join(self.datadir, "evgate", "web")

        class Installed(Platform):
            def binary(inner, name):
                return self.inst(os.path.join(self.bindir, "evgate-" + name))

        with Installed({"EVGATE_CONFIG": self.inst(os.path.join(self.sysconfdir, "evgate",
                                                                "evgate.conf")),
                        "EVGATE_WEB_DIR": self.inst(web_dir)}) as p:
            p.start(("mgmt", "gateway"))
            r = p.mgmt().get("/")
            self.assertEqual(r.status, 200)
            with open(os.path.join(self.inst(web_dir), "index.html"), "rb") as f:
                self.assertEqual(r.body, f.read())
            self.assertEqual(p.gateway().get("/healthz").status, 200)
            # evgatectl reads the same file
            env = dict(p.env)
            r = ctl(env, "check")
            self.assertEqual(r.returncode, 0, r.stderr)


class CtlTest(unittest.TestCase):
    """evgatectl against mgmt and the gateway running on one database."""

    @classmethod
    def setUpClass(cls):
        cls.p = Platform({"EVGATE_OCPP_MAX_MSGS_PER_MIN": "1000000",
                          "EVGATE_OCPP_METER_VALUES_KEEP": "100000000"})
        cls.p.start(("mgmt",))
        cls.db = cls.p.env["EVGATE_DB"]
        seed_piles(cls.db, PILES)
        cls.p.start(("gateway",))
        cls.env = dict(cls.p.env)

    @classmethod
    def tearDownClass(cls):
        cls.p.close()

    def login(self, user, password):
        return self.p.mgmt().login(user, password).status

    def test_create_admin_then_log_in_through_the_api(self):
        r = ctl(self.env, "create-admin", "--password-stdin", "ops_admin1",
                stdin="Ops-admin-pass-1\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")  # a password given is never echoed
        c = self.p.mgmt()
        self.assertEqual(c.login("ops_admin1", "Ops-admin-pass-1").status, 200)
        me = c.get("/api/v1/me").json()
        self.assertEqual((me.get("role"), me.get("status")), ("admin", "active"))
        # taken name: exit 5; bad name and short password: exit 2; nothing created
        self.assertEqual(ctl(self.env, "create-admin", "--password-stdin", "ops_admin1",
                             stdin="Another-pass-1\n").returncode, 5)
        self.assertEqual(ctl(self.env, "create-admin", "--password-stdin", "no spaces",
                             stdin="Another-pass-1\n").returncode, 2)
        r = ctl(self.env, "create-admin", "--password-stdin", "ops_short", stdin="short\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("password", r.stderr)
        self.assertEqual(self.login("ops_short", "short"), 401)
        # generated: printed once, and it works
        r = ctl(self.env, "create-admin", "ops_admin2")
        self.assertEqual(r.returncode, 0, r.stderr)
        pw = re.search(r"(?m)^password:\s+(\S+)$", r.stdout).group(1)
        self.assertEqual(self.login("ops_admin2", pw), 200)

    def test_reset_password_old_fails_new_works_and_sessions_end(self):
        self.assertEqual(ctl(self.env, "create-admin", "--password-stdin", "ops_reset",
                             stdin="Old-password-1\n").returncode, 0)
        c = self.p.mgmt()
        self.assertEqual(c.login("ops_reset", "Old-password-1").status, 200)
        self.assertEqual(c.get("/api/v1/me").status, 200)
        r = ctl(self.env, "reset-password", "--password-stdin", "ops_reset",
                stdin="New-password-2\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(c.get("/api/v1/me").status, 401)  # the old session ended
        self.assertEqual(self.login("ops_reset", "Old-password-1"), 401)
        self.assertEqual(self.login("ops_reset", "New-password-2"), 200)
        r = ctl(self.env, "reset-password", "ops_reset")
        pw = re.search(r"(?m)^password:\s+(\S+)$", r.stdout).group(1)
        self.assertEqual(self.login("ops_reset", pw), 200)
        self.assertEqual(ctl(self.env, "reset-password", "--password-stdin", "ops_nobody",
                             stdin="New-password-2\n").returncode, 5)
        # the password never reaches argv: there is no flag that takes one
        self.assertEqual(ctl(self.env, "reset-password", "--password", "x", "ops_reset")
                         .returncode, 2)

    def test_tokens_list_and_revoke(self):
        c = admin_client(self.p)
        r = c.post("/api/v1/auth/tokens", {"name": "ops-script"})
        self.assertIn(r.status, (200, 201), r)
        token = r.json()["token"]
        b = self.p.mgmt()
        b.bearer = token
        self.assertEqual(b.get("/api/v1/me").status, 200)
        r = ctl(self.env, "tokens", "list", "--user", "admin", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        mine = [t for t in json.loads(r.stdout) if t["name"] == "ops-script"]
        self.assertEqual(len(mine), 1)
        self.assertTrue(token.startswith(mine[0]["prefix"]))
        self.assertEqual(mine[0]["username"], "admin")
        r = ctl(self.env, "tokens", "list")
        self.assertIn("ops-script", r.stdout)
        self.assertNotIn(token, r.stdout)
        r = ctl(self.env, "tokens", "revoke", str(mine[0]["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(b.get("/api/v1/me").status, 401)
        self.assertEqual(ctl(self.env, "tokens", "revoke", str(mine[0]["id"])).returncode, 5)
        self.assertEqual(ctl(self.env, "tokens", "revoke", "abc").returncode, 2)
        r = ctl(self.env, "tokens", "list", "--json")
        self.assertNotIn(mine[0]["id"], [t["id"] for t in json.loads(r.stdout)])

    def test_backup_under_load_restore_check_and_config_round_trip(self):
        tmp = tempfile.mkdtemp(prefix="evgate-ops-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.assertEqual(ctl(self.env, "create-admin", "--password-stdin", "ops_backup",
                             stdin="Backup-admin-1\n").returncode, 0)
        sim = subprocess.Popen(
            [SIM, "--url", "ws://127.0.0.1:%d/ocpp" % self.p.gateway_port, "--prefix", "OPS",
             "--count", str(PILES), "--password", PILE_PASSWORD, "--scenario", "load",
             "--msg-rate", "400", "--duration", "120", "--quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop_sim():
            if sim.poll() is None:
                sim.send_signal(signal.SIGTERM)
                sim.wait(30)
        self.addCleanup(stop_sim)
        count = "SELECT count(*) FROM ocpp_meter_values"
        until(lambda: scalar(self.db, count) >= 50, "meter values from the piles", seconds=20)
        # committed (so every acknowledged message) before the backup begins
        before_max = scalar(self.db, "SELECT max(id) FROM ocpp_meter_values")
        before_n = scalar(self.db, count + " WHERE id <= ?", before_max)
        backup = os.path.join(tmp, "evgate-backup.db")
        r = ctl(self.env, "backup", backup)
        self.assertEqual(r.returncode, 0, r.stderr)
        after_max = until(lambda: (lambda m: m if m > before_max else None)(
            scalar(self.db, "SELECT max(id) FROM ocpp_meter_values")), "writes after the backup",
            seconds=20)
        stop_sim()
        self.assertGreater(after_max, before_max)  # the gateway was writing all along
        self.assertEqual(scalar(backup, count + " WHERE id <= ?", before_max), before_n)
        self.assertEqual(scalar(backup, "PRAGMA integrity_check"), "ok")
        self.assertFalse(os.path.exists(backup + "-wal"))
        self.assertFalse(os.path.exists(backup + ".partial"))
        self.assertEqual(scalar(backup, "PRAGMA journal_mode"), "delete")
        self.assertEqual(os.stat(backup).st_mode & 0o077 & ~0o040, 0)  # no one else reads it
        # a backup over the database itself, or a restore of it, is refused (exit 2)
        self.assertEqual(ctl(self.env, "backup", self.db).returncode, 2)
        self.assertEqual(ctl(self.env, "restore", "--force", self.db).returncode, 2)

        # check: the live database is sound
        r = ctl(self.env, "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok", r.stdout)

        # restore onto the live database: refused while the daemons have it open
        n_live = scalar(self.db, "SELECT count(*) FROM accounts")
        r = ctl(self.env, "restore", "--force", backup)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("in use", r.stderr)
        self.assertEqual(scalar(self.db, "SELECT count(*) FROM accounts"), n_live)
        self.assertEqual(self.p.mgmt().login("ops_backup", "Backup-admin-1").status, 200)

        # a damaged backup does not verify and changes nothing (exit 3)
        bad = os.path.join(tmp, "bad.db")
        shutil.copy(backup, bad)
        con = sqlite3.connect(bad)
        con.execute("INSERT INTO api_tokens (account_id, name, token_hash, prefix, created_at)"
                    " VALUES (999999, 'dangling', 'h', 'p', 0)")
        con.commit()
        con.close()
        fresh_db = os.path.join(tmp, "restored", "evgate.db")
        env2 = dict(self.env, EVGATE_DB=fresh_db, EVGATE_DATA_DIR=os.path.join(tmp, "data2/"))
        r = ctl(env2, "restore", bad)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("foreign_key_check", r.stderr)
        self.assertFalse(os.path.exists(fresh_db))
        r = ctl(dict(self.env, EVGATE_DB=bad), "check")
        self.assertEqual(r.returncode, 3)

        # the pile settings change after the backup: part of the configuration exported below
        admin = admin_client(self.p)
        r = admin.request("PUT", "/api/v1/piles/OPS3/ocpp-settings",
                          json_body={"boot_status": "Pending", "security_profile": 2})
        self.assertEqual(r.status, 200, r)
        export_a = os.path.join(tmp, "a.json")
        r = ctl(self.env, "config", "export", export_a)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(export_a) as f:
            doc_a = json.load(f)
        self.assertIn({"equipment_id": "OPS3", "boot_status": "Pending", "security_profile": 2},
                      doc_a["piles"])
        self.assertEqual(doc_a["settings"]["ocpp_max_msgs_per_min"], 1000000)
        self.assertNotIn("admin_password", doc_a["settings"])

        # restore into a fresh path and start mgmt on it: the backup's admin logs in
        r = ctl(env2, "restore", backup)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ctl(env2, "restore", backup).returncode, 2)  # exists, no --force
        self.assertEqual(ctl(env2, "check").returncode, 0)

        # config import into the restored database (whose OPS3 has the old settings) gives
        # the same export, read back through the config file the import wrote
        conf = os.path.join(tmp, "evgate.conf")
        r = ctl(env2, "config", "import", "--write-config", conf, export_a)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = ctl(clean_env(EVGATE_CONFIG=conf), "config", "export")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), doc_a)
        with open(conf) as f:
            self.assertIn('db = "%s"' % fresh_db, f.read())

        # the restored database serves: mgmt started on it through the written config file
        restored = Platform({"EVGATE_DB": fresh_db})
        self.addCleanup(restored.close)
        restored.env = clean_env(EVGATE_CONFIG=conf,
                                 EVGATE_MGMT_LISTEN="127.0.0.1:%d" % restored.mgmt_port,
                                 EVGATE_DATA_DIR=os.path.join(tmp, "data2/"),
                                 EVGATE_WEB_DIR=os.path.join(SRC, "mgmt", "web"))
        restored.start(("mgmt",))
        self.assertEqual(restored.mgmt().login("ops_backup", "Backup-admin-1").status, 200)
        self.assertEqual(restored.mgmt().login("admin", self.p.env["EVGATE_ADMIN_PASSWORD"])
                         .status, 200)

        # into a database without those piles: every problem named, nothing changed
        empty = os.path.join(tmp, "empty", "evgate.db")
        conf2 = os.path.join(tmp, "never.conf")
        r = ctl(dict(self.env, EVGATE_DB=empty), "config", "import", "--write-config", conf2,
                export_a)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn('piles[0].equipment_id: no pile "OPS1"', r.stderr)
        self.assertFalse(os.path.exists(conf2))
        self.assertFalse(os.path.exists(conf2 + ".tmp"))
        # a bad value anywhere: nothing of the good part is written either
        doc_bad = dict(doc_a)
        doc_bad["settings"] = dict(doc_a["settings"], mgmt_threads=0)
        doc_bad["piles"] = [dict(p, boot_status="Accepted") for p in doc_a["piles"]]
        doc_bad["piles"][1]["security_profile"] = 7
        bad_json = os.path.join(tmp, "bad.json")
        with open(bad_json, "w") as f:
            json.dump(doc_bad, f)
        r = ctl(self.env, "config", "import", "--db-only", bad_json)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("settings.mgmt_threads", r.stderr)
        self.assertIn("piles[1].security_profile", r.stderr)
        self.assertEqual(scalar(self.db, "SELECT boot_status FROM piles WHERE equipment_id ="
                                         " 'OPS3'"), "Pending")


if __name__ == "__main__":
    unittest.main(verbosity=2)
