#!/usr/bin/python3
"""Cluster-wide outbound limits on loopback: overshoot, replication lag, CPU, a long throttle.

    bench/cluster/run.sh [BUILD_DIR] [--sizes 3,10] [--limit 12] [--quick] [--json F]

For each cluster size: eccmgr and N ecmta nodes (tests/integration/lib/cluster.py LocalCluster,
nodes on 127.0.0.2.., each sending from its own address) and one counting sink on 127.0.0.1
that holds its reply to every DATA (lib/counting_sink.py), then:
  overshoot  every node loaded at once for limited.test (cluster_max_outbound_connections =
             --limit, node-local max 20): the sink's peak concurrent connections; then kill -9
             of one node (not the leader) a third of the way in: the peak after the kill, and
             how long the survivors take to hold the whole limit again;
  lag        `cluster shared stats` of every node under that load (just before the kill):
             reports/grants per second and the replication lag p50/p99 (receiver's clock
             minus the sender's stamp);
  cpu        a steady load (--rate messages/s per node for --cpu-seconds) with the limit and
             Replicate, and the same without any cluster_* option: each ecmta's CPU seconds
             (/proc/<pid>/stat utime+stime) over that interval, and bus messages/s;
and once, on 3 nodes, the throttle "300/60" (Replicate OBTM): ~400 messages, the most the sink
accepted in any 60 s window.

Bounded: fixed message counts, each wait against a deadline, --max-seconds for the whole run.
Every process it starts is stopped by PID and its temp dir removed on every exit path.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from lib import procs  # noqa: E402
from lib.cluster import LocalCluster, free_port_on, smtp_routes  # noqa: E402
from lib.counting_sink import CountingSink  # noqa: E402
from lib.mail_load import ConcurrencySampler, inject, per_source, send_batch  # noqa: E402

SINK_HOST = "127.0.0.1"
MANAGER_ADDRESS = "127.0.0.100"  # clear of the nodes' 127.0.0.2.. even with 10 nodes
LOCAL_MAX = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
DEADLINE = [float("inf")]


def check_deadline():
    if time.monotonic() > DEADLINE[0]:
        raise TimeoutError("--max-seconds reached")


def wait_for(pred, timeout, what):
    return procs.wait_for(lambda: check_deadline() or pred(), timeout=timeout, interval=0.1,
                          what=what)


def cluster_options(limits):
    if not limits:
        return ""
    return ('Replicate "outbound_domains" { max_delay = 0.2 } '
            'Replicate "OBTM" { max_delay = 0.2 }')


def domains(limit, throttle):
    d = {"limited.test": {"max_outbound_connections": LOCAL_MAX}}
    if limit:
        d["limited.test"]["cluster_max_outbound_connections"] = limit
    if throttle:
        d["throttled.test"] = {"max_outbound_connections": LOCAL_MAX,
                               "cluster_outbound_throttle_messages": f'"{throttle}"'}
    return d


class Bench:
    """One cluster of `size` nodes and its sink's port, started and stopped as a unit."""

    def __init__(self, work, size, port, limit=None, throttle=None):
        self.dir = Path(tempfile.mkdtemp(prefix=f"n{size}-", dir=work))
        self.cluster = LocalCluster(
            self.dir, nodes=size, cluster_options=cluster_options(limit or throttle),
            node_config=smtp_routes(domains(limit, throttle), SINK_HOST, port),
            bind_outbound=True, addresses={"manager": MANAGER_ADDRESS})

    def __enter__(self):
        try:
            self.cluster.start()
            self.cluster.wait_converged(timeout=60)
        except BaseException:
            self.cluster.stop()
            raise
        return self.cluster

    def __exit__(self, *exc):
        self.cluster.stop()


# -- overshoot and lag ------------------------------------------------------------------------
def delivered(c, sink, sent):
    """True when the sink holds what each of `sent`'s nodes was given and their spools are
    empty."""
    got = per_source(sink)
    return all(got.get(c.addresses[n], 0) >= k for n, k in sent.items()) and \
        all(c.nodes[n].summary_value("Queued") == 0 for n in sent)


def overshoot(work, size, port, limit, quick):
    # About 10 s of work at the limit: each connection carries ~1/hold messages per second.
    hold = 0.25
    per_node = max(20, int(limit / hold * (5 if quick else 10) / size))
    victim = f"node{size}"  # the highest name: never the leader
    with Bench(work, size, port, limit=limit) as c, \
            CountingSink(host=SINK_HOST, port=port, data_delay=hold) as sink:
        live = {c.addresses[n] for n in c.names if n != victim}
        t0 = time.monotonic()
        sent = inject(c.nodes, "r@limited.test", per_node=per_node, tag="o")
        total = sum(sent.values())
        wait_for(lambda: sink.count() >= total // 3, 120, "a third at the sink")
        # Under full load, before the kill: the rates are the sharing's busiest.
        stats = {n: node.console("cluster shared stats", check=False)
                 for n, node in c.nodes.items()}
        with ConcurrencySampler(sink, live) as sampler:
            c.nodes[victim].kill9()
            t_kill = time.monotonic()
            with sink.lock:  # from now on .peak is the peak since the kill
                before = sink.peak
                sink.peak = sink.current
            survivors = {n: k for n, k in sent.items() if n != victim}
            wait_for(lambda: delivered(c, sink, survivors), 180, "the survivors' mail")
            t_end = time.monotonic()
        after = sink.peak
        got = per_source(sink)
    reached = sampler.first_reaching(limit, since=t_kill)
    return {
        "size": size, "limit": limit, "messages": total, "hold_s": hold,
        "peak_before_kill": before, "peak_after_kill": after,
        "peak_survivors_after_kill": sampler.peak_since(t_kill),
        "refill_s": None if reached is None else round(reached - t_kill, 3),
        "duplicates": sum(got.get(c.addresses[n], 0) - k for n, k in survivors.items()),
        "seconds": round(t_end - t0, 1),
        "lag": parse_stats(stats),
    }


# `cluster shared stats` (mta/cluster/shared_commands.cc): rates are over the last 10 s, the lag
# over the last samples.
REPORTS = re.compile(r"Reports: sent (\d+) \(([\d.]+)/s\), received (\d+) \(([\d.]+)/s\)")
GRANTS = re.compile(r"Grants: sent (\d+) \(([\d.]+)/s, \d+ grants\), received (\d+) "
                    r"\(([\d.]+)/s\)")
LAG = re.compile(r"Replication lag: p50 (\d+) ms, p99 (\d+) ms")


def parse_stats(stats):
    """{node: {...}} from each node's `cluster shared stats` text (None where a line is
    missing; the raw text is kept)."""
    out = {}
    for node, text in stats.items():
        r, g, lag = REPORTS.search(text), GRANTS.search(text), LAG.search(text)
        out[node] = {
            "lag_p50_ms": int(lag.group(1)) if lag else None,
            "lag_p99_ms": int(lag.group(2)) if lag else None,
            "reports_sent": int(r.group(1)) if r else None,
            "reports_sent_per_s": float(r.group(2)) if r else None,
            "reports_received_per_s": float(r.group(4)) if r else None,
            "grants_sent": int(g.group(1)) if g else None,
            "grants_sent_per_s": float(g.group(2)) if g else None,
            "grants_received_per_s": float(g.group(4)) if g else None,
            "raw": text.strip(),
        }
    return out


def bus_messages(stats):
    """Reports and grants sent so far, summed over the nodes."""
    return sum((v["reports_sent"] or 0) + (v["grants_sent"] or 0) for v in stats.values())


# -- CPU -------------------------------------------------------------------------------------------
def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def steady_load(nodes, rate, seconds, tag):
    """Each node gets `rate` messages/s (a session each) for `seconds`; returns the count."""
    count = int(rate * seconds)
    errors, threads = [], []

    def paced(name, node):
        start = time.monotonic()
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            send_batch(node, "r@limited.test", tag, name, [i], errors)

    for name, node in nodes.items():
        threads.append(threading.Thread(target=paced, args=(name, node)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    if errors:
        raise RuntimeError("load failed: " + "; ".join(errors[:5]))
    return count * len(nodes)


def cpu(work, size, port, limit, limits_on, rate, seconds):
    with Bench(work, size, port, limit=limit if limits_on else None) as c, \
            CountingSink(host=SINK_HOST, port=port, data_delay=0.05) as sink:
        pids = {n: node.process.pid for n, node in c.nodes.items()}

        def stats():
            return parse_stats({n: node.console("cluster shared stats", check=False)
                                for n, node in c.nodes.items()}) if limits_on else {}
        stats0 = stats()
        before = {n: cpu_seconds(p) for n, p in pids.items()}
        t0 = time.monotonic()
        sent = steady_load(c.nodes, rate, seconds, "c")
        t1 = time.monotonic()
        after = {n: cpu_seconds(p) for n, p in pids.items()}
        stats1 = stats()
        wait_for(lambda: sink.count() >= sent, 120, "the CPU load at the sink")
    used = [after[n] - before[n] for n in pids]
    # The stats read before and after take a moment each: the rate is over about the interval.
    bus = (bus_messages(stats1) - bus_messages(stats0)) / (t1 - t0)
    return {"size": size, "limits": limits_on, "interval_s": round(t1 - t0, 2),
            "messages": sent, "cpu_total_s": round(sum(used), 3),
            "cpu_per_node_s": round(statistics.mean(used), 3),
            "cpu_max_node_s": round(max(used), 3),
            "bus_messages_per_s": round(bus, 1) if limits_on else 0.0, "lag": stats1}


# -- the long throttle ------------------------------------------------------------------------
def throttle(work, port, quick):
    rate, window = (60, 12) if quick else (300, 60)
    per_node = (rate + rate // 3) // 3 + 1  # a third more than one window holds
    with Bench(work, 3, port, throttle=f"{rate}/{window}") as c, \
            CountingSink(host=SINK_HOST, port=port, data_delay=0.0) as sink:
        t0 = time.monotonic()
        sent = inject(c.nodes, "r@throttled.test", per_node=per_node, tag="t")
        wait_for(lambda: delivered(c, sink, sent), window * 2 + 60, "the throttled mail")
        t_end = time.monotonic()
        times = sink.accept_times()
        got = per_source(sink)
    total = sum(sent.values())
    return {"throttle": f"{rate}/{window}", "messages": total,
            "max_in_window": CountingSink.max_in_window(times, float(window)),
            "first_window_s": round(times[min(rate, len(times)) - 1] - t0, 1),
            "all_s": round(t_end - t0, 1),
            "duplicates": sum(got.values()) - total}


# -- report ---------------------------------------------------------------------------------------
def pct(values, p):
    v = sorted(x for x in values if x is not None)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else None


def table(results):
    lines = ["overshoot (peak concurrent connections at the sink)",
             "  nodes limit msgs  before-kill after-kill survivors refill-s dups  lag p50/p99 ms"]
    for r in results["overshoot"]:
        p50 = pct([v["lag_p50_ms"] for v in r["lag"].values()], 50)
        p99 = max([v["lag_p99_ms"] for v in r["lag"].values() if v["lag_p99_ms"] is not None],
                  default=None)
        lines.append(f"  {r['size']:>5} {r['limit']:>5} {r['messages']:>5} "
                     f"{r['peak_before_kill']:>11} {r['peak_after_kill']:>10} "
                     f"{r['peak_survivors_after_kill']:>9} {str(r['refill_s']):>8} "
                     f"{r['duplicates']:>4}  "
                     f"{p50}/{p99}")
    lines.append("cpu (ecmta CPU seconds over the interval, all nodes)")
    lines.append("  nodes limits interval msgs  cpu-total cpu/node cpu-max bus-msg/s")
    for r in results["cpu"]:
        lines.append(f"  {r['size']:>5} {str(r['limits']):>6} {r['interval_s']:>8} "
                     f"{r['messages']:>5} {r['cpu_total_s']:>10} {r['cpu_per_node_s']:>8} "
                     f"{r['cpu_max_node_s']:>7} {r['bus_messages_per_s']:>9}")
    t = results.get("throttle")
    if t:
        lines.append(f"throttle {t['throttle']} on 3 nodes: {t['messages']} messages, most in "
                     f"one window {t['max_in_window']}, first window filled after "
                     f"{t['first_window_s']} s, all after {t['all_s']} s, "
                     f"duplicates {t['duplicates']}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--sizes", default="3,10")
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--rate", type=float, default=4.0, help="CPU phase: messages/s per node")
    ap.add_argument("--cpu-seconds", type=float, default=15.0)
    ap.add_argument("--skip", default="", help="comma list of overshoot,cpu,throttle")
    ap.add_argument("--quick", action="store_true", help="smaller loads, throttle 60/12")
    ap.add_argument("--json", default=None)
    ap.add_argument("--max-seconds", type=float, default=1200)
    args = ap.parse_args()
    os.environ["EC_BINARY_DIR"] = os.path.abspath(args.build)
    DEADLINE[0] = time.monotonic() + args.max_seconds
    sizes = [int(s) for s in args.sizes.split(",") if s]
    skip = set(args.skip.split(","))
    if args.quick:
        args.cpu_seconds = min(args.cpu_seconds, 6.0)
    out = args.json or f"/tmp/ecbench-cluster-{time.strftime('%Y%m%dT%H%M%S')}.json"
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "host": os.uname().nodename,
               "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "args": vars(args),
               "overshoot": [], "cpu": [], "throttle": None}
    work = tempfile.mkdtemp(prefix="ecbench-cluster-")
    try:
        port = free_port_on([SINK_HOST])
        for size in sizes:
            if "overshoot" not in skip:
                print(f"overshoot, {size} nodes ...", flush=True)
                results["overshoot"].append(overshoot(work, size, port, args.limit, args.quick))
            if "cpu" not in skip:
                for on in (True, False):
                    print(f"cpu, {size} nodes, limits {'on' if on else 'off'} ...", flush=True)
                    results["cpu"].append(cpu(work, size, port, args.limit, on, args.rate,
                                              args.cpu_seconds))
        if "throttle" not in skip:
            print("throttle on 3 nodes ...", flush=True)
            results["throttle"] = throttle(work, port, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with open(out, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
