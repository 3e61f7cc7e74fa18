"""DSN parameters (RFC 3461) passed on by ecmta's outbound client: a client injects with RET,
ENVID, NOTIFY and ORCPT; ecmta relays to a ScriptedReceiver that offers DSN or not and records
the raw MAIL FROM / RCPT TO lines. Offered: the parameters arrive intact. Not offered: none of
them is sent. Also checks what the receiver records per connection (client address, EHLO name).

The client is Python's smtplib: Debian 12's swaks (20201014) has no --dsn-* options."""
import smtplib

from helpers import node, route_config
from lib import procs
from lib.sink import ScriptedReceiver, Transaction

# Values that need xtext coding: "+" and "=" (and a space in the ORCPT), written the one way
# both a store that keeps xtext and one that decodes it would send them on.
ENVID = "env+2B1+3D2"
ORCPT_A = "rfc822;first+2Blast@dsn.test"
ORCPT_B = "rfc822;x+20y@old.test"
RCPTS = ["a@dsn.test", "b@dsn.test", "c@dsn.test"]


def ecmta_offers_dsn(n):
    with smtplib.SMTP(n.host, n.port, timeout=30) as s:
        s.ehlo("inject.test")
        return s.has_extn("dsn")


def inject_with_dsn(n):
    """One message, three recipients: a SUCCESS,FAILURE + ORCPT, b NEVER + ORCPT, c nothing."""
    msg = "Subject: dsn\r\nMessage-ID: <dsn.1@src.test>\r\n\r\nhello\r\n"
    with smtplib.SMTP(n.host, n.port, timeout=30) as s:
        s.ehlo("inject.test")
        code, text = s.mail("s@src.test", ["RET=HDRS", "ENVID=" + ENVID])
        assert code == 250, (code, text)
        for rcpt, opts in ((RCPTS[0], ["NOTIFY=SUCCESS,FAILURE", "ORCPT=" + ORCPT_A]),
                           (RCPTS[1], ["NOTIFY=NEVER", "ORCPT=" + ORCPT_B]),
                           (RCPTS[2], [])):
            code, text = s.rcpt(rcpt, opts)
            assert code == 250, (rcpt, code, text)
        code, text = s.data(msg)
        assert code == 250, (code, text)


def relay(tmp_path, rx, inject):
    cfg = route_config({"dsn.test": f"smtp://127.0.0.1:{rx.port}"})
    with node(tmp_path, cfg) as n:
        assert ecmta_offers_dsn(n), "ecmta's listener must offer DSN for this test"
        inject(n)
        procs.wait_for(lambda: len(rx.delivered()) == 3, timeout=30, what="3 deliveries")
    with rx.lock:
        assert len(rx.transactions) == 1, [t.mail_line for t in rx.transactions]
        return rx.transactions[0]


def rcpt_params(tx):
    return {line[8:].split(">")[0].lstrip("<"): Transaction.params(line) for line in tx.rcpt_lines}


def test_parameters_arrive_intact_when_dsn_offered(tmp_path):
    with ScriptedReceiver(dsn=True) as rx:
        tx = relay(tmp_path, rx, inject_with_dsn)
    mail = Transaction.params(tx.mail_line)
    assert mail.get("RET") == "HDRS", tx.mail_line
    assert mail.get("ENVID") == ENVID, tx.mail_line
    got = rcpt_params(tx)
    assert got[RCPTS[0]] == {"NOTIFY": "SUCCESS,FAILURE", "ORCPT": ORCPT_A}, tx.rcpt_lines
    assert got[RCPTS[1]] == {"NOTIFY": "NEVER", "ORCPT": ORCPT_B}, tx.rcpt_lines
    assert got[RCPTS[2]] == {}, tx.rcpt_lines


def test_no_parameters_when_dsn_not_offered(tmp_path):
    with ScriptedReceiver(dsn=False) as rx:
        tx = relay(tmp_path, rx, inject_with_dsn)
    for p in ("RET", "ENVID"):
        assert p not in Transaction.params(tx.mail_line), tx.mail_line
    for rcpt, params in rcpt_params(tx).items():
        assert "NOTIFY" not in params and "ORCPT" not in params, tx.rcpt_lines
    assert sorted(rcpt_params(tx)) == sorted(RCPTS)


def test_receiver_records_client_address_ehlo_and_plain_lines(tmp_path):
    """An envelope without DSN data sends plain lines even to a DSN server; the receiver sees the
    client's source address and the EHLO name the domain's EHLO_Hostname sets."""
    with ScriptedReceiver(dsn=True) as rx:
        cfg = route_config({"dsn.test": f"smtp://127.0.0.1:{rx.port}"},
                           ehlo_hostname='"relay.dsn.test"')
        with node(tmp_path, cfg) as n:
            with smtplib.SMTP(n.host, n.port, timeout=30) as s:
                s.sendmail("s@src.test", RCPTS[:2],
                           "Subject: plain\r\nMessage-ID: <plain.1@src.test>\r\n\r\nhi\r\n")
            procs.wait_for(lambda: len(rx.delivered()) == 2, timeout=30, what="2 deliveries")
    with rx.lock:
        sessions = [s for s in rx.sessions if s.transactions]
        assert len(sessions) == 1
        session = sessions[0]
        assert session.address == "127.0.0.1" and session.peer[1] > 0, session.peer
        assert (session.helo_verb, session.helo) == ("EHLO", "relay.dsn.test")
        assert len(session.transactions) == 1
        tx = session.transactions[0]
        assert tx.mail_line == "MAIL FROM:<s@src.test>"
        assert tx.rcpt_lines == [f"RCPT TO:<{r}>" for r in RCPTS[:2]]
        assert all(r.startswith("250") for r in tx.rcpt_replies)
        assert rx.messages[0].transaction is tx


# -- "relayed" DSNs (RFC 3461 / RFC 3464 Action: relayed) ------------------------------------
# The report is built by bounce::BuildRelayedDsn; the scheduler decides when to send it.


def relay_with_report_route(tmp_path, rx):
    """Relays one DSN-carrying message; the sender's domain also routes to rx, so any report
    ecmta sends arrives there too. Returns (original transaction, [report messages])."""
    cfg = route_config({"dsn.test": f"smtp://127.0.0.1:{rx.port}",
                        "src.test": f"smtp://127.0.0.1:{rx.port}"})
    with node(tmp_path, cfg) as n:
        assert ecmta_offers_dsn(n), "ecmta's listener must offer DSN for this test"
        inject_with_dsn(n)
        procs.wait_for(lambda: len([1 for m in rx.messages if m.mail_from]) == 1, timeout=30,
                       what="the original delivered")
        # A report, if any, is queued before the original leaves the spool.
        procs.wait_for(lambda: n.summary_value("Queued") == 0, timeout=30, what="empty spool")
        bounces = n.summary_value("Bounces")
    with rx.lock:
        original = [m for m in rx.messages if m.mail_from]
        reports = [m for m in rx.messages if not m.mail_from]
    assert len(original) == 1 and sorted(original[0].rcpts) == sorted(RCPTS)
    assert bounces == len(reports), (bounces, len(reports))
    return original[0].transaction, reports


def test_relayed_dsn_for_notify_success_to_a_server_without_dsn(tmp_path):
    import email
    with ScriptedReceiver(dsn=False) as rx:
        tx, reports = relay_with_report_route(tmp_path, rx)
    assert "NOTIFY" not in "".join(tx.rcpt_lines)
    assert len(reports) == 1, [m.data[:200] for m in reports]
    report = reports[0]
    assert report.rcpts == ["s@src.test"]
    msg = email.message_from_bytes(report.data)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["Subject"] == "Successful Mail Delivery Report"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "text/rfc822-headers"]
    groups = parts[1].get_payload()
    assert groups[0]["Original-Envelope-Id"] == "env+1=2"  # ENVID decoded from xtext
    # Only a (NOTIFY=SUCCESS,FAILURE) is reported; b said NEVER, c asked nothing.
    assert len(groups) == 2, [dict(g) for g in groups]
    rcpt = groups[1]
    assert rcpt["Final-Recipient"] == "rfc822; a@dsn.test"
    assert rcpt["Original-Recipient"] == "rfc822;first+last@dsn.test"
    assert rcpt["Action"] == "relayed"
    assert rcpt["Status"] == "2.0.0"
    assert rcpt["Remote-MTA"] == "dns; 127.0.0.1"
    assert "Message-ID: <dsn.1@src.test>" in parts[2].get_payload()
    assert "hello" not in parts[2].get_payload()  # headers only


def test_no_relayed_dsn_when_the_server_takes_dsn(tmp_path):
    with ScriptedReceiver(dsn=True) as rx:
        tx, reports = relay_with_report_route(tmp_path, rx)
    assert "NOTIFY=SUCCESS,FAILURE" in "".join(tx.rcpt_lines)
    assert reports == []
