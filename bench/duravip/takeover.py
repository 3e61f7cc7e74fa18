#!/usr/bin/python3
"""DuraVIP takeover time after kill -9 of the owner, on a private Ethernet segment.

    bench/duravip/run.sh [BUILD_DIR] [--kills 20] [--sets default,fast] [--dry-run]

For each timer set: eccmgr and three ecmta nodes, each in its own network namespace on one
bridge (tests/integration/lib/netns.py, lib/duravip_cluster.py), one DuraVIP listener
198.18.0.101:25 without a preferred node, and the observer (lib/observer.py) in a fifth
namespace sending an ARP request and opening an SMTP connection to the VIP every 20 ms.
Then, `--kills` times: wait for the VIP to have exactly one owner whose banner the observer
reads, kill -9 that owner, and measure from the kill to
  banner  the first 220 greeting on the VIP from another node (the figure that matters),
  arp     the first ARP sample answered by another node's MAC alone,
  keeper  the address gone from the killed node's interface (polled every 5 ms);
then restart the killed node and wait until it is back in the view and sees the new owner.
Prints median, p90 and max of each with the timers used, and the observer's invariant checks
(never two MACs in one sample, never two nodes' banners inside 20 ms).

--dry-run runs the same loop on plain ecmta nodes (no DuraVIP module) with the benchmark
standing in for DuraVIP: nodes may bind the VIP before they have it (ip_nonlocal_bind), the
driver removes the address from the killed node at once (the keeper's part), polls eccmgr's
view every 20 ms and, when the owner is DEAD, adds the address to the first live node and sends
one gratuitous ARP. It proves the harness and the measurement, not DuraVIP.

Bounded: each kill waits at most 30 s for the takeover and 60 s for the restart; the whole run
stops after --max-seconds. Needs root; every namespace, link and process it makes is removed
on every exit path.
"""
import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from lib import netns, observer, procs  # noqa: E402
from lib.duravip_cluster import NetnsCluster  # noqa: E402

VIP = "198.18.0.101"

# name: (heartbeat_interval, dead_timeout). The defaults are the shipped msgc_server ones.
TIMER_SETS = {
    "default": (0.25, 1.5),
    "fast": (0.1, 0.6),
}


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class FakeDuravip:
    """--dry-run: the benchmark plays DuraVIP for plain nodes (see the module docstring)."""

    def __init__(self, c):
        self.c = c
        self.owner = None
        self.victim = None
        self.stop = threading.Event()
        self.thread = None

    def plumb(self, name):
        netns.ip("-n", self.c.bed.netns(name), "addr", "add", f"{VIP}/24", "dev", "eth1")
        s = netns.socket_in(self.c.bed.netns(name), socket.AF_PACKET, socket.SOCK_RAW)
        with s:
            s.bind(("eth1", 0))
            s.send(observer.gratuitous_arp(observer.mac_bytes(self.c.bed.mac(name)), VIP))
        self.owner = name

    def start(self):
        self.plumb(self.c.names[0])

    def killed(self, name):
        """Called right after kill -9 of `name`: the keeper's removal, then a watcher."""
        netns.ip("-n", self.c.bed.netns(name), "addr", "del", f"{VIP}/24", "dev", "eth1",
                 check=False)
        self.owner = None
        self.victim = name
        self.thread = threading.Thread(target=self._failover, daemon=True)
        self.thread.start()

    def _failover(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                view = self.c.cluster.manager_view()
            except OSError:
                view = {}
            if view.get(self.victim) == "DEAD":
                live = [n for n in self.c.names if n != self.victim and view.get(n) == "ALIVE"]
                if live:
                    self.plumb(live[0])
                    return
            time.sleep(0.02)

    def current_owner(self):
        return self.owner if self.owner and self.c.holders(VIP) == [self.owner] else None


def run_set(name, heartbeat, dead_timeout, args, work):
    tmp = Path(tempfile.mkdtemp(prefix=f"dv-{name}-", dir=work))
    vips = None if args.dry_run else [{"address": VIP}]
    listener_extra = f'Listen "{VIP}:25" {{ }}' if args.dry_run else ""
    c = NetnsCluster(tmp, nodes=3, vips=vips, heartbeat=heartbeat, dead_timeout=dead_timeout,
                     request_timeout=max(1.0, dead_timeout), view_mature_time=1,
                     view_balance_interval=10, listener_extra=listener_extra)
    result = {"set": name, "heartbeat": heartbeat, "dead_timeout": dead_timeout,
              "lease": max(dead_timeout - 2 * heartbeat, heartbeat),
              "view_mature_time": 1, "dry_run": args.dry_run, "kills": []}
    obs = None
    fake = None
    try:
        c.bed.create()
        if args.dry_run:
            for n in c.bed.node_names:
                c.bed.sysctl(n, "net/ipv4/ip_nonlocal_bind", 1)
        c.create()
        if args.dry_run:
            fake = FakeDuravip(c)
            fake.start()
        obs = observer.Observer(c.bed, [VIP], tmp / "observer.jsonl",
                                duration=args.max_seconds + 60)
        obs.start()
        macs = c.bed.macs()

        def owner_now():
            return fake.current_owner() if fake else c.single_owner(VIP)

        for i in range(args.kills):
            if time.monotonic() > args.deadline:
                print(f"  stopping early: --max-seconds reached after {i} kills")
                break
            owner = procs.wait_for(owner_now, timeout=60, interval=0.05,
                                   what=f"one owner of {VIP}")
            obs.wait_banner(VIP, owner, time.monotonic(), timeout=10)
            t_kill = time.monotonic()
            c.kill9(owner)
            if fake:
                fake.killed(owner)
            keeper = None
            try:
                procs.wait_for(lambda: VIP not in c.bed.addresses_on(owner), timeout=3,
                               interval=0.005, what="the address to leave the killed node")
                keeper = time.monotonic() - t_kill
            except TimeoutError:
                pass

            def taken():
                recs = obs.records()
                b = observer.first_banner(recs, VIP, t_kill, lambda n: n and n != owner)
                return b and (b, recs)
            t_banner, recs = procs.wait_for(taken, timeout=30, interval=0.02,
                                            what="another node's banner on the VIP")
            # The ARP sample that shows the new MAC is written when its 15 ms window closes.
            try:
                t_arp = procs.wait_for(
                    lambda: observer.first_arp(obs.records(), VIP, t_kill,
                                               lambda m: macs.get(m) != owner),
                    timeout=3, interval=0.02, what="an ARP reply from the new owner")
            except TimeoutError:
                t_arp = None
            new = next(n for t, n in observer.banner_nodes(recs, VIP, t_kill) if n != owner)
            k = {"killed": owner, "new_owner": new, "banner": t_banner - t_kill,
                 "arp": (t_arp - t_kill) if t_arp else None, "keeper": keeper}
            result["kills"].append(k)
            print(f"  kill {i + 1:2d}: {owner} -> {new}  banner {k['banner'] * 1000:6.0f} ms"
                  f"  arp {k['arp'] * 1000 if k['arp'] is not None else float('nan'):6.0f} ms"
                  f"  keeper {keeper * 1000 if keeper is not None else float('nan'):5.0f} ms",
                  flush=True)
            # Back to three nodes before the next kill.
            c.restart(owner)
            c.cluster.wait_converged(timeout=60)
            if not fake:
                procs.wait_for(lambda: (lambda s: s and VIP in s and
                                        s[VIP]["holders"] == [new])(c.show(owner)),
                               timeout=60, interval=0.1,
                               what=f"{owner} to rejoin and see {new} holding {VIP}")
        obs.stop()
        records = obs.records()
        result["violations"] = observer.check(records)
        result["observer"] = obs.summary()
    finally:
        if obs:
            obs.stop()
        c.destroy()
    return result


def report(r):
    def stats(key):
        v = [k[key] for k in r["kills"] if k[key] is not None]
        if not v:
            return "n/a"
        return (f"median {statistics.median(v) * 1000:5.0f} ms  p90 {percentile(v, 90) * 1000:5.0f}"
                f" ms  max {max(v) * 1000:5.0f} ms  (n={len(v)})")
    mode = " [DRY RUN: the benchmark stands in for DuraVIP]" if r["dry_run"] else ""
    print(f"\n{r['set']}: heartbeat_interval {r['heartbeat']} s, dead_timeout "
          f"{r['dead_timeout']} s (DuraVIP lease {r['lease']:.2f} s), view_mature_time "
          f"{r['view_mature_time']} s, {len(r['kills'])} kills{mode}")
    print(f"  kill -9 -> banner from the new owner  {stats('banner')}")
    print(f"  kill -9 -> ARP from the new owner     {stats('arp')}")
    print(f"  kill -9 -> address gone (keeper)      {stats('keeper')}")
    v = r.get("violations", [])
    print(f"  observer: {r.get('observer', '-')}; invariants "
          f"{'held' if not v else 'VIOLATED: ' + '; '.join(v[:5])}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("build_dir", nargs="?", default=str(ROOT / "build" / "release"))
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--sets", default="default,fast",
                   help="comma-separated: default, fast, or name:heartbeat:dead_timeout")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--max-seconds", type=float, default=1500)
    p.add_argument("--json", help="write the raw figures here")
    args = p.parse_args()
    os.environ["EC_BINARY_DIR"] = os.path.abspath(args.build_dir)
    reason = netns.unavailable_reason()
    if reason:
        sys.exit(f"takeover benchmark: {reason}")
    if not 1 <= args.kills <= 200:
        sys.exit("--kills must be 1..200")
    args.deadline = time.monotonic() + args.max_seconds
    sets = []
    for s in args.sets.split(","):
        if ":" in s:
            n, hb, dead = s.split(":")
            sets.append((n, float(hb), float(dead)))
        else:
            sets.append((s, *TIMER_SETS[s]))
    work = tempfile.mkdtemp(prefix="ec-duravip-bench-")
    results = []
    try:
        for name, hb, dead in sets:
            if time.monotonic() > args.deadline:
                break
            print(f"{name}: heartbeat {hb} s, dead_timeout {dead} s, {args.kills} kills",
                  flush=True)
            results.append(run_set(name, hb, dead, args, work))
    finally:
        for r in results:
            report(r)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
