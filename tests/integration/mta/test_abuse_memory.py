"""One SMTP session's memory stays bounded whatever the client sends.

A real ecmta; its resident memory (VmRSS from /proc/<pid>/status, sampled while the attack runs,
and the peak VmHWM after it) must not grow with what a client sends:
- a 200 MB body (DATA), streamed to the spool as it arrives: growth under 32 MB, and the
  message is stored whole; four such sessions at once likewise;
- a body over max_message_size (DATA and BDAT, and SIZE= at MAIL): 552 5.3.4, nothing stored,
  no temporary file left open or on disk;
- ~100 MB of pipelined NOOP from a client that never reads: growth under 32 MB, another
  client still gets its banner and a 250 within 1 s, and the flood ends with 421;
- kill -9 with a big body half received: no file left, and the big message that got its 250
  is there whole after recovery.
Every wait has a deadline; every loop is bounded in bytes and time.
"""
import os
import socket
import threading
import time

from lib import procs
from lib.mta import MtaNode
from smtp_raw import RawSmtp

# AddressSanitizer holds freed memory in a quarantine (256 MB by default) that shows up as RSS;
# a small one keeps the sanitizer build's figures about ecmta's own memory. Other builds ignore it.
os.environ["ASAN_OPTIONS"] = ":".join(
    o for o in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=4") if o)

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'
MB = 1 << 20
GROWTH_LIMIT = 32 * MB
LINE = b"x" * 998 + b"\r\n"


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


class RssWatch:
    """Samples VmRSS every 20 ms from start to stop; growth = highest seen (VmHWM included)
    minus the RSS at start."""

    def __init__(self, pid):
        self.pid = pid
        self.base = status_kb(pid, "VmRSS")
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, status_kb(self.pid, "VmRSS"))
            except (OSError, KeyError):
                return

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, status_kb(self.pid, "VmHWM"))
        return self.peak - self.base


def open_transaction(node, timeout=120):
    c = RawSmtp(node.host, node.port, timeout=timeout)
    assert c.reply()[0] == 220
    assert c.cmd("EHLO abuse.test")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
    return c


def send_body(c, size, msgid):
    """DATA with a body of about `size` bytes (full 1000-byte lines)."""
    assert c.cmd("DATA")[0] == 354
    chunk = f"Message-ID: <{msgid}>\r\nSubject: big\r\n\r\n".encode() + LINE * 1024
    sent = 0
    while sent < size:
        c.sock.sendall(chunk)
        sent += len(chunk)
        chunk = LINE * 1024
    c.sock.sendall(b".\r\n")
    return sent


def spool_temp_fds(pid):
    """Descriptors ecmta holds on unlinked (temporary) files."""
    fd_dir = f"/proc/{pid}/fd"
    out = []
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.endswith("(deleted)"):
            out.append(target)
    return out


def spilled_body_in_flight(node, lines):
    """A client half way through DATA, its body (past the in-memory head) in a nameless
    temporary file of ecmta's."""
    c = open_transaction(node)
    assert c.cmd("DATA")[0] == 354
    c.sock.sendall(LINE * lines)
    procs.wait_for(lambda: spool_temp_fds(node.process.pid), timeout=10,
                   what="the body to spill to a temporary file")
    return c


def spool_files(node):
    spool = os.path.join(node.root, "spool")
    return sorted(n for n in os.listdir(spool) if n != "lock" and not n.endswith(".seg"))


def big_node(tmp_path):
    # A limit well above the body: this is about streaming, not about the limit. Delivery is
    # held: an outbound attempt reads the whole body into memory (Scheduler::BuildTransaction,
    # even to record a failed route), which is the delivery side's memory, not the session's.
    return MtaNode(tmp_path, listener_options=RELAY + "\nmax_message_size = 1024M",
                   extra_config='Domain "example.com" { suspend_delivery = true }')


def test_200mb_body_is_streamed_not_buffered(tmp_path):
    with big_node(tmp_path) as node:
        watch = RssWatch(node.process.pid)
        c = open_transaction(node)
        sent = send_body(c, 200 * MB, "big1@abuse.test")
        code, text = c.reply(timeout=120)
        growth = watch.stop()
        assert code == 250, text
        c.cmd("QUIT")
        print(f"1 x 200 MB: RSS growth {growth / MB:.1f} MB")
        assert growth < GROWTH_LIMIT, f"RSS grew {growth / MB:.1f} MB for a {sent / MB:.0f} MB body"
        assert spool_temp_fds(node.process.pid) == []
    dump = node.spool_dump()  # (the spool is locked while ecmta runs)
    assert [d[1] for d in dump] == ["<big1@abuse.test>"]
    assert int(dump[0][3]) > sent  # (id, Message-ID, pending rcpts, bytes): all of it + Received:
    assert spool_files(node) == []


def test_four_concurrent_200mb_bodies(tmp_path):
    with big_node(tmp_path) as node:
        watch = RssWatch(node.process.pid)
        replies = [None] * 4

        def one(i):
            c = open_transaction(node)
            send_body(c, 200 * MB, f"par{i}@abuse.test")
            replies[i] = c.reply(timeout=180)
            c.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        growth = watch.stop()
        print(f"4 x 200 MB: RSS growth {growth / MB:.1f} MB")
        assert [r[0] if r else None for r in replies] == [250] * 4, replies
        assert growth < GROWTH_LIMIT, f"RSS grew {growth / MB:.1f} MB for 4 x 200 MB"
        assert spool_temp_fds(node.process.pid) == []
    assert sorted(d[1] for d in node.spool_dump()) == [f"<par{i}@abuse.test>" for i in range(4)]


def test_oversize_body_is_552_and_leaves_nothing(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + "\nmax_message_size = 1M") as node:
        c = open_transaction(node)
        # DATA: the client was told SIZE 1048576 in EHLO; the refusal comes after the final dot.
        send_body(c, 8 * MB, "over@abuse.test")
        code, text = c.reply(timeout=60)
        assert code == 552 and "5.3.4" in text, text
        # BDAT: refused at the chunk that passes the limit; the rest of that chunk is read.
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
        c.send(b"BDAT 600000\r\n" + b"y" * 600000)
        assert c.reply()[0] == 250
        c.send(b"BDAT 600000 LAST\r\n" + b"y" * 600000)
        code, text = c.reply()
        assert code == 552 and "5.3.4" in text, text
        # SIZE= at MAIL over the limit.
        code, text = c.cmd("MAIL FROM:<a@example.org> SIZE=2000000")
        assert code == 552 and "5.3.4" in text, text
        # A body aborted half way by RSET between chunks: nothing kept either.
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
        c.send(b"BDAT 900000\r\n" + b"z" * 900000)
        assert c.reply()[0] == 250
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("NOOP")[0] == 250  # the session goes on
        assert spool_temp_fds(node.process.pid) == [], "a refused body still holds a file"
        c.cmd("QUIT")
        # A client that vanishes mid-body (under the limit) leaves nothing either.
        spilled_body_in_flight(node, 512).close()
        procs.wait_for(lambda: spool_temp_fds(node.process.pid) == [], timeout=10,
                       what="the vanished client's body to be dropped")
    assert node.spool_dump() == []
    assert spool_files(node) == []


def test_noop_flood_without_reading_is_bounded_and_ends_with_421(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        pid = node.process.pid
        watch = RssWatch(pid)
        flood = socket.create_connection((node.host, node.port), timeout=10)
        flood.setblocking(False)
        chunk = b"NOOP\r\n" * 10922  # 64 KB
        sent, last_progress, deadline = 0, time.monotonic(), time.monotonic() + 60
        # Pipeline up to ~100 MB without ever reading, until the server stops taking it for 1 s
        # (or closes the connection).
        while sent < 100 * MB and time.monotonic() - last_progress < 1.0 and \
                time.monotonic() < deadline:
            try:
                n = flood.send(chunk)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            except OSError:
                break  # the server ended the session
            sent += n
            last_progress = time.monotonic()
        # Another client is served promptly meanwhile.
        start = time.monotonic()
        other = RawSmtp(node.host, node.port, timeout=5)
        assert other.reply(timeout=1)[0] == 220
        assert other.cmd("NOOP")[0] == 250
        elapsed = time.monotonic() - start
        other.cmd("QUIT")
        growth = watch.stop()
        print(f"NOOP flood: {sent / MB:.1f} MB sent before the server stopped taking it, "
              f"RSS growth {growth / MB:.1f} MB, other client served in {elapsed * 1000:.0f} ms")
        assert elapsed < 1.0, f"another client waited {elapsed:.2f} s"
        assert growth < GROWTH_LIMIT, f"RSS grew {growth / MB:.1f} MB"
        # The flood ends with 421: read what the server answered before it closed.
        flood.setblocking(True)
        flood.settimeout(10)
        received = b""
        try:
            while True:
                data = flood.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, socket.timeout):
            pass
        flood.close()
        lines = [l for l in received.split(b"\r\n") if l]
        assert lines, "no reply at all to the flood"
        assert lines[-1].startswith(b"421 4.7.0"), lines[-3:]
        assert all(l.startswith(b"250 ") for l in lines[1:-1])
        assert len(lines) < 1000  # ended by the junk budget, long before 100 MB of NOOP


def test_kill9_mid_body_leaves_nothing_and_keeps_what_got_250(tmp_path):
    node = big_node(tmp_path)
    node.start()
    try:
        a = open_transaction(node)
        sent = send_body(a, 20 * MB, "kept@abuse.test")
        assert a.reply(timeout=60)[0] == 250
        # A second body half way in when ecmta is killed.
        b = spilled_body_in_flight(node, 10240)
        node.kill9()
        a.close()
        b.close()
        assert spool_files(node) == [], "a body in flight left a file behind"
        node.start()  # recovery
    finally:
        node.stop()
    dump = node.spool_dump()
    assert [d[1] for d in dump] == ["<kept@abuse.test>"]
    assert int(dump[0][3]) > sent
    assert spool_files(node) == []
