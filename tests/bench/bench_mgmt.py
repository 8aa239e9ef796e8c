"""mgmt benchmark (issue 8): GET /api/v1/stations with filters over many stations under 64
concurrent clients, measured with wrk. Standard library only; needs `wrk` on the PATH.

    python3 tests/bench/bench_mgmt.py --build build [--runs 3] [--stations 100000] [--duration 10]

run() returns {"rps", "p99_ms", "p50_ms", "runs": [...], "stations", "connections"}: the medians of
`runs` wrk runs. A run where any answer was not 200 is an error, not a figure.

The stations are seeded with SQL in one transaction (creating 100 000 through the API would take
longer than the benchmark), copying the `data` of a station created through the API so that the
rows look like the API's own. Callers authenticate with API tokens (POST /api/v1/auth/tokens), as
a script would. mgmt logs to a file, as a deployed daemon would, not to a pipe we parse."""

import argparse
import json
import os
import random
import resource
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402  (stdlib-only helpers of the integration tests)

CONNECTIONS = 64
THREADS = 2
OPERATORS = 8
# GB/T 2260 districts of a few Guangdong cities; Zhongshan (442000) has no districts.
AREAS = ["442000", "440103", "440104", "440106", "440113", "440303", "440304", "440305",
         "440306", "440604", "440605", "441302", "441303", "441900"]
STATUSES = ["draft", "submitted", "accessed", "accessed", "accessed", "rejected"]
DISTRICT_WORDS = ["东区", "石岐", "西区", "南区", "火炬", "小榄", "古镇", "横栏", "沙溪", "坦洲"]
KINDS = ["公交充电站", "社区充电站", "商场充电站", "停车场充电站", "高速服务区充电站"]
STATION_TYPES = [1, 1, 1, 50, 100, 255]


class Mgmt:
    """evgate-mgmt on a free loopback port with a fresh database under `dir`."""

    def __init__(self, build_dir, dir, extra_env=None):
        self.dir = dir
        self.port = harness.free_port()
        self.db = os.path.join(dir, "evgate.db")
        env = dict(os.environ)
        env.update({
            "EVGATE_DB": self.db,
            "EVGATE_DATA_DIR": os.path.join(dir, "data") + "/",
            "EVGATE_MGMT_LISTEN": "127.0.0.1:%d" % self.port,
            "EVGATE_ADMIN_PASSWORD": harness.ADMIN_PASSWORD,
            "EVGATE_WEB_DIR": os.path.join(harness.SRC, "mgmt", "web"),
            "EVGATE_LOG_LEVEL": "info",
            "EVGATE_AREA_CODE_PREFIXES": "44",
        })
        env.update(extra_env or {})
        self.log_path = os.path.join(dir, "mgmt.log")
        self.proc = subprocess.Popen([os.path.join(build_dir, "mgmt", "evgate-mgmt")], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._log = open(self.log_path, "wb")
        for raw in self.proc.stdout:  # ready when it logs `listening`
            self._log.write(raw)
            if re.search(rb" info \S+ listening ", raw):
                break
        else:
            self._log.close()
            raise RuntimeError("evgate-mgmt did not start:\n" + open(self.log_path).read())
        # from here on the log is only copied, never parsed
        self._copier = threading.Thread(target=shutil.copyfileobj,
                                        args=(self.proc.stdout, self._log), daemon=True)
        self._copier.start()

    def mgmt(self):
        """A harness.Client for this daemon (what harness.active_operator expects)."""
        return harness.Client("127.0.0.1", self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._copier.join(5)
        self._log.close()


def api_token(client):
    r = client.post("/api/v1/auth/tokens", {"name": "bench"})
    if r.status != 201 and r.status != 200:
        raise RuntimeError("token creation failed: %r" % r)
    return r.json()["token"]


def seed(mgmt, n):
    """Creates OPERATORS active operators and one station each through the API, then `n`
    stations in all with SQL in one transaction. Returns (admin_token, [(account_id, token)])."""
    admin = harness.admin_client(mgmt)
    ops = []
    template = None
    for i in range(OPERATORS):
        op = harness.active_operator(mgmt, admin)
        body = harness.station_body("BENCH%02d" % i)
        r = op.post("/api/v1/stations", body)
        if r.status != 201:
            raise RuntimeError("station creation failed: %r" % r)
        ops.append((op.account["id"], api_token(op)))
    rng = random.Random(8)
    con = sqlite3.connect(mgmt.db, timeout=30)
    try:
        template = json.loads(con.execute("SELECT data FROM stations LIMIT 1").fetchone()[0])
        now = int(con.execute("SELECT max(created_at) FROM stations").fetchone()[0])
        con.execute("BEGIN")
        apps = {}
        for acct, _ in ops:
            for st, app in (("submitted", "submitted"), ("accessed", "approved"),
                            ("rejected", "rejected")):
                cur = con.execute(
                    "INSERT INTO access_applications (account_id, status, created_at, updated_at,"
                    " submitted_at) VALUES (?, ?, ?, ?, ?)", (acct, app, now, now, now))
                apps[(acct, st)] = cur.lastrowid
        have = con.execute("SELECT count(*) FROM stations").fetchone()[0]
        rows = []
        for i in range(have, n):
            acct = ops[i % len(ops)][0]
            area = AREAS[rng.randrange(len(AREAS))]
            status = STATUSES[rng.randrange(len(STATUSES))]
            name = "中山市%s%s%d号%s" % (DISTRICT_WORDS[rng.randrange(len(DISTRICT_WORDS))],
                                     "路", rng.randrange(1, 400),
                                     KINDS[rng.randrange(len(KINDS))])
            stype = STATION_TYPES[rng.randrange(len(STATION_TYPES))]
            sid = "ST%08d" % i
            d = dict(template)
            d.update({"station_id": sid, "name": name, "area_code": area, "station_type": stype,
                      "park_nums": rng.randrange(2, 200),
                      "lng": round(113.2 + rng.random() * 0.4, 6),
                      "lat": round(22.3 + rng.random() * 0.4, 6)})
            t = now - rng.randrange(0, 86400 * 365)
            rows.append((acct, sid, status, apps.get((acct, status)), name, area, stype,
                         json.dumps(d, ensure_ascii=False, separators=(",", ":")), t, t))
        con.executemany(
            "INSERT INTO stations (account_id, station_id, status, application_id, name,"
            " area_code, station_type, data, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.commit()
    finally:
        con.close()
    return api_token(admin), ops


def requests_of(admin_token, ops):
    """The rotation of (path, token): what the station list page and scripts ask for."""
    out = []
    for acct, tok in ops:
        for q in ("", "?page=2", "?page=5", "?area_code=4420", "?area_code=4403",
                  "?area_code=440304&status=accessed", "?status=draft", "?status=accessed&page=3",
                  "?name=" + harness.urllib.parse.quote("石岐"),
                  "?name=" + harness.urllib.parse.quote("公交") + "&area_code=44",
                  "?station_id=ST%08d" % (acct * 7 % 1000), "?station_type=50",
                  "?page_size=50", "?page_size=100&page=2"):
            out.append(("/api/v1/stations" + q, tok))
    for acct, _ in ops[:4]:
        for q in ("?account_id=%d" % acct, "?account_id=%d&status=submitted" % acct):
            out.append(("/api/v1/stations" + q, admin_token))
    for q in ("", "?page=10", "?area_code=440106", "?status=rejected&area_code=4413",
              "?name=" + harness.urllib.parse.quote("小榄"), "?station_id=ST00000042"):
        out.append(("/api/v1/stations" + q, admin_token))
    return out


LUA = r"""
local reqs = {
%s
}
local i = 0
non200 = 0
local statuses = {}
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  i = offset or 0
end

function request()
  i = i + 1
  local r = reqs[(i %% #reqs) + 1]
  return wrk.format("GET", r[1], {["Authorization"] = "Bearer " .. r[2]})
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + (t:get("non200") or 0)
  end
  io.write(string.format("NON200 %%d\n", n))
end
"""


def write_lua(path, reqs):
    lines = ",\n".join('  {"%s", "%s"}' % (p, t) for p, t in reqs)
    with open(path, "w") as f:
        f.write(LUA % lines)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def latency_ms(out, pct):
    """The `pct`% line of wrk's "Latency Distribution" (--latency), in ms."""
    m = re.search(r"^\s+%d%%\s+([\d.]+)(us|ms|s|m)\s*$" % pct, out, re.M)
    return float(m.group(1)) * _UNIT_MS[m.group(2)] if m else None


def parse_wrk(out):
    """Requests/s, p50 and p99 (ms) and the non-200 count from wrk's output."""
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"NON200 (\d+)", out)
    p50, p99 = latency_ms(out, 50), latency_ms(out, 99)
    if not m or not n or p50 is None or p99 is None:
        raise RuntimeError("cannot read wrk's output:\n" + out)
    t = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {"rps": float(m.group(1)), "p50_ms": p50, "p99_ms": p99, "non200": int(n.group(1)),
            "timeouts": int(t.group(1)) if t else 0}


def proc_cpu_s(pid):
    """User + system CPU seconds a process has used (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port, lua, duration_s, mgmt_pid):
    """wrk's output, and the CPU seconds mgmt and wrk used during the run. On a shared machine
    the wall-clock rate depends on what else runs; the CPU time per request much less."""
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS, "-d%ds" % duration_s, "--latency",
           "-s", lua, "http://127.0.0.1:%d" % port]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mgmt_before = proc_cpu_s(mgmt_pid)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=duration_s + 60)
    mgmt_cpu = proc_cpu_s(mgmt_pid) - mgmt_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("wrk failed (%d):\n%s" % (p.returncode, p.stdout))
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout, mgmt_cpu, wrk_cpu


def run(build_dir, runs=3, stations=100000, duration_s=10, extra_env=None, keep=False):
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    harness.BUILD = build_dir
    dir = tempfile.mkdtemp(prefix="evgate-bench-mgmt-")
    mgmt = None
    try:
        mgmt = Mgmt(build_dir, dir, extra_env)
        admin_token, ops = seed(mgmt, stations)
        reqs = requests_of(admin_token, ops)
        # every request of the rotation answers 200 before anything is measured
        for path, tok in reqs:
            c = mgmt.mgmt()
            c.bearer = tok
            r = c.get(path)
            if r.status != 200:
                raise RuntimeError("%s answered %r" % (path, r))
        lua = os.path.join(dir, "stations.lua")
        write_lua(lua, reqs)
        results = []
        for _ in range(runs):
            out, mgmt_cpu, wrk_cpu = wrk(mgmt.port, lua, duration_s, mgmt.proc.pid)
            res = parse_wrk(out)
            n = re.search(r"(\d+) requests in", out)
            reqs_done = int(n.group(1)) if n else 0
            if reqs_done:
                res["mgmt_cpu_us_per_req"] = mgmt_cpu * 1e6 / reqs_done
                res["wrk_cpu_us_per_req"] = wrk_cpu * 1e6 / reqs_done
                # what the two cores could carry if mgmt and wrk had them to themselves
                res["cpu_bound_rps"] = (os.cpu_count() * 1e6 /
                                        (res["mgmt_cpu_us_per_req"] + res["wrk_cpu_us_per_req"]))
            if res["non200"]:
                raise RuntimeError("%d answers were not 200: not a figure" % res["non200"])
            results.append(res)
        return {"rps": statistics.median(r["rps"] for r in results),
                "p99_ms": statistics.median(r["p99_ms"] for r in results),
                "p50_ms": statistics.median(r["p50_ms"] for r in results),
                "cpu_bound_rps": statistics.median(r.get("cpu_bound_rps", 0) for r in results),
                "runs": results, "stations": stations, "connections": CONNECTIONS,
                "requests_in_rotation": len(reqs)}
    finally:
        if mgmt:
            mgmt.stop()
        if keep:
            print("kept", dir, file=sys.stderr)
        else:
            shutil.rmtree(dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--stations", type=int, default=100000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--json", help="also write the result to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    res = run(os.path.abspath(a.build), a.runs, a.stations, a.duration, keep=a.keep)
    print("mgmt GET /api/v1/stations: %d stations, %d connections, %d cores"
          % (res["stations"], res["connections"], os.cpu_count()))
    for i, r in enumerate(res["runs"]):
        print("  run %d: %.0f req/s  p50 %.2f ms  p99 %.2f ms  cpu/request: mgmt %.0f us, wrk %.0f us"
              " (%.0f req/s if they had the %d cores alone)%s"
              % (i + 1, r["rps"], r["p50_ms"], r["p99_ms"], r.get("mgmt_cpu_us_per_req", 0),
                 r.get("wrk_cpu_us_per_req", 0), r.get("cpu_bound_rps", 0), os.cpu_count(),
                 "  %d requests timed out (wrk: 2 s), not in the latencies" % r["timeouts"]
                 if r["timeouts"] else ""))
    print("median: %.0f req/s  p50 %.2f ms  p99 %.2f ms  (target >= 5000 req/s, p99 < 50 ms)"
          % (res["rps"], res["p50_ms"], res["p99_ms"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
