"""Benchmark: commit-to-applied latency of `eccfg pull --watch` on N working copies (issue 17).

    EC_BINARY_DIR=build/release EC_SOURCE_DIR=. /usr/bin/python3 \
        bench/config/watch_latency.py --nodes 10 --commits 20 --repeat 3 --modes server fork

A real ecconfigd and N bootstrapped working copies in a temp dir on 127.0.0.1, each with an
`eccfg pull --watch` (no ecmta runs, so no reload). Each round one more commit lands through
`eccfg commit`; a node's latency is the time from that command returning to the node's `conf`
symlink being swapped to a checkout holding the new value (seen through inotify, so the bench
does not poll the disk while it measures). Modes, each run `--repeat` times, interleaved so load
changes hit them alike:
  server  the default validator: ecmta --check-config through the watch's kept
          `ecmta --check-config-server` (a fork of a warm ecmta per check)
  fork    the path before it: each check a fork+exec of `ecmta --check-config` (the watch is
          given an ecmta wrapper, three lines of sh, that refuses --check-config-server, so it
          falls back; the wrapper adds one exec of /bin/sh per check)
  none    --validate none: no check at all (the floor: fetch, checkout, swap)
Prints, per run, p50/p99/max over all (round, node) pairs, the CPU per pull (eccfg itself, its
checks, ecconfigd per commit) and the load average; then per mode the median and range of p50
and p99. Bounded: --commits rounds per run, 15 s per round at most, every process stopped.
"""
import argparse
import ctypes
import json
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The programs are copied first: on a shared machine a rebuild could swap ecmta mid-run (the
# watch would restart its check server on the new binary, or refuse a revision while the linker
# writes it). The copy is removed at exit.
_BUILD = Path(os.environ.get("EC_BINARY_DIR", "build"))
_SNAPSHOT = Path(tempfile.mkdtemp(prefix="ec_config_bench_bin."))
for _rel in ("eccfg/eccfg", "ecconfigd/ecconfigd", "mta/daemon/ecmta"):
    if (_BUILD / _rel).exists():
        (_SNAPSHOT / _rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_BUILD / _rel, _SNAPSHOT / _rel)
os.environ["EC_BINARY_DIR"] = str(_SNAPSHOT)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration", "config"))
from config_env import ECCFG, ECMTA, Cluster, conf, edit_line  # noqa: E402

IN_MOVED_TO = 0x80
IN_CREATE = 0x100
TICK = os.sysconf("SC_CLK_TCK")


class Inotify:
    """The `conf` swaps (rename of a fresh symlink over etc/conf) in each watched etc/ dir."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.dirs = {}

    def watch(self, path, key):
        wd = self.libc.inotify_add_watch(self.fd, str(path).encode(), IN_MOVED_TO | IN_CREATE)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + str(path))
        self.dirs[wd] = key

    def swapped(self, timeout):
        """Keys whose `conf` was swapped, waiting up to `timeout` seconds for the first."""
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return set()
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return set()
        keys, pos = set(), 0
        while pos + 16 <= len(data):
            wd, _mask, _cookie, length = struct.unpack_from("iIII", data, pos)
            name = data[pos + 16:pos + 16 + length].rstrip(b"\0")
            if name == b"conf":
                keys.add(self.dirs.get(wd))
            pos += 16 + length
        return keys

    def close(self):
        os.close(self.fd)


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def proc_cpu(pid):
    """(own utime+stime, reaped children's) in seconds, or zeros once the process is gone."""
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def children(pid):
    try:
        return [int(x) for x in Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split()]
    except OSError:
        return []


def watcher_cpu(pid):
    """eccfg's own CPU, and its checks' (reaped forks, plus any kept server and its forks)."""
    own, reaped = proc_cpu(pid)
    for child in children(pid):
        server_own, server_reaped = proc_cpu(child)
        reaped += server_own + server_reaped
    return own, reaped


def run(n, commits, mode, tmp_prefix):
    root = Path(tempfile.mkdtemp(prefix=tmp_prefix))
    nodes = ["n%d" % i for i in range(1, n + 1)]
    c = Cluster(root, nodes=nodes + ["editor"])
    extra = []
    if mode == "none":
        extra = ["--validate", "none"]
    elif mode == "fork":
        wrapper = root / "ecmta-without-server"
        wrapper.write_text('#!/bin/sh\n[ "$1" = --check-config-server ] && exit 1\n'
                           'exec %s "$@"\n' % ECMTA.resolve())
        wrapper.chmod(0o755)
        extra = ["--ecmta", str(wrapper)]
    watchers, notify = [], Inotify()
    load_before = os.getloadavg()
    try:
        for node in nodes:
            notify.watch(c.wc(node).parent, node)
            out = open(root / ("watch-%s.out" % node), "w")
            watchers.append((subprocess.Popen(
                [str(ECCFG), "pull", "--watch", "--wait", "30", "--wc", str(c.wc(node))] + extra,
                stdout=out, stderr=subprocess.STDOUT), out))
        deadline = time.monotonic() + 30
        while not all((root / ("watch-%s.out" % x)).read_text().startswith("Already")
                      for x in nodes):
            assert time.monotonic() < deadline, "watchers did not start"
            time.sleep(0.05)
        cpu_before = [watcher_cpu(p.pid) for p, _ in watchers]
        daemon_before = sum(proc_cpu(c.daemon.pid))
        latencies = []
        for r in range(commits):
            value = "bench-%d-%s" % (r, mode)
            edit_line(c, "editor", 0, "option1 = " + value)
            c.commit("editor", "round %d" % r)
            t0 = time.monotonic()
            pending = set(nodes)
            while pending:
                left = 15 - (time.monotonic() - t0)
                if left <= 0:
                    for node in sorted(pending):
                        sys.stderr.write("%s: %s\n" % (node, (root / ("watch-%s.out" % node))
                                                        .read_text()[-500:]))
                    raise AssertionError("round %d: %s never applied" % (r, sorted(pending)))
                for node in notify.swapped(left) & pending:
                    # A swap to this round's revision (not a late one of the last round).
                    if conf(c, node).startswith("option1 = %s\n" % value):
                        latencies.append(time.monotonic() - t0)
                        pending.discard(node)
        cpu_after = [watcher_cpu(p.pid) for p, _ in watchers]
        daemon_cpu = sum(proc_cpu(c.daemon.pid)) - daemon_before
    finally:
        for proc, out in watchers:
            proc.terminate()
            proc.wait(timeout=10)
            out.close()
        notify.close()
        c.stop()
        shutil.rmtree(root, ignore_errors=True)
    pulls = n * commits
    return {
        "mode": mode, "nodes": n, "commits": commits,
        "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
        "max": max(latencies),
        "eccfg_ms_per_pull": 1000 * sum(a[0] - b[0] for a, b in zip(cpu_after, cpu_before)) / pulls,
        "check_ms_per_pull": 1000 * sum(a[1] - b[1] for a, b in zip(cpu_after, cpu_before)) / pulls,
        "ecconfigd_ms_per_commit": 1000 * daemon_cpu / commits,
        "load_before": load_before[0], "load_after": os.getloadavg()[0],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[10])
    ap.add_argument("--commits", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--modes", nargs="+", default=["server"], choices=["server", "fork", "none"])
    ap.add_argument("--json", help="also write every run's figures to this file")
    args = ap.parse_args()
    if not ECMTA.exists():
        sys.exit("needs %s (build target ecmta)" % ECMTA)
    results = []
    for n in args.nodes:
        for i in range(args.repeat):
            for mode in args.modes:
                r = run(n, args.commits, mode, "ec_config_bench.")
                results.append(r)
                print("%-6s %2d copies, %d commits, run %d: p50 %.3f s  p99 %.3f s  max %.3f s | "
                      "cpu/pull eccfg %.1f ms, check %.1f ms; ecconfigd %.1f ms/commit | "
                      "load %.1f -> %.1f" % (
                          mode, n, args.commits, i + 1, r["p50"], r["p99"], r["max"],
                          r["eccfg_ms_per_pull"], r["check_ms_per_pull"],
                          r["ecconfigd_ms_per_commit"], r["load_before"], r["load_after"]),
                      flush=True)
        for mode in args.modes:
            runs = [r for r in results if r["mode"] == mode and r["nodes"] == n]
            p50s, p99s = [r["p50"] for r in runs], [r["p99"] for r in runs]
            checks = [r["check_ms_per_pull"] for r in runs]
            print("%-6s %2d copies, %d runs: p50 median %.3f s (%.3f-%.3f)  p99 median %.3f s "
                  "(%.3f-%.3f)  check cpu/pull median %.1f ms" % (
                      mode, n, len(runs), statistics.median(p50s), min(p50s), max(p50s),
                      statistics.median(p99s), min(p99s), max(p99s), statistics.median(checks)),
                  flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(_SNAPSHOT, ignore_errors=True)
