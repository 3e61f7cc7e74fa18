"""Abuse bench: five attacks, each against a fresh ecmta node with the shipped limits.

    /usr/bin/python3 bench/abuse/abuse.py BUILD_DIR     (run.sh sets this up)

Prints one line per attack: peak RSS growth (VmHWM minus the RSS at start), whether a second
client (another address) got banner + EHLO within 1 s during the attack, and whether anything
acknowledged with 250 was lost. Exit status 1 if any bound is broken.

The attack code is imported from tests/integration (nothing copied): RssWatch and the body
sender from mta/test_abuse_memory.py, connect_from/first_codes from test_abuse_connections.py,
tls_client/auth_plain from test_abuse_auth.py and ForgingDns from outbound/test_dns.py.
Loopback only; every loop is bounded in count and time; ecmta is stopped by PID.
"""
import os
import pathlib
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = pathlib.Path(__file__).resolve().parents[2]
INTEG = SRC / "tests" / "integration"
for d in (INTEG, INTEG / "mta", INTEG / "outbound"):
    sys.path.insert(0, str(d))
os.environ.setdefault("EC_SOURCE_DIR", str(SRC))

from lib import procs                                                    # noqa: E402
from lib.mta import MtaNode                                              # noqa: E402
from lib.sink import ScriptedReceiver                                    # noqa: E402
from smtp_raw import RawSmtp                                             # noqa: E402
from tls_files import self_signed_cert                                   # noqa: E402
import test_abuse_memory as mem                                          # noqa: E402
import test_abuse_connections as conns                                   # noqa: E402
import test_abuse_auth as auth                                           # noqa: E402
import test_dns as dnst                                                  # noqa: E402
from helpers import mainlog                                              # noqa: E402

MB = 1 << 20
SHIPPED = SRC / "conf" / "default" / "ecelerity.conf"
RELAY = 'relay_hosts = ( "127.0.0.0/8" )'
HOLD = 'Domain "example.com" { suspend_delivery = true }'  # probe messages stay in the spool
PROBE_SOURCE = "127.0.0.3"
BIG_BODY = 200 * MB
SESSION_GROWTH = 32 * MB   # test_abuse_memory.GROWTH_LIMIT
FLOOD_GROWTH = 64 * MB     # test_abuse_connections: 5,000 idle connections


def shipped(option):
    """The value (as written, e.g. 10M) the shipped conf sets for `option`."""
    m = re.search(rf"^\s*{option}\s*=\s*(\S+)", SHIPPED.read_text(), re.M | re.I)
    if not m:
        raise SystemExit(f"{option} is not set in {SHIPPED}")
    return m.group(1)


def shipped_node(tmp, max_message_size=None, listener_extra="", **kw):
    listener = (f"{RELAY}\nservice_sessions = {shipped('service_sessions')}\n"
                f"sessions_per_client_address = {shipped('sessions_per_client_address')}\n"
                f"max_message_size = {max_message_size or shipped('max_message_size')}\n"
                f"idle_time = {shipped('idle_time')}\n{listener_extra}")
    kw.setdefault("extra_config", HOLD)
    return MtaNode(tmp, listener_options=listener,
                   listen_options=f"listener_sessions = {shipped('listener_sessions')}", **kw)


class Probe:
    """A second client from another address: banner + EHLO timed, then one message that must
    survive (acknowledged 250 -> must be in the spool afterwards)."""

    def __init__(self, node, name, source=PROBE_SOURCE):
        self.node, self.name, self.source = node, name, source
        self.took = None
        self.msgid = f"probe-{name}@abuse.test"
        self.acked = False
        self.error = None

    def run(self):
        try:
            start = time.monotonic()
            s = socket.socket()
            s.bind((self.source, 0))
            s.settimeout(5)
            s.connect((self.node.host, self.node.port))
            c = RawSmtp.__new__(RawSmtp)
            c.sock, c.buf = s, b""
            code, _ = c.reply(timeout=5)
            code2, _ = c.cmd("EHLO probe.test")
            if code == 220 and code2 == 250:
                self.took = time.monotonic() - start
            else:
                self.error = f"banner {code}, EHLO {code2}"
                return self
            if c.cmd("MAIL FROM:<p@example.org>")[0] == 250 and \
                    c.cmd("RCPT TO:<held@example.com>")[0] == 250 and c.cmd("DATA")[0] == 354:
                c.send(f"Message-ID: <{self.msgid}>\r\nSubject: probe\r\n\r\nhi\r\n.\r\n")
                self.acked = c.reply(timeout=10)[0] == 250
            c.cmd("QUIT")
            c.close()
        except Exception as e:  # noqa: BLE001 - reported, not raised
            self.error = repr(e)
        return self

    def served(self):
        return self.took is not None and self.took < 1.0

    def text(self):
        if self.took is None:
            return f"NO ({self.error})"
        return f"{'yes' if self.served() else 'NO'} ({self.took * 1000:.0f} ms)"


def stored_ids(node):
    """Message-IDs in the node's spool (the node must be stopped: the spool is locked)."""
    return [d[1] for d in node.spool_dump()]


class Result:
    def __init__(self, attack):
        self.attack = attack
        self.growth = None
        self.probe = None
        self.lost = []
        self.broken = []
        self.note = ""

    def line(self):
        g = "n/a" if self.growth is None else f"{self.growth / MB:.1f} MB"
        lost = "none" if not self.lost else "LOST " + ", ".join(self.lost)
        probe = self.probe.text() if self.probe else "n/a"
        verdict = "ok" if not self.broken else "BROKEN: " + "; ".join(self.broken)
        return (f"{self.attack:<34} rss_growth={g:<9} other_client_1s={probe:<16} "
                f"lost={lost:<6} {verdict}" + (f"  [{self.note}]" if self.note else ""))


def check_probe_and_spool(r, node, probe, expected_ids):
    """After node.stop(): every id acknowledged with 250 (and the probe's) still spooled."""
    r.probe = probe
    if not probe.served():
        r.broken.append("second client not served within 1 s")
    want = list(expected_ids) + ([f"<{probe.msgid}>"] if probe.acked else [])
    if not probe.acked:
        r.broken.append("probe message not acknowledged")
    have = stored_ids(node)
    r.lost += [w for w in want if w not in have]
    if r.lost:
        r.broken.append("acknowledged message missing")


# -- 1. big bodies ------------------------------------------------------------------------
def big_bodies(tmp, limit, label):
    r = Result(label)
    node = shipped_node(tmp, max_message_size=limit)
    node.start()
    try:
        watch = mem.RssWatch(node.process.pid)
        replies, started = [None] * 4, [threading.Event() for _ in range(4)]

        def one(i):
            try:
                c = mem.open_transaction(node, timeout=180)
                started[i].set()
                mem.send_body(c, BIG_BODY, f"big{i}@abuse.test")
                replies[i] = c.reply(timeout=180)
                c.close()
            except Exception as e:  # noqa: BLE001
                replies[i] = (None, repr(e))
                started[i].set()

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(4)]
        for t in threads:
            t.start()
        for e in started:
            e.wait(30)
        time.sleep(0.3)  # bodies are streaming now
        probe = Probe(node, f"big-{limit}").run()
        in_flight = sum(1 for x in replies if x is None)  # bodies not yet answered
        for t in threads:
            t.join(timeout=300)
        r.growth = watch.stop()
        codes = [x[0] if x else None for x in replies]
        acked = [f"<big{i}@abuse.test>" for i, x in enumerate(replies) if x and x[0] == 250]
        r.note = "replies " + ",".join(str(c) for c in codes)
        if limit is None:  # shipped 10M: every body refused 552 5.3.4
            if not all(x and x[0] == 552 and "5.3.4" in x[1] for x in replies):
                r.broken.append(f"expected 552 5.3.4 x4, got {replies}")
            else:
                r.note = "4 x 552 5.3.4"
        elif codes != [250] * 4:
            r.broken.append(f"expected 250 x4, got {replies}")
        r.note += f"; probe ran with {in_flight}/4 bodies in flight"
        if in_flight == 0:
            r.broken.append("probe did not overlap the bodies")
        if r.growth >= SESSION_GROWTH:
            r.broken.append(f"RSS grew >= {SESSION_GROWTH // MB} MB")
    finally:
        node.stop()
    check_probe_and_spool(r, node, probe, acked)
    if limit is None and stored_ids(node) != [f"<{probe.msgid}>"]:
        r.broken.append("a refused body was stored")
    return r


# -- 2. NOOP flood, never reading -------------------------------------------------------------
def noop_flood(tmp):
    r = Result("NOOP flood, client never reads")
    node = shipped_node(tmp)
    node.start()
    try:
        watch = mem.RssWatch(node.process.pid)
        flood = socket.create_connection((node.host, node.port), timeout=10)
        flood.setblocking(False)
        chunk = b"NOOP\r\n" * 10922  # 64 KB
        sent, last, deadline = 0, time.monotonic(), time.monotonic() + 60
        while sent < 100 * MB and time.monotonic() - last < 1.0 and time.monotonic() < deadline:
            try:
                n = flood.send(chunk)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            except OSError:
                break
            sent += n
            last = time.monotonic()
        probe = Probe(node, "noop").run()
        r.growth = watch.stop()
        flood.setblocking(True)
        flood.settimeout(10)
        received = b""
        try:
            for _ in range(10000):
                data = flood.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, socket.timeout):
            pass
        flood.close()
        lines = [l for l in received.split(b"\r\n") if l]
        ended = lines[-1].decode(errors="replace")[:9] if lines else "nothing"
        r.note = f"{sent / MB:.1f} MB sent before the server stopped reading; ended with {ended}"
        if not lines or not lines[-1].startswith(b"421"):
            r.broken.append("flood not ended with 421")
        if r.growth >= SESSION_GROWTH:
            r.broken.append(f"RSS grew >= {SESSION_GROWTH // MB} MB")
    finally:
        node.stop()
    check_probe_and_spool(r, node, probe, [])
    return r


# -- 3. 5,000 idle connections from one address -----------------------------------------------
def idle_connections(tmp):
    r = Result(f"{conns.FLOOD} idle conns from 127.0.0.2")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = conns.FLOOD + 1000
    if hard != resource.RLIM_INFINITY and hard < want:
        r.broken.append(f"RLIMIT_NOFILE hard {hard} < {want}: not run")
        return r
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    per_address = int(shipped("sessions_per_client_address"))
    node = shipped_node(tmp)
    node.start()
    flood = []
    try:
        watch = mem.RssWatch(node.process.pid)
        start = time.monotonic()
        for _ in range(conns.FLOOD):
            if time.monotonic() - start > 120:
                r.broken.append(f"only {len(flood)} connects in 120 s")
                break
            flood.append(conns.connect_from("127.0.0.2", node))
        probe = Probe(node, "idle").run()
        codes = conns.first_codes(flood, time.monotonic() + 60)
        served = sum(1 for c in codes.values() if c == 220)
        refused = sum(1 for c in codes.values() if c == 421)
        r.growth = watch.stop()
        r.note = f"{served} got 220, {refused} got 421"
        if served != per_address or refused != len(flood) - per_address:
            r.broken.append(f"expected {per_address} x 220, rest 421")
        if r.growth >= FLOOD_GROWTH:
            r.broken.append(f"RSS grew >= {FLOOD_GROWTH // MB} MB")
    finally:
        for s in flood:
            s.close()
        node.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    check_probe_and_spool(r, node, probe, [])
    return r


# -- 4. AUTH brute force ----------------------------------------------------------------------
GUESSES = 50


def auth_brute_force(tmp):
    r = Result(f"AUTH brute force, {GUESSES} guesses")
    cert, key = self_signed_cert(tmp)
    hashed = subprocess.run(["openssl", "passwd", "-6", "-salt", "abcdefgh", "s3cret"],
                            check=True, capture_output=True, text=True).stdout.strip()
    passwd = tmp / "passwd"
    passwd.write_text(f"bob:{hashed}\n")
    node = shipped_node(tmp, listener_extra=f'''
        tls_certificate = "{cert}"
        tls_key = "{key}"
        authplainparameters = [ uri = "file://{passwd}" ]
        authloginparameters = [ uri = "file://{passwd}" ]''')
    node.start()
    try:
        watch = mem.RssWatch(node.process.pid)
        codes = []
        s = auth.tls_client(node, "127.0.0.2")
        probe = None
        for i in range(GUESSES):
            codes.append(auth.auth_plain(s, f"\0bob\0guess{i}".encode())[0])
            if i == GUESSES // 2:
                probe = Probe(node, "auth").run()  # mid-attack, attacker session open
            if i % 5 == 4:  # a fresh session every few guesses (max_errors)
                s.quit()
                s = auth.tls_client(node, "127.0.0.2")
        right = auth.auth_plain(s, b"\0bob\0s3cret")[0]
        s.quit()
        other = auth.tls_client(node, "127.0.0.4")
        other_code = auth.auth_plain(other, b"\0bob\0s3cret")[0]
        other.quit()
        r.growth = watch.stop()
        n535, n454 = codes.count(535), codes.count(454)
        r.note = (f"{n535} x 535 then {n454} x 454; right password from attacker {right}, "
                  f"from other address {other_code}")
        limit = auth.MAX_FAILURES
        if codes != [535] * limit + [454] * (GUESSES - limit) or right != 454 or other_code != 235:
            r.broken.append("throttling not as expected")
        if r.growth >= SESSION_GROWTH:
            r.broken.append(f"RSS grew >= {SESSION_GROWTH // MB} MB")
    finally:
        node.stop()
    check_probe_and_spool(r, node, probe, [])
    return r


# -- 5. forged DNS answer while delivering ----------------------------------------------------
def forged_dns(tmp):
    r = Result("forged DNS answer during delivery")
    with ScriptedReceiver(host=dnst.REAL) as rx, \
            ScriptedReceiver(host=dnst.EVIL, port=rx.port) as evil, dnst.ForgingDns() as dns:
        g = (f'resolv_conf = "{dns.resolv_conf(tmp / "resolv.conf")}"\n'
             f'remote_smtp_port = {rx.port}\nconnect_timeout = 2\nretry_interval = 60\n')
        node = shipped_node(tmp, global_options=g)
        node.start()
        try:
            watch = mem.RssWatch(node.process.pid)
            import smtplib
            with smtplib.SMTP(node.host, node.port, timeout=30) as s:
                for dom in ("q", "o"):
                    s.sendmail("s@src.test", [f"u@{dom}.test"],
                               f"Subject: {dom}\r\nMessage-ID: <{dom}@src.test>\r\n\r\nhi\r\n")
            probe = Probe(node, "dns").run()  # while lookups and deliveries run
            try:
                procs.wait_for(lambda: len(mainlog(node, "D")) >= 2, timeout=30,
                               what="2 deliveries")
            except TimeoutError as e:
                r.broken.append(str(e))
            r.growth = watch.stop()
            d = {f[5]: f[11] for f in mainlog(node, "D")}
        finally:
            node.stop()
        real = sorted(rc for rc, _ in rx.delivered())
        bad = sorted(rc for rc, _ in evil.delivered())
        r.note = f"{dns.forged} forgeries sent; real MX got {real}, forger got {bad}"
        missing = [a for a in ("u@o.test", "u@q.test") if a not in real]
        r.lost += missing + [f"{a} (to forger)" for a in bad]
        if missing or bad or any(v != dnst.REAL for v in d.values()):
            r.broken.append("not delivered to the real MX only")
        if dns.forged < 4:
            r.broken.append("fewer forgeries than lookups")
        if r.growth is not None and r.growth >= SESSION_GROWTH:
            r.broken.append(f"RSS grew >= {SESSION_GROWTH // MB} MB")
    check_probe_and_spool(r, node, probe, [])
    return r


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: abuse.py BUILD_DIR [attack ...]")
    os.environ["EC_BINARY_DIR"] = os.path.abspath(sys.argv[1])
    procs.find_binary("ecmta")
    attacks = {
        "big": lambda t: big_bodies(t, None, "4 x 200 MB bodies, shipped 10M"),
        "bigstream": lambda t: big_bodies(t, "1024M", "4 x 200 MB bodies, limit 1024M"),
        "noop": noop_flood,
        "idle": idle_connections,
        "auth": auth_brute_force,
        "dns": forged_dns,
    }
    chosen = sys.argv[2:] or list(attacks)
    base = pathlib.Path(tempfile.mkdtemp(prefix="ecmta-abuse.", dir="/var/tmp"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  ecmta "
          f"{procs.find_binary('ecmta')}  limits from {SHIPPED.relative_to(SRC)}: "
          f"max_message_size {shipped('max_message_size')}, service_sessions "
          f"{shipped('service_sessions')}, listener_sessions {shipped('listener_sessions')}, "
          f"sessions_per_client_address {shipped('sessions_per_client_address')}", flush=True)
    failed = False
    try:
        for name in chosen:
            tmp = base / name
            tmp.mkdir()
            try:
                r = attacks[name](tmp)
            except Exception as e:  # noqa: BLE001 - one attack's crash is a broken bound
                r = Result(name)
                r.broken.append(f"error: {e!r}")
            print(r.line(), flush=True)
            failed |= bool(r.broken)
            shutil.rmtree(tmp, ignore_errors=True)  # 800 MB of spool after "bigstream"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("# result:", "BOUND BROKEN" if failed else "all bounds held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
