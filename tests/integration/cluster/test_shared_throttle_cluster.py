"""Shared_Throttle across a cluster (docs/cluster-limits.md, "Shared named throttles"): eccmgr
and three ecmta nodes (lib/cluster.py) with `Shared_Throttle "partners" { messages = "30/20" }`
taken by every node's ESMTP_Listener and Replicate "shared_named_throttles" (max_delay 0.2 s).

One client per node offers transactions (MAIL FROM, then RSET) to all three at once for 24 s.
The MAIL FROMs answered 250 across the nodes never number more than 30 in any 20 s window (the
bound is 0 while no node dies); the nodes get most of the limit in the first window (the
leader shares it among the refusing nodes) and more once it has passed; a refusal is 451
4.7.1 naming the throttle; `cluster shared list|show` show the object.
"""
import contextlib
import re
import smtplib
import threading
import time

import pytest

from lib.cluster import LocalCluster

LIMIT, WINDOW = 30, 20.0
RUN = 24.0
KEY = "shared_named_throttles/partners"
LISTENER = 'relay_hosts = ( "127.0.0.0/8" ) shared_throttle = "partners"'


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = LocalCluster(tmp_path_factory.mktemp("snt"), nodes=3,
                     cluster_options='Replicate "shared_named_throttles" { max_delay = 0.2 }',
                     node_config=f'Shared_Throttle "partners" '
                                 f'{{ messages = "{LIMIT}/{WINDOW:g}" }}',
                     node_options=lambda name: {"listener_options": LISTENER})
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(c.stop)  # also when start fails half-way
        c.start()
        c.wait_converged()
        yield c


def offer_until(node, deadline, accepted, refusals):
    """MAIL FROM (then RSET) to `node` until `deadline`: appends (sent, answered) monotonic times of each 250
    to `accepted`, the text of each refusal to `refusals`. A new connection every 20 commands
    (refusals count toward the session's junk limit); bounded by the deadline and a count."""
    attempts = 0
    while time.monotonic() < deadline and attempts < 5000:
        with smtplib.SMTP(node.host, node.port, timeout=10) as s:
            s.ehlo("client.test")
            for _ in range(20):
                if time.monotonic() >= deadline:
                    break
                attempts += 1
                sent = time.monotonic()
                code, text = s.mail("a@example.org")
                if code == 250:
                    accepted.append((sent, time.monotonic()))
                    s.rset()
                else:
                    refusals.append((code, text.decode()))
                    time.sleep(0.05)


def max_in_window(times, window):
    """The most times within any `window` seconds (closed: the stricter reading)."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while times[lo] < t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def max_surely_in_window(spans, window):
    """The most transactions whose unit the node surely took within one `window`: it took each
    between sending MAIL FROM and reading the 250, so only those whose whole (sent, answered)
    span lies inside [start, start + window) count. The answer times alone are not enough: a
    unit retaken the moment the first of a burst expires (20 s later on the node) can be
    answered sooner than that first one was, and look 31 to a window."""
    best = 0
    for start, _ in spans:
        best = max(best, sum(1 for sent, answered in spans
                             if sent >= start and answered < start + window))
    return best


def test_three_nodes_share_the_throttle(cluster):
    t0 = time.monotonic()
    deadline = t0 + RUN
    accepted = {n: [] for n in cluster.names}
    refusals = {n: [] for n in cluster.names}
    threads = [threading.Thread(target=offer_until,
                                args=(cluster.nodes[n], deadline, accepted[n], refusals[n]))
               for n in cluster.names]
    for t in threads:
        t.start()
    # While it runs, the console shows the object with the cluster's usage.
    time.sleep(3)
    listed = cluster.nodes["node1"].console("cluster shared list")
    shown = cluster.nodes["node2"].console("cluster shared show shared_named_throttles")
    for t in threads:
        t.join(timeout=RUN + 30)
    spans = [span for ss in accepted.values() for span in ss]
    every = sorted(answered for _, answered in spans)
    first_window = [t for t in every if t < t0 + WINDOW - 1]
    worst = max_surely_in_window(spans, WINDOW)
    print(f"accepted per node {[len(accepted[n]) for n in cluster.names]}, total {len(every)}, "
          f"most surely in a {WINDOW:g} s window {worst} (by answer time alone "
          f"{max_in_window(every, WINDOW)}), in the first window {len(first_window)}, "
          f"refusals {[len(refusals[n]) for n in cluster.names]}")
    assert worst <= LIMIT, f"{worst} transactions in one {WINDOW:g} s window (limit {LIMIT})"
    assert len(first_window) >= LIMIT - 3, f"only {len(first_window)} in the first window"
    assert len(every) > len(first_window), "nothing accepted after the first window"
    assert all(accepted[n] for n in cluster.names), "a node never got a unit"
    for n in cluster.names:
        for code, text in refusals[n]:
            assert code == 451 and text.startswith("4.7.1") and '"partners"' in text, text
    assert re.search(r'^Replicate "shared_named_throttles" type shared_named_throttles', listed,
                     re.M), listed
    m = re.search(rf"^\s*{re.escape(KEY)} limit {LIMIT} per {WINDOW:.3f} s cluster usage (\d+)$",
                  shown, re.M)
    assert m and int(m.group(1)) <= LIMIT, shown
