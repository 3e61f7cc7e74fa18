"""The DuraVIP test bed proves itself, without DuraVIP: namespaces on a bridge are built and
removed, plain ecmta nodes and eccmgr run inside them with the bus on 198.18.0.x, a partition
(eth1 down) is seen by the bus and healed, and the observer sees banners and ARP. Its detector
is shown to work: two namespaces holding one address by hand produce a two-MAC sample, and its
banner rule flags two hosts inside one window (on a made-up record).

Needs root and `ip netns`; skips with a message otherwise (the record checks run anywhere).
"""
import time

import pytest

from lib import netns, observer, procs
from lib.duravip_cluster import NetnsCluster


@pytest.fixture
def bed():
    netns.skip_unless_available()
    b = netns.Testbed(nodes=2, manager=False)
    try:
        b.create()
        yield b
    finally:
        b.destroy()


def sample(t, vip, macs=()):
    return {"kind": "sample", "vip": vip, "t": t, "macs": list(macs)}


def banner(t, vip, host, tick=0):
    return {"kind": "banner", "vip": vip, "tick": tick, "t0": t - 0.001, "t": t, "host": host}


def test_record_checks():
    start = {"kind": "start", "t": 0.0, "period": 0.02}
    good = [start,
            sample(1.00, "v", ["m1"]), banner(1.001, "v", "node1.d"), banner(1.002, "v", "node1.d"),
            sample(1.02, "v", []),
            {"kind": "banner", "vip": "v", "tick": 1, "t0": 1.02, "t": 1.5, "error": "Timeout"},
            sample(1.04, "v", ["m2"]), banner(1.041, "v", "node2.d"),
            banner(1.045, "w", "node1.d")]  # another VIP: no pair with v
    assert observer.check(good) == []
    two_macs = good + [sample(1.06, "v", ["m1", "m2"])]
    assert [r["t"] for r in observer.one_mac_violations(two_macs)] == [1.06]
    assert observer.check(two_macs)[0].startswith("I1 ")
    # Within one tick, and across neighbouring ticks inside 20 ms.
    split = [start, banner(2.001, "v", "node1.d"), banner(2.002, "v", "node2.d")]
    assert len(observer.banner_violations(split)) == 1
    near = [start, banner(3.001, "v", "node1.d"), banner(3.015, "v", "node2.d", 1)]
    assert len(observer.banner_violations(near)) == 1
    assert observer.check(near)[0].startswith("I2 ")
    far = [start, banner(3.001, "v", "node1.d"), banner(3.041, "v", "node2.d", 2)]
    assert observer.banner_violations(far) == []
    assert observer.first_banner(good, "v", 1.02, lambda n: n == "node2") == 1.041
    assert observer.first_arp(good, "v", 1.01, lambda m: m == "m2") == 1.04
    assert observer.banner_nodes(good, "v") == [(1.001, "node1"), (1.002, "node1"),
                                                (1.041, "node2")]


def test_bed_is_built_and_removed_without_leftovers():
    netns.skip_unless_available()
    b = netns.Testbed(nodes=3)
    try:
        b.create()
        listed = netns.ip("netns", "list")
        for ns in b.namespaces():
            assert ns in listed, listed
        for name, m in b.members.items():
            assert b.addresses_on(name) == [m.address]
            assert b.link_is_up(name)
        assert len(set(b.macs())) == 5
        # Nothing of ours in the root namespace: no veth, no bridge.
        root_links = netns.ip("-o", "link", "show")
        assert b.prefix not in root_links and "v-n1" not in root_links
        # A process started inside is found and stopped by cleanup.
        p = procs.Process(["sleep", "60"], "/dev/null", netns=b.netns("node1"))
        assert b.pids() == {b.netns("node1"): [p.pid]}
    finally:
        b.destroy()
    assert b.prefix not in netns.ip("netns", "list")
    assert not p.alive()
    b.destroy()  # idempotent


def test_observer_detects_an_address_held_twice(bed, tmp_path):
    vip = "198.18.0.100"
    macs = bed.macs()
    with observer.Observer(bed, [vip], tmp_path / "obs.jsonl") as obs:
        netns.ip("-n", bed.netns("node1"), "addr", "add", f"{vip}/24", "dev", "eth1")
        t1 = time.monotonic()
        procs.wait_for(lambda: observer.first_arp(obs.records(), vip, t1,
                                                  lambda m: macs.get(m) == "node1"),
                       timeout=5, what="node1's ARP reply for the VIP")
        assert obs.check() == []
        # The same address in a second namespace: both answer each request.
        netns.ip("-n", bed.netns("node2"), "addr", "add", f"{vip}/24", "dev", "eth1")
        t2 = time.monotonic()
        procs.wait_for(lambda: observer.one_mac_violations(observer.samples(obs.records(), vip,
                                                                            t2)),
                       timeout=5, what="a sample with two MACs")
        bad = observer.one_mac_violations(obs.records())
        assert {macs[m] for m in bad[0]["macs"]} == {"node1", "node2"}, bad[0]
        assert any(line.startswith("I1 ") for line in obs.check())
        # Back to one holder: the samples after it are clean again.
        netns.ip("-n", bed.netns("node2"), "addr", "del", f"{vip}/24", "dev", "eth1")
        t3 = time.monotonic()
        procs.wait_for(lambda: len([s for s in observer.samples(obs.records(), vip, t3)
                                    if s["macs"]]) >= 10, timeout=5, what="10 more samples")
        later = observer.samples(obs.records(), vip, t3 + 0.05)
        assert later and not observer.one_mac_violations(later)
    print(obs.summary())


def test_plain_cluster_runs_in_namespaces(tmp_path):
    """eccmgr + 3 ecmta, each in its own namespace, bus on 198.18.0.x; banners name the node;
    a partition is seen as a death and heals; kill -9 and restart work through the bed."""
    netns.skip_unless_available()
    with NetnsCluster(tmp_path, nodes=3, vips=None) as c:
        bed = c.bed
        addrs = {n: bed.address(n) for n in c.names}
        # The observer watches each node's own address: one MAC, the node's own banner.
        with observer.Observer(bed, list(addrs.values()), tmp_path / "obs.jsonl") as obs:
            for n, a in addrs.items():
                assert c.banner_node(a) == n
                assert c.health(n)["endpoint"] == f"{a}:{c.cluster.bus_port}"
            t0 = time.monotonic()
            macs = bed.macs()
            for n, a in addrs.items():
                obs.wait_banner(a, n, t0)
                procs.wait_for(lambda: observer.first_arp(obs.records(), a, t0,
                                                          lambda m: macs[m] == n),
                               timeout=5, what=f"{n}'s ARP reply")
            # Partition node3: the others declare it dead; its own view loses everyone.
            bed.link_down("node3")
            procs.wait_for(lambda: c.cluster.manager_view().get("node3") == "DEAD",
                           timeout=5, what="eccmgr to see node3 dead")
            procs.wait_for(lambda: c.health("node1")["members_alive"] == 3, timeout=5,
                           what="node1 to see node3 gone")
            procs.wait_for(lambda: c.health("node3")["members_alive"] == 1, timeout=5,
                           what="node3 to see itself alone")
            assert c.banner(addrs["node3"], timeout=0.3) is None
            bed.link_up("node3")
            c.cluster.wait_converged(timeout=20)
            # kill -9 and restart, by PID, through the namespace.
            pid = c.node("node2").process.pid
            c.kill9("node2")
            assert not c.alive("node2")
            assert pid not in [p for ps in bed.pids().values() for p in ps]
            c.restart("node2")
            c.cluster.wait_converged(timeout=20)
            assert c.banner_node(addrs["node2"]) == "node2"
            t1 = time.monotonic()
            obs.wait_banner(addrs["node2"], "node2", t1)
        print(obs.summary())
        assert obs.check() == []
