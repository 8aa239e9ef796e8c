"""Integration tests of how the daemons start and stop (issue 2): --help, bad settings, the first
admin (given or generated, created exactly once even when two daemons race on a fresh database),
mgmt and gateway starting together, restarts, and clean exit on SIGTERM / SIGINT (SPEC §2).

Run: EVGATE_BUILD=build EVGATE_SRC=. python3 tests/integration/test_startup.py"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (ADMIN_PASSWORD, BUILD, Daemon, Platform, SourceClient,  # noqa: E402
                     account_of, free_port, register, registration)

API = "/api/v1"
MGMT = os.path.join(BUILD, "mgmt", "evgate-mgmt")
GATEWAY = os.path.join(BUILD, "gateway", "evgate-gateway")
# how the generated admin password is shown: `password: XYZ` or `password=XYZ`
GENERATED_RX = re.compile(r"password\s*[:=]\s*\"?([^\s\"]+)", re.I)


def run(args, env, timeout=30):
    """Runs the binary to completion; a daemon that starts serving instead fails the test."""
    p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("%s did not exit within %ds:\n%s%s"
                             % (args, timeout, out.decode(errors="replace"),
                                err.decode(errors="replace")))
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def generated_passwords(lines):
    out = []
    for line in lines:
        m = GENERATED_RX.search(line)
        if m:
            out.append(m.group(1))
    return out


def admin_count(db_path):
    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT COUNT(*) FROM accounts WHERE role = 'admin'").fetchone()[0], \
            con.execute("SELECT COUNT(*) FROM accounts WHERE username = 'admin'").fetchone()[0]
    finally:
        con.close()


def env_without_admin_password(env):
    env = dict(env)
    env.pop("EVGATE_ADMIN_PASSWORD", None)
    return env


class StartupCase(unittest.TestCase):
    def setUp(self):
        self.platforms = []
        self.extra = []

    def tearDown(self):
        for d in self.extra:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(10)
        for p in self.platforms:
            p.close()
        for d in self.extra + [d for p in self.platforms for d in p.daemons.values()]:
            if d.proc.stdout:
                d.proc.stdout.close()

    def platform(self, extra_env=None):
        p = Platform(extra_env)
        self.platforms.append(p)
        return p

    def login_status(self, port, username, password):
        c = SourceClient("127.0.0.1", port)
        return c.login(username, password).status

    def stop_ok(self, daemon, sig=signal.SIGTERM):
        rc = daemon.stop(sig, timeout=20)
        self.assertEqual(rc, 0, "%s exited %s on signal %d:\n%s"
                         % (daemon.name, rc, sig, "\n".join(daemon.log[-30:])))


class CommandLineTest(StartupCase):

    def test_help_lists_the_settings_and_exits_0(self):
        p = self.platform()
        rc, out, err = run([MGMT, "--help"], p.env)
        self.assertEqual(rc, 0, out + err)
        for name in ("EVGATE_MGMT_LISTEN", "EVGATE_DB", "EVGATE_DATA_DIR",
                     "EVGATE_ADMIN_PASSWORD", "EVGATE_WEB_DIR", "EVGATE_MAX_UPLOAD_BYTES",
                     "--mgmt-listen", "--db"):
            self.assertIn(name, out + err, "--help does not list %s" % name)
        self.assertNotIn(" listening ", out + err)
        self.assertFalse(os.path.exists(p.env["EVGATE_DB"]), "--help created the database")

    def assertRefused(self, args, env, rx):
        rc, out, err = run([MGMT] + args, env)
        text = out + err
        self.assertNotEqual(rc, 0, "started despite %s %s:\n%s" % (args, rx, text))
        self.assertNotIn(" listening ", text)
        self.assertRegex(text, re.compile(rx, re.I), "the message does not name the setting")

    def test_bad_settings_exit_nonzero_naming_them(self):
        p = self.platform()
        cases = [
            ({"EVGATE_MAX_UPLOAD_BYTES": "abc"}, [], r"max[_-]upload[_-]bytes"),
            ({"EVGATE_MAX_UPLOAD_BYTES": "12"}, [], r"max[_-]upload[_-]bytes"),
            ({"EVGATE_LOGIN_MAX_FAILURES": "-1"}, [], r"login[_-]max[_-]failures"),
            ({}, ["--max-upload-bytes", "lots"], r"max[_-]upload[_-]bytes"),
            ({}, ["--no-such-setting", "1"], r"no[_-]such[_-]setting"),
            ({"EVGATE_MGMT_LISTEN": "127.0.0.1:99999"}, [], r"mgmt[_-]listen|99999"),
            ({"EVGATE_MGMT_LISTEN": "no-port-here"}, [], r"mgmt[_-]listen|no-port-here"),
            ({"EVGATE_LOG_LEVEL": "loud"}, [], r"log[_-]level|loud"),
        ]
        for extra, args, rx in cases:
            with self.subTest(env=extra, args=args):
                env = dict(p.env)
                env.update(extra)
                self.assertRefused(args, env, rx)

    def test_bad_config_file_exits_nonzero_naming_the_key(self):
        p = self.platform()
        path = os.path.join(p.dir, "evgate.conf")
        with open(path, "w") as f:
            f.write("# test\nmax_upload_bytes = many\n")
        self.assertRefused(["--config", path], p.env, r"max_upload_bytes")
        with open(path, "w") as f:
            f.write("no_such_key = 1\n")
        self.assertRefused(["--config", path], p.env, r"no_such_key")

    def test_port_in_use_exits_nonzero(self):
        p = self.platform()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            env = dict(p.env)
            env["EVGATE_MGMT_LISTEN"] = "127.0.0.1:%d" % s.getsockname()[1]
            rc, out, err = run([MGMT], env)
            self.assertNotEqual(rc, 0, out + err)
            self.assertNotIn(" listening ", out + err)

    def test_unusable_database_path_exits_nonzero(self):
        p = self.platform()
        env = dict(p.env)
        env["EVGATE_DB"] = "/proc/evgate-cannot-be-here/evgate.db"
        rc, out, err = run([MGMT], env)
        self.assertNotEqual(rc, 0, out + err)
        self.assertNotIn(" listening ", out + err)


class SignalsAndRestartTest(StartupCase):

    def test_sigterm_stops_mgmt_with_exit_0(self):
        p = self.platform().start(("mgmt",))
        self.assertEqual(self.login_status(p.mgmt_port, "admin", ADMIN_PASSWORD), 200)
        self.stop_ok(p.daemons["mgmt"], signal.SIGTERM)

    def test_sigint_stops_mgmt_with_exit_0(self):
        p = self.platform().start(("mgmt",))
        self.stop_ok(p.daemons["mgmt"], signal.SIGINT)

    def test_sigterm_with_an_idle_and_a_half_sent_connection_open(self):
        p = self.platform().start(("mgmt",))
        idle = socket.create_connection(("127.0.0.1", p.mgmt_port))
        half = socket.create_connection(("127.0.0.1", p.mgmt_port))
        half.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                     b"Content-Type: application/json\r\n\r\n{\"user")
        try:
            self.assertEqual(self.login_status(p.mgmt_port, "admin", ADMIN_PASSWORD), 200)
            self.stop_ok(p.daemons["mgmt"], signal.SIGTERM)
        finally:
            idle.close()
            half.close()

    def test_healthz(self):
        p = self.platform().start(("mgmt",))
        r = p.mgmt().get("/healthz")
        self.assertEqual(r.status, 200, r)

    def test_restart_keeps_accounts(self):
        p = self.platform().start(("mgmt",))
        r, f = register(p.mgmt(), registration())
        self.assertEqual(r.status, 201, r)
        acct = account_of(r.json())
        self.extra.append(p.daemons["mgmt"])
        self.stop_ok(p.daemons["mgmt"])
        p.start(("mgmt",))
        c = p.mgmt()
        self.assertEqual(c.login(f["username"], f["password"]).status, 200)
        r = c.get(API + "/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(account_of(r.json())["id"], acct["id"])
        self.assertEqual(account_of(r.json())["organisation"]["company_name"], f["company_name"])
        r = c.get(acct["license"]["url"])
        self.assertEqual(r.status, 200, r)

    def test_fresh_database_in_missing_directories(self):
        p = self.platform()
        p.env["EVGATE_DB"] = os.path.join(p.dir, "a", "b", "evgate.db")
        p.start(("mgmt",))
        self.assertTrue(os.path.exists(p.env["EVGATE_DB"]))
        r, _ = register(p.mgmt(), registration())
        self.assertEqual(r.status, 201, r)

    def test_fresh_data_dir_in_missing_directories(self):
        p = self.platform()
        p.env["EVGATE_DATA_DIR"] = os.path.join(p.dir, "c", "d") + "/"
        p.start(("mgmt",))
        r, _ = register(p.mgmt(), registration())
        self.assertEqual(r.status, 201, r)
        self.assertTrue(os.path.isdir(p.env["EVGATE_DATA_DIR"]))


class AdminBootstrapTest(StartupCase):

    def test_given_admin_password_is_used_and_never_printed(self):
        p = self.platform().start(("mgmt",))
        self.assertEqual(self.login_status(p.mgmt_port, "admin", ADMIN_PASSWORD), 200)
        self.stop_ok(p.daemons["mgmt"])
        log = "\n".join(p.daemons["mgmt"].log)
        self.assertNotIn(ADMIN_PASSWORD, log)
        self.assertEqual(generated_passwords(p.daemons["mgmt"].log), [])

    def test_generated_admin_password_is_printed_once_and_kept_across_restarts(self):
        p = self.platform()
        p.env = env_without_admin_password(p.env)
        d = p.start(("mgmt",)).daemons["mgmt"]
        found = generated_passwords(d.log)
        self.assertEqual(len(found), 1, "expected one generated password:\n" + "\n".join(d.log))
        pw = found[0]
        self.assertGreaterEqual(len(pw), 12, "generated password too short")
        self.assertEqual(self.login_status(p.mgmt_port, "admin", pw), 200)
        self.stop_ok(d)
        self.extra.append(d)
        self.assertEqual(sum(pw in line for line in d.log), 1, "password shown more than once")

        # restart: nothing printed, the password still works
        d2 = p.start(("mgmt",)).daemons["mgmt"]
        self.assertEqual(self.login_status(p.mgmt_port, "admin", pw), 200)
        self.stop_ok(d2)
        self.extra.append(d2)
        self.assertEqual(generated_passwords(d2.log), [], "\n".join(d2.log))
        self.assertNotIn(pw, "\n".join(d2.log))

        # restart with EVGATE_ADMIN_PASSWORD set: the existing admin keeps its password
        p.env["EVGATE_ADMIN_PASSWORD"] = "Another-admin-pass-1"
        d3 = p.start(("mgmt",)).daemons["mgmt"]
        self.assertEqual(self.login_status(p.mgmt_port, "admin", pw), 200)
        self.assertEqual(self.login_status(p.mgmt_port, "admin", "Another-admin-pass-1"), 401)
        self.stop_ok(d3)
        self.assertEqual(admin_count(p.env["EVGATE_DB"]), (1, 1))

    def race_two_mgmt(self, p, env_base):
        """Starts two mgmt daemons on p's fresh database at the same moment; returns them."""
        ports = [free_port(), free_port()]
        envs = []
        for port in ports:
            env = dict(env_base)
            env["EVGATE_MGMT_LISTEN"] = "127.0.0.1:%d" % port
            envs.append(env)
        barrier = threading.Barrier(2)
        daemons = [None, None]

        def launch(i):
            barrier.wait(10)
            daemons[i] = Daemon("mgmt%d" % (i + 1), MGMT, envs[i])

        threads = [threading.Thread(target=launch, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.extra.extend(d for d in daemons if d)
        for d in daemons:
            d.wait_ready()
        return daemons, ports

    def test_two_mgmt_on_one_fresh_database_create_one_admin(self):
        for round_ in range(5):
            with self.subTest(round=round_):
                p = self.platform()
                daemons, ports = self.race_two_mgmt(p, p.env)
                for port in ports:
                    self.assertEqual(self.login_status(port, "admin", ADMIN_PASSWORD), 200)
                # an operator registered on one is seen by the other
                c = p.mgmt()
                c.port = ports[0]
                r, f = register(c, registration())
                self.assertEqual(r.status, 201, r)
                self.assertEqual(self.login_status(ports[1], f["username"], f["password"]), 200)
                # a session made by one daemon is honoured by the other (shared database)
                self.assertEqual(c.login("admin", ADMIN_PASSWORD).status, 200)
                c.port = ports[1]
                self.assertEqual(c.get(API + "/me").status, 200)
                r = c.post("%s/admin/accounts/%d/approve" % (API, account_of(r.json())["id"]))
                self.assertEqual(r.status, 200, r)
                for d in daemons:
                    self.stop_ok(d)
                self.assertEqual(admin_count(p.env["EVGATE_DB"]), (1, 1))

    def test_two_mgmt_racing_with_a_generated_password_print_one(self):
        for round_ in range(5):
            with self.subTest(round=round_):
                p = self.platform()
                daemons, ports = self.race_two_mgmt(p, env_without_admin_password(p.env))
                found = generated_passwords(daemons[0].log + daemons[1].log)
                self.assertEqual(len(found), 1, "\n".join(daemons[0].log + ["--"] +
                                                          daemons[1].log))
                for port in ports:
                    self.assertEqual(self.login_status(port, "admin", found[0]), 200)
                for d in daemons:
                    self.stop_ok(d)
                self.assertEqual(len(generated_passwords(daemons[0].log + daemons[1].log)), 1)
                self.assertEqual(admin_count(p.env["EVGATE_DB"]), (1, 1))


@unittest.skipUnless(os.path.exists(GATEWAY), "gateway not built (%s)" % GATEWAY)
class MgmtAndGatewayTest(StartupCase):

    def test_mgmt_and_gateway_start_together_on_a_fresh_database(self):
        for round_ in range(4):
            with self.subTest(round=round_):
                p = self.platform()
                p.start(("mgmt", "gateway"))  # launched back to back, then both awaited
                self.assertEqual(self.login_status(p.mgmt_port, "admin", ADMIN_PASSWORD), 200)
                r = p.gateway().get("/healthz")
                self.assertEqual(r.status, 200, r)
                self.stop_ok(p.daemons["gateway"])
                self.stop_ok(p.daemons["mgmt"])
                self.assertEqual(admin_count(p.env["EVGATE_DB"]), (1, 1))

    def test_gateway_help_and_sigterm(self):
        p = self.platform()
        rc, out, err = run([GATEWAY, "--help"], p.env)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("EVGATE_GATEWAY_LISTEN", out + err)
        p.start(("gateway",))
        self.stop_ok(p.daemons["gateway"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
