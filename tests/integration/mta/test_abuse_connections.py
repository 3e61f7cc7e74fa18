"""One client address cannot take every session slot of port 25.

A real ecmta runs with the session caps the shipped conf (conf/default/ecelerity.conf) sets:
listener_sessions, service_sessions and sessions_per_client_address, read from that file so
the test follows it. One address (127.0.0.2) opens 5,000 idle connections as fast as it can;
- at most sessions_per_client_address of them get a 220 banner, the rest a 421 and EOF;
- a second address (127.0.0.3) still gets its 220 within 1 s while the 5,000 are held;
- ecmta's resident memory stays bounded (growth under 64 MB; the figure is printed);
- once the flood closes, the first address is served again (its count went back to zero).
A Peer scope can raise the cap for one address. Every loop is bounded in count and time.
"""
import os
import re
import resource
import selectors
import socket
import time

import pytest

from lib.mta import MtaNode

FLOOD = 5000
MB = 1 << 20
SHIPPED_CONF = os.path.join(os.environ.get("EC_SOURCE_DIR", "."), "conf/default/ecelerity.conf")


def shipped_cap(option):
    """The value the shipped conf sets for `option` (uncommented lines only)."""
    with open(SHIPPED_CONF) as f:
        m = re.search(rf"^\s*{option}\s*=\s*(\d+)", f.read(), re.M | re.I)
    assert m, f"{option} is not set in {SHIPPED_CONF}"
    return int(m.group(1))


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise KeyError("VmRSS")


@pytest.fixture(autouse=True)
def enough_files():
    """The test holds FLOOD sockets and the daemon (a child) may accept as many."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FLOOD + 1000
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {want}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect_from(source, node, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((node.host, node.port))
    return s


def first_codes(socks, deadline):
    """The first reply code of each socket (None: EOF without a reply), read together."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    codes = {}
    while len(codes) < len(socks) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.01, deadline - time.monotonic())):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            bufs[s] += chunk
            if b"\r\n" in bufs[s] or not chunk:
                codes[s] = int(bufs[s][:3]) if bufs[s][:3].isdigit() else None
                sel.unregister(s)
    sel.close()
    assert len(codes) == len(socks), f"{len(socks) - len(codes)} sockets got no reply in time"
    return codes


def banner_within(source, node, seconds):
    start = time.monotonic()
    s = connect_from(source, node, timeout=seconds)
    try:
        line = s.recv(512)
    finally:
        s.close()
    return line, time.monotonic() - start


def test_one_address_cannot_take_every_slot(tmp_path):
    per_address = shipped_cap("sessions_per_client_address")
    listener_cap = shipped_cap("listener_sessions")
    service_cap = shipped_cap("service_sessions")
    assert 0 < per_address < listener_cap <= service_cap
    with MtaNode(tmp_path, listener_options=f"service_sessions = {service_cap}\n"
                 f"sessions_per_client_address = {per_address}",
                 listen_options=f"listener_sessions = {listener_cap}") as node:
        pid = node.process.pid
        base = rss(pid)
        flood = []
        start = time.monotonic()
        try:
            for _ in range(FLOOD):
                assert time.monotonic() - start < 120, f"only {len(flood)} connects in 120 s"
                flood.append(connect_from("127.0.0.2", node))
            opened = time.monotonic() - start
            line, took = banner_within("127.0.0.3", node, 1.0)
            assert line.startswith(b"220"), line
            assert took < 1.0
            codes = first_codes(flood, time.monotonic() + 60)
            served = sum(1 for c in codes.values() if c == 220)
            refused = sum(1 for c in codes.values() if c == 421)
            growth = rss(pid) - base
            print(f"\n{FLOOD} connects in {opened:.2f} s: {served} got 220, {refused} got 421; "
                  f"second address banner in {took * 1000:.1f} ms; RSS {base / MB:.1f} MB -> "
                  f"{(base + growth) / MB:.1f} MB")
            assert served == per_address
            assert refused == FLOOD - per_address
            assert growth < 64 * MB
        finally:
            for s in flood:
                s.close()
        # Counts return to zero: the flooding address is served again once its sessions end.
        deadline = time.monotonic() + 10
        while True:
            line, _ = banner_within("127.0.0.2", node, 5.0)
            if line.startswith(b"220") or time.monotonic() > deadline:
                break
        assert line.startswith(b"220"), line


def test_peer_scope_raises_the_cap(tmp_path):
    with MtaNode(tmp_path, listener_options="sessions_per_client_address = 2\n"
                 'Peer "127.0.0.4/32" { sessions_per_client_address = 10 }') as node:
        socks = [connect_from("127.0.0.4", node) for _ in range(10)]
        others = [connect_from("127.0.0.5", node) for _ in range(3)]
        try:
            codes = first_codes(socks, time.monotonic() + 10)
            assert sorted(codes.values()) == [220] * 10
            codes = first_codes(others, time.monotonic() + 10)
            assert sorted(codes.values()) == [220, 220, 421]
        finally:
            for s in socks + others:
                s.close()
