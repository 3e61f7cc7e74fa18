#!/usr/bin/env python3
"""Bus benchmark: failure-detection time with the default timers (idle and with the CPU
saturated by bounded busy loops), false deaths under saturation, and throughput.

  python3 bench/bus/run_bench.py [--binary build/release/bench/bus/ec_bus_bench]

Starts --nodes peers (ec_bus_bench peer) on 127.0.0.2, 127.0.0.3, ... sharing one high port,
waits until every peer sees every other alive, then per round SIGKILLs one peer and measures,
on each survivor, the time from the kill to its "dead" event; restarts the victim and waits for
it to rejoin. Times are CLOCK_MONOTONIC on both sides. Every wait has a deadline.
"""
import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port(addresses):
    for _ in range(100):
        port = random.randint(20000, 32000)  # below the ephemeral range
        ok = True
        for a in addresses:
            s = socket.socket()
            try:
                s.bind((a, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port")


class Peer:
    """One ec_bus_bench peer process; collects its EVENT lines."""

    def __init__(self, binary, name, peers_arg, port, extra):
        self.name = name
        self.events = []  # (mono_ns, kind, peer, reason)
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [binary, "peer", "--self", name, "--peers", peers_arg, "--port", str(port)] + extra,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            parts = line.split()
            if len(parts) == 5 and parts[0] == "EVENT":
                with self.cond:
                    self.events.append((int(parts[1]), parts[2], parts[3], parts[4]))
                    self.cond.notify_all()

    def alive_set(self):
        with self.cond:
            state = {}
            for _, kind, peer, _ in self.events:
                state[peer] = kind
            return {p for p, k in state.items() if k == "alive"}

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise RuntimeError("timed out waiting for " + what)


class Cluster:
    def __init__(self, binary, nodes, extra):
        self.binary = binary
        self.extra = extra
        self.names = ["n%d" % i for i in range(nodes)]
        self.addresses = {n: "127.0.0.%d" % (2 + i) for i, n in enumerate(self.names)}
        self.port = free_port(self.addresses.values())
        self.peers_arg = ",".join("%s=%s" % (n, a) for n, a in self.addresses.items())
        self.peers = {n: self.start(n) for n in self.names}

    def start(self, name):
        return Peer(self.binary, name, self.peers_arg, self.port, self.extra)

    def converged(self):
        return all(p.alive_set() == set(self.names) - {n} for n, p in self.peers.items())

    def stop(self):
        for p in self.peers.values():
            p.kill()


def detection_rounds(cluster, rounds, label):
    """Returns the list of detection times (ms), one per survivor per round."""
    times = []
    for r in range(rounds):
        victim = cluster.names[r % len(cluster.names)]
        survivors = [n for n in cluster.names if n != victim]
        marks = {n: len(cluster.peers[n].events) for n in survivors}
        killed_at = time.monotonic_ns()
        cluster.peers[victim].kill()

        def dead_seen(n):
            p = cluster.peers[n]
            with p.cond:
                return [e for e in p.events[marks[n]:] if e[1] == "dead" and e[2] == victim]

        wait_for(lambda: all(dead_seen(n) for n in survivors), 30, "%s declared dead" % victim)
        round_times = [(dead_seen(n)[0][0] - killed_at) / 1e6 for n in survivors]
        times += round_times
        print("  %s round %d: killed %s, declared dead after %.0f..%.0f ms" %
              (label, r + 1, victim, min(round_times), max(round_times)), flush=True)
        cluster.peers[victim] = cluster.start(victim)
        wait_for(cluster.converged, 30, "%s to rejoin" % victim)
    return times


def false_deaths(cluster, since_ns):
    """Dead events for live processes after since_ns."""
    count = 0
    for p in cluster.peers.values():
        with p.cond:
            count += sum(1 for e in p.events if e[0] >= since_ns and e[1] == "dead")
    return count


def busy_loop(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def summarize(label, times):
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print("%s: n=%d min=%.0f ms median=%.0f ms p95=%.0f ms max=%.0f ms" %
          (label, len(times), times[0], statistics.median(times), p95, times[-1]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("EC_BINARY_DIR", os.path.join(ROOT, "build", "release")),
        "bench", "bus", "ec_bus_bench"))
    ap.add_argument("--nodes", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hogs", type=int, default=2 * (os.cpu_count() or 1),
                    help="busy-loop processes while saturated")
    ap.add_argument("--quiet-seconds", type=float, default=10,
                    help="saturated time with no kill, counting false deaths")
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit("no ec_bus_bench at %s (build target ec_bus_bench, or pass --binary)" %
                 args.binary)

    print("failure detection, %d peers, default timers" % args.nodes, flush=True)
    cluster = Cluster(args.binary, args.nodes, [])
    try:
        wait_for(cluster.converged, 30, "membership to converge")
        idle = detection_rounds(cluster, args.rounds, "idle")

        print("saturating the CPU with %d busy loops" % args.hogs, flush=True)
        budget = args.quiet_seconds + args.rounds * 8 + 30  # hogs stop by themselves
        hogs = [subprocess.Popen([sys.executable, "-c",
                                  "import time\nend=time.monotonic()+%f\n"
                                  "while time.monotonic()<end: pass" % budget])
                for _ in range(args.hogs)]
        try:
            quiet_from = time.monotonic_ns()
            end = time.monotonic() + args.quiet_seconds
            while time.monotonic() < end:
                time.sleep(0.1)
            quiet_false = false_deaths(cluster, quiet_from)
            busy = detection_rounds(cluster, args.rounds, "saturated")
        finally:
            for h in hogs:
                h.kill()
                h.wait()
    finally:
        cluster.stop()

    summarize("detection idle", idle)
    summarize("detection saturated", busy)
    print("false deaths while saturated for %.0f s with no kill: %d" %
          (args.quiet_seconds, quiet_false), flush=True)

    if not args.skip_throughput:
        for receivers in (1, 5):
            port = free_port(["127.0.0.%d" % (2 + i) for i in range(receivers + 1)])
            subprocess.run([args.binary, "throughput", "--receivers", str(receivers),
                            "--messages", str(args.messages), "--port", str(port)],
                           check=True, timeout=300)


if __name__ == "__main__":
    main()
