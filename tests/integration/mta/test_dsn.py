"""DSN (RFC 3461) on ecmta's listener: EHLO offers it, RET/ENVID/NOTIFY/ORCPT are validated
(501 5.5.4 when bad) and stored with the message, and the stored values steer the failure report
(RFC 3464) ecmta sends when the recipients bounce.

The client is Python's smtplib (the Debian 12 swaks, 20201014, has no DSN options); the next
hop and the sender's domain are a ScriptedReceiver on 127.0.0.1."""
import email
import smtplib

from lib import procs
from lib.mta import MtaNode
from lib.sink import ScriptedReceiver

RELAY = 'relay_hosts = ( "127.0.0.0/8" )'
BODY_MARKER = "body-marker-7f3a"


def routes(port):
    """dst.test (the failing next hop) and src.test (the sender's domain) both go to `port`."""
    return "".join(f'Domain "{d}" {{\n  Routes = ( "smtp://127.0.0.1:{port}" )\n}}\n'
                   for d in ("dst.test", "src.test"))


def message(subject):
    return (f"From: sender@src.test\r\nTo: x@dst.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@src.test>\r\n\r\n{BODY_MARKER}\r\n")


def delivery_status(raw):
    """(per-message fields, [per-recipient fields]) of a DSN, and the returned original part."""
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    status = returned = None
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            status = part.get_payload()
        elif part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            returned = part
    assert status, "no message/delivery-status part"
    return status[0], status[1:], returned


def test_ehlo_offers_dsn(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        with smtplib.SMTP(node.host, node.port, timeout=10) as s:
            code, _ = s.ehlo("client.test")
            assert code == 250
            assert s.has_extn("dsn"), s.esmtp_features


def test_bad_dsn_parameters_get_501_and_nothing_is_stored(tmp_path):
    with MtaNode(tmp_path, listener_options=RELAY) as node:
        with smtplib.SMTP(node.host, node.port, timeout=10) as s:
            s.ehlo("client.test")
            assert s.mail("a@example.org", ["RET=BODY"])[0] == 501
            code, text = s.mail("a@example.org", ["ENVID=a+2b"])
            assert (code, text) == (501, b"5.5.4 Bad ENVID parameter: not xtext of printable ASCII")
            assert s.mail("a@example.org", ["RET=FULL", "ENVID=ok"])[0] == 250
            code, text = s.rcpt("bad@example.com", ["NOTIFY=BOGUS"])
            assert code == 501 and text.startswith(b"5.5.4 Bad NOTIFY parameter"), text
            assert s.rcpt("bad2@example.com", ["NOTIFY=NEVER,SUCCESS"])[0] == 501
            assert s.rcpt("bad3@example.com", ["ORCPT=rfc822"])[0] == 501
            assert s.rcpt("good@example.com", ["NOTIFY=SUCCESS,FAILURE",
                                               "ORCPT=rfc822;good@example.com"])[0] == 250
            code, _ = s.data(message("m1"))
            assert code == 250
        # Only the valid recipient was received; the refusals are in the rejectlog.
        lines = node.mainlog_receptions()
        assert [(l[5], l[6]) for l in lines] == [("good", "example.com")]
        rejected = "\n".join(node.log_lines("rejectlog.ec"))
        assert "Bad NOTIFY parameter" in rejected, rejected
    dump = node.spool_dump()
    assert len(dump) == 1 and dump[0][2] == "1"  # one message, one recipient pending


def test_stored_dsn_values_steer_the_failure_report(tmp_path):
    # Every dst.test recipient is refused for good; the report goes back to src.test.
    def policy(rcpt, attempt):
        return "550 5.1.1 <%s>: user unknown" % rcpt if rcpt.endswith("@dst.test") else \
            "250 2.1.5 ok"

    with ScriptedReceiver(policy=policy) as rx:
        with MtaNode(tmp_path, listener_options=RELAY, extra_config=routes(rx.port)) as node:
            with smtplib.SMTP(node.host, node.port, timeout=10) as s:
                s.ehlo("client.test")
                # Message 1: full DSN request.
                assert s.mail("sender@src.test", ["RET=FULL", "ENVID=env+2B42"])[0] == 250
                assert s.rcpt("gone1@dst.test", ["NOTIFY=FAILURE",
                                                 "ORCPT=rfc822;Orig+2B1@example.org"])[0] == 250
                assert s.rcpt("gone2@dst.test", ["NOTIFY=NEVER"])[0] == 250
                assert s.rcpt("gone3@dst.test", ["NOTIFY=SUCCESS,DELAY"])[0] == 250
                assert s.rcpt("gone4@dst.test", ["ORCPT=rfc822;o4@example.org"])[0] == 250
                assert s.data(message("full"))[0] == 250
                # Message 2: no DSN parameters at all.
                assert s.mail("sender@src.test")[0] == 250
                assert s.rcpt("gone5@dst.test")[0] == 250
                assert s.data(message("plain"))[0] == 250
                # Message 3: every recipient said NEVER: no report at all.
                assert s.mail("sender@src.test", ["RET=FULL"])[0] == 250
                assert s.rcpt("gone6@dst.test", ["NOTIFY=NEVER"])[0] == 250
                assert s.data(message("never"))[0] == 250

            def reports():
                return [m for m in list(rx.messages) if m.mail_from == ""]

            procs.wait_for(lambda: len(reports()) >= 2 and node.summary_value("Queued") == 0,
                           timeout=30, what="two DSNs delivered and an empty spool")
            assert len(reports()) == 2  # none for message 3
            assert node.summary_value("Bounces") == 2

    by_subject = {}
    for m in reports():
        assert m.rcpts == ["sender@src.test"]
        per_msg, per_rcpt, returned = delivery_status(m.data)
        original = returned.as_string() if returned is not None else ""
        subject = "full" if "Subject: full" in original else \
            "plain" if "Subject: plain" in original else original
        by_subject[subject] = (per_msg, per_rcpt, returned, original)
    assert set(by_subject) == {"full", "plain"}, list(by_subject)

    per_msg, per_rcpt, returned, original = by_subject["full"]
    # ENVID and ORCPT travel as the client sent them (xtext); the report may show them
    # decoded (RFC 3464 leaves that to the reporting MTA), so accept either form.
    assert per_msg["Original-Envelope-Id"] in ("env+2B42", "env+42"), per_msg.items()
    final = {r["Final-Recipient"].split(";")[1].strip(): r for r in per_rcpt}
    # NOTIFY=NEVER and NOTIFY=SUCCESS,DELAY recipients are left out; no NOTIFY means FAILURE.
    assert sorted(final) == ["gone1@dst.test", "gone4@dst.test"], list(final)
    assert final["gone1@dst.test"]["Original-Recipient"] in (
        "rfc822;Orig+2B1@example.org", "rfc822;Orig+1@example.org")
    assert final["gone4@dst.test"]["Original-Recipient"] == "rfc822;o4@example.org"
    assert all(r["Action"] == "failed" for r in per_rcpt)
    # RET=FULL: the whole original comes back, body included.
    assert returned.get_content_type() == "message/rfc822"
    assert BODY_MARKER in original

    per_msg, per_rcpt, returned, original = by_subject["plain"]
    assert per_msg["Original-Envelope-Id"] is None
    assert [r["Original-Recipient"] for r in per_rcpt] == [None]
    # No RET: the default (bounces_inline_original = headers) returns the header only.
    assert returned.get_content_type() == "text/rfc822-headers"
    assert BODY_MARKER not in original
