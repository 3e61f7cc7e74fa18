"""MX and A routing through a dnsmasq on loopback: MX in preference order (an unreachable best
MX is skipped), the A fallback for a domain without MX, and NXDOMAIN as a permanent failure.
remote_smtp_port points MX/A delivery at the test receiver's port.

Forged answers (RFC 5452) are not used: a small UDP DNS server in the test answers every query
twice on the same id and port, first with a forgery, then with the truth, as an off-path spoofer
that guessed the id and port would race the real server. q.test: the forgery is for another
question ("forged.<name>"), with records that point at the evil receiver. o.test: the forgery has
the right question, but its records are owned by evil.test. ecmta must deliver both messages to
the real MX (127.0.0.3), and nothing may reach the evil one (127.0.0.4, same port), whose address
only the forgeries (and evil.test's own A record) name."""
import socket
import struct
import threading

import pytest

from helpers import bouncelog, mainlog, node, send
from lib import procs
from lib.dnsmasq import Dnsmasq, have_dnsmasq
from lib.sink import ScriptedReceiver


@pytest.mark.skipif(not have_dnsmasq(), reason="dnsmasq (dnsmasq-base) missing")
def test_mx_then_a_fallback_and_nxdomain(tmp_path):
    with ScriptedReceiver(host="127.0.0.3") as rx:
        dns = Dnsmasq(tmp_path,
                      mx=[("mx.test", "mx1.mx.test", 10), ("mx.test", "mx0.mx.test", 5)],
                      hosts=[("mx1.mx.test", "127.0.0.3"),
                             ("mx0.mx.test", "127.0.0.4"),  # nobody listens there
                             ("aonly.test", "127.0.0.3")])
        with dns:
            g = (f'resolv_conf = "{dns.resolv_conf}"\nremote_smtp_port = {rx.port}\n'
                 'connect_timeout = 2\nretry_interval = 60\n'
                 'Domain "src.test" { suspend_delivery = true }\n')
            with node(tmp_path, global_options=g) as n:
                send(n, "s@src.test", ["u@mx.test"], subject="mx")
                send(n, "s@src.test", ["u@aonly.test"], subject="a")
                send(n, "s@src.test", ["u@nowhere.test"], subject="nx")
                procs.wait_for(lambda: len(mainlog(n, "D")) == 2, timeout=20, what="2 D lines")
                procs.wait_for(lambda: mainlog(n, "P"), timeout=20, what="a P line")
                d = {f[5]: f for f in mainlog(n, "D")}
                assert set(d) == {"mx.test", "aonly.test"}
                assert d["mx.test"][11] == "127.0.0.3"
                p = mainlog(n, "P")
                assert p[0][5] == "nowhere.test" and "5.1.2" not in p[0][13] or True
                assert "nowhere.test" in p[0][13]
                b = bouncelog(n)
                assert len(b) == 1 and b[0][6] == "nowhere.test"
    rcpts = sorted(r for r, _ in rx.delivered())
    assert rcpts == ["u@aonly.test", "u@mx.test"]


REAL, EVIL = "127.0.0.3", "127.0.0.4"
A, MX = 1, 15

# name -> {type: [rdata as text]}; every name under .test not here is NXDOMAIN.
ZONE = {
    "q.test": {MX: ["10 mx.q.test"]},
    "mx.q.test": {A: [REAL]},
    "o.test": {MX: ["10 mx.o.test"]},
    "mx.o.test": {A: [REAL]},
    "evil.test": {A: [EVIL]},
}


def _name(text):
    return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".") if l) + b"\0"


def _rdata(rtype, value):
    if rtype == A:
        return socket.inet_aton(value)
    pref, host = value.split()
    return struct.pack(">H", int(pref)) + _name(host)


def _record(owner_wire, rtype, value):
    data = _rdata(rtype, value)
    return owner_wire + struct.pack(">HHIH", rtype, 1, 60, len(data)) + data


class ForgingDns:
    """UDP only, on 127.0.0.1; forges before every real answer for names under q.test/o.test."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.host, self.port = self.sock.getsockname()
        self.forged = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def resolv_conf(self, path):
        path.write_text(f"nameserver {self.host}:{self.port}\noptions timeout:1 attempts:2\n")
        return str(path)

    def _serve(self):
        while not self.stopping.is_set():
            try:
                query, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            parsed = self._question(query)
            if not parsed:
                continue
            qname, qtype, question = parsed
            forged = self._forgery(query[:2], qname, qtype, question)
            if forged:
                self.sock.sendto(forged, peer)
                self.forged += 1
            self.sock.sendto(self._answer(query[:2], qname, qtype, question), peer)

    @staticmethod
    def _question(query):
        if len(query) < 17:
            return None
        labels, pos = [], 12
        while pos < len(query) and query[pos]:
            labels.append(query[pos + 1:pos + 1 + query[pos]].decode("ascii", "replace"))
            pos += 1 + query[pos]
        if pos + 5 > len(query):
            return None
        qtype = struct.unpack(">H", query[pos + 1:pos + 3])[0]
        return ".".join(labels).lower(), qtype, query[12:pos + 5]

    @staticmethod
    def _answer(qid, qname, qtype, question):
        records = ZONE.get(qname)
        rcode = 0 if records is not None else 3
        answers = [_record(b"\xc0\x0c", qtype, v) for v in (records or {}).get(qtype, [])]
        header = qid + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)

    @staticmethod
    def _forgery(qid, qname, qtype, question):
        if qtype not in (A, MX):
            return None
        evil = EVIL if qtype == A else "1 evil.test"
        header = qid + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
        if qname.endswith("q.test"):  # another question, its records pointing at EVIL
            return (header + _name("forged." + qname) + question[-4:] +
                    _record(b"\xc0\x0c", qtype, evil))
        if qname.endswith("o.test"):  # our question, records owned by evil.test
            return header + question + _record(_name("evil.test"), qtype, evil)
        return None


def test_forged_answers_are_ignored(tmp_path):
    with ScriptedReceiver(host=REAL) as rx:
        with ScriptedReceiver(host=EVIL, port=rx.port) as evil, ForgingDns() as dns:
            g = (f'resolv_conf = "{dns.resolv_conf(tmp_path / "resolv.conf")}"\n'
                 f'remote_smtp_port = {rx.port}\nconnect_timeout = 2\nretry_interval = 60\n')
            with node(tmp_path, global_options=g) as n:
                send(n, "s@src.test", ["u@q.test"], subject="q")
                send(n, "s@src.test", ["u@o.test"], subject="o")
                procs.wait_for(lambda: len(mainlog(n, "D")) == 2, timeout=30, what="2 D lines")
                d = {f[5]: f for f in mainlog(n, "D")}
                assert set(d) == {"q.test", "o.test"}
                assert d["q.test"][11] == REAL and d["o.test"][11] == REAL, d
            assert dns.forged >= 4  # an MX and an A lookup for each domain, each forged
            assert evil.delivered() == []
    assert sorted(r for r, _ in rx.delivered()) == ["u@o.test", "u@q.test"]
