#!/usr/bin/env python3
"""`make bench`: every benchmark of tests/bench/, each figure the median of several runs, printed
as one table with the targets of issue 8 and written as JSON.

    python3 tests/bench/bench.py [--build build] [--runs 3] [--only capacity,throughput,...]
                                 [--json build/bench.json]

The parts: capacity and throughput (bench_gateway.py: evsim-pile against evgate-gateway, and the
same load against the two peers, a bare libwebsockets server and an ocpp-rpc central system; at
half evgate's maximum rate, evgate and the bare server by turns, with the machine's busy and
stolen CPU in those runs), storm (bench_gateway.py: 20 000 piles, capped by the fd limit,
reconnecting at once after the gateway is SIGKILLed and restarted, with a new pile booting
meanwhile), import (bench_import: a 100 000-pile xlsx through the real import path), mgmt
(bench_mgmt.py: wrk against GET /api/v1/stations over 100 000 stations) and parse (bench_parse:
the throughput load's frames parsed by jansson's json_loadb and by protocol/jsonfast.c, which the
gateway uses). A part that fails prints why and leaves its figures out; the others still run.
Figures are measurements, not pass/fail tests: the status column only compares them with the
targets.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

PARTS = ("capacity", "throughput", "storm", "import", "mgmt", "parse")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def median_of(runs, *path):
    """The median over `runs` of the value at `path` (keys) in each run's dict."""
    vals = []
    for r in runs:
        v = r
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        vals.append(v)
    return median(vals)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run_capacity(args):
    import bench_gateway

    runs = []
    for i in range(args.capacity_runs):
        log(f"capacity run {i + 1}/{args.capacity_runs}: {args.capacity_piles} piles")
        runs.append(bench_gateway.capacity(args.build, piles=args.capacity_piles))
    return {
        "piles_requested": args.capacity_piles,
        "piles_connected": median_of(runs, "piles_connected"),
        "rss_idle_kib": median_of(runs, "rss_idle_kib"),
        "rss_loaded_kib": median_of(runs, "rss_loaded_kib"),
        "rss_per_conn_kib": median_of(runs, "rss_per_conn_kib"),
        "fd_limit": runs[0].get("fd_limit") if runs else None,
        "runs": runs,
    }


def run_throughput(args):
    import bench_gateway

    out = {"piles": args.piles, "duration_s": args.duration}
    for target in ("evgate", "bare", "rpc"):
        runs = []
        for i in range(args.runs):
            log(f"throughput {target} run {i + 1}/{args.runs}: {args.piles} piles, max rate")
            runs.append(
                bench_gateway.throughput(args.build, target, piles=args.piles,
                                         duration_s=args.duration))
        out[target] = {"rate_per_s": median_of(runs, "rate_per_s"),
                       "piles_connected": median_of(runs, "piles_connected"),
                       "cpu_us_per_call": median_of(runs, "persisted", "cpu_us_per_call_load"),
                       "runs": runs}
    half = out["evgate"]["rate_per_s"]
    if half:
        half = int(half / 2)
        # the floor at the same rate, each run right after evgate's: the latency that the
        # transport, the load generator and this period of the machine add before any parsing
        runs = {"evgate": [], "bare": []}
        for i in range(args.runs):
            for target, rs in runs.items():
                log(f"throughput {target} run {i + 1}/{args.runs}: {args.piles} piles at {half}/s")
                rs.append(bench_gateway.throughput(args.build, target, piles=args.piles,
                                                   duration_s=args.duration, msg_rate=half))
        for target, rs in runs.items():
            out[f"{target}_half"] = {
                "msg_rate": half,
                "rate_per_s": median_of(rs, "rate_per_s"),
                "rtt_us": {q: median_of(rs, "rtt_us", q) for q in ("p50", "p99", "p99.9")},
                "machine": {k: median_of(rs, "machine", k) for k in ("busy_pct", "steal_pct")},
                "gateway": {k: median_of(rs, "persisted", "gateway_calls", k)
                            for k in ("p99_ms", "within_pct")},
                "cpu_us_per_call": median_of(rs, "persisted", "cpu_us_per_call_load"),
                "runs": rs,
            }
    for peer in ("bare", "rpc"):
        if out["evgate"]["rate_per_s"] and out[peer]["rate_per_s"]:
            out[f"ratio_to_{peer}"] = out["evgate"]["rate_per_s"] / out[peer]["rate_per_s"]
    return out


def run_storm(args):
    import bench_gateway

    runs = []
    for i in range(args.storm_runs):
        log(f"storm run {i + 1}/{args.storm_runs}: {args.storm_piles} piles requested")
        r = bench_gateway.storm(args.build, piles=args.storm_piles)
        if r["cap_reason"]:
            log(f"storm: {r['piles']} piles, {r['cap_reason']}")
        runs.append(r)
    return {
        "piles_requested": args.storm_piles,
        "piles": runs[0]["piles"],
        "cap_reason": runs[0]["cap_reason"],
        "back_s": median_of(runs, "back_s"),
        "back_from_kill_s": median_of(runs, "back_from_kill_s"),
        "all_back": all(r["back_s"] is not None for r in runs),
        "rss_peak_kib": median_of(runs, "rss_peak_kib"),
        "gateway_up": all(r["gateway_up"] for r in runs),
        "extra_booted": all(r["extra"]["booted"] for r in runs),
        "extra_boot_s": median_of(runs, "extra", "boot_s"),
        "integrity_ok": all(r["integrity"] == ["ok"] for r in runs),
        "runs": runs,
    }


def run_c_bench(args, name, *argv):
    """Runs tests/bench/bench_NAME ARGV... --json FILE (its lines to stderr) and returns FILE."""
    exe = os.path.join(args.build, "tests", "bench", f"bench_{name}")
    with tempfile.TemporaryDirectory(prefix=f"evgate-bench-{name}-") as tmp:
        path = os.path.join(tmp, f"{name}.json")
        subprocess.run([exe, *map(str, argv), "--json", path], check=True, stdout=sys.stderr)
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def run_import(args):
    log(f"import: {args.import_piles} piles, {args.runs} runs")
    return run_c_bench(args, "import", args.import_piles, args.runs)


def run_mgmt(args):
    import bench_mgmt

    log(f"mgmt: {args.stations} stations, {args.runs} runs")
    return bench_mgmt.run(args.build, runs=args.runs, stations=args.stations,
                          duration_s=args.duration)


def run_parse(args):
    log(f"parse: {args.runs} runs")
    return run_c_bench(args, "parse", args.runs)


RUNNERS = {"capacity": run_capacity, "throughput": run_throughput, "storm": run_storm,
           "import": run_import, "mgmt": run_mgmt, "parse": run_parse}


def fmt(v, spec=",.0f", unit=""):
    if v is None:
        return "-"
    return f"{format(v, spec)}{unit}"


def verdict(v, ok):
    if v is None:
        return "not measured"
    return "met" if ok(v) else "MISSED"


def latency(part):
    """"p50/p99/p99.9 ms" of a paced throughput part."""
    r = part["rtt_us"]
    return "/".join(fmt(r[q] / 1000 if r[q] is not None else None, ".2f")
                    for q in ("p50", "p99", "p99.9")) + " ms"


def machine(part):
    """"busy/stolen %" of the machine (bench_gateway.machine_cpu_pct) in a part's runs."""
    if not part:
        return "-"
    m = part["machine"]
    return f"{fmt(m['busy_pct'], '.0f')}/{fmt(m['steal_pct'], '.1f')} %"


def table(res):
    """Rows of (figure, value, target, status)."""
    rows = []
    c = res.get("capacity")
    if c:
        rows.append(("capacity: piles connected", f"{fmt(c['piles_connected'])} of "
                     f"{fmt(c['piles_requested'])} (fd limit {fmt(c['fd_limit'])})",
                     "100 000", verdict(c["piles_connected"], lambda v: v >= 100000)))
        rows.append(("capacity: gateway RSS per connection", fmt(c["rss_per_conn_kib"], ".2f",
                                                                 " KiB"), "<= 10 KiB",
                     verdict(c["rss_per_conn_kib"], lambda v: v <= 10)))
    t = res.get("throughput")
    if t:
        e = t["evgate"]["rate_per_s"]
        conn = lambda k: f" ({fmt(t[k].get('piles_connected'))} of {fmt(t['piles'])} piles)"
        rows.append(("throughput: evgate" + conn("evgate"), fmt(e, unit=" msg/s"),
                     ">= 50 000 msg/s", verdict(e, lambda v: v >= 50000)))
        h, hb = t.get("evgate_half"), t.get("bare_half")
        if t["evgate"].get("cpu_us_per_call") is not None:
            rows.append(("  gateway CPU a CALL in the load: at the maximum, at half rate",
                         f"{fmt(t['evgate']['cpu_us_per_call'], '.1f')}, "
                         f"{fmt(h.get('cpu_us_per_call') if h else None, '.1f', ' µs')}", "", ""))
        if h:
            rows.append((f"latency at {fmt(h['msg_rate'])} msg/s: p50/p99/p99.9", latency(h),
                         "p99 < 20 ms", verdict(h["rtt_us"]["p99"], lambda v: v < 20000)))
        if h and h["gateway"]["p99_ms"] is not None:
            g = h["gateway"]
            rows.append(("  of it in the gateway, frame to answer: p99, share within 20 ms",
                         f"{fmt(g['p99_ms'], '.1f', ' ms')}, {fmt(g['within_pct'], '.1f', ' %')}",
                         "", ""))
        if hb:
            rows.append(("  the bare floor at that rate, run after each", latency(hb), "", ""))
            rows.append(("  machine busy/stolen CPU in those runs: evgate, floor",
                         f"{machine(h)}, {machine(hb)}", "", ""))
        rows.append(("peer: bare libwebsockets (floor)" + conn("bare"),
                     fmt(t["bare"]["rate_per_s"], unit=" msg/s"), "", ""))
        rows.append(("peer: ocpp-rpc strict + SQLite" + conn("rpc"),
                     fmt(t["rpc"]["rate_per_s"], unit=" msg/s"), "", ""))
        rows.append(("evgate / bare floor", fmt(t.get("ratio_to_bare"), ".2f"), ">= 0.70",
                     verdict(t.get("ratio_to_bare"), lambda v: v >= 0.7)))
        rows.append(("evgate / ocpp-rpc", fmt(t.get("ratio_to_rpc"), ".1f", "x"), ">= 5x",
                     verdict(t.get("ratio_to_rpc"), lambda v: v >= 5)))
    s = res.get("storm")
    if s:
        cap = f" (capped: fd limit)" if s["cap_reason"] else ""
        rows.append((f"storm: {fmt(s['piles'])} of {fmt(s['piles_requested'])} piles{cap} back "
                     "after a crash", fmt(s["back_s"], ".1f", " s") +
                     f" after restart ({fmt(s['back_from_kill_s'], '.1f', ' s')} after kill)",
                     "all back, no crash",
                     "met" if s["all_back"] and s["gateway_up"] else "MISSED"))
        rows.append(("storm: gateway peak RSS", fmt(s["rss_peak_kib"] / 1024 if s["rss_peak_kib"]
                                                     else None, ".0f", " MiB"), "", ""))
        rows.append(("storm: extra pile booted during it", "yes, after " +
                     fmt(s["extra_boot_s"], ".2f", " s") if s["extra_booted"] else "no",
                     "answered", "met" if s["extra_booted"] else "MISSED"))
        rows.append(("storm: database integrity_check", "ok" if s["integrity_ok"] else "FAILED",
                     "ok", "met" if s["integrity_ok"] else "MISSED"))
    i = res.get("import")
    if i:
        rows.append((f"import: {fmt(i['piles'])} piles = {fmt(i['rows'])} rows",
                     f"{fmt(i['seconds_median'], '.2f', ' s')}, {fmt(i['rows_per_s'], unit=' rows/s')}",
                     "< 5 s", verdict(i["seconds_median"], lambda v: v < 5)))
    m = res.get("mgmt")
    if m:
        rows.append((f"mgmt: station list, {fmt(m['stations'])} stations, {m['connections']} "
                     "clients", fmt(m["rps"], unit=" req/s"), ">= 5 000 req/s",
                     verdict(m["rps"], lambda v: v >= 5000)))
        rows.append(("mgmt: station list p99", fmt(m["p99_ms"], ".1f", " ms"), "< 50 ms",
                     verdict(m["p99_ms"], lambda v: v < 50)))
    p = res.get("parse")
    if p:
        rows.append(("parse: a frame of the load, json_loadb / jsonfast_loadb",
                     f"{fmt(p['jansson_us'], '.2f')} / {fmt(p['jsonfast_us'], '.2f', ' µs')} "
                     f"({fmt(p['ratio'], '.1f', 'x')})", "", ""))
    return rows


def print_table(res):
    rows = [("figure", "value (median)", "target", "status")] + table(res)
    w = [max(len(r[k]) for r in rows) for k in range(4)]
    print(f"evgate benchmarks, {res['cores']} cores, {res['date']}, {res['commit']}")
    for n, r in enumerate(rows):
        print("  ".join(r[k].ljust(w[k]) for k in range(4)).rstrip())
        if n == 0:
            print("  ".join("-" * w[k] for k in range(4)))
    for part, why in res["failed"].items():
        print(f"{part}: FAILED: {why}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    ap.add_argument("--only", default=",".join(PARTS), help="comma-separated: " + ",".join(PARTS))
    ap.add_argument("--json", default=None, help="where to write the results (default "
                    "BUILD/bench.json)")
    ap.add_argument("--piles", type=int, default=10000, help="throughput: connected piles")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    ap.add_argument("--capacity-piles", type=int, default=None,
                    help="capacity: piles to connect (default: what the fd limit allows)")
    ap.add_argument("--capacity-runs", type=int, default=1)
    ap.add_argument("--storm-piles", type=int, default=20000,
                    help="storm: piles (capped to what the fd hard limit allows, printed)")
    ap.add_argument("--storm-runs", type=int, default=1)
    ap.add_argument("--import-piles", type=int, default=100000)
    ap.add_argument("--stations", type=int, default=100000)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    parts = [p for p in args.only.split(",") if p]
    for p in parts:
        if p not in PARTS:
            ap.error(f"--only: unknown part {p!r} (parts: {', '.join(PARTS)})")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if args.capacity_piles is None:
        # the gateway keeps a few hundred descriptors for itself (listeners, database, pipes)
        args.capacity_piles = max(100, min(100000, hard - 500))

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    res = {"cores": os.cpu_count(), "date": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%d %H:%M UTC"), "commit": commit, "fd_hard_limit": hard,
           "runs": args.runs, "failed": {}}
    for p in parts:
        t0 = time.monotonic()
        try:
            res[p] = RUNNERS[p](args)
        except Exception as e:  # a part's failure is reported; the other parts still run
            res["failed"][p] = f"{type(e).__name__}: {e}"
            log(f"{p} failed: {res['failed'][p]}")
        log(f"{p}: {time.monotonic() - t0:.0f} s")
    out = args.json or os.path.join(args.build, "bench.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
    print_table(res)
    print(f"(JSON: {out})")
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
