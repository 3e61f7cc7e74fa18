"""ecmta's ESMTP listener driven by real clients: swaks, Python's smtplib, raw sockets."""
import smtplib
import subprocess

import pytest

from lib.mta import MtaNode
from smtp_raw import RawSmtp

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'


def message(msgid, body="hello\r\n"):
    return (f"From: a@example.org\r\nTo: b@example.com\r\nSubject: t\r\n"
            f"Message-ID: <{msgid}@test>\r\n\r\n{body}")


def test_ehlo_lists_the_extensions(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        s = smtplib.SMTP(node.host, node.port, timeout=10)
        code, text = s.ehlo("client.test")
        assert code == 250
        features = text.decode().upper()
        for ext in ("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING",
                    "SMTPUTF8"):
            assert ext in features, features
        # No certificate configured: no STARTTLS; no TLS: no AUTH.
        assert "STARTTLS" not in features
        assert "AUTH" not in features
        s.quit()


def test_swaks_delivers_and_mainlog_records_it(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        r = subprocess.run(["swaks", "--server", f"{node.host}:{node.port}", "--from",
                            "alice@example.org", "--to", "bob@example.com,carol@example.net",
                            "--header", "Message-Id: <swaks-1@test>"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "250 2.0.0" in r.stdout
        lines = node.mainlog_receptions()
        assert [(l[5], l[6], l[7], l[8]) for l in lines] == [
            ("bob", "example.com", "alice", "example.org"),
            ("carol", "example.net", "alice", "example.org")]
        assert all(l[4] == "R" and l[11] == "esmtp" for l in lines)
        assert node.summary_value("Received") == 1
    dump = node.spool_dump()
    assert [d[1] for d in dump] == ["<swaks-1@test>"]
    # Two recipients pending delivery.
    assert dump[0][2] == "2"


def test_received_and_missing_headers_are_added(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        s = smtplib.SMTP(node.host, node.port, timeout=10)
        s.ehlo("client.test")
        s.sendmail("a@example.org", ["b@example.com"], "Subject: bare\r\n\r\nbody\r\n")
        s.quit()
    dump = node.spool_dump()
    assert len(dump) == 1
    # Message-ID was missing and was added; the body bytes grew by the added headers.
    assert dump[0][1].startswith("<") and dump[0][1].endswith(">")


def test_relay_refused_for_strangers(tmp_path):
    # Only 10.0.0.0/8 may relay; we connect from 127.0.0.1.
    with MtaNode(tmp_path, listener_options='relay_hosts = ( "10.0.0.0/8" )',
                 global_options='relay_domains = ( "example.com" "*.example.net" )') as node:
        c = RawSmtp(node.host, node.port)
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.test")[0] == 250
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        # Our domains are accepted from anyone.
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
        assert c.cmd("RCPT TO:<b@sub.example.net>")[0] == 250
        # Anything else is relaying, and denied, whatever its form.
        for rcpt in ("<b@example.org>", "<b@[192.0.2.1]>", "<b%example.org@example.com>",
                     "<\"b@example.org\"@example.com>", "<@example.com:b@example.org>",
                     "<b@example.net>"):
            code, text = c.cmd(f"RCPT TO:{rcpt}")
            assert code == 550, (rcpt, text)
            assert "5.7.1" in text, text
        c.cmd("QUIT")
        rejects = node.log_lines("rejectlog.ec")
        assert sum("E=550" in l for l in rejects) == 6
        # L= is the address the client reached (the listener's, without a getsockname).
        local = f'L="{node.host}:{node.port}"'
        assert all(local in l for l in rejects if "E=550" in l), rejects


def test_pipelined_session_answers_in_order(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        c = RawSmtp(node.host, node.port)
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.test")[0] == 250
        # Two whole transactions in one write (RFC 2920).
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n"
               "RCPT TO:<c@example.com>\r\nDATA\r\n")
        assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
        c.send(message("p1") + ".\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.com>\r\n"
               "DATA\r\n" + message("p2") + ".\r\nQUIT\r\n")
        assert [c.reply()[0] for _ in range(6)] == [250, 250, 250, 354, 250, 221]
        assert c.closed()
    assert sorted(d[1] for d in node.spool_dump()) == ["<p1@test>", "<p2@test>"]


def test_chunking_bdat(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        c = RawSmtp(node.host, node.port)
        c.reply()
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 250
        msg = message("bdat1").encode()
        half = len(msg) // 2
        c.send(b"BDAT %d\r\n" % half + msg[:half])
        assert c.reply()[0] == 250
        c.send(b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:])
        code, text = c.reply()
        assert code == 250 and "queued" in text.lower()
        c.cmd("QUIT")
    assert [d[1] for d in node.spool_dump()] == ["<bdat1@test>"]


def test_sequence_errors_and_unknown_commands(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        c = RawSmtp(node.host, node.port)
        c.reply()
        assert c.cmd("RCPT TO:<b@example.com>")[0] == 503
        assert c.cmd("DATA")[0] == 503
        assert c.cmd("EHLO client.test")[0] == 250
        assert c.cmd("DATA")[0] == 503
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
        assert c.cmd("MAIL FROM:<a@example.org>")[0] == 503
        assert c.cmd("XYZZY")[0] == 500
        assert c.cmd("MAIL FROM:<not an address>")[0] in (501, 503)
        assert c.cmd("VRFY bob")[0] == 252
        assert c.cmd("HELP")[0] == 214
        assert c.cmd("NOOP")[0] == 250
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("QUIT")[0] == 221


def test_smtputf8_and_8bitmime(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        c = RawSmtp(node.host, node.port)
        c.reply()
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<jös@exämple.org> SMTPUTF8 BODY=8BITMIME")[0] == 250
        assert c.cmd("RCPT TO:<bjørn@exämple.com>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send("Subject: ünïcode\r\nMessage-ID: <u8@test>\r\n\r\nblåbær\r\n.\r\n".encode())
        assert c.reply()[0] == 250
        # Without SMTPUTF8 a UTF-8 address is refused.
        assert c.cmd("MAIL FROM:<jös@exämple.org>")[0] in (501, 553)
        c.cmd("QUIT")
    assert [d[1] for d in node.spool_dump()] == ["<u8@test>"]
