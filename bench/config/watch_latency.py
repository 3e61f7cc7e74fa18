"""Benchmark: commit-to-applied latency of `eccfg pull --watch` on N working copies (issue 5).

    EC_BINARY_DIR=build/release EC_SOURCE_DIR=. /usr/bin/python3 \
        bench/config/watch_latency.py --nodes 3 10 --commits 30

A real ecconfigd and N bootstrapped working copies in a temp dir on 127.0.0.1, each with an
`eccfg pull --watch` (default validator: ecmta --check-config; no ecmta runs, so no reload). Each
round one more commit lands through eccfg commit; the latency of a node is the time from the
commit command returning to that node's working copy showing the new value. Prints p50, p99 and
max over all (round, node) pairs. Bounded: --commits rounds, 10 s per round at most.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration", "config"))
from config_env import ECCFG, Cluster, conf, edit_line  # noqa: E402


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def run(n, commits):
    root = Path(tempfile.mkdtemp(prefix="ec_config_bench."))
    nodes = ["n%d" % i for i in range(1, n + 1)]
    editor = "editor"
    c = Cluster(root, nodes=nodes + [editor])
    watchers = []
    try:
        for node in nodes:
            out = open(root / ("watch-%s.out" % node), "w")
            watchers.append((subprocess.Popen(
                [str(ECCFG), "pull", "--watch", "--wait", "30", "--wc", str(c.wc(node))],
                stdout=out, stderr=subprocess.STDOUT), out))
        deadline = time.monotonic() + 30
        while not all((root / ("watch-%s.out" % x)).read_text().startswith("Already")
                      for x in nodes):
            assert time.monotonic() < deadline, "watchers did not start"
            time.sleep(0.02)
        latencies = []
        for r in range(commits):
            value = "bench-%d" % r
            edit_line(c, editor, 0, "option1 = " + value)
            c.commit(editor, "round %d" % r)
            t0 = time.monotonic()
            pending = set(nodes)
            while pending:
                assert time.monotonic() - t0 < 10, "round %d: %s never applied" % (r, pending)
                for node in list(pending):
                    try:
                        text = conf(c, node)
                    except OSError:  # between the swap and our read; read again
                        continue
                    if text.startswith("option1 = %s\n" % value):
                        latencies.append(time.monotonic() - t0)
                        pending.discard(node)
                time.sleep(0.002)
        print("%2d working copies, %d commits: p50 %.3f s  p99 %.3f s  max %.3f s" %
              (n, commits, percentile(latencies, 50), percentile(latencies, 99),
               max(latencies)), flush=True)
    finally:
        for proc, out in watchers:
            proc.terminate()
            proc.wait(timeout=10)
            out.close()
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[3, 10])
    ap.add_argument("--commits", type=int, default=30)
    args = ap.parse_args()
    for n in args.nodes:
        run(n, args.commits)


if __name__ == "__main__":
    main()
