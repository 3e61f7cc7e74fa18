"""Cluster-wide outbound limits end to end (docs/cluster-limits.md): eccmgr and three ecmta nodes
(127.0.0.2-4, each sending from its own address), one counting sink on 127.0.0.1
(lib/counting_sink.py) that holds its reply to every DATA 250 ms so connections pile up.

limited.test has cluster_max_outbound_connections = 6 (Replicate "outbound_domains",
max_delay 0.2 s) and a node-local max_outbound_connections of 20, so without the cluster limit
three loaded nodes would open up to 60. throttled.test has cluster_outbound_throttle_messages =
"30/6" (Replicate "OBTM").

  - all three nodes loaded at once: the sink never sees more than 6 connections (the bound is 0
    while no node dies), reaches 6, and gets every message exactly once;
  - one node loaded: it alone reaches 6 (the whole limit, not 6/3);
  - the throttle: no 6 s window at the sink holds more than 30 messages, and at least 60 get
    through in 15 s;
  - `cluster shared list|show` on a node (also `from <node>`), eccmgr's `broadcast cluster
    shared show` and its /metrics name the object and its figures;
  - kill -9 of a loaded node: the survivors deliver all they hold and reach 6 together within
    dead_timeout + a few seconds, still never more than 6.

One cluster serves the whole file (the kill comes last); each test gets a fresh sink on the
same port. "Exactly once": every node's spool empties and the sink holds exactly the number of
messages each node (source address) was given. Every wait polls against a deadline.
"""
import re
import time

import pytest

from lib import procs
from lib.cluster import LocalCluster, free_port_on, smtp_routes
from lib.counting_sink import CountingSink
from lib.mail_load import ConcurrencySampler, inject, per_source

LIMIT = 6
LOCAL_MAX = 20
HOLD = 0.25  # the sink's delay before answering DATA: a connection carries ~4 messages/s
THROTTLE, THROTTLE_WINDOW = 30, 6.0
SINK_HOST = "127.0.0.1"
CLUSTER_OPTIONS = ('Replicate "outbound_domains" { max_delay = 0.2 } '
                   'Replicate "OBTM" { max_delay = 0.2 }')
KEY = "outbound_domains/limited.test"


def node_config(port):
    return smtp_routes({
        "limited.test": {"max_outbound_connections": LOCAL_MAX,
                         "cluster_max_outbound_connections": LIMIT},
        "throttled.test": {"max_outbound_connections": LOCAL_MAX,
                           "cluster_outbound_throttle_messages":
                               f'"{THROTTLE}/{THROTTLE_WINDOW:g}"'},
    }, SINK_HOST, port)


@pytest.fixture(scope="module")
def sink_port():
    return free_port_on([SINK_HOST])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, sink_port):
    c = LocalCluster(tmp_path_factory.mktemp("limits"), nodes=3, cluster_options=CLUSTER_OPTIONS,
                     node_config=node_config(sink_port), bind_outbound=True)
    try:
        c.start()
        c.wait_converged()
        yield c
    finally:
        c.stop()


def sink(port, delay=HOLD):
    return CountingSink(host=SINK_HOST, port=port, data_delay=delay)


def expected_by_source(cluster, sent):
    return {cluster.addresses[n]: count for n, count in sent.items()}


def wait_all_delivered(cluster, sink, sent, timeout, what):
    """Waits until the sink holds at least what each node was given and those nodes' spools are
    empty (nothing more will come); returns {source address: messages accepted}."""
    want = expected_by_source(cluster, sent)

    def done():
        got = per_source(sink)
        return all(got.get(a, 0) >= n for a, n in want.items()) and \
            all(cluster.nodes[name].summary_value("Queued") == 0 for name in sent)
    procs.wait_for(done, timeout=timeout, interval=0.2, what=what)
    return per_source(sink)


def assert_exactly_once(cluster, got, sent):
    want = expected_by_source(cluster, sent)
    assert {a: got.get(a, 0) for a in want} == want, f"accepted {got}, sent {want}"


def test_three_loaded_nodes_share_the_limit(cluster, sink_port):
    with sink(sink_port) as s:
        sent = inject(cluster.nodes, "r@limited.test", per_node=60, tag="all")
        got = wait_all_delivered(cluster, s, sent, 60, "180 messages at the sink")
        peak, by_source = s.peak, dict(s.peak_by_source)
    print(f"three nodes: peak {peak}, per source {by_source}, accepted {got}")
    assert_exactly_once(cluster, got, sent)
    assert set(got) == set(expected_by_source(cluster, sent)), got
    # No node died: the bound is 0 (docs/cluster-limits.md, "The bound").
    assert peak <= LIMIT, f"peak {peak} > cluster limit {LIMIT} (per source {by_source})"
    assert peak == LIMIT, f"peak {peak} never reached the limit {LIMIT} ({by_source})"


def test_one_loaded_node_gets_the_whole_limit(cluster, sink_port):
    with sink(sink_port) as s:
        sent = inject({"node2": cluster.nodes["node2"]}, "r@limited.test", per_node=60,
                      tag="one")
        got = wait_all_delivered(cluster, s, sent, 40, "60 messages from node2 at the sink")
        peak, by_source = s.peak, dict(s.peak_by_source)
    print(f"one node: peak {peak}, accepted {got}")
    assert_exactly_once(cluster, got, sent)
    assert set(got) == {cluster.addresses["node2"]}, got
    assert peak == LIMIT, \
        f"one node with all the mail peaked at {peak}, not the limit {LIMIT} ({by_source})"


def test_throttle_holds_over_any_window(cluster, sink_port):
    with sink(sink_port, delay=0.0) as s:
        t0 = time.monotonic()
        sent = inject(cluster.nodes, "r@throttled.test", per_node=40, tag="thr")
        # 30 per 6 s: 120 messages need four windows (about 18 s from the first send).
        procs.wait_for(lambda: s.count() >= 60, timeout=30, interval=0.1,
                       what="60 throttled messages at the sink")
        first_60 = time.monotonic() - t0
        got = wait_all_delivered(cluster, s, sent, 40, "120 throttled messages at the sink")
        times = s.accept_times()
    assert_exactly_once(cluster, got, sent)
    # The sink's window is closed (an accept exactly 6 s after another counts with it).
    worst = CountingSink.max_in_window(times, THROTTLE_WINDOW)
    spread = [round(t - times[0], 2) for t in times]
    print(f"throttle: most in one window {worst}, 60 after {first_60:.1f} s, accepts at {spread}")
    assert worst <= THROTTLE, f"{worst} messages in one {THROTTLE_WINDOW:g} s window " \
                              f"(limit {THROTTLE}/{THROTTLE_WINDOW:g}s); accepts at {spread}"
    assert first_60 <= 15.0, f"60 throttled messages took {first_60:.1f} s (starved?)"


# `cluster shared list|show` lines (mta/cluster/shared_commands.cc).
KEY_LINE = re.compile(rf"^\s*{re.escape(KEY)} limit {LIMIT} cluster usage (\d+)$", re.M)
NODE_ROW = re.compile(r"^\s+(node\d)( \*)? usage (\d+) demand (\d+) grant (\d+) leader (\S+)$",
                      re.M)


def rows(text):
    """{node: (usage, demand, grant, leader)} of a `cluster shared show` answer."""
    return {m[0]: (int(m[2]), int(m[3]), int(m[4]), m[5]) for m in NODE_ROW.findall(text)}


def console_until(node, command, pred, timeout=10):
    """The node's answer to `command` once pred(answer) holds (polled)."""
    def answer():
        text = node.console(command)
        return text if pred(text) else None
    return procs.wait_for(answer, timeout=timeout, interval=0.1, what=f"`{command}` to show it")


def test_console_and_metrics_show_the_shared_object(cluster, sink_port):
    n1, n2 = cluster.nodes["node1"], cluster.nodes["node2"]
    with sink(sink_port) as s:
        sent = inject({"node1": n1, "node2": n2}, "r@limited.test", per_node=30, tag="con")
        # While the load lasts (about 2.5 s at 6 connections) every view names the object;
        # node1's show has both loaded nodes' rows once their reports arrived.
        listed = console_until(n1, "cluster shared list", KEY_LINE.search)
        shown = console_until(n1, "cluster shared show outbound_domains",
                              lambda t: KEY_LINE.search(t) and {"node1", "node2"} <= set(rows(t)))
        remote = n1.console("cluster shared show outbound_domains from node2")
        fanned = cluster.manager.console("broadcast cluster shared show outbound_domains")
        usage = procs.wait_for(
            lambda: [l for l in cluster.manager.http("/metrics")[2].splitlines()
                     if l.startswith("ec_cluster_shared_usage") and "limited.test" in l],
            timeout=10, interval=0.2, what="ec_cluster_shared_usage for limited.test")
        got = wait_all_delivered(cluster, s, sent, 40, "60 messages at the sink")
    assert_exactly_once(cluster, got, sent)
    assert re.search(r'^Replicate "outbound_domains" type outbound_domains max_delay 0\.200 s',
                     listed, re.M), listed
    for node, (use, demand, grant, leader) in rows(shown).items():
        assert use <= LIMIT and demand <= LIMIT and grant <= LIMIT, shown
        assert leader == "node1", f"{node} follows {leader}, not node1 (lowest name):\n{shown}"
    assert int(KEY_LINE.search(shown).group(1)) <= LIMIT, shown
    # `from node2`: node2's figures only.
    assert KEY_LINE.search(remote) and set(rows(remote)) == {"node2"}, remote
    for name in cluster.names:
        assert name in fanned, f"{name} missing from the broadcast:\n{fanned}"
    assert len(KEY_LINE.findall(fanned)) >= 2, fanned
    assert all(re.search(r"\s\d+(\.\d+)?(e[+-]?\d+)?$", l) for l in usage), usage


# Last: it kills node3 of the module's cluster.
def test_kill9_survivors_reach_the_limit(cluster, sink_port):
    live = ["node1", "node2"]
    live_sources = {cluster.addresses[n] for n in live}
    with sink(sink_port) as s:
        sent = inject(cluster.nodes, "r@limited.test", per_node=80, tag="kill")
        procs.wait_for(lambda: s.count() >= 30, timeout=30, interval=0.05,
                       what="30 messages at the sink before the kill")
        with ConcurrencySampler(s, live_sources) as sampler:
            cluster.nodes["node3"].kill9()
            t_kill = time.monotonic()
            got = wait_all_delivered(cluster, s, {n: sent[n] for n in live}, 60,
                                     "every message node1 and node2 hold")
        peak = s.peak
    assert_exactly_once(cluster, got, {n: sent[n] for n in live})
    # A killed node's connections die with it: still no overshoot.
    assert peak <= LIMIT, f"peak {peak} > {LIMIT} around the kill"
    reached = sampler.first_reaching(LIMIT, since=t_kill)
    window = cluster.dead_timeout + 3.0
    print(f"kill: peak {peak}, survivors after the kill {sampler.peak_since(t_kill)}, reached "
          f"{LIMIT} {None if reached is None else round(reached - t_kill, 2)} s after it")
    assert reached is not None, \
        f"survivors peaked at {sampler.peak_since(t_kill)} after the kill, never {LIMIT}"
    assert reached - t_kill <= window, \
        f"survivors reached {LIMIT} {reached - t_kill:.2f} s after the kill (> {window:.1f} s)"
