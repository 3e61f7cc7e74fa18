"""SMTP AUTH cannot be used to stall the server or to guess passwords quickly.

A real ecmta with STARTTLS and AUTH PLAIN/LOGIN against a password file:
- a password holding a NUL (AUTH PLAIN decodes to bytes) is refused, not truncated;
- a password check with a deliberately slow hash ($6$ with millions of rounds, about a second)
  runs off the event loop: while it runs, another client's banner, EHLO and NOOP are answered
  within 0.5 s each;
- brute force from one address: after AuthFailureLimiter::kMaxFailures (10) failures, AUTH
  from that address gets 454 without being checked, even with the right password; another
  address still logs in.
Every wait has a deadline; loops are bounded.
"""
import base64
import ctypes
import smtplib
import subprocess
import time

import pytest

from lib.mta import MtaNode
from tls_files import client_context, self_signed_cert

MAX_FAILURES = 10  # AuthFailureLimiter::kMaxFailures
SLOW_ROUNDS = 3_000_000  # about 1-2 s of SHA-512 crypt on the test box


def crypt(password, setting):
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lib.crypt(password.encode(), setting.encode()).decode()


@pytest.fixture
def auth_node(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    hashed = subprocess.run(["openssl", "passwd", "-6", "-salt", "abcdefgh", "s3cret"],
                            check=True, capture_output=True, text=True).stdout.strip()
    passwd = tmp_path / "passwd"
    slow = crypt("slowpoke", f"$6$rounds={SLOW_ROUNDS}$saltsaltsalt$")
    passwd.write_text(f"alice:wonderland\nbob:{hashed}\nslow:{slow}\n")
    node = MtaNode(tmp_path, listener_options=f'''
        tls_certificate = "{cert}"
        tls_key = "{key}"
        authplainparameters = [ uri = "file://{passwd}" ]
        authloginparameters = [ uri = "file://{passwd}" ]''')
    node.start()
    yield node
    node.stop()


def tls_client(node, source):
    s = smtplib.SMTP(node.host, node.port, timeout=10, source_address=(source, 0))
    s.ehlo("client.test")
    s.starttls(context=client_context())
    s.ehlo("client.test")
    return s


def auth_plain(s, raw):
    return s.docmd("AUTH", "PLAIN " + base64.b64encode(raw).decode())


def auth_login(s, user, password):
    assert s.docmd("AUTH", "LOGIN")[0] == 334
    assert s.docmd(base64.b64encode(user).decode())[0] == 334
    return s.docmd(base64.b64encode(password).decode())


def test_nul_in_password_is_refused(auth_node):
    s = tls_client(auth_node, "127.0.0.6")
    # crypt(3) would see only "s3cret" if the password were cut at the NUL.
    code, _ = auth_login(s, b"bob", b"s3cret\0anything")
    assert code == 535
    # PLAIN: a fourth field is a syntax error.
    code, _ = auth_plain(s, b"\0bob\0s3cret\0anything")
    assert code in (501, 535)
    code, _ = auth_login(s, b"bob", b"s3cret")
    assert code == 235
    s.quit()


def test_brute_force_from_one_address_is_throttled(auth_node):
    s = tls_client(auth_node, "127.0.0.2")
    codes = []
    for i in range(MAX_FAILURES):
        codes.append(auth_plain(s, f"\0bob\0guess{i}".encode())[0])
        if i % 5 == 4:  # stay under max_errors: a fresh session every few guesses
            s.quit()
            s = tls_client(auth_node, "127.0.0.2")
    assert codes == [535] * MAX_FAILURES
    # Used up: even the right password is not checked now.
    code, text = auth_plain(s, b"\0bob\0s3cret")
    assert code == 454, text
    s.quit()
    s = tls_client(auth_node, "127.0.0.2")
    assert auth_plain(s, b"\0alice\0wonderland")[0] == 454
    s.quit()
    # Another address is unaffected.
    s = tls_client(auth_node, "127.0.0.3")
    assert auth_plain(s, b"\0bob\0s3cret")[0] == 235
    s.quit()
    log = open(auth_node.root + "/ecmta.out").read()
    assert "auth throttled" in log


def test_slow_hash_does_not_stall_other_sessions(auth_node):
    slow = tls_client(auth_node, "127.0.0.4")
    start = time.monotonic()
    slow.send(b"AUTH PLAIN " + base64.b64encode(b"\0slow\0slowpoke") + b"\r\n")
    # Another client, meanwhile: every reply within 0.5 s.
    timings = {}
    t = time.monotonic()
    other = smtplib.SMTP(auth_node.host, auth_node.port, timeout=10,
                         source_address=("127.0.0.5", 0))
    timings["banner"] = time.monotonic() - t
    t = time.monotonic()
    assert other.ehlo("other.test")[0] == 250
    timings["EHLO"] = time.monotonic() - t
    t = time.monotonic()
    assert other.noop()[0] == 250
    timings["NOOP"] = time.monotonic() - t
    other_done = time.monotonic() - start
    code, _ = slow.getreply()
    slow_took = time.monotonic() - start
    print(f"\nslow AUTH answered after {slow_took:.2f} s; other client: " +
          ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))
    assert code == 235
    assert other_done < slow_took, "the slow check must still run while the other is served"
    for what, took in timings.items():
        assert took < 0.5, f"{what} took {took:.2f} s while a password was being checked"
    other.quit()
    slow.quit()
