"""Who may read and acknowledge a node's journals on its ECCluster listener (4802).

The listener speaks the ECCluster channel: ZeroMQ with CURVE and the bus keys, journal
commands only for members in the manager role (cluster { control_peers = ( "manager" ) }).
(a) The old plain-text console protocol gets no journal data and acks nothing: the manager
    still receives every line afterwards.
(b) node2, a member with a committed key but not a control peer, is refused read and ack.
(c) The same tool with the manager's key reads lines: the attack surface is real.
"""
import os
import smtplib
import socket
import subprocess
import time

from lib import procs
from lib.cluster import LocalCluster
from lib.cluster_logs import configure_logs, manager_lines, node_lines


def send_mail(node, count, tag):
    with smtplib.SMTP(node.host, node.port, timeout=10) as s:
        for i in range(count):
            s.sendmail("auth@example.org", [f"{tag}{i}@example.net"],
                       f"Subject: {tag} {i}\r\n\r\nbody {i}\r\n")


def plain_text_exchange(host, port, lines):
    """What the listener answers to console-protocol lines (bounded by 2 s of silence)."""
    got = b""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall("".join(l + "\n" for l in lines).encode())
        s.settimeout(2)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            got += chunk
    return got


def request(cluster, port, node, key_owner, words):
    """eccluster_request to `node` with the key pair of `key_owner`: (exit status, output)."""
    root = cluster.manager.root if key_owner == "manager" else cluster.nodes[key_owner].root
    argv = [procs.find_binary("eccluster_request"),
            "--endpoint", f"{cluster.addresses[node]}:{port}", "--self", key_owner,
            "--key", os.path.join(root, "etc", "msgc.key"),
            "--server-key", os.path.join(cluster.key_dir, node + ".pub"),
            "--timeout-ms", "5000"] + words
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def all_caught_up(cluster):
    return all(len(node_lines(cluster.nodes[n])) > 0 and
               manager_lines(cluster, n) == node_lines(cluster.nodes[n]) for n in cluster.names)


def test_only_the_manager_reads_and_acks_journals(tmp_path):
    cluster = LocalCluster(tmp_path, nodes=2)
    port = configure_logs(cluster)
    with cluster:
        node1 = cluster.nodes["node1"]
        # The manager is kept away while we attack, so unread lines sit in node1's journal.
        cluster.manager.stop()
        send_mail(node1, 5, "before")
        procs.wait_for(lambda: len(node_lines(node1)) >= 5, timeout=20, what="node1's mainlog")

        # (a) the old plain-text protocol: no answer that carries journal data.
        answer = plain_text_exchange(node1.host, port, [
            "journal read mainlog master 10",
            "journal ack mainlog master 1 100000000",
            "journal ack mainlog master 1 17",
        ])
        assert b"batch" not in answer and b"@R@" not in answer, answer[:200]

        # (b) a member that is not a control peer, with its real key.
        status, out = request(cluster, port, "node1", "node2",
                              ["journal", "read", "mainlog", "master", "10"])
        assert status == 1 and "refused: msgc:node2 is not a manager" in out, out
        assert "@R@" not in out, out
        status, out = request(cluster, port, "node1", "node2",
                              ["journal", "ack", "mainlog", "master", "1", "100000000"])
        assert status == 1 and "refused" in out, out
        status, out = request(cluster, port, "node1", "node2", ["cluster", "show", "logs"])
        assert status == 1 and "refused" in out, out

        # (c) the manager's key reads the lines (a read moves no cursor).
        status, out = request(cluster, port, "node1", "manager",
                              ["journal", "read", "mainlog", "master", "10"])
        assert status == 0 and out.startswith("ok\nbatch ") and "@R@" in out, out
        # Even the manager cannot ack inside a record (here: 3 bytes into the first one).
        segment, offset = out.splitlines()[2].split()[:2]
        status, out = request(cluster, port, "node1", "manager",
                              ["journal", "ack", "mainlog", "master", segment,
                               str(int(offset) + 3)])
        assert status == 1 and "not the start of a record" in out, out

        # Nothing was acknowledged: the manager, back, receives every line, old and new.
        cluster.manager.start()
        send_mail(node1, 5, "after")
        send_mail(cluster.nodes["node2"], 3, "after")
        procs.wait_for(lambda: all_caught_up(cluster), timeout=60, interval=0.2,
                       what="the manager to hold every node's mainlog")
