"""Adding and removing a bus member with `config reload`, no restart: eccmgr (127.0.0.10) and
ecmta node1, node2 run; node3 is added to msgc_server.conf and its key to msgc_keys; reloading
node1, node2 and eccmgr lets node3 join with nobody restarted and no existing link dropped;
removing node2 from the file and reloading drops it from the manager's view.
"""
import os
import re

import pytest

from lib import procs
from lib.cluster import LocalCluster


def write_peers(cluster, names):
    """msgc_server.conf with only `names` (and the manager) as peers."""
    path = os.path.join(cluster.global_dir, "msgc_server.conf")
    with open(path) as f:
        text = f.read()
    for name in cluster.names:
        line = f'    {name} = "{cluster.addresses[name]}"\n'
        if name not in names:
            text = text.replace(line, "")
        elif line not in text:
            text = text.replace("  peers = [\n", "  peers = [\n" + line)
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def cluster(tmp_path):
    c = LocalCluster(tmp_path, nodes=3, heartbeat=0.1, dead_timeout=1.0, request_timeout=1.0)
    key3 = os.path.join(c.key_dir, "node3.pub")
    os.rename(key3, key3 + ".later")  # node3's key is committed with the reload
    write_peers(c, ["node1", "node2"])
    try:
        c.manager.start()
        c.nodes["node1"].start()
        c.nodes["node2"].start()
        c.wait_converged(["node1", "node2"])
        yield c
    finally:
        c.stop()


def test_added_node_joins_and_removed_node_leaves_without_restart(cluster):
    running = [cluster.nodes["node1"], cluster.nodes["node2"]]
    pids = [n.process.pid for n in running] + [cluster.manager.process.pid]

    write_peers(cluster, ["node1", "node2", "node3"])
    key3 = os.path.join(cluster.key_dir, "node3.pub")
    os.rename(key3 + ".later", key3)
    for node in running:
        assert "configuration reloaded" in node.console("config reload")
    assert "configuration reloaded" in cluster.manager.console("config reload")
    cluster.nodes["node3"].start()
    cluster.wait_converged(["node1", "node2", "node3"])

    out = cluster.manager.console("broadcast summary")
    assert "broadcast summary: 3 nodes, 3 answered" in out, out
    assert "Node: node3" in out, out
    assert [n.process.pid for n in running] + [cluster.manager.process.pid] == pids
    for log in [n.process.log() for n in running] + [cluster.manager.log()]:
        assert "event=bus_reconfigured" in log and "added=node3" in log, log
        assert not re.search(r"event=peer_dead node=\S+ peer=(node1|node2|manager) ", log), log
        assert not re.search(r"event=dead peer=(node1|node2|manager) ", log), log

    # node2 leaves the configuration; it keeps running, but the others drop it.
    write_peers(cluster, ["node1", "node3"])
    for name in ["node1", "node3"]:
        assert "configuration reloaded" in cluster.nodes[name].console("config reload")
    assert "configuration reloaded" in cluster.manager.console("config reload")
    procs.wait_for(lambda: "node2" not in cluster.manager_view(), timeout=10,
                   what="node2 to leave the manager's view")
    out = cluster.manager.console("broadcast summary")
    assert "broadcast summary: 2 nodes, 2 answered" in out, out
    assert "removed=node2" in cluster.manager.log()
    # A change that needs a restart is refused and the manager keeps its bus.
    conf = os.path.join(cluster.global_dir, "msgc_server.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(re.sub(r"port = \d+", "port = 1", text))
    out = cluster.manager.console("config reload", check=False)
    assert "needs a restart" in out, out
    assert cluster.manager.process.pid == pids[-1]
    assert set(cluster.manager_view()) >= {"node1", "node3"}
