#!/usr/bin/env python3
"""The main job's DuraVIP step: three ecmta nodes and eccmgr, each in its own network namespace
on one bridge (addresses 198.18.0.0/24, all inside namespaces this script makes and removes),
with the same DuraVIPs configured on every node. Shows who holds each address, stops the holder
of 198.18.0.100 (kill -9) and shows a survivor answering SMTP on it, then starts the node again
and shows its preferred address come back.

    python3 scripts/duravip-demo.py [BUILD_DIR]

Needs root and `ip netns`; says why and exits 0 without them (the rest of the demo ran).
"""
import os
import sys
import tempfile
import time

src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(src, "build/release"))
os.environ.setdefault("EC_BINARY_DIR", build)
os.environ.setdefault("EC_SOURCE_DIR", src)
sys.path.insert(0, os.path.join(src, "tests", "integration"))

from lib import netns, procs  # noqa: E402
from lib.duravip_cluster import DEFAULT_BINDINGS, DEFAULT_VIPS, NetnsCluster  # noqa: E402

VIP = "198.18.0.100"  # prefers node1


def main():
    why = netns.unavailable_reason()
    if why:
        print(f"DuraVIP step skipped: {why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="ecdv-demo-") as tmp:
        from pathlib import Path
        # The shipped timers: heartbeat 0.25 s, dead_timeout 1.5 s.
        c = NetnsCluster(Path(tmp), nodes=3, vips=DEFAULT_VIPS, bindings=DEFAULT_BINDINGS,
                         heartbeat=0.25, dead_timeout=1.5, view_mature_time=1,
                         view_balance_interval=5)
        with c:
            owners = c.wait_all_owned(timeout=30)
            for vip, node in sorted(owners.items()):
                print(f"{vip} is held by {node}; its banner: {c.banner(vip)}")
            print(c.console("manager", "show cluster duravip")[1].rstrip())
            victim = owners[VIP]
            t0 = time.monotonic()
            c.kill9(victim)
            print(f"\nkill -9 of ecmta on {victim} (its host stays up)")
            procs.wait_for(lambda: VIP not in c.bed.addresses_on(victim), timeout=5,
                           interval=0.005, what=f"{victim}'s keeper to remove {VIP}")
            gone = time.monotonic() - t0
            survivor = procs.wait_for(
                lambda: (lambda n: n if n and n != victim else None)(c.banner_node(VIP)),
                timeout=15, interval=0.02, what=f"a survivor to answer on {VIP}")
            took = time.monotonic() - t0
            print(f"{VIP} left {victim} after {gone * 1000:.0f} ms (its keeper removed it)")
            print(f"{survivor} answers on {VIP} {took * 1000:.0f} ms after the kill: "
                  f"{c.banner(VIP)}")
            c.restart(victim)
            c.wait_single_owner(VIP, victim, timeout=30)
            print(f"{victim} started again and holds its preferred {VIP} again: "
                  f"{c.banner(VIP)}")
            print(c.console("manager", "show cluster duravip")[1].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
