"""Every inbound limit: sizes, recipients, line length, idle time, sessions, ACLs."""
import socket
import time

from lib import procs
from lib.mta import MtaNode
from smtp_raw import RawSmtp

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def session(node):
    c = RawSmtp(node.host, node.port)
    assert c.reply()[0] == 220
    assert c.cmd("EHLO client.test")[0] == 250
    return c


def test_message_size_declared_and_actual(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + "\nmax_message_size = 1000") as node:
        c = session(node)
        code, text = c.cmd("MAIL FROM:<a@example.org> SIZE=5000")
        assert code == 552 and "5.3.4" in text
        assert c.cmd("MAIL FROM:<a@example.org> SIZE=500")[0] == 250
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 40 + ".\r\n")
        code, text = c.reply()
        assert code == 552 and "5.3.4" in text
        # The session goes on.
        assert c.cmd("RSET")[0] == 250
        c.cmd("QUIT")
    assert node.spool_dump() == []


def test_recipients_per_message(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + "\nmax_recipients_per_message = 2") as node:
        c = session(node)
        c.cmd("MAIL FROM:<a@example.org>")
        assert c.cmd("RCPT TO:<b1@example.com>")[0] == 250
        assert c.cmd("RCPT TO:<b2@example.com>")[0] == 250
        code, text = c.cmd("RCPT TO:<b3@example.com>")
        assert code == 452 and "4.5.3" in text
        c.cmd("QUIT")


def test_receptions_per_connection(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + "\nmax_receptions_per_connection = 1") as node:
        c = session(node)
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.com>")
        c.cmd("DATA")
        c.send("Subject: one\r\n\r\n1\r\n.\r\n")
        assert c.reply()[0] == 250
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 421
        assert c.closed()


def test_command_line_too_long(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        c = session(node)
        code, text = c.cmd("MAIL FROM:<" + "a" * 600 + "@example.org>")
        assert code == 500 and "5.5.6" in text
        assert c.cmd("NOOP")[0] == 250  # still in sync
        c.cmd("QUIT")


def test_idle_client_gets_421_and_is_dropped(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY + "\nidle_time = 1") as node:
        c = session(node)
        start = time.monotonic()
        code, text = c.reply(timeout=10)
        assert code == 421 and "4.4.2" in text, text
        assert c.closed()
        assert time.monotonic() - start < 8


def test_busy_session_is_ended_by_max_session_time(tmp_path):
    # A client that never idles (a NOOP every 0.3 s) is still dropped once its time is up.
    with MtaNode(tmp_path, listener_options=RELAY + "\nidle_time = 5\nmax_session_time = 2") as node:
        c = session(node)
        start = time.monotonic()
        while time.monotonic() - start < 8:
            c.cmd("NOOP")
            code, text = c.reply(timeout=5)
            if code != 250:
                break
            time.sleep(0.3)
        assert code == 421 and "4.4.2" in text, text
        assert 1.5 < time.monotonic() - start < 6
        assert c.closed()


def test_listener_sessions_cap(tmp_path):
    with MtaNode(tmp_path, listen_options="listener_sessions = 2",
                 listener_options=RELAY) as node:
        # The start-up probe (a connect and close on the SMTP port) holds a slot until the
        # server has seen it close: under load that can be after our first two sessions.
        procs.wait_for(lambda: node.summary_value("Connections") == 0, what="the probe closed")
        a, b = session(node), session(node)
        c = RawSmtp(node.host, node.port)
        code, text = c.reply()
        assert code == 421 and "4.4.5" in text
        a.cmd("QUIT")
        assert a.closed()
        # A slot is free again once a session ends.
        procs.wait_for(lambda: node.summary_value("Connections") <= 1, what="slot freed")
        d = RawSmtp(node.host, node.port)
        assert d.reply()[0] == 220
        b.cmd("QUIT")
        d.cmd("QUIT")


def test_peer_enable_false_refused_at_connect(tmp_path):
    # Momentum's prohibited_hosts names destinations (test_prohibited_hosts.py); clients are
    # refused with a Peer scope.
    with MtaNode(tmp_path, listener_options=RELAY + '\nPeer "127.0.0.0/8" { enable = false }') \
            as node:
        c = RawSmtp(node.host, node.port)
        code, text = c.reply()
        assert code == 554 and "5.7.1" in text
        assert c.closed()
        procs.wait_for(lambda: any("enable=false" in l for l in node.log_lines("rejectlog.ec")),
                       timeout=10, what="the refusal in rejectlog")


def test_hostile_garbage_does_not_hurt_other_sessions(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        bad = [RawSmtp(node.host, node.port) for _ in range(5)]
        for i, b in enumerate(bad):
            b.reply()
            b.send(bytes(range(256)) * 50 + b"\x00\r\n" * 100)
        good = session(node)
        good.cmd("MAIL FROM:<a@example.org>")
        good.cmd("RCPT TO:<b@example.com>")
        good.cmd("DATA")
        good.send("Message-ID: <good@test>\r\n\r\nfine\r\n.\r\n")
        assert good.reply()[0] == 250
        good.cmd("QUIT")
        for b in bad:
            b.close()
        assert node.process.alive()
    assert [d[1] for d in node.spool_dump()] == ["<good@test>"]
