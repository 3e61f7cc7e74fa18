#!/usr/bin/python3
"""Lag of log aggregation: from a line written on a node to the same line on the manager.

    /usr/bin/python3 bench/logs/log_lag.py [BUILD_DIR] [--seconds 20] [--sessions 10]

Starts eccmgr and three ecmta nodes on 127.0.0.2-4 and .10 (tests/integration/lib), with
journals and the Logs scope (lib/cluster_logs.py); Postfix's smtp-source injects 4 KB mail into
every node for a bounded time. A sampler polls each node's local mainlog and the manager's copy
every 5 ms and notes when each line first appears in each; the lag of a line is the difference.
Prints the line count and p50/p99/max lag. Goal (issue 7): p99 under 1 s. Loopback only; every
process is stopped by PID.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))


class Follower:
    """Reads the whole lines appended to a set of files; remembers when each first showed."""

    def __init__(self):
        self.offsets = {}
        self.seen = {}     # (line, occurrence) -> monotonic time
        self.counts = {}

    def poll(self, paths, now):
        for p in paths:
            off = self.offsets.get(p, 0)
            try:
                with open(p, "rb") as f:
                    f.seek(off)
                    data = f.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n")
            if end < 0:
                continue
            self.offsets[p] = off + end + 1
            for line in data[:end].split(b"\n"):
                n = self.counts.get(line, 0)
                self.counts[line] = n + 1
                self.seen.setdefault((line, n), now)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build/release")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--sessions", type=int, default=10)
    args = ap.parse_args()
    os.environ["EC_BINARY_DIR"] = str((ROOT / args.build).resolve())
    if not shutil.which("smtp-source"):
        sys.exit("smtp-source missing: bash scripts/install-deps.sh")
    from lib.cluster import LocalCluster
    from lib.cluster_logs import configure_logs, manager_files

    work = Path(tempfile.mkdtemp(prefix="ec-loglag."))
    cluster = LocalCluster(work, nodes=3)
    configure_logs(cluster)
    sources = []
    try:
        cluster.start()
        node_follow, mgr_follow = Follower(), Follower()
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                now = time.monotonic()
                for name, node in cluster.nodes.items():
                    node_follow.poll([node.log_path("mainlog.ec")], now)
                    mgr_follow.poll(manager_files(cluster, name), now)
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        count = int(args.seconds * 400)  # more than a node takes in that time: time bounds it
        for node in cluster.nodes.values():
            sources.append(subprocess.Popen(
                ["smtp-source", "-s", str(args.sessions), "-m", str(count), "-l", "4096",
                 "-f", "bench@example.org", "-t", "sink@example.net",
                 f"{node.host}:{node.port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(args.seconds)
        for p in sources:
            p.terminate()
        for p in sources:
            p.wait(timeout=10)
        time.sleep(3)  # let the manager catch up
        stop.set()
        sampler.join()
        lags = sorted(mgr_follow.seen[k] - t for k, t in node_follow.seen.items()
                      if k in mgr_follow.seen)
        missing = sum(1 for k in node_follow.seen if k not in mgr_follow.seen)
        print(f"lines on nodes: {len(node_follow.seen)}, on the manager: {len(lags)}, "
              f"missing: {missing}")
        print(f"lag p50 {percentile(lags, 50) * 1000:.0f} ms, p99 {percentile(lags, 99) * 1000:.0f}"
              f" ms, max {(lags[-1] if lags else float('nan')) * 1000:.0f} ms "
              f"(sampling every 5 ms; {args.sessions} sessions per node, {args.seconds:.0f} s)")
    finally:
        for p in sources:
            if p.poll() is None:
                p.kill()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
