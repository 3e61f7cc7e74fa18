"""Every mainlog line of every node reaches the manager exactly once, whatever is killed.

Three ecmta nodes write their logs to local files and to journals (`cluster://...=>master`);
eccmgr pulls the journals over each node's ECCluster_Listener into
<root>/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}. While mail flows, the manager and the nodes are
killed -9 at random moments and restarted. Afterwards each node's local mainlog and the
manager's copy must hold the same lines, in the same order, none missing and none twice.
"""
import os
import random
import smtplib
import threading
import time

from lib import procs
from lib.cluster import LocalCluster
from lib.cluster_logs import configure_logs, manager_lines, node_lines

ROUNDS = 6            # kill -9 events
LOAD_SECONDS = 12     # the whole load phase is bounded by this


def send_load(cluster, stop, sent):
    """Mail to random nodes until `stop`; a node that is down just gets the next one."""
    nodes = list(cluster.nodes.values())
    i = 0
    while not stop.is_set():
        node = random.choice(nodes)
        try:
            with smtplib.SMTP(node.host, node.port, timeout=5) as s:
                for _ in range(5):
                    i += 1
                    s.sendmail("load@example.org", [f"rcpt{i}@example.net"],
                               f"Subject: load {i}\r\n\r\nbody {i}\r\n")
                    sent[0] += 1
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)


def test_every_mainlog_line_reaches_the_manager_exactly_once(tmp_path):
    random.seed(os.getpid())
    cluster = LocalCluster(tmp_path, nodes=3)
    configure_logs(cluster)
    with cluster:
        stop, sent = threading.Event(), [0]
        load = threading.Thread(target=send_load, args=(cluster, stop, sent), daemon=True)
        load.start()
        deadline = time.monotonic() + LOAD_SECONDS
        # The manager every other time, and every node once, at random moments.
        order = random.sample(cluster.names, len(cluster.names))
        victims = [v for pair in zip(["manager"] * len(order), order) for v in pair]
        killed = []
        for victim in victims[:ROUNDS]:
            time.sleep(random.uniform(0.3, 1.2))
            killed.append(victim)
            if victim == "manager":
                cluster.manager.process.kill9()
                time.sleep(random.uniform(0, 0.5))
                cluster.manager.start()
            else:
                node = cluster.nodes[victim]
                node.kill9()
                time.sleep(random.uniform(0, 0.5))
                node.start()
            if time.monotonic() > deadline:
                break
        stop.set()
        load.join(timeout=30)
        print("killed -9:", " ".join(killed))
        assert sent[0] > 50, f"only {sent[0]} messages were accepted under the kills"

        def caught_up():
            return all(len(manager_lines(cluster, n)) >= len(node_lines(cluster.nodes[n]))
                       for n in cluster.names)
        procs.wait_for(caught_up, timeout=30, interval=0.2, what="the manager to catch up")
        time.sleep(1.0)  # anything doubled would show up now
        for name in cluster.names:
            local, aggregated = node_lines(cluster.nodes[name]), manager_lines(cluster, name)
            print(f"{name}: {len(local)} mainlog lines on the node, {len(aggregated)} on the "
                  f"manager; {sent[0]} messages accepted in all")
            assert any("@R@" in l for l in local), f"{name} logged no receptions"
            assert aggregated == local, (
                f"{name}: {len(local)} local lines, {len(aggregated)} on the manager; first "
                f"difference at {next((i for i, (a, b) in enumerate(zip(local, aggregated)) if a != b), min(len(local), len(aggregated)))}")
        # The node reports what the manager has read.
        out = cluster.nodes["node1"].console("cluster show logs")
        assert "mainlog" in out and "=>master" in out and " 0 bytes unread" in out, out
        tail = cluster.manager.console("logs tail --node node2 --log mainlog")
        assert tail.strip().splitlines()[-1] == "node2 mainlog: " + node_lines(cluster.nodes["node2"])[-1]
