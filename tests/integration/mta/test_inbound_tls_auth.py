"""STARTTLS, AUTH PLAIN/LOGIN after TLS, relaying granted by AUTH, STARTTLS injection."""
import base64
import smtplib
import subprocess

import pytest

from lib.mta import MtaNode
from smtp_raw import RawSmtp
from tls_files import client_context, self_signed_cert


@pytest.fixture
def tls_node(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    passwd = tmp_path / "passwd"
    passwd.write_text("alice:wonderland\n")
    node = MtaNode(tmp_path, listener_options=f'''
        relay_hosts = ( "10.0.0.0/8" )
        tls_certificate = "{cert}"
        tls_key = "{key}"
        authplainparameters = [ uri = "file://{passwd}" ]
        authloginparameters = [ uri = "file://{passwd}" ]''',
                   global_options='relay_domains = ( "example.com" )')
    node.start()
    yield node
    node.stop()


def test_starttls_then_auth_then_relay(tls_node):
    s = smtplib.SMTP(tls_node.host, tls_node.port, timeout=10)
    s.ehlo("client.test")
    assert s.has_extn("starttls")
    assert not s.has_extn("auth"), "AUTH must not be offered before TLS"
    # Relaying to a foreign domain is refused before AUTH.
    s.mail("a@example.org")
    code, _ = s.rcpt("b@example.org")
    assert code == 550
    s.rset()
    s.starttls(context=client_context())
    s.ehlo("client.test")
    assert "PLAIN" in s.esmtp_features.get("auth", "").upper()
    assert "LOGIN" in s.esmtp_features.get("auth", "").upper()
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.login("alice", "wrong")
    assert e.value.smtp_code == 535
    s.login("alice", "wonderland")
    s.sendmail("a@example.org", ["b@example.org"],
               "Message-ID: <tls1@test>\r\nSubject: x\r\n\r\nrelayed after AUTH\r\n")
    s.quit()
    tls_node.stop()
    assert [d[1] for d in tls_node.spool_dump()] == ["<tls1@test>"]


def test_auth_before_tls_is_refused(tls_node):
    c = RawSmtp(tls_node.host, tls_node.port)
    c.reply()
    c.cmd("EHLO client.test")
    creds = base64.b64encode(b"\0alice\0wonderland").decode()
    code, text = c.cmd(f"AUTH PLAIN {creds}")
    assert code in (530, 538, 503), text
    c.cmd("QUIT")


def test_swaks_tls_auth_login(tls_node):
    r = subprocess.run(["swaks", "--server", f"{tls_node.host}:{tls_node.port}", "--tls",
                        "--auth", "LOGIN", "--auth-user", "alice", "--auth-password",
                        "wonderland", "--from", "a@example.org", "--to", "x@example.org"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0" in r.stdout
    assert "250 2.0.0" in r.stdout


def test_commands_pipelined_behind_starttls_are_not_executed(tls_node):
    c = RawSmtp(tls_node.host, tls_node.port)
    c.reply()
    c.cmd("EHLO client.test")
    # The classic injection: a command rides in the same packet as STARTTLS.
    c.send("STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n")
    code, text = c.reply()
    if code == 220:
        # Policy "ignore": TLS starts and the injected MAIL is gone; the first reply inside
        # TLS must be the one to our own EHLO.
        tls = client_context().wrap_socket(c.sock)
        tls.sendall(b"EHLO client.test\r\n")
        data = b""
        while b"\r\n250 " not in data and not data.startswith(b"250 "):
            chunk = tls.recv(4096)
            assert chunk
            data += chunk
        assert data.startswith(b"250"), data
        tls.sendall(b"RCPT TO:<b@example.com>\r\n")
        assert tls.recv(4096).startswith(b"503")  # no MAIL in effect
    else:
        # Policy "reject" (the default): refused, and the connection closes.
        assert code == 554, text
        assert c.closed()
