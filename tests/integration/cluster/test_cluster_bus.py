"""The cluster bus end to end: eccmgr (127.0.0.10) and three ecmta nodes (127.0.0.2-4), real
processes, CURVE keys, short test timers (heartbeat 0.1 s, dead timeout 1 s, request
timeout 0.5 s).

Membership converges; kill -9 is seen within the configured time and a restarted node rejoins;
a peer with the wrong key is refused; `broadcast summary` through ec_console on eccmgr's socket
gathers every node's answer; a SIGSTOPped node is reported as timed out without holding up the
others; /health and /metrics show every node.
"""
import datetime
import os
import re
import signal
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from lib import procs
from lib.cluster import LocalCluster, keygen


@pytest.fixture
def cluster(tmp_path):
    # request_timeout under dead_timeout: a hung node times out before it is declared dead.
    c = LocalCluster(tmp_path, nodes=3, heartbeat=0.1, dead_timeout=1.0, request_timeout=0.5)
    try:
        c.start()
        c.wait_converged()
        yield c
    finally:
        c.stop()


def state_seen(cluster, observer, peer):
    """peer's state in observer's `cluster membership` (or eccmgr's when observer is None)."""
    if observer is None:
        return cluster.manager_view().get(peer)
    rc, out = cluster_console(cluster, observer, "cluster membership")
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == peer:
            return f[2]
    return None


def cluster_console(cluster, name, command):
    from lib.cluster import console
    return console(cluster.nodes[name].socket_path, command, timeout=10)


def test_membership_converges_with_health_and_metrics(cluster):
    out = cluster.manager.console("show cluster membership")
    for name in cluster.names:
        assert re.search(rf"^{name}\s+\S+\s+ALIVE\s", out, re.M), out
    assert "4 of 4 members alive" in out, out

    # Each node sees everyone, names itself, and logs JSON health records.
    for name in cluster.names:
        rc, text = cluster_console(cluster, name, "cluster nodename")
        assert rc == 0 and text.strip() == name
        h = cluster.node_health(name)
        assert h["member"] == name and h["members_known"] == 4 and h["members_alive"] == 4
        assert h["peers_connected"] == 3 and h["unhealthy"] == []
        assert h["endpoint"] == f"{cluster.addresses[name]}:{cluster.bus_port}"
    # Records reach the log every health interval; the view matures (1 s) and says STABLE.
    procs.wait_for(lambda: any('"state":"STABLE"' in line and '"member":"node1"' in line
                               for line in open(cluster.nodes["node1"].root + "/ecmta.out")),
                   timeout=10, what="a STABLE health record in node1's log")

    status, ctype, body = cluster.manager.http("/health")
    assert status == 200 and ctype.startswith("application/json")
    health = cluster.manager.health()
    assert health["manager"] == "manager" and health["members_known"] == 4
    for m in health["members"]:
        assert m["healthy"] and m["report"]["member"] == m["member"], m
    status, ctype, metrics = cluster.manager.http("/metrics")
    assert ctype.startswith("text/plain; version=0.0.4")
    for name in cluster.names:
        assert f'ec_node_up{{node="{name}"}} 1' in metrics, metrics
        assert f'ec_node_bus_peers{{node="{name}"}} 3' in metrics, metrics
        assert f'ec_node_queue_size{{node="{name}"}} 0' in metrics, metrics
    assert "ec_cluster_members_alive 4" in metrics
    # Mail counters travel with the health records: one message into node1.
    with smtplib.SMTP(cluster.nodes["node1"].host, cluster.nodes["node1"].port, timeout=10) as s:
        s.sendmail("a@example.com", ["b@example.invalid"], "Subject: t\r\n\r\nbody\r\n")
    procs.wait_for(lambda: 'ec_node_messages_received_total{node="node1"} 1' in
                   cluster.manager.http("/metrics")[2], timeout=10,
                   what="node1's reception to reach eccmgr's metrics")
    for path, method, code in (("/nope", "GET", 404), ("/health", "POST", 405)):
        req = urllib.request.Request(
            f"http://{cluster.manager.host}:{cluster.manager.http_port}{path}", method=method,
            data=b"x" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == code
    info = cluster.manager.console("info")
    assert "CURVE: on" in info and "nodes seen in it: 3" in info, info
    assert "eccmgr" in cluster.manager.console("version")


def test_kill9_is_detected_in_time_and_node_rejoins(cluster):
    victim = cluster.nodes["node2"]
    old = cluster.node_health("node2")["incarnation"]
    t0 = time.monotonic()
    victim.kill9()
    seen = {}
    observers = [None, "node1", "node3"]
    deadline = t0 + 10
    slowest_query = 0.0  # each query starts an ec_console: slow on a loaded machine
    while len(seen) < len(observers) and time.monotonic() < deadline:
        for o in observers:
            if o in seen:
                continue
            asked = time.monotonic()
            state = state_seen(cluster, o, "node2")
            slowest_query = max(slowest_query, time.monotonic() - asked)
            if state == "DEAD":
                seen[o] = time.monotonic() - t0
        time.sleep(0.02)
    assert len(seen) == len(observers), f"not everyone saw node2 die: {seen}"
    # Declared dead within dead_timeout + one heartbeat, plus slack for the process and for the
    # polling: a round asks the three observers in turn, so a death is seen up to a round late.
    limit = cluster.dead_timeout + cluster.heartbeat + 0.6 + len(observers) * slowest_query
    assert max(seen.values()) < limit, f"detection took {seen} (limit {limit:.2f} s)"
    print(f"kill -9 detection: {seen}")

    victim.start()
    cluster.wait_converged()
    new = cluster.node_health("node2")["incarnation"]
    assert new != old
    procs.wait_for(lambda: any(m["member"] == "node2" and m["report"] and
                               m["report"]["incarnation"] == new
                               for m in cluster.manager.health()["members"]),
                   timeout=5, what="eccmgr to hold the restarted node's record")
    log = cluster.manager.log()
    assert re.search(r'event=dead peer=node2 .*reason=timeout', log), log
    assert len(re.findall(r'event=alive peer=node2 ', log)) >= 2, log


def test_broadcast_gathers_every_answer_and_survives_a_hung_node(cluster):
    out = cluster.manager.console("broadcast summary")
    assert "broadcast summary: 3 nodes, 3 answered" in out, out
    for name in cluster.names:
        assert f"== {name} (ok" in out and f"Node: {name}" in out, out

    out = cluster.manager.console("unicast node2 cluster nodename")
    assert "1 answered" in out and "== node2 (ok" in out and "\nnode2\n" in out, out
    out = cluster.manager.console("unicast node2 no such command")
    assert "== node2 (error" in out and "unknown command" in out, out

    cached = cluster.manager.console("retrieve summary")
    assert "retrieve summary: 3 nodes, 3 answered" in cached, cached
    one = cluster.manager.console("retrieve_node node3 summary")
    assert "Node: node3" in one and "Node: node1" not in one, one

    # A hung node: its request times out while the others answer.
    hung = cluster.nodes["node3"]
    hung.process.signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        out = cluster.manager.console("broadcast summary")
        took = time.monotonic() - t0
        assert "== node1 (ok" in out and "== node2 (ok" in out, out
        assert "Node: node1" in out and "Node: node2" in out, out
        assert "== node3 (timed out after" in out, out
        assert "2 answered" in out, out
        assert took < cluster.request_timeout + 1.5, f"broadcast took {took:.2f} s"
        print(f"broadcast with a hung node took {took:.2f} s")
    finally:
        hung.process.signal(signal.SIGCONT)
    cluster.wait_converged()
    out = cluster.manager.console("broadcast summary")
    assert "3 answered" in out, out


def test_peer_with_wrong_key_is_refused(tmp_path):
    c = LocalCluster(tmp_path, nodes=3)
    # node3 makes itself a new key pair that is not the one committed for it.
    secret = os.path.join(c.nodes["node3"].root, "etc", "msgc.key")
    os.remove(secret)
    keygen(secret, str(tmp_path / "node3-new.pub"))
    try:
        c.start()
        c.wait_converged(names=["node1", "node2"])
        procs.wait_for(lambda: "event=peer_refused" in c.manager.log(), timeout=10,
                       what="eccmgr to log the refused key")
        assert re.search(r"event=peer_refused address=127\.0\.0\.4 .*unknown public key",
                         c.manager.log()), c.manager.log()
        # Never admitted: the others keep it out of their views.
        time_end = time.monotonic() + 2 * c.dead_timeout
        while time.monotonic() < time_end:
            assert c.manager_view()["node3"] != "ALIVE"
            assert state_seen(c, "node1", "node3") != "ALIVE"
            time.sleep(0.1)
        out = c.manager.console("broadcast cluster nodename")
        assert "2 nodes, 2 answered" in out, out
    finally:
        c.stop()


def test_default_timers_declare_a_killed_node_dead_within_two_seconds(tmp_path):
    """The issue's goal with the shipped defaults (heartbeat 0.25 s, dead timeout 1.5 s)."""
    c = LocalCluster(tmp_path, nodes=2, heartbeat=0.25, dead_timeout=1.5, request_timeout=10,
                     health_interval=1)
    try:
        c.start()
        c.wait_converged()
        # Read when each observer declared node2 dead from its own log line (wall-clock
        # stamped): polling through ec_console adds up to a query's time (0.1-0.3 s each under
        # ASan) that belongs to the poll, not to the bus. It failed CI at 2.11 s that way.
        killed_at = time.time()
        c.nodes["node2"].kill9()
        readers = {"eccmgr": c.manager.log, "node1": c.nodes["node1"].process.log}
        seen = {}

        def both_logged_it():
            for name, read in readers.items():
                m = name not in seen and re.search(r"^(\S+)Z level=\S+ .*event=dead peer=node2 ",
                                                   read(), re.M)
                if m:
                    stamp = datetime.datetime.fromisoformat(m.group(1)).replace(
                        tzinfo=datetime.timezone.utc)
                    seen[name] = stamp.timestamp() - killed_at
            return len(seen) == len(readers)

        procs.wait_for(both_logged_it, timeout=10, interval=0.1,
                       what=f"eccmgr and node1 to log node2 dead (so far {seen})")
        print(f"default timers, kill -9 detection: {seen}")
        assert max(seen.values()) < 2.0, seen
        # And the console agrees.
        assert state_seen(c, None, "node2") == "DEAD" and state_seen(c, "node1", "node2") == "DEAD"
    finally:
        c.stop()
