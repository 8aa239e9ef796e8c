#!/usr/bin/env python3
"""Gateway benchmarks of issue 8: capacity (idle piles held, RSS per connection) and throughput
(validated, persisted CALLs per second, round-trip latency) against evgate and the two peers
(a bare libwebsockets server, an ocpp-rpc central system). Python stdlib only; `make bench`
imports capacity() and throughput(); the CLI runs either for a person.

Each call starts its own processes on free loopback ports in a fresh temp dir and stops them
before it returns. Figures are wall-clock on a shared machine: the driver takes medians."""

import argparse
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSWORD = "bench-password-0123456789"
SALT = "benchsalt"
# Most connections one evsim-pile process opens: its fd limit is 20 000 like ours.
PILES_PER_SIM = 9500
# Most connections one source address carries towards one gateway port (ephemeral ports).
PILES_PER_SOURCE = 25000

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class BenchError(RuntimeError):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_s(pid):
    """CPU seconds (user + system) process `pid` has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """The machine's CPU time so far from /proc/stat, in clock ticks: (busy, stolen, total).
    Stolen is time the hypervisor gave this VM's virtual CPUs to someone else."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq, steal, sum(v)


def machine_cpu_pct(before, after):
    """{"busy_pct", "steal_pct"} of the machine between two machine_cpu() readings."""
    total = max(1, after[2] - before[2])
    return {"busy_pct": round(100 * (after[0] - before[0]) / total, 1),
            "steal_pct": round(100 * (after[1] - before[1]) / total, 1)}


def gateway_part(before, after, within_s=0.02):
    """From two Gateway.call_buckets() readings: the CALLs answered in between, the share the
    gateway answered within `within_s` (a bucket bound), and its p99 interpolated within its
    bucket, in ms (the gateway's own part of the latency a pile sees)."""
    b0 = dict(before)
    d = [(le, n - b0.get(le, 0)) for le, n in after]
    total = d[-1][1] if d else 0
    if not total:
        return {"calls": 0, "within_pct": None, "p99_ms": None}
    within = next((n for le, n in d if le == within_s), None)
    p99, lo, below = None, 0.0, 0
    for le, n in d:
        if n >= 0.99 * total:
            frac = (0.99 * total - below) / max(1, n - below)
            p99 = (lo + frac * (le - lo)) * 1000 if le != float("inf") else lo * 1000
            break
        lo, below = le, n
    return {"calls": int(total), "within_pct": round(100 * within / total, 2)
            if within is not None else None, "p99_ms": round(p99, 1) if p99 is not None else None}


def wait_for(pred, timeout_s, what, step_s=0.2):
    """Polls pred() until it returns a true value (returned) or timeout_s passes (BenchError)."""
    end = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise BenchError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(step_s)


def stop_proc(p, timeout_s=15):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout_s)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


class Gateway:
    """evgate-gateway on a free loopback port with its own database; stderr goes to a file."""

    def __init__(self, build_dir, tmp, env_extra=None, wrap=None):
        """wrap: a command to run the gateway under (e.g. ["prlimit", "--nofile=200:200",
        "--"]); by default EVGATE_BENCH_WRAP's, for profiling (e.g. "valgrind
        --tool=callgrind --callgrind-out-file=/tmp/gw.%p"; RSS is then the tool's)."""
        self.bin = os.path.join(build_dir, "gateway", "evgate-gateway")
        self.wrap = list(wrap) if wrap is not None else os.environ.get("EVGATE_BENCH_WRAP",
                                                                       "").split()
        self.tmp = tmp
        self.db = os.path.join(tmp, "evgate.db")
        self.port = None
        self.proc = None
        self.log_path = None
        self.env_extra = dict(env_extra or {})
        self.starts = 0

    def start(self, timeout_s=60, attempts=5, keep_port=False):
        """Starts on a free port; another port when that one was taken meanwhile (the machine
        is shared). keep_port: on the port of the previous start (a restart the piles' URL
        still points at); a port taken meanwhile is then an error."""
        if keep_port and self.port is None:
            raise BenchError("keep_port: the gateway has not been started before")
        for i in range(attempts):
            try:
                return self._start(timeout_s, keep_port)
            except BenchError:
                if keep_port or i == attempts - 1 or "listen_failed" not in self.log():
                    raise
                self._log.close()

    def _start(self, timeout_s, keep_port=False):
        if not keep_port:
            self.port = free_port()
        self.starts += 1
        env = dict(os.environ)
        env.update({
            "EVGATE_DB": self.db,
            "EVGATE_DATA_DIR": os.path.join(self.tmp, "data"),
            "EVGATE_GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "EVGATE_LOG_LEVEL": "warn",
        })
        env.update(self.env_extra)
        self.log_path = os.path.join(self.tmp, f"gateway-{self.port}-{self.starts}.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.wrap + [self.bin], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)

        def listening():
            if self.proc.poll() is not None:
                raise BenchError(f"gateway exited ({self.proc.returncode}):\n{self.log()}")
            # a TCP connect: /metrics waits behind the handshakes of a storm
            return " info gateway listening " in self.log() or self.port_open()

        wait_for(listening, timeout_s, "the gateway to listen")
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def port_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def metrics_ok(self):
        try:
            self.metrics()
            return True
        except (OSError, http.client.HTTPException):
            return False

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            return r.read().decode()

    def metric_sum(self, name, label_filter=None):
        """Sum of the samples of `name` (whose labels contain label_filter, if given)."""
        total = 0.0
        for line in self.metrics().splitlines():
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
            if m and m.group(1) == name and (not label_filter or label_filter in (m.group(2) or "")):
                total += float(m.group(3))
        return total

    def call_buckets(self):
        """The cumulative buckets of evgate_gateway_ocpp_call_seconds: [(le, count)], +Inf
        last as float("inf")."""
        out = []
        for line in self.metrics().splitlines():
            m = re.match(r'^evgate_gateway_ocpp_call_seconds_bucket\{le="([^"]+)"\}\s+(\S+)', line)
            if m:
                out.append((float(m.group(1)), float(m.group(2))))
        return out

    def connected(self, default=-1):
        """Piles connected (the gauge), or `default` when /metrics does not answer in time (a
        loop busy with a burst of handshakes)."""
        try:
            return int(self.metric_sum("evgate_gateway_ocpp_connections"))
        except (OSError, http.client.HTTPException):
            return default

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def stop(self):
        stop_proc(self.proc, 30)
        if self.proc is not None:
            self._log.close()

    def crash(self):
        """SIGKILL: the gateway dies as in a crash, nothing flushed, no close frames sent."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def seed_piles(db_path, n, prefix="P", start=1):
    """Inserts one operator, one station and n accessed OCPP 1.6 piles PREFIX<start..> with the
    bench password (salted sha256, as gateway/piles.c checks it). The schema must exist."""
    pw_hash = hashlib.sha256((SALT + PASSWORD).encode()).hexdigest()
    con = sqlite3.connect(db_path, timeout=30)
    try:
        con.execute("PRAGMA foreign_keys=OFF")
        now = int(time.time())
        con.execute("INSERT OR IGNORE INTO accounts (id, username, password_hash, role, status,"
                    " created_at, updated_at) VALUES (1, 'bench', 'x', 'operator', 'active', ?, ?)",
                    (now, now))
        con.execute("INSERT OR IGNORE INTO stations (id, account_id, station_id, status, name,"
                    " area_code, station_type, data, created_at, updated_at)"
                    " VALUES (1, 1, 'BENCH1', 'accessed', 'bench', '442000', 1, '{}', ?, ?)",
                    (now, now))
        con.executemany(
            "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"
            " protocol, data, password_salt, password_hash, created_at, updated_at)"
            " VALUES (1, ?, 1, 'accessed', 1, 'ocpp1.6', '{}', ?, ?, ?, ?)",
            ((f"{prefix}{i}", SALT, pw_hash, now, now) for i in range(start, start + n)))
        con.commit()
    finally:
        con.close()


def prepared_gateway(build_dir, tmp, piles, env_extra=None):
    """A migrated database with `piles` piles, then the gateway started on it (its pile table
    is loaded at start)."""
    gw = Gateway(build_dir, tmp, env_extra).start()  # migrates
    gw.stop()
    seed_piles(gw.db, piles)
    return gw.start()


def split_piles(piles, per_proc):
    """[(start, count), ...] of at most per_proc piles each."""
    out, start = [], 1
    while start <= piles:
        n = min(per_proc, piles - start + 1)
        out.append((start, n))
        start += n
    return out


_source_block = 10


def default_sources(piles):
    """Source addresses for `piles` connections, new ones each call (127.0.10.x, 127.0.11.x,
    ...): a run's closed connections stay in TIME_WAIT for a minute, holding their ports, and the
    next run binding the same address found none free (capacity right after a 10 000-pile run:
    "ERROR on binding ... (98)" from evsim-pile, 18 276 of 19 000 piles connected)."""
    global _source_block
    block = _source_block
    _source_block = 10 + (_source_block - 9) % 240
    k = max(1, -(-piles // PILES_PER_SOURCE))
    return [f"127.0.{block}.{2 + i}" for i in range(k)]


def start_sims(build_dir, url, piles, args, tmp, sources, tag, per_proc=PILES_PER_SIM, first=1):
    """evsim-pile processes of at most per_proc piles each, P<first> onwards; returns
    [(proc, summary_path)]."""
    sim = os.path.join(build_dir, "simulators", "evsim-pile")
    procs = []
    for i, (start, n) in enumerate(split_piles(piles, per_proc)):
        start += first - 1
        summary = os.path.join(tmp, f"{tag}-sim{i}.json")
        log = open(os.path.join(tmp, f"{tag}-sim{i}.log"), "w")
        cmd = [sim, "--url", url, "--prefix", "P", "--start", str(start), "--count", str(n),
               "--password", PASSWORD, "--summary-json", summary, "--quiet"] + list(args)
        if sources:
            cmd += ["--source-addresses", ",".join(sources)]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        procs.append((p, summary))
    return procs


def sim_log(summary_path):
    """The output so far of the evsim-pile process whose summary goes to summary_path."""
    with open(summary_path[:-len(".json")] + ".log", errors="replace") as f:
        return f.read()


def stop_sims(procs):
    for p, _ in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p, _ in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def capacity(build_dir, piles=19000, sources=None, hold_s=10, timeout_s=None, rate=300):
    """Idle OCPP 1.6 piles (heartbeat every 60 s) held by one gateway and its RSS per connection
    above the idle baseline. Returns {"piles_requested", "piles_connected", "rss_idle_kib",
    "rss_loaded_kib", "rss_per_conn_kib", "fd_limit"}."""
    tmp = tempfile.mkdtemp(prefix="evgate-bench-cap-")
    gw, sims = None, []
    try:
        gw = prepared_gateway(build_dir, tmp, piles)
        time.sleep(1)  # settle: the pile table loaded, startup allocations done
        rss_idle = gw.rss_kib()
        sims = start_sims(build_dir, f"ws://127.0.0.1:{gw.port}/ocpp", piles,
                          ["--scenario", "idle", "--heartbeat-override", "60", "--rate", str(rate)],
                          tmp, sources or default_sources(piles), "cap")
        # connections come at the simulators' pace: ~150/s on this loaded 2-core machine
        deadline = timeout_s or 120 + piles / 50

        def all_in():
            for p, _ in sims:
                if p.poll() is not None:
                    raise BenchError(f"evsim-pile exited early ({p.returncode})")
            return gw.connected() >= piles

        try:
            wait_for(all_in, deadline, f"{piles} piles connected", step_s=1)
        except BenchError:
            pass  # report how many made it
        time.sleep(hold_s)
        connected = wait_for(lambda: gw.connected(default=None), 60, "the gateway's /metrics")
        rss_loaded = gw.rss_kib()
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        return {
            "piles_requested": piles,
            "piles_connected": connected,
            "rss_idle_kib": rss_idle,
            "rss_loaded_kib": rss_loaded,
            "rss_per_conn_kib": round((rss_loaded - rss_idle) / connected, 2) if connected else None,
            "fd_limit": fd_limit,
        }
    finally:
        stop_sims(sims)
        if gw:
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# Descriptors one gateway keeps for itself (listeners, database, pipes, lws's own): the piles a
# storm may bring back are the fd hard limit less these (capacity() leaves the same margin).
GW_FD_RESERVE = 500
# A gateway that dies shows one of these in its log (sanitizer builds, glibc, the shell).
CRASH_MARKERS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                 "LeakSanitizer", "Segmentation fault", "Aborted", "double free", "corrupted")


# Piles per source address in the storm. The piles bind their sockets to a source address before
# connecting (--source-addresses), and the kernel's search for a free port on an address is then
# O(ports bound on it) per connect (perf: inet_bhash2_conflict and inet_bind2_bucket_find were
# 62 % of evsim-pile's CPU, and connecting slowed to ~130 a second at 10 000 piles on one
# address); a few thousand per address keep that search short.
STORM_PILES_PER_SOURCE = 2000
# Piles per evsim-pile process in the storm. Each connection being set up holds a timeout in
# lws's one sorted timer list, O(pending) per insertion; with 9 500 piles per process all
# reconnecting at once the simulators, not the gateway, were the bottleneck (perf: 28 % of the
# machine in evsim-pile's lws_dll2_add_sorted, 6 % in the gateway's).
STORM_PILES_PER_SIM = 2000


def storm_sources(piles):
    k = max(1, -(-piles // STORM_PILES_PER_SOURCE))
    return [f"127.0.{2 + i // 250}.{1 + i % 250}" for i in range(k)]


def storm_size(requested):
    """(piles, reason): the piles a storm can use here, the fd hard limit capping `requested`."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fit = hard - GW_FD_RESERVE - 1  # - 1: the extra pile
    if requested <= fit:
        return requested, None
    return fit, (f"capped from {requested}: one gateway process may hold {hard} descriptors "
                 f"(RLIMIT_NOFILE hard limit, not raisable here), {GW_FD_RESERVE} kept for its "
                 "own use and one for the extra pile")


def read_summary(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def db_boots(db_path, since_s, extra_id):
    """(piles whose last accepted boot is at or after since_s, whether extra_id is one)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        n = con.execute("SELECT count(*) FROM ocpp_piles WHERE last_boot_at >= ?",
                        (since_s,)).fetchone()[0]
        x = con.execute("SELECT last_boot_at >= ? FROM ocpp_piles WHERE equipment_id = ?",
                        (since_s, extra_id)).fetchone()
        return n, bool(x and x[0])
    finally:
        con.close()


def db_integrity(db_path):
    con = sqlite3.connect(db_path, timeout=30)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
    finally:
        con.close()


def vm_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def storm(build_dir, piles=20000, sources=None, rate=300, backoff_first_s=0.25, backoff_max_s=2,
          timeout_s=None, env_extra=None):
    """The reconnect storm of issue 9: `piles` idle OCPP 1.6 piles (capped to the fd limit,
    storm_size()) connect and boot at `rate` a second, then the gateway is killed (SIGKILL) and
    started again on the same port; every pile reconnects at once (first back-off window
    backoff_first_s, doubling up to backoff_max_s, no limit on the reconnection rate) and boots
    again. Meanwhile one well-behaved extra pile (evsim-pile's default back-off) connects for the
    first time. Returns a dict: "piles", "cap_reason", "initial_s", "restart_s" (kill to
    listening), "back_s" (listening to every pile booted again; None if not all came back within
    timeout_s), "back_from_kill_s", "booted_again", "rss_peak_kib" (the restarted gateway's
    VmHWM), "gateway_up", "crash_lines", "extra" ({"booted", "boot_s", "failed_by_status"}),
    "errors" (the piles' refused or failed handshakes by status (0: no HTTP answer, mostly
    while the gateway is down) and connects evsim-pile abandoned, the gateway's refusals by
    reason, writer failures, warn/error log lines), "integrity" (PRAGMA integrity_check)."""
    n, cap_reason = storm_size(piles)
    tmp = tempfile.mkdtemp(prefix="evgate-bench-storm-")
    gw, sims, extra = None, [], []
    extra_id = f"P{n + 1}"
    try:
        gw = prepared_gateway(build_dir, tmp, n + 1, env_extra)
        url = f"ws://127.0.0.1:{gw.port}/ocpp"
        srcs = sources or storm_sources(n)
        sims = start_sims(build_dir, url, n,
                          ["--scenario", "idle", "--heartbeat-override", "60", "--rate", str(rate),
                           "--reconnect", "--backoff-first", str(backoff_first_s),
                           "--backoff-max", str(backoff_max_s), "--reconnect-rate", "1000000"],
                          tmp, srcs, "storm", per_proc=STORM_PILES_PER_SIM)
        t0 = time.monotonic()

        def sims_alive():
            for p, _ in sims:
                if p.poll() is not None:
                    raise BenchError(f"evsim-pile exited early ({p.returncode})")

        progress = {"at": 0.0}

        def all_booted():
            sims_alive()
            b = db_boots(gw.db, 1, extra_id)[0]
            if time.monotonic() - progress["at"] >= 10:
                progress["at"] = time.monotonic()
                print(f"storm: {b} of {n} piles booted, {gw.connected()} connected",
                      file=sys.stderr, flush=True)
            return b >= n

        wait_for(all_booted, 60 + n / 50, f"{n} piles booted", step_s=0.5)
        initial_s = time.monotonic() - t0
        # the restart's boots are told apart by their second: wait until the clock has left the
        # second of the last boot before the crash
        con = sqlite3.connect(f"file:{gw.db}?mode=ro", uri=True, timeout=30)
        last = con.execute("SELECT max(last_boot_at) FROM ocpp_piles").fetchone()[0] or 0
        con.close()
        wait_for(lambda: time.time() >= last + 1, 5, "the second of the last boot to pass", 0.05)
        kill_s = int(time.time())
        t_kill = time.monotonic()
        gw.crash()
        gw.start(keep_port=True)
        t_up = time.monotonic()
        pid = gw.proc.pid
        # the extra pile: default back-off and rate, its first connection during the storm
        extra = start_sims(build_dir, url, 1, ["--scenario", "idle", "--heartbeat-override", "60",
                                               "--reconnect"], tmp, srcs[:1], "extra", first=n + 1)
        deadline = timeout_s or 60 + n / 100
        state = {"back": None, "extra": None, "rss_max": 0, "died": None}

        def storm_over():
            sims_alive()
            if gw.proc.poll() is not None:
                state["died"] = gw.proc.returncode
                raise BenchError(f"the gateway died during the storm ({gw.proc.returncode})")
            state["rss_max"] = max(state["rss_max"], vm_status(pid, "VmRSS") or 0)
            booted, extra_in = db_boots(gw.db, kill_s, extra_id)
            now = time.monotonic()
            if extra_in and state["extra"] is None:
                state["extra"] = now - t_up
            if booted - extra_in >= n and state["back"] is None:
                state["back"] = now - t_up
            state["booted"] = booted - extra_in
            return state["back"] is not None and state["extra"] is not None

        try:
            wait_for(storm_over, deadline, f"{n} piles and the extra one booted again", 0.25)
        except BenchError:
            if state["died"] is not None:
                raise
        rss_peak = vm_status(pid, "VmHWM")
        up = gw.proc.poll() is None
        handshakes, writer_failed = {}, None
        if up:
            try:
                rx = r'^evgate_gateway_ocpp_handshakes_total\{result="([^"]*)"\}\s+(\S+)'
                for line in gw.metrics().splitlines():
                    m = re.match(rx, line)
                    if m:
                        handshakes[m.group(1)] = int(float(m.group(2)))
                writer_failed = int(gw.metric_sum("evgate_gateway_writer_jobs_failed_total"))
            except (OSError, http.client.HTTPException):
                pass
        stop_sims(extra)
        stop_sims(sims)
        failed, abandoned = {}, 0
        for _, path in sims:
            summ = read_summary(path)
            abandoned += int(summ.get("connects_abandoned", 0))
            for k, v in (summ.get("failed_handshakes_by_status") or {}).items():
                failed[k] = failed.get(k, 0) + int(v)
        xs = read_summary(extra[0][1])
        log = gw.log()
        crash_lines = [l for l in log.splitlines() if any(m in l for m in CRASH_MARKERS)]
        log_errors = sum(1 for l in log.splitlines() if " warn " in l or " error " in l)
        gw.stop()
        integrity = db_integrity(gw.db)
        return {
            "piles_requested": piles,
            "piles": n,
            "cap_reason": cap_reason,
            "initial_s": round(initial_s, 1),
            "restart_s": round(t_up - t_kill, 2),
            "back_s": round(state["back"], 2) if state["back"] is not None else None,
            "back_from_kill_s": (round(state["back"] + t_up - t_kill, 2)
                                 if state["back"] is not None else None),
            "booted_again": state.get("booted"),
            "rss_peak_kib": rss_peak,
            "rss_max_sampled_kib": state["rss_max"],
            "gateway_up": up and not crash_lines,
            "crash_lines": crash_lines[:5],
            "extra": {"booted": state["extra"] is not None and xs.get("boots_accepted", 0) >= 1,
                      "boot_s": round(state["extra"], 2) if state["extra"] is not None else None,
                      "failed_by_status": xs.get("failed_handshakes_by_status") or {}},
            "errors": {"pile_handshakes_failed_by_status": failed,
                       "pile_connects_abandoned": abandoned,
                       "gateway_handshakes": handshakes,
                       "writer_jobs_failed": writer_failed,
                       "gateway_log_warn_error_lines": log_errors},
            "integrity": integrity,
        }
    finally:
        stop_sims(extra)
        stop_sims(sims)
        if gw:
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


class Peer:
    """A peer server (bare lws or ocpp-rpc) on a free port, stderr to a file."""

    def __init__(self, build_dir, target, tmp):
        self.port = free_port()
        self.db = os.path.join(tmp, "peer.db")
        if target == "bare":
            cmd = [os.path.join(build_dir, "tests", "bench", "bench-peer-bare"), "--port",
                   str(self.port)]
            self.ready = f"bench-peer-bare listening port={self.port}"
        else:
            cmd = ["node", os.path.join(ROOT, "tests", "bench", "peer_rpc.mjs"), "--port",
                   str(self.port), "--db", self.db]
            self.ready = f"peer-rpc listening port={self.port}"
        self.log_path = os.path.join(tmp, f"peer-{target}.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log)

        def up():
            if self.proc.poll() is not None:
                raise BenchError(f"{target} peer exited ({self.proc.returncode}):\n{self.log()}")
            return self.ready in self.log()

        wait_for(up, 60, f"the {target} peer to listen")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        stop_proc(self.proc)
        self._log.close()


def db_counts(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]
        return {
            "meter_value_rows": q("SELECT count(*) FROM ocpp_meter_values"),
            "connector_rows": q("SELECT count(*) FROM ocpp_connectors"),
            "piles_seen": q("SELECT count(*) FROM ocpp_contacts"),
        }
    finally:
        con.close()


def merge_loads(summaries):
    """One "load" from the summaries of several evsim-pile processes: counts add up, the
    latency percentiles are the answered-weighted mean of each process' (an approximation the
    report states), max is the max."""
    out = {"window_s": 0.0, "answered": 0, "rate_per_s": 0.0, "callerrors": 0, "timeouts": 0,
           "late": 0, "piles_connected": 0}
    rtt = {"p50": 0.0, "p99": 0.0, "p99.9": 0.0, "max": 0}
    weight = 0
    for s in summaries:
        ld = s.get("load") or {}
        for k in ("answered", "callerrors", "timeouts", "late", "piles_connected"):
            out[k] += int(ld.get(k, 0))
        out["rate_per_s"] += float(ld.get("rate_per_s", 0))
        out["window_s"] = max(out["window_s"], float(ld.get("window_s", 0)))
        w = int(ld.get("answered", 0))
        r = ld.get("rtt_us") or {}
        for k in ("p50", "p99", "p99.9"):
            rtt[k] += float(r.get(k, 0)) * w
        rtt["max"] = max(rtt["max"], r.get("max", 0))
        weight += w
    for k in ("p50", "p99", "p99.9"):
        rtt[k] = round(rtt[k] / weight) if weight else None
    out["rtt_us"] = rtt
    return out


# Gateway settings of the throughput runs: the per-pile message limit (600 a minute) exists
# against a misbehaving pile and would turn a closed-loop benchmark into a test of it; the
# meter values kept per pile are raised so that every persisted row can be counted.
EVGATE_LOAD_ENV = {
    "EVGATE_OCPP_MAX_MSGS_PER_MIN": "1000000",
    "EVGATE_OCPP_METER_VALUES_KEEP": "100000000",
}


def throughput(build_dir, target, piles=10000, duration_s=10, msg_rate=None, warmup_s=3,
               sources=None, procs=None):
    """The evsim-pile load scenario (MeterValues, StatusNotification, MeterValues, Heartbeat,
    one outstanding CALL per pile; closed loop, or msg_rate in total) against target 'evgate',
    'bare' or 'rpc'. Returns {"target", "piles", "rate_per_s", "rtt_us": {"p50", "p99",
    "p99.9", "max"}, "answered", "callerrors", "timeouts", "machine", "persisted"}, where
    "machine" is machine_cpu_pct() from the load's start to its end; for evgate
    "persisted" holds the database's counts after the run, and a run whose answered CALLs are
    not all stored raises BenchError."""
    if target not in ("evgate", "bare", "rpc"):
        raise ValueError(f"target must be evgate, bare or rpc, got {target!r}")
    tmp = tempfile.mkdtemp(prefix=f"evgate-bench-tp-{target}-")
    gw = peer = None
    sims = []
    try:
        if target == "evgate":
            gw = prepared_gateway(build_dir, tmp, piles, EVGATE_LOAD_ENV)
            port = gw.port
        else:
            peer = Peer(build_dir, target, tmp)
            port = peer.port
        per_proc = min(PILES_PER_SIM, -(-piles // procs)) if procs else PILES_PER_SIM
        nsims = len(split_piles(piles, per_proc))
        # the piles' connecting and booting may take boot_s (at --rate connections per second
        # and process, with room for a loaded machine; 1000 a second and process: faster ramps
        # overflow a peer's listen backlog; a pile refused all the same tries again), then the
        # warmup and the window; the rates are over the window each process measured
        boot_s = 10 + per_proc / 500
        # every process connects and boots its piles, says "load ready", and waits for SIGUSR1:
        # a process whose load began first slowed the boots of the others' piles so much that
        # some never booted within the run (measured: 10 000 piles in processes of 9 500 and
        # 500, the 500 loading from 1 s on, 7 500 of the 9 500 booted after 47 s)
        args = ["--scenario", "load", "--warmup", str(warmup_s), "--duration",
                str(round(warmup_s + duration_s)), "--rate", "1000", "--reconnect",
                "--load-go-signal"]
        if msg_rate:
            args += ["--msg-rate", str(max(1, int(msg_rate / nsims)))]
        sims = start_sims(build_dir, f"ws://127.0.0.1:{port}/ocpp", piles, args, tmp,
                          sources or default_sources(piles), f"tp-{target}", per_proc)

        def all_ready():
            for p, path in sims:
                if p.poll() is not None:
                    raise BenchError(f"evsim-pile exited ({p.returncode}) before its load began:"
                                     f"\n{sim_log(path)[-2000:]}")
            return all("evsim-pile: load ready" in sim_log(path) for _, path in sims)

        wait_for(all_ready, boot_s + 120, "every evsim-pile process to boot its piles")
        calls0 = gw.call_buckets() if gw else None
        gw_cpu0 = (cpu_s(gw.proc.pid),
                   gw.metric_sum("evgate_gateway_ocpp_messages_total")) if gw else None
        cpu0 = machine_cpu()
        for p, _ in sims:
            p.send_signal(signal.SIGUSR1)
        limit = warmup_s + duration_s + 120
        for p, _ in sims:
            try:
                p.wait(limit)
            except subprocess.TimeoutExpired:
                raise BenchError(f"evsim-pile still running {limit} s after its load began")
        machine = machine_cpu_pct(cpu0, machine_cpu())
        summaries = []
        for p, path in sims:
            if not os.path.exists(path):
                raise BenchError(f"evsim-pile ({p.returncode}) wrote no summary {path}")
            with open(path) as f:
                summaries.append(json.load(f))
        load = merge_loads(summaries)
        persisted = None
        if gw:
            # every answer is sent after its COMMIT, so the rows are in once the piles are done
            stats = {
                "writer_jobs_failed": int(gw.metric_sum("evgate_gateway_writer_jobs_failed_total")),
                "meter_values_received": int(gw.metric_sum("evgate_gateway_ocpp_messages_total",
                                                            'action="MeterValues"')),
                "calls_received": int(gw.metric_sum("evgate_gateway_ocpp_messages_total")),
            }
            # the gateway's CPU (all threads) per CALL over the whole run, boots included, and
            # over the load alone (warmup and window): the boots weigh more at low rates
            stats["cpu_us_per_call"] = round(
                cpu_s(gw.proc.pid) * 1e6 / max(1, stats["calls_received"]), 1)
            stats["cpu_us_per_call_load"] = round(
                (cpu_s(gw.proc.pid) - gw_cpu0[0]) * 1e6
                / max(1, stats["calls_received"] - gw_cpu0[1]), 1)
            persisted = dict(db_counts(gw.db), **stats)
            # the gateway's own part of each answer's time, over the load (boots apart)
            persisted["gateway_calls"] = gateway_part(calls0, gw.call_buckets())
            problems = []
            if persisted["writer_jobs_failed"]:
                problems.append(f"{persisted['writer_jobs_failed']} writer jobs failed")
            # each MeterValues of the load carries one sampled value: one row
            if persisted["meter_value_rows"] < persisted["meter_values_received"]:
                problems.append("fewer stored meter values than MeterValues received")
            if persisted["piles_seen"] < load["piles_connected"]:
                problems.append("piles without a stored last contact")
            if load["callerrors"]:
                problems.append(f"{load['callerrors']} CALLERRORs answered")
            if problems:
                raise BenchError("evgate run not all persisted: " + "; ".join(problems) +
                                 f" ({persisted}, {load})")
        return {
            "target": target,
            "piles": piles,
            "piles_connected": load["piles_connected"],
            "msg_rate": msg_rate,
            "rate_per_s": round(load["rate_per_s"], 1),
            "rtt_us": load["rtt_us"],
            "answered": load["answered"],
            "callerrors": load["callerrors"],
            "timeouts": load["timeouts"],
            "late": load["late"],
            "machine": machine,
            "persisted": persisted,
        }
    finally:
        stop_sims(sims)
        if gw:
            gw.stop()
        if peer:
            peer.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build dir")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capacity", help="idle piles held and RSS per connection")
    c.add_argument("--piles", type=int, default=19000)
    c.add_argument("--sources", help="127.x.y.z,... source addresses of the piles")
    c.add_argument("--hold", type=float, default=10, help="seconds to hold before measuring")
    s = sub.add_parser("storm", help="every pile reconnecting at once after a gateway crash")
    s.add_argument("--piles", type=int, default=20000, help="capped to the fd limit")
    s.add_argument("--rate", type=int, default=300, help="first connections per second")
    s.add_argument("--sources", help="127.x.y.z,... source addresses of the piles")
    t = sub.add_parser("throughput", help="CALLs per second and round-trip latency")
    t.add_argument("--target", choices=["evgate", "bare", "rpc"], default="evgate")
    t.add_argument("--piles", type=int, default=10000)
    t.add_argument("--duration", type=float, default=10)
    t.add_argument("--warmup", type=float, default=3)
    t.add_argument("--msg-rate", type=float, help="total paced rate (default closed loop)")
    t.add_argument("--half", action="store_true",
                   help="then again at half the measured rate, for the latency")
    t.add_argument("--procs", type=int, help="evsim-pile processes (default one per 9500)")
    a = ap.parse_args(argv)
    if a.cmd == "capacity":
        r = capacity(a.build, a.piles, a.sources.split(",") if a.sources else None, a.hold)
        print(json.dumps(r, indent=2))
        return 0
    if a.cmd == "storm":
        r = storm(a.build, a.piles, a.sources.split(",") if a.sources else None, a.rate)
        print(json.dumps(r, indent=2))
        return 0 if r["gateway_up"] and r["back_s"] is not None else 1
    r = throughput(a.build, a.target, a.piles, a.duration, a.msg_rate, a.warmup, procs=a.procs)
    print(json.dumps(r, indent=2))
    if a.half:
        h = throughput(a.build, a.target, a.piles, a.duration, r["rate_per_s"] / 2, a.warmup,
                       procs=a.procs)
        print(json.dumps(h, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
