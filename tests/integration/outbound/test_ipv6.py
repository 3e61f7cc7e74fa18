"""IPv6 (AAAA) delivery and DNS over TCP, end to end.

test_ipv6_mx: inside a network namespace the test creates (its own lo, with 127.0.0.1 and ::1),
dnsmasq serves v6.test's MX, whose host has only an AAAA record (::1), and Postfix's smtp-sink
listens on [::1]. ecmta with use_ipv6 = true delivers there and logs ::1 as the remote; with
use_ipv6 = false the same setup finds no usable address and does not deliver.

test_dns_tcp_fallback (plain loopback): big.test has 41 MX records, too many for a 512-byte UDP
answer; dnsmasq sends a truncated one without the only working MX in it. With
dns_fallback_to_tcp = true ecmta asks again over TCP and delivers; with it off, it does not.

The namespace is entered by the test's own thread (setns(2)), so every process and socket the
test makes lives in it; it is left and deleted at the end, even on failure.
"""
import contextlib
import ctypes
import os
import shutil
import socket
import struct
import subprocess
import uuid

import pytest

from helpers import mainlog, node, send
from lib import procs
from lib.dnsmasq import Dnsmasq, have_dnsmasq
from lib.sink import SMTP_SINK, SmtpSink, have_smtp_sink

pytestmark = [
    pytest.mark.skipif(not have_dnsmasq(), reason="dnsmasq (dnsmasq-base) missing"),
    pytest.mark.skipif(not have_smtp_sink(), reason="Postfix smtp-sink missing"),
]

CLONE_NEWNET = 0x40000000
IP = shutil.which("ip") or "/usr/sbin/ip"


def _netns_problem():
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    if not os.access(IP, os.X_OK):
        return "iproute2 (ip) missing"
    if not hasattr(ctypes.CDLL(None), "setns"):
        return "libc has no setns"
    return None


@contextlib.contextmanager
def network_namespace():
    """A fresh namespace with lo up; this thread is inside it for the duration."""
    problem = _netns_problem()
    if problem:
        pytest.skip(problem)
    name = f"ec-ipv6-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    r = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {r.stderr.strip()}")
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    inside = False
    try:
        subprocess.run([IP, "-n", name, "link", "set", "lo", "up"], check=True)
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                pytest.skip(f"setns: {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(target)
        inside = True
        addrs = subprocess.run([IP, "-6", "addr", "show", "dev", "lo"], capture_output=True,
                               text=True).stdout
        if "::1" not in addrs:
            pytest.skip("IPv6 is disabled in the new namespace (lo has no ::1)")
        yield name
    finally:
        if inside and libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the test's namespace failed")
        os.close(home)
        subprocess.run([IP, "netns", "delete", name], capture_output=True)


class Ipv6SmtpSink(SmtpSink):
    """smtp-sink on [::1]:port (lib/sink.py's helpers pick IPv4 ports)."""

    def __init__(self, tmp_path):
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            port = s.getsockname()[1]
        super().__init__(tmp_path, host="::1", port=port, name="sink6")

    def start(self):
        user = __import__("pwd").getpwuid(os.getuid()).pw_name
        argv = [SMTP_SINK, "-u", user, "-d", os.path.join(self.dir, "%M."),
                f"[::1]:{self.port}", str(self.backlog)]
        self.process = procs.Process(argv, self.dir + ".log")
        procs.wait_for(lambda: procs.port_open("::1", self.port), timeout=10,
                       what="smtp-sink to listen on [::1]")
        return self


def _deliveries(n):
    return mainlog(n, "D")


def _failures(n):
    return mainlog(n, "T") + mainlog(n, "P")


def test_ipv6_mx(tmp_path):
    with network_namespace():
        dns = Dnsmasq(tmp_path, mx=[("v6.test", "only6.v6.test", 10)],
                      hosts=[("only6.v6.test", "::1")])
        with dns, Ipv6SmtpSink(tmp_path) as sink:
            base = (f'resolv_conf = "{dns.resolv_conf}"\nremote_smtp_port = {sink.port}\n'
                    'connect_timeout = 2\nretry_interval = 60\n')
            # use_ipv6 = false: AAAA records are ignored, so the MX host has no address.
            with node(tmp_path, global_options=base + "use_ipv6 = false\n", name="off") as n:
                send(n, "s@src.test", ["u@v6.test"], subject="off")
                procs.wait_for(lambda: _failures(n), timeout=20, what="a T or P line")
                assert not _deliveries(n)
                f = _failures(n)[0]
                assert f[5] == "v6.test"
                assert "use_ipv6" in "@".join(f), f
            assert sink.count() == 0

            with node(tmp_path, global_options=base + "use_ipv6 = true\n", name="on") as n:
                send(n, "s@src.test", ["u@v6.test"], subject="on")
                procs.wait_for(lambda: _deliveries(n), timeout=20, what="a D line")
                d = _deliveries(n)[0]
                assert d[5] == "v6.test"
                assert d[11] == "::1", d
                assert not _failures(n)
            procs.wait_for(lambda: sink.count() == 1, timeout=10, what="the message in smtp-sink")


def _mx_names(answer):
    """Exchange names in a DNS answer, by plain label scan (enough for this test)."""
    names = []
    pos = 12
    while pos < len(answer) and answer[pos] != 0:  # question name
        pos += 1 + answer[pos]
    pos += 5
    for _ in range(struct.unpack(">H", answer[6:8])[0]):
        pos += 2  # compressed owner
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", answer[pos:pos + 10])
        rdata = answer[pos + 12:pos + 10 + rdlen]
        label = rdata[1:1 + rdata[0]].decode() if rdata else ""
        if rtype == 15:
            names.append(label)
        pos += 10 + rdlen
    return names


def _udp_mx_query(dns, name):
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack(">HH", 15, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(q, (dns.host, dns.port))
        return s.recv(4096)


def test_dns_tcp_fallback(tmp_path):
    # dnsmasq answers MX records in the reverse of the order given: the working MX (listed
    # first, worst preference) falls off the end of the 512-byte UDP answer.
    mx = [("big.test", "good.big.test", 50)]
    mx += [("big.test", f"mx{i}.a-rather-long-mail-exchanger-name.big.test", 10)
           for i in range(40)]
    dns = Dnsmasq(tmp_path, mx=mx, hosts=[("good.big.test", "127.0.0.1")])
    with dns, SmtpSink(tmp_path) as sink:
        answer = _udp_mx_query(dns, "big.test")
        assert answer[2] & 0x02, "dnsmasq did not truncate the big MX answer"
        if "good" in _mx_names(answer):
            pytest.fail("dnsmasq's truncated answer holds the working MX: the test cannot tell "
                        "TCP from UDP; reorder the MX list")
        base = (f'resolv_conf = "{dns.resolv_conf}"\nremote_smtp_port = {sink.port}\n'
                'connect_timeout = 2\nretry_interval = 60\n')
        with node(tmp_path, global_options=base + "dns_fallback_to_tcp = false\n",
                  name="udp") as n:
            send(n, "s@src.test", ["u@big.test"], subject="udp")
            procs.wait_for(lambda: _failures(n), timeout=30, what="a T or P line")
            assert not _deliveries(n)
        assert sink.count() == 0

        with node(tmp_path, global_options=base + "dns_fallback_to_tcp = true\n",
                  name="tcp") as n:
            send(n, "s@src.test", ["u@big.test"], subject="tcp")
            procs.wait_for(lambda: _deliveries(n), timeout=30, what="a D line")
            d = _deliveries(n)[0]
            assert d[5] == "big.test" and d[11] == "127.0.0.1", d
        procs.wait_for(lambda: sink.count() == 1, timeout=10, what="the message in smtp-sink")
