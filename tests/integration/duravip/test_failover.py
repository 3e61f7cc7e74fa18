"""DuraVIP failover on a real (virtual) Ethernet segment: eccmgr and three ecmta nodes, each in
its own network namespace on one bridge (lib/netns.py), bus on 198.18.0.x with short timers
(heartbeat 0.1 s, dead_timeout 0.6 s), every node configured with the same DuraVIPs:

    Listen "198.18.0.100:25" { Enable_Duravip = true  Duravip_Preference = "node1" }
    Listen "198.18.0.101:25" { Enable_Duravip = true }
    Binding "pool-a" { Bind_Address = "198.18.0.101"  Enable_Duravip = true }
    cluster { Topology "198.18.0.0/24" { interface = "eth1"  cidrmask = "24" } ... }

An observer in a fourth namespace (lib/observer.py) ARPs for each VIP and reads its SMTP banner
every 20 ms throughout each test; at the end of every test no sample may have seen two MACs for
one VIP and no two banners inside one 20 ms window may name different nodes. Who owns an
address is checked against the kernel (the namespace whose eth1 carries it) and against each
node's `cluster duravip show`.

Needs root and `ip netns`; skips with a message otherwise.
"""
import signal
import time

import pytest

from lib import netns, observer, procs
from lib.duravip_cluster import (DEFAULT_BINDINGS, DEFAULT_VIPS, NetnsCluster,
                                 NetnsSmtpSink, have_smtp_sink)

VIP_PREF = "198.18.0.100"   # prefers node1
VIP_POOL = "198.18.0.101"   # no preference; also binding pool-a's source address
VIP_FOLLOW = "198.18.0.102"  # a listener that follows pool-a (Duravip_Follow)
VIP_ADDED = "198.18.0.103"  # a DuraVIP Listen a reload adds
SINK_PORT = 2525
ROUTED = f'Domain "x.example" {{ Routes = ( "smtp://198.18.0.250:{SINK_PORT}" )  ' \
         f'Set_Binding = "pool-a" }}'


@pytest.fixture
def dv(tmp_path, request):
    netns.skip_unless_available()
    # Rebalancing every 2 s unless a test says otherwise (@pytest.mark.balance_interval(s)).
    marker = request.node.get_closest_marker("balance_interval")
    c = NetnsCluster(tmp_path, nodes=3, vips=DEFAULT_VIPS, bindings=DEFAULT_BINDINGS,
                     heartbeat=0.1, dead_timeout=0.6, view_mature_time=1,
                     view_balance_interval=marker.args[0] if marker else 2, extra_config=ROUTED,
                     listener_extra=f'Listen "{VIP_FOLLOW}:25" {{ Duravip_Follow = "pool-a" }}')
    try:
        c.create()
        yield c
    finally:
        c.destroy()


@pytest.fixture
def obs(dv, tmp_path):
    o = observer.Observer(dv.bed, dv.vips, tmp_path / "observer.jsonl")
    try:
        o.start()
        yield o
    finally:
        o.stop()
        print("observer:", o.summary())


def assert_invariants(dv, obs):
    """The observer's record of the whole test: never two MACs in one ARP sample, never two
    nodes' banners within 20 ms (lib/observer.py I1, I2)."""
    problems = obs.check(names=dv.bed.macs())
    assert problems == [], f"{len(problems)} violations:\n" + "\n".join(problems[:20])


def manager_row(dv, vip):
    """[address, state, holders, ...] of `vip` in eccmgr's `show cluster duravip`."""
    rc, out = dv.console("manager", "show cluster duravip")
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == vip:
            return f
    return None


def test_every_vip_has_exactly_one_owner_and_its_banner(dv, obs):
    owners = dv.wait_all_owned(timeout=20)
    assert owners[VIP_PREF] == "node1", owners
    t0 = time.monotonic()
    for vip, owner in owners.items():
        # Kernel: only the owner's eth1 carries it; every node's console agrees on the owner.
        assert dv.holders(vip) == [owner]
        for n in dv.names:
            s = dv.show(n)[vip]
            assert s["holders"] == [owner] and s["here"] == (n == owner), (n, s)
            assert s["owned"] == "owned" and not s["unsafe"] and not s["conflict"], (n, s)
        assert dv.banner_node(vip) == owner
        obs.wait_banner(vip, owner, t0)
    for n in dv.names:
        held = sorted(v for v, o in owners.items() if o == n)
        assert sorted(dv.health(n)["duravips"]) == held, (n, dv.health(n))
    # The node's own address still answers with its own banner.
    for n in dv.names:
        assert dv.banner_node(dv.bed.address(n)) == n
    # eccmgr's cluster-wide table and the broadcast agree.
    for vip, owner in owners.items():
        procs.wait_for(lambda: (manager_row(dv, vip) or [None, None, None])[1:3] ==
                       ["owned", owner], timeout=5,
                       what=f"eccmgr to show {vip} owned by {owner}")
    rc, out = dv.console("manager", "broadcast cluster duravip show")
    assert rc == 0 and "3 answered" in out, out
    # The follower's address is plumbed and served wherever pool-a's address is.
    assert dv.holders(VIP_FOLLOW) == [owners[VIP_POOL]]
    assert dv.banner_node(VIP_FOLLOW) == owners[VIP_POOL]
    # `announce view` from the manager makes every holder announce its addresses again.
    def sent(node, vip):
        out = dv.console(node, "cluster arp show")[1]
        line = next((l for l in out.splitlines() if l.startswith(vip + " ")), "")
        return int(line.split()[2]) if line else 0
    before = sent(owners[VIP_PREF], VIP_PREF)
    rc, out = dv.console("manager", "broadcast cluster duravip announce view")
    assert rc == 0 and "3 answered" in out, out
    procs.wait_for(lambda: sent(owners[VIP_PREF], VIP_PREF) > before, timeout=5,
                   what="the holder to announce again")
    # The holder announced its addresses (cluster arp show); a move to a node that does not
    # exist (or does not configure the address) is refused and changes nothing.
    rc, out = dv.console(owners[VIP_PREF], "cluster arp show")
    assert rc == 0 and VIP_PREF in out and " sent 0 " not in out, out
    rc, out = dv.console("node2", f"cluster duravip move {VIP_PREF} to nosuchnode")
    assert rc != 0 and "does not configure" in out, out
    rc, out = dv.console("node2", f"cluster duravip move {VIP_PREF}")
    assert rc != 0 and "usage" in out, out
    assert dv.single_owner(VIP_PREF) == "node1"
    # A reload that adds a DuraVIP Listen: not bound until elected (binding it at once failed
    # the whole reload), then held and served by exactly one node. The addresses already held
    # stay single-held meanwhile (the observer): a reload slow enough that the peers time the
    # node out (ASan) gave 198.18.0.100 two holders until a stalled node re-learnt their reports.
    anchor = f'Listen "{VIP_FOLLOW}:25"'
    for n in dv.names:
        with open(dv.node(n).config_path) as f:
            text = f.read()
        assert anchor in text
        with open(dv.node(n).config_path, "w") as f:
            f.write(text.replace(anchor, f'Listen "{VIP_ADDED}:25" {{ Enable_Duravip = true }}\n'
                                 + anchor, 1))
        rc, out = dv.console(n, "config reload")
        assert rc == 0 and "reloaded" in out, (n, out)
    added = dv.wait_single_owner(VIP_ADDED, timeout=15)
    procs.wait_for(lambda: dv.banner_node(VIP_ADDED) == added, timeout=5,
                   what=f"{added}'s banner on the added {VIP_ADDED}")
    assert_invariants(dv, obs)


def test_kill9_owner_survivor_takes_over_and_preferred_node_returns(dv, obs):
    dv.wait_all_owned(timeout=20)
    dv.wait_single_owner(VIP_PREF, "node1")
    t_kill = time.monotonic()
    dv.kill9("node1")
    # The keeper takes the address off node1's interface as soon as ecmta is gone.
    procs.wait_for(lambda: VIP_PREF not in dv.bed.addresses_on("node1"), timeout=2,
                   interval=0.005, what="the keeper to remove the VIP from node1")
    gone = time.monotonic() - t_kill
    survivors = ["node2", "node3"]
    new = dv.wait_single_owner(VIP_PREF, timeout=10, names=survivors)
    assert new in survivors
    t_banner = obs.wait_banner(VIP_PREF, new, t_kill, timeout=10)
    print(f"kill -9: address gone from node1 after {gone * 1000:.0f} ms; {new} answered SMTP on "
          f"{VIP_PREF} {(t_banner - t_kill) * 1000:.0f} ms after the kill")
    assert gone < 0.5, f"the keeper took {gone:.3f} s"
    assert dv.banner_node(VIP_PREF) == new
    assert dv.single_owner(VIP_POOL, names=survivors) in survivors
    # The preferred node comes back and takes its address back; nothing else moves twice.
    t_back = time.monotonic()
    dv.restart("node1")
    dv.cluster.wait_converged(timeout=20)
    dv.wait_single_owner(VIP_PREF, "node1", timeout=20)
    obs.wait_banner(VIP_PREF, "node1", t_back, timeout=10)
    assert dv.banner_node(VIP_PREF) == "node1"
    dv.wait_all_owned(timeout=10)
    assert_invariants(dv, obs)


def test_stalled_holder_does_not_take_back_before_the_new_holder_let_go(dv, obs):
    """A holder whose loop stalls past dead_timeout (a slow config reload did, under ASan) loses
    its addresses to its keeper's lease and to a survivor. The peers sent it nothing while it
    was dead to them, so on waking its view is stale: it must learn every peer's report before
    it takes its preferred address back, or it and the survivor hold it at once."""
    dv.wait_all_owned(timeout=20)
    dv.wait_single_owner(VIP_PREF, "node1")
    survivors = ["node2", "node3"]
    # Whether node1 wakes to its peers' frames or to its timer first is up to the kernel: without
    # the fresh reports one stall in three or four gave two holders, so stall a few times.
    for _ in range(4):
        node1 = dv.node("node1").process
        node1.signal(signal.SIGSTOP)
        try:
            new = dv.wait_single_owner(VIP_PREF, timeout=10, names=survivors)
        finally:
            node1.signal(signal.SIGCONT)
        t_back = time.monotonic()
        dv.wait_single_owner(VIP_PREF, "node1", timeout=10)
        obs.wait_banner(VIP_PREF, "node1", t_back, timeout=10)
        print(f"stall: {new} held {VIP_PREF} meanwhile; node1 took it back")
    dv.wait_all_owned(timeout=10)
    assert_invariants(dv, obs)


def test_partitioned_node_drops_its_vips_and_majority_serves(dv, obs):
    owners = dv.wait_all_owned(timeout=20)
    victim = owners[VIP_PREF]  # node1
    majority = [n for n in dv.names if n != victim]
    t_cut = time.monotonic()
    dv.bed.link_down(victim)
    # The cut-off node sees no majority: it lets its addresses go within dead_timeout.
    procs.wait_for(lambda: not set(dv.vips) & set(dv.bed.addresses_on(victim)), timeout=5,
                   interval=0.01, what=f"{victim} to drop its VIPs")
    dropped = time.monotonic() - t_cut
    print(f"partition: {victim} dropped its addresses {dropped * 1000:.0f} ms after the cut")
    assert dropped <= dv.dead_timeout + 0.2, f"{victim} held on for {dropped:.3f} s"
    # The majority serves every VIP; the observer reads their banners.
    during = dv.wait_all_owned(timeout=10, names=majority)
    assert set(during.values()) <= set(majority), during
    for vip, owner in during.items():
        obs.wait_banner(vip, owner, t_cut, timeout=10)
    show = dv.show(victim)
    assert show is not None and not any(s["here"] for s in show.values()), show
    # Heal: exactly one owner per VIP again, and the owner tells the segment (gratuitous ARP).
    t_heal = time.monotonic()
    dv.bed.link_up(victim)
    dv.cluster.wait_converged(timeout=20)
    # The victim takes its preferred address back once it has every peer's report: until then
    # the survivor's hold counts as "owned" too, and the last word would not be its.
    dv.wait_single_owner(VIP_PREF, victim, timeout=15)
    after = dv.wait_all_owned(timeout=15)
    macs = dv.bed.macs()
    for vip, owner in after.items():
        procs.wait_for(lambda: any(macs.get(a["mac"]) == owner for a in
                                   observer.announcements(obs.records(), vip, t_heal)),
                       timeout=5, what=f"{owner} to re-announce {vip} after the heal")
        obs.wait_banner(vip, owner, t_heal, timeout=10)
    # The heal is where a split brain would show: check the record before anything else.
    assert_invariants(dv, obs)
    # A node that held an address during the partition may announce it once more before it
    # hands it back; the last word on the segment must be the final owner's.
    for vip, owner in after.items():
        last = observer.announcements(obs.records(), vip, t_heal)[-1]
        assert macs.get(last["mac"]) == owner, (vip, macs.get(last["mac"]), after)


def send_to(dv, node, rcpt, subject):
    """Submits one message to `node` on its own address, from the observer's namespace."""
    dv.submit(node, [(rcpt, subject)])


# A move lasts until the balance round after it has happened; the next round may give the
# address back to the node rendezvous hashing prefers. Every 2 s, that could undo the move
# before the held message had left (seen on a loaded machine): no rebalancing in this test.
@pytest.mark.balance_interval(600)
def test_binding_mail_leaves_from_the_vip_after_a_move(dv, obs, tmp_path):
    if not have_smtp_sink():
        pytest.skip("needs Postfix's smtp-sink (/usr/sbin/smtp-sink)")
    owners = dv.wait_all_owned(timeout=20)
    first = owners[VIP_POOL]
    # The move target: the node holding nothing (moving to node1 would unbalance it).
    target = next(n for n in dv.names if n not in owners.values())
    with NetnsSmtpSink(tmp_path, dv.bed, port=SINK_PORT) as sink:
        send_to(dv, first, "r1@x.example", "before-move")
        procs.wait_for(lambda: sink.count() == 1, timeout=20, what="the first message")
        # Mail for pool-a given to a node that does not own .101 waits there.
        send_to(dv, target, "r2@x.example", "held")
        procs.wait_for(lambda: dv.node(target).summary_value("Queued") == 1, timeout=5,
                       what=f"{target} to queue the held message")
        assert sink.count() == 1
        rc, out = dv.console("manager", f"broadcast cluster duravip move {VIP_POOL} to {target}")
        assert rc == 0, out
        dv.wait_single_owner(VIP_POOL, target, timeout=15)
        # Now target owns .101: the held message leaves, and new mail too, from the VIP.
        send_to(dv, target, "r3@x.example", "after-move")
        # smtp-sink creates a dump file before it has written it: wait for whole files.
        procs.wait_for(lambda: sink.count() == 3 and None not in sink.client_addresses(),
                       timeout=20, what="3 whole messages at the sink")
        assert sink.client_addresses() == [VIP_POOL] * 3, sink.client_addresses()
        subjects = sorted(t.split("Subject: ")[1].split("\n")[0] for _, t in sink.messages())
        assert subjects == ["after-move", "before-move", "held"]
    assert dv.single_owner(VIP_POOL) == target
    assert_invariants(dv, obs)
